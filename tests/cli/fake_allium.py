"""A small Allium (and Pacifica) look-alike on 127.0.0.1 for tests that run the real
``asof`` program.

It speaks the documented shapes of Allium's balances-history and holdings-history
endpoints (POST, ``{"items": [...], "cursor": ...}``) and of Pacifica's account balance
history (GET ``.../account/balance/history``, ``{"success": true, "data": [...],
"next_cursor": ..., "has_more": ...}``, newest first). It serves ``pages`` pages of
``per_page`` items each, waits ``delay`` seconds before each answer (so a progress bar
has time to draw), and logs every request path it answered (tests count calls from that
log). Nothing here is recorded from a provider; the shapes follow their documents.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BALANCES_PATH = "/api/v1/developer/wallet/balances/history"
HOLDINGS_PATH = "/api/v1/developer/wallet/holdings/history"
WALLET = "GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


class FakeAllium:
    """The server's script and log."""

    def __init__(self, *, pages: int = 3, per_page: int = 4, delay: float = 0.0,
                 body: bytes | None = None) -> None:
        self.pages = pages
        self.per_page = per_page
        self.delay = delay
        self.body = body  # when set, every answer is this body (status 200)
        self.log: list[str] = []
        self.url = ""

    def change(self, n: int) -> dict[str, Any]:
        return {
            "address": WALLET, "chain": "solana",
            "block_timestamp": f"2025-03-01T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "block_slot": 300_000_000 + n, "block_hash": f"hash{n}", "txn_id": f"sig{n}",
            "txn_index": 0, "raw_balance": 1_000_000 * (n + 1), "token_account": None,
            "token": {"address": USDC, "chain": "solana", "type": "sol_spl", "decimals": 6,
                      "info": {"name": "USD Coin", "symbol": "USDC"}},
        }

    def point(self, n: int) -> dict[str, Any]:
        return {"address": WALLET, "chain": "solana",
                "timestamp": f"2025-03-01T{23 - n:02d}:00:00Z",
                "amount": {"amount": f"{1000 + n}.5", "currency": "USD"}}

    def answer(self, path: str, cursor: str | None) -> dict[str, Any]:
        page = int(cursor or 0)
        make = self.change if path.startswith(BALANCES_PATH) else self.point
        items = [make(page * self.per_page + i) for i in range(self.per_page)]
        after = str(page + 1) if page + 1 < self.pages else None
        return {"items": items, "cursor": after}

    def ledger(self, cursor: str | None) -> dict[str, Any]:
        page = int(cursor or 0)
        newest_ms = 1_740_787_200_000 + self.total * 60_000  # 2025-03-01 plus a minute each
        rows = []
        for i in range(self.per_page):
            n = page * self.per_page + i
            balance = 1_000 + self.total - n
            rows.append({"amount": "1.000000", "balance": f"{balance}.000000",
                         "pending_balance": "0.000000", "event_type": "deposit",
                         "created_at": newest_ms - n * 60_000})
        more = page + 1 < self.pages
        return {"success": True, "data": rows, "next_cursor": str(page + 1) if more else None,
                "has_more": more}

    @property
    def total(self) -> int:
        return self.pages * self.per_page


def _handler(fake: FakeAllium) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            fake.log.append(self.path)
            if fake.delay:
                time.sleep(fake.delay)
            path, _, query = self.path.partition("?")
            cursor = None
            for part in query.split("&"):
                key, _, value = part.partition("=")
                if key == "cursor":
                    cursor = value
            if fake.body is not None:
                data = fake.body
            elif path.endswith("/account/balance/history"):
                data = json.dumps(fake.ledger(cursor)).encode()
            else:
                data = json.dumps(fake.answer(path, cursor)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run ``handler`` on a free loopback port for the block; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def serve(fake: FakeAllium) -> Iterator[FakeAllium]:
    """Run ``fake`` on a free loopback port for the block; ``fake.url`` is its base URL."""
    with serve_http(_handler(fake)) as url:
        fake.url = url
        yield fake
