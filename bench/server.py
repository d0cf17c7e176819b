"""A local HTTP server for the benchmarks: answers a Helius-shaped balance-at.

An asyncio server on 127.0.0.1 speaking just enough HTTP/1.1 (keep-alive,
``Content-Length``) to answer ``GET /v1/wallet/{wallet}/balance-at?mint=M&time=T``
the way Helius documents it. The answer's ``asOf`` is the requested time itself, so
every stored answer vouches for its own moment only and each new question goes to the
server. Any other path gets a 404. Benchmarks run it in a separate process
(:func:`start`) so it does not share the client's event loop.

Run alone: ``python bench/server.py`` prints the port, then serves until killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

_USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


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
            if length:
                await reader.readexactly(length)
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

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__)],
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


def start() -> Server:
    """Start the server in a child process."""
    return Server()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
