"""A local HTTP server that enforces a per-key rate limit and logs every request.

For tests and benchmarks of rate budgets: :class:`RateLimitedServer` listens on a free
127.0.0.1 port, reads the caller's key from a header (``X-API-Key`` by default), and
answers each request after ``latency`` seconds: ``200`` with a small JSON body while
the key has made fewer than ``requests`` requests in the last ``per_seconds`` seconds
(counted at arrival, on the server's clock), else ``429`` with ``Retry-After``. A
request refused with 429 does not count against the limit. Every request is logged
(:attr:`RateLimitedServer.log`: arrival time, a digest of the key, path, status), so
tests count calls and 429s from what the server saw, never from the client.

Paths in ``exempt`` (default ``/health``) are answered 200 without counting against any
limit, so a client can open its connections before a measured run; they are logged but
left out of :meth:`~RateLimitedServer.statuses` and
:meth:`~RateLimitedServer.busiest_window`.

:func:`send_requests` (also ``python -m asof.testing.ratelimited``, a process of its
own) sends requests to it through asof's transport, as processes sharing a key do.

``force_429`` makes the next that many answers 429 with ``Retry-After: retry_after``
whatever the budget (a provider that asks clients to slow down). ``answer`` makes it
speak a provider's API: what a request let through gets, by its path (with the query
string), e.g. a Helius-shaped balance-at.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import attrs

from asof.provider import RateLimit

__all__ = ["Hit", "RateLimitedServer", "send_requests"]


@attrs.frozen
class Hit:
    """One request the server answered: when it arrived (``time.time()``, seconds since
    the epoch), a digest of its key, its path and the status it got."""

    at: float
    key: str
    path: str
    status: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # a long listen queue: with the default of 5, a burst of new connections loses
    # some, and the client's retry a second later would look like a late request
    request_queue_size = 256


class RateLimitedServer:
    """A rate-limited JSON server on 127.0.0.1 (start with ``with`` or :meth:`start`)."""

    def __init__(self, *, requests: int, per_seconds: float, latency: float = 0.0,
                 header: str = "X-API-Key", retry_after: int = 1,
                 exempt: tuple[str, ...] = ("/health",),
                 answer: Callable[[str], tuple[int, bytes]] | None = None) -> None:
        self.requests = requests
        self.per_seconds = per_seconds
        self.latency = latency
        self.header = header
        self.retry_after = retry_after
        self.exempt = exempt
        self.answer = answer  #: (status, JSON body) of a request let through, by path
        self.force_429 = 0
        self.log: list[Hit] = []
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        assert self._server is not None, "the server is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _admit(self, key: str, path: str) -> tuple[int, bytes]:
        now = time.time()
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        with self._lock:
            if path in self.exempt:
                status = 200
            elif self.force_429 > 0:
                self.force_429 -= 1
                status = 429
            else:
                recent = self._recent[key]
                while recent and recent[0] <= now - self.per_seconds:
                    recent.popleft()
                status = 429 if len(recent) >= self.requests else 200
                if status == 200:
                    recent.append(now)
        if status == 429:
            body = json.dumps({"error": "Too many requests"}).encode()
        elif self.answer is not None and path not in self.exempt:
            status, body = self.answer(path)
        else:
            body = json.dumps({"ok": True, "path": path}).encode()
        with self._lock:
            self.log.append(Hit(now, digest, path, status))
        return status, body

    def start(self) -> RateLimitedServer:
        """Start serving in a background thread."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep connections open, as providers do
            # headers and body go out in two writes: without TCP_NODELAY the body
            # waits for the client's delayed ACK of the headers (about 40 ms)
            disable_nagle_algorithm = True

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, body = owner._admit(self.headers.get(owner.header, ""), self.path)
                if owner.latency:
                    time.sleep(owner.latency)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status == 429:
                    self.send_header("Retry-After", str(owner.retry_after))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def log_message(self, *args: object) -> None:
                return None

        server = _Server(("127.0.0.1", 0), Handler)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def statuses(self) -> dict[int, int]:
        """How many answers of each status the server gave."""
        counts: dict[int, int] = {}
        for hit in self.counted():
            counts[hit.status] = counts.get(hit.status, 0) + 1
        return counts

    def counted(self) -> list[Hit]:
        """The logged requests on paths that count against the limit."""
        return [hit for hit in self.log if hit.path not in self.exempt]

    def busiest_window(self, key: str | None = None) -> int:
        """The most successful requests (of one key digest, or all) that arrived within
        any ``per_seconds`` window."""
        times = sorted(h.at for h in self.counted()
                       if h.status == 200 and (key is None or h.key == key))
        best, start = 0, 0
        for end, at in enumerate(times):
            while times[start] <= at - self.per_seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    def __enter__(self) -> RateLimitedServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# --------------------------------------------------------------------------- a client process

_CLIENT_USAGE = ("usage: python -m asof.testing.ratelimited URL STORE COUNT CONCURRENCY "
                 "REQUESTS PER_SECONDS [asyncio|trio]")


async def send_requests(url: str, store: str | None, count: int, *, concurrency: int,
                        limit: RateLimit, key: str = "the-shared-key",
                        ready: Callable[[], None] | None = None) -> dict[str, int]:
    """Send ``count`` GETs to ``url`` through asof's transport, ``concurrency`` at a
    time, as provider ``limited`` with credential ``key`` (header ``X-API-Key``) at
    ``limit``, with one attempt each and the rate budget in ``store`` (``None``: this
    process's own). First opens ``concurrency`` connections on ``/health`` and calls
    ``ready`` (a process that has run a while). The counts of answered and refused
    (429) requests."""
    import anyio

    from asof.errors import RateLimited
    from asof.provider import Credential, ProviderInfo
    from asof.secrets import Secret
    from asof.transport import Transport

    cred = Credential(header="X-API-Key")
    info = ProviderInfo(name="limited", title="Limited", base_url=url, credentials=(cred,),
                        rate_limit=limit)
    counts = {"ok": 0, "limited": 0}
    async with Transport(attempts=1, rate_limit_store=store) as transport:
        session = transport.session(info, base_url=url, rate_limit=limit,
                                    credentials=[(cred, Secret(key))])
        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(transport.client.get, url + "/health")
        if ready is not None:
            ready()
        todo = iter(range(count))

        async def worker() -> None:
            for n in todo:
                try:
                    await session.get(f"/r/{n}")
                    counts["ok"] += 1
                except RateLimited:
                    counts["limited"] += 1

        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(worker)
    return counts


def _client_main(argv: list[str]) -> None:
    """``python -m asof.testing.ratelimited ...``: :func:`send_requests` in a process of
    its own; prints ``ready``, waits for its standard input to close, then prints the
    counts as JSON."""
    import sys

    import anyio

    if len(argv) not in (6, 7):
        raise SystemExit(_CLIENT_USAGE)
    url, store, count, concurrency, requests, per_seconds = argv[:6]
    limit = RateLimit(requests=int(requests), per_seconds=float(per_seconds))

    def ready() -> None:
        print("ready", flush=True)
        sys.stdin.read()

    async def run() -> dict[str, int]:
        return await send_requests(url, store or None, int(count),
                                   concurrency=int(concurrency), limit=limit, ready=ready)

    print(json.dumps(anyio.run(run, backend=argv[6] if len(argv) == 7 else "asyncio")))


if __name__ == "__main__":
    import sys

    _client_main(sys.argv[1:])
