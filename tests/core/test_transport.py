"""The transport: requests, exact JSON, typed errors, retries, Retry-After and redaction.

Every test answers from an ``httpx.MockTransport``; nothing reaches the network.
Backoff waits are switched off with stamina's test mode, except where a test measures
the wait on trio's virtual clock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import anyio
import pytest
import stamina
import trio
import trio.testing

from asof import __version__
from asof.config import Config
from asof.errors import (
    AuthenticationError,
    NotFoundError,
    PluginError,
    ProviderError,
    ProviderRequestError,
    ProviderTimeout,
    RateLimited,
    ResponseError,
    RetryableError,
    TransportError,
    UpstreamError,
)
from asof.provider import Credential, ProviderInfo, RateLimit
from asof.ratelimit import DEFAULT_MARGIN, DEFAULT_OPENING, DEFAULT_WARMUP, RateLimiter
from asof.secrets import Secret
from asof.transport import (
    USER_AGENT,
    MockTransport,
    ProviderSession,
    Request,
    Response,
    Transport,
    httpx,
    parse_retry_after,
)
from tests.cli.fake_allium import serve_http

KEY = "dk_live_5ecret+/=value"
BASE = "https://api.demo.example/api/v1"
CRED = Credential(header="X-Api-Key", env=("DEMO_API_KEY",))
BEARER = Credential(header="Authorization", name="token", prefix="Bearer ", required=False)
INFO = ProviderInfo(name="demo", title="Demo", base_url=BASE, credentials=(CRED, BEARER))

Reply = Response | Exception | Callable[[Request], Response]


class Server:
    """Answers requests from a queue (the last reply repeats) and keeps what it saw."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, Response):
            return reply(request)
        return reply

    @property
    def transport(self) -> MockTransport:
        return MockTransport(self)


def session(
    server: Server,
    *,
    attempts: int = 3,
    max_retry_after: float = 60.0,
    rate_limit: RateLimit | None = None,
    token: str | None = None,
) -> ProviderSession:
    transport = Transport(
        http_transport=server.transport, attempts=attempts, max_retry_after=max_retry_after
    )
    credentials = [(CRED, Secret(KEY))]
    if token is not None:
        credentials.append((BEARER, Secret(token)))
    return transport.session(INFO, base_url=BASE, credentials=credentials, rate_limit=rate_limit)


def json_reply(status: int, body: Any, **headers: str) -> Response:
    return Response(status, text=json.dumps(body), headers=headers)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    """Keep each session's own number of attempts, but never wait between them."""
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


# --------------------------------------------------------------------------- requests


@pytest.mark.anyio
async def test_get_sends_credentials_in_headers_only() -> None:
    server = Server(json_reply(200, {"ok": True}))
    http = session(server, token="tok-9")
    assert await http.get("/balances/wallet", params={"at": 5, "mint": None, "x": "y"}) == {
        "ok": True
    }
    (request,) = server.requests
    assert request.method == "GET"
    assert str(request.url) == f"{BASE}/balances/wallet?at=5&x=y"
    assert request.headers["X-Api-Key"] == KEY
    assert request.headers["Authorization"] == "Bearer tok-9"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == f"asof/{__version__}" == USER_AGENT
    assert KEY not in str(request.url)


@pytest.mark.anyio
async def test_post_sends_a_json_body() -> None:
    server = Server(json_reply(200, [1, 2]))
    http = session(server)
    body = {"wallets": ["a", "b"], "n": 2**70}
    assert await http.post("holdings", json=body, params={"limit": 10}) == [1, 2]
    (request,) = server.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/holdings?limit=10"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == body


@pytest.mark.anyio
async def test_paths_join_the_base_url() -> None:
    server = Server(json_reply(200, {}))
    http = session(server)
    await http.get("account/balance/history")
    await http.get("")
    await http.get(f"{BASE}/absolute?q=1")
    assert [str(r.url) for r in server.requests] == [
        f"{BASE}/account/balance/history",
        BASE,
        f"{BASE}/absolute?q=1",
    ]


