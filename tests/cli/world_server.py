"""The model world of :mod:`tests.core.archive.world` served over real HTTP on
127.0.0.1, with a provider's rate limit and latency.

:class:`WorldServer` answers every request with :meth:`World.handler` (the documented
shapes of Allium's balances history and Helius's balance-at), after ``latency``
seconds, and enforces ``limit`` requests per ``per_seconds`` as a sliding window, as a
provider counting requests does: a request that would make more than ``limit`` in the
last ``per_seconds`` is answered ``429`` with ``Retry-After: 1`` (and counted in
:attr:`WorldServer.refused`). Every request is logged with its arrival time and
status, so tests count calls and 429s from the server's side, never from timings.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import attrs

from asof.records import Wallet
from asof.transport import Request
from tests.cli.fake_allium import serve_http
from tests.core.archive.world import USDC, World

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ACCOUNT = "TokenAccountA111111111111111111111111111111"


def made_up_wallets(count: int) -> list[Wallet]:
    """``count`` distinct valid Solana addresses (base58 of made-up 32-byte keys)."""
    out = []
    for n in range(count):
        number = int.from_bytes(hashlib.sha256(f"wallet-{n}".encode()).digest(), "big")
        text = ""
        while number:
            number, digit = divmod(number, 58)
            text = _B58[digit] + text
        out.append(Wallet(chain="solana", address=text))
    return out


def busy_world(wallets: list[Wallet], *, every_days: int = 7,
               start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
               until: datetime = datetime(2025, 12, 30, tzinfo=UTC)) -> World:
    """Each wallet's USDC changes every ``every_days`` days from ``start`` to
    ``until``, from a day and hour that depend on the wallet (so histories differ)."""
    world = World()
    for n, wallet in enumerate(wallets):
        moment = start + timedelta(days=n % every_days, hours=n % 24)
        balance = 0
        while moment < until:
            balance += 1_000_000 * (n + 1)
            world.add(wallet, USDC, ACCOUNT, moment, balance)
            moment += timedelta(days=every_days)
    return world


@attrs.frozen
class Hit:
    """One request the server received."""

    at: float  #: arrival, ``time.monotonic()``
    method: str
    path: str
    status: int
    target: str = ""  #: the path with its query string (one question of balance-at)


@attrs.define
class WorldServer:
    """A rate-limited server of a :class:`World`; ``url`` is set while it runs."""

    world: World
    limit: int | None = None
    per_seconds: float = 1.0
    latency: float = 0.0
    limited: str = "/"  #: the limit applies to paths starting with this
    url: str = ""
    hits: list[Hit] = attrs.field(factory=list)
    _window: deque[float] = attrs.field(factory=deque)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def admit(self, now: float) -> bool:
        """Whether one more request now stays inside the limit (and count it)."""
        if self.limit is None:
            return True
        with self._lock:
            while self._window and self._window[0] <= now - self.per_seconds:
                self._window.popleft()
            if len(self._window) >= self.limit:
                return False
            self._window.append(now)
            return True

    def calls(self, prefix: str = "/") -> int:
        """Answered requests (not 429) whose path starts with ``prefix``."""
        return sum(1 for h in self.hits if h.status != 429 and h.path.startswith(prefix))

    @property
    def refused(self) -> int:
        """Requests answered 429."""
        return sum(1 for h in self.hits if h.status == 429)

    def rate(self) -> float:
        """Answered requests per second between the first and the last."""
        answered = [h.at for h in self.hits if h.status != 429]
        if len(answered) < 2:
            return 0.0
        return (len(answered) - 1) / (answered[-1] - answered[0])


def _handler(server: WorldServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as providers do
        # headers and body go out in two writes: without TCP_NODELAY the body waits
        # for the client's delayed ACK of the headers (about 40 ms a request)
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            arrived = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            content = self.rfile.read(length) if length else b""
            path = self.path.partition("?")[0]
            if path.startswith(server.limited) and not server.admit(arrived):
                server.hits.append(Hit(arrived, method, path, 429, self.path))
                self._send(429, b'{"error": "rate limit exceeded"}', {"Retry-After": "1"})
                return
            if server.latency:
                time.sleep(server.latency)
            request = Request(method, f"http://127.0.0.1{self.path}", content=content,
                              headers=dict(self.headers.items()))
            response = server.world.handler(request)
            body = response.read()
            server.hits.append(Hit(arrived, method, path, response.status_code, self.path))
            self._send(response.status_code, body, {})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serve(server: WorldServer) -> Iterator[WorldServer]:
    """Run ``server`` on a free loopback port for the block, with this process's cyclic
    garbage collector paused meanwhile: a collection stops the server's threads too, so
    requests sent evenly would be read late and counted bunched (see :func:`main`)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        with serve_http(_handler(server)) as url:
            server.url = url
            yield server
    finally:
        if collecting:
            gc.enable()


def main(argv: list[str] | None = None) -> None:
    """Serve a made-up world until interrupted: ``python -m tests.cli.world_server
    --wallets 50 --limit 50 --latency 0.05 --csv wallets.csv`` prints the URL."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--wallets", type=int, default=50)
    parser.add_argument("--every-days", type=int, default=7)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--csv", help="write the wallets (columns wallet, token) here")
    parser.add_argument("--log", help="write every request (arrival, status, path) here")
    args = parser.parse_args(argv)
    wallets = made_up_wallets(args.wallets)
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as out:
            out.write("wallet,token\n")
            out.writelines(f"{w},USDC\n" for w in wallets)
    server = WorldServer(busy_world(wallets, every_days=args.every_days), limit=args.limit,
                         latency=args.latency)
    # A provider's edge counts each request as it arrives. This process's cyclic
    # garbage collector would stop every thread for 20-70 ms now and then (measured),
    # so requests sent evenly would be read late and counted bunched: the limit would
    # be enforced on the server's pauses, not on what the client sent. The world is
    # built; nothing that follows makes cycles worth collecting.
    gc.freeze()
    gc.disable()
    with serve(server):
        print(server.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            if args.log:
                with open(args.log, "w", encoding="utf-8") as out:
                    out.writelines(f"{h.at:.6f} {h.status} {h.path}\n" for h in server.hits)
            print(f"{server.calls()} call(s), {server.refused} refused, "
                  f"{server.rate():.3f}/s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
