"""The blocking path of the transport (``Transport(blocking=True)``, which the
synchronous :class:`asof.Client` sets): a request alone on its asyncio loop goes
through a blocking HTTP client, with the same answers, errors, deadline, rate-limit
bookkeeping and secrecy as the asynchronous path; requests side by side still go
through the asynchronous client. Every test here talks to a real HTTP server on
127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.blocking import _Loop
from asof.errors import ProviderTimeout, RateLimited, TransportError
from asof.provider import Credential, ProviderInfo, RateLimit
from asof.secrets import Secret
from asof.transport import MockTransport, Request, Response, Transport, httpx
from tests.cli.fake_allium import serve_http
from tests.core.test_transport import WatchingLimiter

KEY = "sk-blocking-test-0123456789abcdef"
CRED = Credential(name="api_key", query="api-key")
INFO = ProviderInfo(name="demo", title="Demo", base_url="https://demo.invalid",
                    credentials=(CRED,))


class _Server(BaseHTTPRequestHandler):
    """``/ok`` answers JSON with a big integer and the query it was asked; ``/hold``
    holds its answer ``ms`` milliseconds; ``/drip`` sends its body a byte at a time,
    0.2 s apart; ``/limited`` answers 429. In-flight requests are counted."""

    lock = threading.Lock()
    in_flight: ClassVar[int] = 0
    most: ClassVar[int] = 0
    targets: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.most = max(cls.most, cls.in_flight)
            cls.targets.append(self.path)
        try:
            path, _, query = self.path.partition("?")
            params = dict(parse_qsl(query))
            if path == "/ok":
                self._answer(200, b'{"n": 123456789012345678901234567890, "q": "'
                             + query.encode() + b'"}')
            elif path == "/hold":
                time.sleep(int(params.get("ms", "300")) / 1000)
                self._answer(200, b'{"held": true}')
            elif path == "/drip":
                body = b'{"drip": 1}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            elif path == "/limited":
                self._answer(429, b'{"message": "slow down"}', **{"Retry-After": "7"})
            else:
                self._answer(404, b'{"message": "no such path"}')
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with cls.lock:
                cls.in_flight -= 1


@pytest.fixture
def server() -> Iterator[str]:
    _Server.in_flight = _Server.most = 0
    _Server.targets = []
    with serve_http(_Server) as url:
        yield url


def _session(url: str, *, blocking: bool = True,
             timeout: float = 30.0) -> tuple[Transport, Any]:
    transport = Transport(blocking=blocking, timeout=timeout, attempts=1)
    http = transport.session(INFO, base_url=url, credentials=[(CRED, Secret(KEY))],
                             timeout=timeout)
    return transport, http


def _get_once(url: str, path: str, params: dict[str, Any] | None = None,
              **options: Any) -> Any:
    """One GET of ``path`` alone on a new loop, the transport closed after it."""
    transport, http = _session(url, **options)

    async def main() -> Any:
        try:
            return await http.get(path, params=params)
        finally:
            await transport.aclose()

    return asyncio.run(main())


def test_a_request_alone_on_its_loop_goes_through_the_blocking_client(server: str) -> None:
    transport, http = _session(server)

    async def main() -> tuple[Any, bool]:
        try:
            body = await http.get("ok", params={"wallet": "W1", "skip": None})
            return body, transport._blocking_client is not None
        finally:
            await transport.aclose()

    body, opened = asyncio.run(main())
    assert body["n"] == 123456789012345678901234567890  # exact, an int
    assert isinstance(body["n"], int)
    assert dict(parse_qsl(body["q"])) == {"wallet": "W1", "api-key": KEY}
    assert opened
    assert transport._client is None  # the asynchronous client was never opened


def test_the_same_request_reaches_the_server_on_both_paths(server: str) -> None:
    targets = []
    for blocking in (True, False):
        transport, http = _session(server, blocking=blocking)

        async def main(http: Any = http, transport: Transport = transport) -> bool:
            try:
                await http.get("ok", params={"a": "x y/z", "n": 5, "é": "ü"})
                return transport._client is None
            finally:
                await transport.aclose()

        assert asyncio.run(main()) is blocking  # the asynchronous client only when not
        targets.append(_Server.targets[-1])
    assert targets[0] == targets[1]


def test_requests_side_by_side_go_through_the_asynchronous_client(server: str) -> None:
    transport, http = _session(server)

    async def main() -> list[Any]:
        try:
            return list(await asyncio.gather(http.get("hold", params={"ms": 400}),
                                             http.get("hold", params={"ms": 400})))
        finally:
            await transport.aclose()

    assert asyncio.run(main()) == [{"held": True}, {"held": True}]
    assert _Server.most == 2  # both were at the server at once: not one after the other


def test_the_deadline_bounds_a_dripping_body_on_the_blocking_path(server: str) -> None:
    """Each byte comes within the timeout, the whole body does not."""
    began = time.monotonic()
    with pytest.raises(ProviderTimeout, match=r"no complete answer within 0\.5 s"):
        _get_once(server, "drip", timeout=0.5)
    assert time.monotonic() - began < 1.5  # the drip takes 2.2 s


def test_a_held_answer_times_out_on_the_blocking_path(server: str) -> None:
    with pytest.raises(ProviderTimeout, match="ReadTimeout"):
        _get_once(server, "hold", {"ms": 2000}, timeout=0.3)


def test_a_refused_connection_is_a_transport_error_naming_no_secret() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError) as caught:
        _get_once(f"http://127.0.0.1:{port}", "ok")
    assert "connection failed" in str(caught.value)
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)


def test_a_status_error_carries_the_providers_message_and_wait(server: str) -> None:
    with pytest.raises(RateLimited) as caught:
        _get_once(server, "limited")
    assert caught.value.retry_after == 7
    assert caught.value.provider_message == "slow down"
    assert KEY not in str(caught.value)


def test_each_blocking_request_tells_the_limiter_when_it_left(server: str) -> None:
    limit = RateLimit(requests=100, per_seconds=1)
    transport = Transport(blocking=True, attempts=1)
    watching = WatchingLimiter(100, 1.0)
    transport._limiters[("demo", 100, 1.0, "")] = watching
    http = transport.session(INFO, base_url=server, credentials=[(CRED, Secret(KEY))],
                             rate_limit=limit)

    async def main() -> None:
        try:
            for _ in range(3):
                await http.get("ok")
        finally:
            await transport.aclose()

    asyncio.run(main())
    assert watching.left == [1, 2, 3]
    assert transport._client is None


def test_a_given_http_transport_is_never_bypassed() -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(str(request.url))
        return Response(200, json={"mock": True})

    transport = Transport(blocking=True, http_transport=MockTransport(handler))
    assert transport.blocking is False
    http = transport.session(INFO, base_url="https://demo.invalid",
                             credentials=[(CRED, Secret(KEY))])

    async def main() -> Any:
        try:
            return await http.get("x")
        finally:
            await transport.aclose()

    assert asyncio.run(main()) == {"mock": True}
    assert len(seen) == 1


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="signals reach the main thread only")
def test_ctrl_c_interrupts_a_blocking_request_at_once(server: str) -> None:
    """Cancelling would wait for the held answer (5 s); the interrupt does not."""
    runner = _Loop()
    transport, http = _session(server)
    runner.at_once = lambda: transport.sending_blocking

    def interrupt_soon() -> None:
        deadline = time.monotonic() + 5
        while not transport.sending_blocking and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends

    async def held() -> Any:
        return await http.get("hold", params={"ms": 5000})

    async def ok() -> Any:
        return await http.get("ok")

    threading.Thread(target=interrupt_soon, daemon=True).start()
    began = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            runner.run(held)
        assert time.monotonic() - began < 4
        assert transport.sending_blocking is False
        assert runner.run(ok)["n"] == 123456789012345678901234567890  # still usable
    finally:
        runner.run(transport.aclose)
        runner.close()


_values = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
)


@settings(max_examples=80, deadline=None)
@given(params=st.dictionaries(st.text(min_size=1, max_size=8), _values, max_size=4))
def test_the_query_joined_by_asof_is_the_one_httpx_would_build(
        params: dict[str, Any]) -> None:
    """asof joins the query to the URL itself (httpx then parses the URL once): the URL
    sent is the one httpx builds from ``params``, for any parameters."""
    sent: list[str] = []

    def handler(request: Request) -> Response:
        sent.append(str(request.url))
        return Response(200, json={})

    transport = Transport(http_transport=MockTransport(handler))
    http = transport.session(INFO, base_url="https://demo.invalid/v1",
                             credentials=[(CRED, Secret(KEY))])

    async def main() -> None:
        try:
            await http.get("wallet/W1", params=params)
        finally:
            await transport.aclose()

    asyncio.run(main())
    expected = httpx.Client().build_request(
        "GET", "https://demo.invalid/v1/wallet/W1", params={**params, "api-key": KEY})
    assert sent == [str(expected.url)]
    assert urlsplit(sent[0]).path == "/v1/wallet/W1"