@pytest.mark.anyio
async def test_credentials_never_go_to_another_host() -> None:
    server = Server(json_reply(200, {}))
    http = session(server)
    with pytest.raises(PluginError, match="refusing to send a request outside"):
        await http.get("https://elsewhere.example/steal")
    with pytest.raises(PluginError):
        await http.get("http://api.demo.example/api/v1/downgraded")
    assert server.requests == []


@pytest.mark.anyio
async def test_numbers_stay_exact() -> None:
    text = (
        '{"raw": 340282366920938463463374607431768211457, "neg": -18446744073709551617,'
        ' "human": 0.1, "usd": 12345678901234567890.123456789, "tiny": 1e-30, "big": 1E+400,'
        ' "nested": [{"p": 3.14159265358979323846264338327950288}]}'
    )
    server = Server(Response(200, text=text))
    data = await session(server).get("x")
    assert data["raw"] == 2**128 + 1
    assert data["neg"] == -(2**64) - 1
    assert data["human"] == Decimal("0.1")
    assert data["usd"] == Decimal("12345678901234567890.123456789")
    assert data["tiny"] == Decimal("1e-30")
    assert data["big"] == Decimal("1E+400")
    assert data["nested"][0]["p"] == Decimal("3.14159265358979323846264338327950288")
    floats: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, float):
            floats.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(data)
    assert floats == []


@pytest.mark.anyio
async def test_empty_success_is_none() -> None:
    assert await session(Server(Response(204))).get("x") is None
    assert await session(Server(Response(200, text="  \n"))).get("x") is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    "text", ["<html>oops</html>", "{broken", '{"x": NaN}', '{"x": Infinity}']
)
async def test_success_that_is_not_json_is_a_response_error(text: str) -> None:
    server = Server(Response(200, text=text))
    with pytest.raises(ResponseError, match="not JSON") as caught:
        await session(server).get("x")
    assert caught.value.status == 200
    assert caught.value.provider == "demo"
    assert isinstance(caught.value, RetryableError)  # a garbled answer is worth another try
    assert len(server.requests) == 3  # every attempt, and no more


# --------------------------------------------------------------------------- status mapping


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "cls", "builtin"),
    [
        (400, ProviderRequestError, ValueError),
        (401, AuthenticationError, ProviderError),
        (403, AuthenticationError, ProviderError),
        (404, NotFoundError, LookupError),
        (409, ProviderRequestError, ValueError),
        (418, ProviderRequestError, ValueError),
        (422, ProviderRequestError, ValueError),
        (429, RateLimited, RetryableError),
        (500, UpstreamError, RetryableError),
        (502, UpstreamError, RetryableError),
        (503, UpstreamError, RetryableError),
        (504, ProviderTimeout, TimeoutError),
        (599, UpstreamError, RetryableError),
        (302, ResponseError, ProviderError),
    ],
)
async def test_each_status_maps_to_its_error(
    status: int, cls: type[ProviderError], builtin: type[Exception]
) -> None:
    server = Server(json_reply(status, {"error": f"provider says {status}"}))
    with pytest.raises(cls) as caught:
        await session(server, attempts=2).get("x")
    error = caught.value
    assert type(error) is cls
    assert isinstance(error, builtin)
    assert (error.provider, error.status) == ("demo", status)
    assert error.provider_message == f"provider says {status}"
    assert str(error).startswith("demo: ")
    assert f"(HTTP {status})" in str(error)
    assert f"provider says {status}" in str(error)
    assert len(server.requests) == (2 if error.retryable else 1)


@pytest.mark.anyio
async def test_redirects_are_not_followed() -> None:
    server = Server(Response(301, headers={"Location": "https://elsewhere.example/"}))
    with pytest.raises(ResponseError, match="unexpected status 301"):
        await session(server).get("x")
    assert len(server.requests) == 1


