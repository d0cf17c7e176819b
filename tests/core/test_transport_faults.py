"""The transport under broken answers: cut-short bodies, dripping servers, echoed keys,
HTML error pages, and retries that must not print on a library user's stderr.

Every test answers from an ``httpx.MockTransport`` (or, for the stderr check, a child
interpreter that uses one); nothing reaches the network.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from types import TracebackType

import anyio
import pytest

from asof.errors import NoRoute, ProviderTimeout, ResponseError, RetryableError, UnreadableResponse
from asof.provider import Credential, ProviderInfo
from asof.secrets import Secret
from asof.transport import MockTransport, Request, Response, Transport
from tests.core.test_transport import anyio_backend, no_backoff  # noqa: F401  (fixtures)

KEY = "dk_live_5ecret0123456789"
BASE = "https://api.demo.example/api/v1"
INFO = ProviderInfo(name="demo", title="Demo", base_url=BASE,
                    credentials=(Credential(header="X-Api-Key", env=("DEMO_API_KEY",)),))
PAGE = b'{"items": [{"raw": 1}, {"raw": 2}], "cursor": null}'


class Replies:
    """Answers from a list (the last repeats) and counts the requests seen."""

    def __init__(self, *replies: Response) -> None:
        self.replies = list(replies)
        self.seen = 0

    def __call__(self, request: Request) -> Response:
        self.seen += 1
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def session(handler: object, *, attempts: int = 3, timeout: float = 30.0) -> object:
    transport = Transport(http_transport=MockTransport(handler),  # type: ignore[arg-type]
                          attempts=attempts, timeout=timeout)
    return transport.session(INFO, base_url=BASE, credentials=[(INFO.credentials[0],
                                                                Secret(KEY))])


@pytest.mark.anyio
@pytest.mark.parametrize("body", [PAGE[:20], PAGE[:-1], b"<html>proxy</html>", b"\x00\x01"])
async def test_a_cut_short_success_is_retried(body: bytes) -> None:
    replies = Replies(Response(200, content=body), Response(200, content=PAGE))
    answer = await session(replies).get("x")  # type: ignore[attr-defined]
    assert answer == {"items": [{"raw": 1}, {"raw": 2}], "cursor": None}
    assert replies.seen == 2


@pytest.mark.anyio
async def test_an_unreadable_success_is_retried_within_the_attempts() -> None:
    replies = Replies(Response(200, content=PAGE[:20]))
    with pytest.raises(UnreadableResponse, match="cut short or not JSON") as caught:
        await session(replies, attempts=4).get("x")  # type: ignore[attr-defined]
    assert isinstance(caught.value, ResponseError)
    assert isinstance(caught.value, RetryableError)
    assert replies.seen == 4


@pytest.mark.anyio
async def test_the_timeout_bounds_the_whole_request() -> None:
    async def drip() -> AsyncIterator[bytes]:
        for chunk in (PAGE[:10], PAGE[10:20], PAGE[20:30], PAGE[30:]):
            await anyio.sleep(0.15)  # each piece arrives well within any per-read limit
            yield chunk

    # The whole body takes 0.6 s in pieces of 0.15 s: a per-read limit of 0.2 s lets it
    # through, the request's deadline of 0.2 s does not.
    replies = Replies(Response(200, content=drip()))
    with pytest.raises(ProviderTimeout, match=r"no complete answer within 0\.2 s"):
        await session(replies, attempts=1, timeout=0.2).get("x")  # type: ignore[attr-defined]


def _frames(tb: TracebackType | None) -> Iterator[dict[str, object]]:
    """The locals of asof's own frames in a traceback."""
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith("asof"):
            yield tb.tb_frame.f_locals
        tb = tb.tb_next


@pytest.mark.anyio
@pytest.mark.parametrize("status", [200, 400, 502])
async def test_an_echoed_key_is_in_no_local_of_the_parser(status: int) -> None:
    body = f"<html><body>bad request for key {KEY}</body></html>".encode()
    replies = Replies(Response(status, content=body))
    with pytest.raises(ResponseError if status == 200 else Exception) as caught:
        await session(replies, attempts=1).get("x")  # type: ignore[attr-defined]
    assert KEY not in str(caught.value)
    frames = list(_frames(caught.value.__traceback__))
    assert frames  # the transport's frames are there to inspect
    for local in frames:
        for name, value in local.items():
            if isinstance(value, str | bytes):
                shown = value if isinstance(value, str) else value.decode("latin-1")
                assert KEY not in shown, f"local {name!r} holds the key"


@pytest.mark.anyio
async def test_an_html_error_page_is_reduced_to_its_title() -> None:
    page = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>"
            + "body{}" * 500 + "</style></head><body><h1>Bad Gateway</h1>"
            + "<p>cloud</p>" * 300 + "</body></html>")
    replies = Replies(Response(502, text=page))
    with pytest.raises(RetryableError) as caught:
        await session(replies, attempts=1).get("x")  # type: ignore[attr-defined]
    assert caught.value.provider_message == "an HTML page: 502 Bad Gateway"
    assert str(caught.value) == "demo: upstream error (HTTP 502): an HTML page: 502 Bad Gateway"


def test_a_route_names_each_provider_once() -> None:
    error = NoRoute("no provider could answer", reasons=[
        ("demo", "demo: upstream error (HTTP 502)"), ("other", "declined this query")])
    assert str(error) == ("no provider could answer (demo: upstream error (HTTP 502); "
                          "other: declined this query)")


def test_retries_print_nothing_on_a_library_users_stderr() -> None:
    script = textwrap.dedent(f"""
        import anyio
        from asof.provider import ProviderInfo
        from asof.transport import MockTransport, Response, Transport

        replies = [Response(503), Response(503), Response(200, json={{"ok": True}})]

        def handler(request):
            return replies.pop(0)

        async def main():
            transport = Transport(http_transport=MockTransport(handler), attempts=3)
            info = ProviderInfo(name="demo", title="Demo", base_url={BASE!r})
            session = transport.session(info, base_url={BASE!r})
            print(await session.get("x"))
            await transport.aclose()

        anyio.run(main)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'ok': True}"
    assert done.stderr == ""
