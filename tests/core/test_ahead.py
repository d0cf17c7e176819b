"""Asking ahead: the next page is asked for while the current one is stored and handed
on, and its outcome is met where it is awaited, as if it had been awaited there.

The written signal is checked against a real HTTP server on 127.0.0.1 that holds its
answer until the test lets it go: ``ask_ahead`` must return while the answer is held.
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import pytest
import stamina

from asof.ahead import ask_ahead, on_written
from asof.provider import ProviderInfo, RateLimit
from asof.transport import MockTransport, Request, Response, Transport


def _run_asyncio(main: Any) -> Any:
    return anyio.run(main, backend="asyncio")


def test_work_that_sends_nothing_has_ended_when_ask_ahead_returns() -> None:
    done: list[str] = []

    async def work() -> int:
        await anyio.sleep(0)
        done.append("ran")
        return 7

    async def main() -> tuple[list[str], int]:
        ahead = await ask_ahead(work())
        seen = list(done)
        return seen, await ahead

    assert _run_asyncio(main) == (["ran"], 7)


def test_ask_ahead_returns_once_the_request_is_written_not_when_it_ends() -> None:
    async def main() -> tuple[bool, str]:
        release = anyio.Event()

        async def work() -> str:
            written = on_written()
            assert written is not None  # the context of the work carries the callback
            written()
            written()  # told twice: harmless
            await release.wait()
            return "answer"

        ahead = await ask_ahead(work())
        pending = not release.is_set()
        release.set()
        return pending, await ahead

    assert _run_asyncio(main) == (True, "answer")
    assert on_written() is None  # outside such work there is no callback


def test_an_error_of_the_work_is_raised_where_it_is_awaited() -> None:
    async def work() -> None:
        raise LookupError("page 2 failed")

    async def main() -> str:
        ahead = await ask_ahead(work())
        reached = "after ask_ahead"
        with pytest.raises(LookupError, match="page 2 failed"):
            await ahead
        return reached

    assert _run_asyncio(main) == "after ask_ahead"


def test_discard_cancels_work_in_flight_and_drops_an_error_unlogged() -> None:
    async def main() -> tuple[bool, list[Any]]:
        logged: list[Any] = []
        asyncio.get_running_loop().set_exception_handler(lambda _, context: logged.append(
            context))
        cancelled = anyio.Event()

        async def slow() -> None:
            written = on_written()
            assert written is not None
            written()
            try:
                await anyio.sleep(30)
            finally:
                cancelled.set()

        ahead = await ask_ahead(slow())
        ahead.discard()
        ahead.discard()  # twice: nothing more happens
        with anyio.fail_after(5):
            await cancelled.wait()

        async def failing() -> None:
            raise LookupError("nobody looks at this")

        failed = await ask_ahead(failing())
        failed.discard()
        await anyio.sleep(0)
        return cancelled.is_set(), logged

    was_cancelled, logged = _run_asyncio(main)
    assert was_cancelled
    assert logged == []


def test_under_trio_the_work_starts_only_when_awaited() -> None:
    done: list[str] = []

    async def work() -> int:
        done.append("ran")
        return 3

    async def main() -> tuple[list[str], int]:
        ahead = await ask_ahead(work())
        seen = list(done)
        return seen, await ahead

    assert anyio.run(main, backend="trio") == ([], 3)

    async def dropped() -> None:
        ahead = await ask_ahead(work())
        ahead.discard()  # closed: no "never awaited" warning

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        anyio.run(dropped, backend="trio")
    assert done == ["ran"]


class _Held(BaseHTTPRequestHandler):
    """Answers ``{"ok": 1}`` once the server's ``release`` event is set."""

    server: Any

    def do_GET(self) -> None:
        self.server.seen += 1
        self.server.arrived.set()
        self.server.release.wait(10)
        body = b'{"ok": 1, "value": 1.50}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def held_server() -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Held)
    server.arrived = threading.Event()  # type: ignore[attr-defined]
    server.seen = 0  # type: ignore[attr-defined]
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


def test_a_provider_session_tells_when_its_request_is_written(held_server: Any) -> None:
    url = f"http://127.0.0.1:{held_server.server_address[1]}"
    info = ProviderInfo(name="held", title="Held", base_url=url)

    async def main() -> tuple[bool, Any]:
        async with Transport(attempts=1, timeout=10) as transport:
            session = transport.session(info, base_url=url)
            with anyio.fail_after(10):  # the answer is held: only "written" ends this
                ahead = await ask_ahead(session.get("/answer"))
            held = not held_server.release.is_set()
            # the request reaches the server, which is holding its answer
            arrived = await anyio.to_thread.run_sync(held_server.arrived.wait, 10)
            held_server.release.set()
            with anyio.fail_after(10):
                return held and arrived, await ahead

    held, answer = _run_asyncio(main)
    assert held
    assert answer == {"ok": 1, "value": Decimal("1.50")}


def test_a_request_that_must_wait_for_its_turn_hands_back_at_once(held_server: Any) -> None:
    url = f"http://127.0.0.1:{held_server.server_address[1]}"
    info = ProviderInfo(name="held", title="Held", base_url=url)
    held_server.release.set()  # answers at once

    async def main() -> tuple[int, bool]:
        async with Transport(attempts=1, timeout=10) as transport:
            session = transport.session(info, base_url=url,
                                        rate_limit=RateLimit(requests=1, per_seconds=60))
            await session.get("/first")  # takes the only turn of the next minute
            seen = held_server.seen
            with anyio.fail_after(5):  # the next turn is a minute away
                ahead = await ask_ahead(session.get("/second"))
            waiting = held_server.seen == seen  # it has not been sent
            ahead.discard()
            return seen, waiting

    seen, waiting = _run_asyncio(main)
    assert seen == 1
    assert waiting


def test_a_request_to_be_tried_again_hands_back_at_once() -> None:
    calls: list[str] = []

    def handler(request: Request) -> Response:
        calls.append(str(request.url))
        return Response(503, text="busy")

    async def main() -> bool:
        transport = Transport(http_transport=MockTransport(handler), attempts=3)
        async with transport:
            session = transport.session(ProviderInfo(name="busy", title="Busy",
                                                     base_url="https://busy.example"),
                                        base_url="https://busy.example")
            with anyio.fail_after(5):  # the retries wait: ask_ahead does not
                ahead = await ask_ahead(session.get("/x"))
            pending = len(calls) == 1
            ahead.discard()
            return pending

    with stamina.set_testing(False):
        assert _run_asyncio(main)