# --------------------------------------------------------------------------- provider messages


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "message", "details"),
    [
        ({"error": "Invalid wallet address"}, "Invalid wallet address", None),
        ({"message": "slot too old"}, "slot too old", None),
        ({"detail": "Not authenticated"}, "Not authenticated", None),
        (
            {"statusCode": 400, "error": "Bad Request", "message": "mint is required"},
            "Bad Request: mint is required",
            None,
        ),
        ({"error": "same", "message": "same"}, "same", None),
        (
            {"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "Invalid params"}},
            "Invalid params",
            {"code": -32602, "message": "Invalid params"},
        ),
        (
            {"error": "bad request", "details": ["cursor expired", "retry from start"]},
            "bad request: cursor expired; retry from start",
            ["cursor expired", "retry from start"],
        ),
        (
            {"errors": [{"reason": "x"}], "status": "failed"},
            '{"errors": [{"reason": "x"}], "status": "failed"}',
            None,
        ),
        (["just", "a", "list"], '["just", "a", "list"]', None),
    ],
)
async def test_provider_message_is_extracted_from_json(
    body: Any, message: str, details: Any
) -> None:
    server = Server(json_reply(400, body))
    with pytest.raises(ProviderRequestError) as caught:
        await session(server).get("x")
    assert caught.value.provider_message == message
    assert caught.value.details == details


@pytest.mark.anyio
async def test_validation_detail_list_names_the_field() -> None:
    detail = [
        {"loc": ["body", "addresses", 0, "chain"], "msg": "unknown chain", "type": "enum"},
        {"loc": ["query", "limit"], "msg": "must be <= 1000", "type": "less_than_equal"},
        {"msg": "something general", "type": "value_error"},
    ]
    server = Server(json_reply(422, {"detail": detail}))
    with pytest.raises(ProviderRequestError) as caught:
        await session(server).post("holdings", json={})
    error = caught.value
    assert error.field == "addresses.0.chain"
    assert error.details == detail
    assert error.provider_message == (
        "addresses.0.chain: unknown chain; limit: must be <= 1000; something general"
    )
    assert "rejected the request as invalid (HTTP 422): addresses.0.chain" in str(error)


@pytest.mark.anyio
async def test_text_bodies_are_kept_short() -> None:
    server = Server(Response(502, text="<html>\n  <body>Bad   gateway" + " x" * 1000 + "</body>"))
    with pytest.raises(UpstreamError) as caught:
        await session(server, attempts=1).get("x")
    message = caught.value.provider_message
    assert message is not None
    assert message.startswith("an HTML page: Bad gateway x x")  # its words, not its markup
    assert message.endswith("…")
    assert len(message) <= 140


@pytest.mark.anyio
async def test_an_empty_error_body_has_no_provider_message() -> None:
    with pytest.raises(NotFoundError) as caught:
        await session(Server(Response(404))).get("x")
    assert caught.value.provider_message is None
    assert str(caught.value) == "demo: found nothing there (HTTP 404)"


# --------------------------------------------------------------------------- retries


@pytest.mark.anyio
async def test_retries_then_succeeds() -> None:
    server = Server(
        json_reply(503, {"error": "busy"}),
        httpx.ConnectError("connection refused"),
        json_reply(200, {"balance": "1.5"}),
    )
    assert await session(server, attempts=3).get("x") == {"balance": "1.5"}
    assert len(server.requests) == 3


@pytest.mark.anyio
async def test_retries_stop_after_the_attempts_and_raise_the_last_error() -> None:
    server = Server(json_reply(500, {"error": "first"}), json_reply(502, {"error": "last"}))
    with pytest.raises(UpstreamError, match="last"):
        await session(server, attempts=4).get("x")
    assert len(server.requests) == 4


