"""A local HTTP server for the benchmarks: a Helius-shaped balance-at and an
Allium-shaped balances history.

An asyncio server on 127.0.0.1 speaking just enough HTTP/1.1 (keep-alive,
``Content-Length``) to answer

- ``GET /v1/wallet/{wallet}/balance-at?mint=M&time=T`` the way Helius documents it.
  The answer's ``asOf`` is the requested time itself, so every stored answer vouches
  for its own moment only and each new question goes to the server;
- ``POST /api/v1/developer/wallet/balances/history?limit=L&cursor=C`` the way Allium
  documents it: the balance changes with a time in the body's
  ``[start_timestamp, end_timestamp)``, newest first, ``limit`` per page, the next
  offset as ``cursor``. The history is made up: ``--history N`` changes of the first
  wallet asked, USDC over two token accounts, evenly spread over 2024
  (:func:`history_item`), computed per page (nothing is held).

Any other path gets a 404. Benchmarks run it in a separate process (:func:`start`) so
it does not share the client's event loop.

Run alone: ``python bench/server.py [--history N]`` prints the port, then serves until
killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

_USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
HISTORY_PATH = "/api/v1/developer/wallet/balances/history"
#: The made-up history spans 2024 (one change every ``YEAR / count`` seconds).
HISTORY_START = datetime(2024, 1, 1, tzinfo=UTC)
HISTORY_END = datetime(2025, 1, 1, tzinfo=UTC)
_ACCOUNTS = ("BenchAccountA111111111111111111111111111111",
             "BenchAccountB111111111111111111111111111111")
_SECONDS = int((HISTORY_END - HISTORY_START).total_seconds())


def history_item(n: int, count: int, address: str) -> dict[str, object]:
    """The ``n``-th change (0 is the oldest) of a made-up history of ``count``."""
    second = n * _SECONDS // count
    moment = HISTORY_START + timedelta(seconds=second)
    slot = 250_000_000 + 2 * second + n % 2
    return {"address": address, "chain": "solana", "block_hash": f"hash{slot}",
            "block_slot": slot, "block_timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "raw_balance": 1_000_000 + (n * 7919) % 10**9,
            "token": {"address": _USDC, "chain": "solana", "type": "sol_spl",
                      "decimals": 6},
            "token_account": _ACCOUNTS[n % 2], "txn_id": f"bench-{n}",
            "txn_index": n % 5}


def _index(moment: str, count: int) -> int:
    """The first change at or after ``moment`` (an ISO 8601 time)."""
    at = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    second = int((at - HISTORY_START).total_seconds())
    second = min(max(second, 0), _SECONDS)
    return min(count, -(-second * count // _SECONDS))


def history_page(path: str, content: bytes, count: int) -> tuple[int, bytes]:
    """The status and body of one balances-history request."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
    body = json.loads(content)
    address = body["addresses"][0]["address"]
    low, high = _index(body["start_timestamp"], count), _index(body["end_timestamp"], count)
    limit = int(query.get("limit", "1000"))
    offset = int(query.get("cursor", "0"))
    first = high - 1 - offset
    last = max(low, first - limit + 1)
    items = [history_item(n, count, address) for n in range(first, last - 1, -1)]
    cursor = str(offset + limit) if last > low else None
    return 200, json.dumps({"items": items, "cursor": cursor},
                           separators=(",", ":")).encode()


def answer(path: str) -> tuple[int, bytes]:
    """The status and body for one request path."""
    parts = urlsplit(path)
    pieces = parts.path.split("/")
    if len(pieces) != 5 or pieces[1:3] != ["v1", "wallet"] or pieces[4] != "balance-at":
        return 404, b'{"error":"no route"}'
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    mint = query.get("mint", _USDC)
    at = int(query.get("time", "1700000000"))
    raw = 1_000_000 + at % 1000
    body = {"wallet": pieces[3], "mint": mint, "isNative": False, "decimals": 6,
            "balanceRaw": str(raw), "balance": f"{raw // 10**6}.{raw % 10**6:06d}",
            "requested": {"time": at},
            "asOf": {"slot": 250_000_000 + at % 10**6, "signature": f"bench-{at}",
                     "blockTime": at}}
    return 200, json.dumps(body, separators=(",", ":")).encode()


_HISTORY = [100_000]


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            _, path, _ = line.split(" ", 2)
            length = 0
            for header in head.split(b"\r\n")[1:]:
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":", 1)[1])
            content = await reader.readexactly(length) if length else b""
            if path.startswith(HISTORY_PATH):
                status, body = history_page(path, content, _HISTORY[0])
            else:
                status, body = answer(path)
            reason = b"OK" if status == 200 else b"Not Found"
            writer.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
                         b"content-length: %d\r\n\r\n%s" % (status, reason, len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def _main() -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0, backlog=512)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


class Server:
    """The server running in a child process; ``url`` is its base URL."""

    def __init__(self, history: int = 100_000) -> None:
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--history", str(history)],
            stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """End the child process."""
        self.process.terminate()
        self.process.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start(history: int = 100_000) -> Server:
    """Start the server in a child process (``history``: changes in the made-up
    balances history)."""
    return Server(history)


if __name__ == "__main__":
    if "--history" in sys.argv:
        _HISTORY[0] = int(sys.argv[sys.argv.index("--history") + 1])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