@pytest.mark.anyio
async def test_one_attempt_means_no_retry() -> None:
    server = Server(json_reply(500, {}))
    with pytest.raises(UpstreamError):
        await session(server, attempts=1).get("x")
    assert len(server.requests) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_retried(status: int) -> None:
    server = Server(json_reply(status, {}), json_reply(200, {}))
    with pytest.raises(ProviderError):
        await session(server, attempts=5).get("x")
    assert len(server.requests) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("exc", "cls", "pattern"),
    [
        (httpx.ReadTimeout("read timed out"), ProviderTimeout, r"no answer within 30 s"),
        (httpx.ConnectTimeout("connect timed out"), ProviderTimeout, r"ConnectTimeout"),
        (httpx.ConnectError("refused"), TransportError, r"connection failed \(ConnectError"),
        (httpx.ReadError("reset by peer"), TransportError, r"reset by peer"),
        (httpx.RemoteProtocolError("bad framing"), TransportError, r"RemoteProtocolError"),
    ],
)
async def test_connection_failures_are_typed_and_retried(
    exc: Exception, cls: type[RetryableError], pattern: str
) -> None:
    server = Server(exc)
    with pytest.raises(cls, match=pattern) as caught:
        await session(server, attempts=2).get("x")
    assert caught.value.status is None
    assert caught.value.__cause__ is None
    assert len(server.requests) == 2


@pytest.mark.anyio
async def test_a_bug_in_the_handler_is_not_turned_into_a_provider_error() -> None:
    server = Server(AssertionError("unexpected request"))
    with pytest.raises(AssertionError, match="unexpected request"):
        await session(server).get("x")
    assert len(server.requests) == 1


# --------------------------------------------------------------------------- Retry-After


@pytest.mark.anyio
async def test_retry_after_seconds_is_kept_on_the_error() -> None:
    server = Server(json_reply(429, {"error": "slow down"}, **{"Retry-After": "7"}))
    with pytest.raises(RateLimited) as caught:
        await session(server, attempts=1).get("x")
    assert caught.value.retry_after == 7.0
    assert caught.value.provider_message == "slow down"


@pytest.mark.anyio
async def test_retry_after_is_capped() -> None:
    server = Server(json_reply(429, {}, **{"Retry-After": "86400"}))
    with pytest.raises(RateLimited) as caught:
        await session(server, attempts=1, max_retry_after=30).get("x")
    assert caught.value.retry_after == 30.0


@pytest.mark.anyio
async def test_retry_after_http_date_is_read_and_capped() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(days=2), usegmt=True)
    server = Server(json_reply(503, {"error": "maintenance"}, **{"Retry-After": later}))
    with pytest.raises(UpstreamError) as caught:
        await session(server, attempts=1, max_retry_after=45).get("x")
    assert caught.value.retry_after == 45.0


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["soon", "", "-5", "inf"])
async def test_unreadable_retry_after_is_ignored(value: str) -> None:
    server = Server(json_reply(429, {}, **{"Retry-After": value}))
    with pytest.raises(RateLimited) as caught:
        await session(server, attempts=1).get("x")
    assert caught.value.retry_after is None


@pytest.mark.anyio
async def test_retry_after_is_ignored_outside_429_and_503() -> None:
    server = Server(json_reply(500, {}, **{"Retry-After": "5"}))
    with pytest.raises(UpstreamError) as caught:
        await session(server, attempts=1).get("x")
    assert caught.value.retry_after is None


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("tomorrow-ish", now=now) is None


def test_retry_waits_at_least_what_retry_after_asks() -> None:
    """Measured on trio's virtual clock: no wall time passes."""
    seen: list[float] = []

    def reply(request: Request) -> Response:
        seen.append(trio.current_time())
        if len(seen) == 1:
            return json_reply(429, {"error": "slow"}, **{"Retry-After": "12"})
        if len(seen) == 2:
            return json_reply(503, {}, **{"Retry-After": "3600"})
        return json_reply(200, {"ok": 1})

    async def main() -> Any:
        http = session(Server(reply), attempts=3, max_retry_after=40)
        return await http.get("x")

    with stamina.set_testing(False):
        answer = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert answer == {"ok": 1}
    # what Retry-After asked, plus at most 1.05 s of jitter
    assert 12.0 <= seen[1] - seen[0] <= 13.05 + 1e-6
    assert 40.0 <= seen[2] - seen[1] <= 41.05 + 1e-6  # capped


def test_retry_without_retry_after_backs_off_with_jitter() -> None:
    seen: list[float] = []

    def reply(request: Request) -> Response:
        seen.append(trio.current_time())
        return json_reply(500, {}) if len(seen) < 3 else json_reply(200, {})

    async def main() -> Any:
        return await session(Server(reply), attempts=3).get("x")

    with stamina.set_testing(False):
        trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    first, second = seen[1] - seen[0], seen[2] - seen[1]
    assert 0.25 <= first <= 1.25 + 1e-6  # initial wait plus up to one second of jitter
    assert 0.5 <= second <= 1.5 + 1e-6


# --------------------------------------------------------------------------- secrets


@pytest.mark.anyio
async def test_an_echoed_secret_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    token = "tok/with+odd=chars"
    body = {
        "error": f"invalid api key {KEY}",
        "message": f"we saw api-key={KEY.replace('+', '%2B').replace('/', '%2F')}",
        "details": {"received": {"X-Api-Key": KEY, "auth": f"Bearer {token}"}},
    }
    server = Server(json_reply(401, body))
    http = session(server, token=token)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as caught:
        await http.get("x")
    error = caught.value
    shown = [
        str(error),
        repr(error),
        repr(error.args),
        str(error.provider_message),
        repr(error.details),
        repr(http),
        repr(http._transport),
        caplog.text,
        *(repr(r.__dict__) for r in caplog.records),
    ]
    for text in shown:
        assert KEY not in text
        assert token not in text
        assert "5ecret" not in text
    assert error.provider_message is not None
    assert "invalid api key ***" in error.provider_message
    assert error.details == {"received": {"X-Api-Key": "***", "auth": "Bearer ***"}}


@pytest.mark.anyio
async def test_secrets_stay_out_of_retry_logs_and_timeouts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = Server(
        httpx.ReadTimeout(f"timed out talking to key {KEY}"),
        Response(503, text=f"overloaded for {KEY}"),
        Response(200, text=f'{{"echo": "{KEY}"}}'),
    )
    http = session(server)
    with caplog.at_level(logging.DEBUG):
        data = await http.get("x")
    assert data == {"echo": KEY}  # a successful body is the plugin's to read, untouched
    assert "demo GET https://api.demo.example/api/v1/x -> 503" in caplog.text
    assert "ReadTimeout" in caplog.text
    assert KEY not in caplog.text
    assert all(KEY not in repr(r.__dict__) for r in caplog.records)


@pytest.mark.anyio
async def test_connection_error_messages_are_redacted() -> None:
    server = Server(httpx.ConnectError(f"proxy rejected header {KEY}"))
    with pytest.raises(TransportError) as caught:
        await session(server, attempts=1).get("x")
    assert KEY not in str(caught.value)
    assert "proxy rejected header ***" in str(caught.value)


@pytest.mark.anyio
async def test_debug_log_line(caplog: pytest.LogCaptureFixture) -> None:
    server = Server(json_reply(200, {}))
    with caplog.at_level(logging.DEBUG, logger="asof.http"):
        await session(server).get("wallet", params={"at": "2025-01-01"})
    (record,) = [r for r in caplog.records if r.name == "asof.http"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage().startswith(
        "demo GET https://api.demo.example/api/v1/wallet?at=2025-01-01 -> 200 in "
    )


def test_session_repr_hides_userinfo_and_secrets() -> None:
    transport = Transport()
    http = transport.session(
        INFO, base_url=f"https://user:{KEY}@node.example/{KEY}", credentials=[(CRED, Secret(KEY))]
    )
    assert repr(http) == "<ProviderSession demo https://node.example/***>"
    assert http.redact(f"a {KEY} b") == "a *** b"


# --------------------------------------------------------------------------- the shared client


def test_transport_builds_outside_an_event_loop_and_opens_lazily() -> None:
    transport = Transport(http_transport=Server(json_reply(200, {"n": 1})).transport)
    assert "idle" in repr(transport)
    http = transport.session(INFO, base_url=BASE)

    async def main() -> Any:
        async with transport:
            answer = await http.get("x")
            assert "open" in repr(transport)
            return answer

    assert anyio.run(main) == {"n": 1}
    assert "idle" in repr(transport)
    assert anyio.run(main, backend="trio") == {"n": 1}  # a closed transport opens anew


@pytest.mark.anyio
async def test_one_client_is_shared_by_every_session() -> None:
    server = Server(json_reply(200, {}))
    transport = Transport(http_transport=server.transport)
    other = ProviderInfo(name="other", title="Other", base_url="https://other.example")
    a = transport.session(INFO, base_url=BASE, credentials=[(CRED, Secret(KEY))])
    b = transport.session(other, base_url=other.base_url)
    client = transport.client
    await a.get("x")
    await b.get("y")
    assert transport.client is client
    assert "X-Api-Key" not in server.requests[1].headers  # credentials stay per provider
    await transport.aclose()


def test_rate_limiters_are_shared_per_provider_and_limit() -> None:
    transport = Transport()
    limit = RateLimit(requests=5, per_seconds=1)
    assert transport.limiter("demo", None) is None
    first = transport.limiter("demo", limit)
    assert transport.limiter("demo", RateLimit(requests=5, per_seconds=1.0)) is first
    assert transport.limiter("other", limit) is not first
    assert transport.limiter("demo", RateLimit(requests=1, per_seconds=1)) is not first


def test_sessions_wait_for_the_rate_limit() -> None:
    """Ten calls at 5 per second, shared by two sessions, are nine spacings of a fifth
    of a second (widened by the limiter's margin and opening factor, plus its warm-up
    after the first call) on trio's virtual clock."""
    server = Server(json_reply(200, {}))
    transport = Transport(http_transport=server.transport)
    limit = RateLimit(requests=5, per_seconds=1)

    async def main() -> float:
        a = transport.session(INFO, base_url=BASE, rate_limit=limit)
        b = transport.session(INFO, base_url=BASE, rate_limit=limit)
        start = trio.current_time()
        for _ in range(5):
            await a.get("x")
            await b.get("x")
        await transport.aclose()
        return trio.current_time() - start

    elapsed = trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    low = 9 * 0.2 * (1 + DEFAULT_MARGIN) + DEFAULT_WARMUP
    assert low <= elapsed <= low * DEFAULT_OPENING
    assert len(server.requests) == 10


def test_session_timeout_defaults_to_the_transport() -> None:
    transport = Transport(timeout=12)
    assert transport.session(INFO, base_url=BASE).timeout == 12.0
    assert transport.session(INFO, base_url=BASE, timeout=3).timeout == 3.0


@pytest.mark.anyio
async def test_session_timeout_reaches_the_request() -> None:
    seen: list[Any] = []

    def reply(request: Request) -> Response:
        seen.append(request.extensions["timeout"])
        return json_reply(200, {})

    transport = Transport(http_transport=MockTransport(reply))
    await transport.session(INFO, base_url=BASE, timeout=4.5).get("x")
    assert seen == [{"connect": 4.5, "read": 4.5, "write": 4.5, "pool": 4.5}]


@pytest.mark.anyio
async def test_a_session_at_the_transports_timeout_sends_the_clients_timeout() -> None:
    seen: list[Any] = []

    def reply(request: Request) -> Response:
        seen.append(request.extensions["timeout"])
        return json_reply(200, {})

    transport = Transport(http_transport=MockTransport(reply), timeout=6)
    await transport.session(INFO, base_url=BASE).get("x")
    assert seen == [{"connect": 6.0, "read": 6.0, "write": 6.0, "pool": 6.0}]


@pytest.mark.anyio
async def test_a_failed_first_attempt_counts_as_the_first_of_the_attempts() -> None:
    """The first attempt goes without a retry context; the retries after it keep the
    configured number of attempts in all (counted from the server's log)."""
    server = Server(json_reply(500, {}))
    with stamina.set_testing(True, attempts=3), pytest.raises(UpstreamError):
        await session(server, attempts=3).get("x")
    assert len(server.requests) == 3
    # stamina's test mode still rules
    with stamina.set_testing(True, attempts=1), pytest.raises(UpstreamError):
        await session(server, attempts=3).get("x")
    assert len(server.requests) == 4


@pytest.mark.parametrize(
    "kwargs",
    [{"timeout": 0}, {"attempts": 0}, {"attempts": 1.5}, {"max_retry_after": -1}],
)
def test_bad_transport_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        Transport(**kwargs)


# --------------------------------------------------------------------------- from a Config


@pytest.mark.anyio
async def test_session_for_reads_the_configuration() -> None:
    server = Server(json_reply(200, {}))
    config = Config(
        env={
            "DEMO_API_KEY": KEY,
            "ASOF_DEMO_BASE_URL": "https://proxy.example/demo/",
            "ASOF_DEMO_TIMEOUT": "7",
            "ASOF_DEMO_RATE_LIMIT": "100/1s",
        },
        attempts=2,
    )
    transport = Transport.from_config(config, http_transport=server.transport)
    assert transport.attempts == 2
    http = transport.session_for(config.provider_settings(INFO))
    assert (http.base_url, http.timeout) == ("https://proxy.example/demo", 7.0)
    assert http.rate_limit == RateLimit(requests=100, per_seconds=1)
    await http.get("x")
    (request,) = server.requests
    assert request.headers["X-Api-Key"] == KEY
    assert "Authorization" not in request.headers  # the optional token is not set
    assert str(request.url) == "https://proxy.example/demo/x"


def test_session_for_refuses_a_missing_required_credential() -> None:
    with pytest.raises(AuthenticationError) as caught:
        Transport().session_for(Config().provider_settings(INFO))
    assert str(caught.value) == (
        "demo: missing credential api_key: set ASOF_DEMO_API_KEY or DEMO_API_KEY"
    )


class _Quick(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        body = b'{"ok": 1}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class WatchingLimiter(RateLimiter):
    """A limiter that keeps the tickets of the requests that left, in order."""

    def __init__(self, requests: int, per_seconds: float) -> None:
        super().__init__(requests, per_seconds)
        self.left: list[int] = []

    def departed(self, ticket: int) -> None:
        self.left.append(ticket)
        super().departed(ticket)


@pytest.mark.anyio
async def test_a_rate_limited_request_tells_the_limiter_when_it_left() -> None:
    """Over a real socket, each request's departure (its headers written) reaches the
    limiter, ticket by ticket; a request that cannot be built takes no turn."""
    limit = RateLimit(requests=100, per_seconds=1)
    watching = WatchingLimiter(100, 1.0)
    with serve_http(_Quick) as url:
        transport = Transport()
        transport._limiters[("demo", 100, 1.0, "")] = watching
        http = transport.session(INFO, base_url=url, rate_limit=limit)
        try:
            for _ in range(3):
                assert await http.get("x") == {"ok": 1}
            with pytest.raises(TypeError):
                await http.post("x", json={"not json": object()})
            assert await http.get("x") == {"ok": 1}
        finally:
            await transport.aclose()
    assert watching.left == [1, 2, 3, 4]
