"""Benchmark: asof's own cost per ``balance_at`` call against a fast local server.

A local asyncio server (:mod:`server`, a separate process) answers a Helius-shaped
balance-at. Each figure is asof's :meth:`AsyncClient.balance_at` (the Helius plugin,
real transport, router and archive) beside a bare httpx2 ``GET`` of the same URL with
the same query, in the same run, alternating rounds; each round asks new moments, so
every asof call reaches the server (its answer vouches for its own moment only).

- latency at concurrency 1, archive on (a file in a temporary directory, every final
  answer stored) and archive off: median seconds per call, asof / bare;
- throughput at concurrency 10 and 100 (archive off): calls per second, asof / bare;
- the synchronous :class:`asof.Client` in a loop against a bare sync ``httpx2.Client``.

Run: ``python bench/client_overhead.py [--calls 400] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
from _common import table
from server import start

from asof import AsyncClient, Client
from asof.testing.client import load_plugin

ADDRESS = "GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
WALLET = f"solana:{ADDRESS}"
MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
KEY = "bench-key-not-secret"
FIRST = datetime(2024, 1, 1, tzinfo=UTC)


def _config(folder: Path, url: str, archive: bool) -> Path:
    path = folder / "asof.toml"
    where = f'path = "{folder / "archive.sqlite"}"' if archive else "enabled = false"
    path.write_text(f'[asof]\nattempts = 1\n\n[archive]\n{where}\n\n'
                    f'[providers.helius]\nrate_limit = "off"\nbase_url = "{url}"\n',
                    encoding="utf-8")
    return path


class Moments:
    """Fresh whole-second moments, never asked before in this run."""

    def __init__(self) -> None:
        self.next = 0

    def take(self) -> datetime:
        self.next += 1
        return FIRST + timedelta(seconds=self.next)


def _client(folder: Path, url: str, archive: bool, sync: bool = False) -> Any:
    kind = Client if sync else AsyncClient
    return kind(_config(folder, url, archive), plugins={"helius": load_plugin("helius")},
                env={"HELIUS_API_KEY": KEY})


async def _run(calls: int, concurrency: int, one: Callable[[], Awaitable[Any]]) -> float:
    """Seconds for ``calls`` calls with ``concurrency`` workers."""
    left = calls

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - began


async def _async_pair(url: str, calls: int, rounds: int, concurrency: int,
                      archive: bool) -> tuple[float, float]:
    """Median seconds for ``calls`` calls: (asof, bare httpx2)."""
    moments = Moments()
    ours, bare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        client = _client(Path(tmp), url, archive)
        limits = httpx2.Limits(max_connections=100, max_keepalive_connections=100)
        async with client, httpx2.AsyncClient(limits=limits, timeout=30) as plain:
            target = f"{url}/v1/wallet/{ADDRESS}/balance-at"

            async def asof_call() -> None:
                await client.balance_at(WALLET, "USDC", moments.take())

            async def bare_call() -> None:
                when = int(moments.take().timestamp())
                response = await plain.get(target, params={"mint": MINT, "time": when,
                                                           "api-key": KEY})
                response.raise_for_status()
                response.json()

            await _run(20, concurrency, asof_call)  # warm up both
            await _run(20, concurrency, bare_call)
            for _ in range(rounds):
                ours.append(await _run(calls, concurrency, asof_call))
                bare.append(await _run(calls, concurrency, bare_call))
    return statistics.median(ours), statistics.median(bare)


def _sync_pair(url: str, calls: int, rounds: int) -> tuple[float, float]:
    moments = Moments()
    ours, bare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        client = _client(Path(tmp), url, archive=False, sync=True)
        with client, httpx2.Client(timeout=30) as plain:
            target = f"{url}/v1/wallet/{ADDRESS}/balance-at"
            for _ in range(rounds + 1):
                began = time.perf_counter()
                for _ in range(calls):
                    client.balance_at(WALLET, "USDC", moments.take())
                ours.append(time.perf_counter() - began)
                began = time.perf_counter()
                for _ in range(calls):
                    when = int(moments.take().timestamp())
                    response = plain.get(target, params={"mint": MINT, "time": when,
                                                         "api-key": KEY})
                    response.raise_for_status()
                    response.json()
                bare.append(time.perf_counter() - began)
    return statistics.median(ours[1:]), statistics.median(bare[1:])


def figures(calls: int = 400, rounds: int = 5) -> list[tuple[str, str, str, float, str]]:
    """(figure, asof, baseline, ratio, target) rows; ratios > 1 are slower for
    latency, ratios < 1 slower for throughput."""
    rows = []
    with start() as server:
        for archive in (True, False):
            ours, bare = asyncio.run(_async_pair(server.url, calls, rounds, 1, archive))
            target = "<= 1.10x" if archive else "<= 1.05x"
            rows.append((f"AsyncClient.balance_at latency, c=1, archive "
                         f"{'on' if archive else 'off'}", f"{ours / calls * 1e6:,.0f} us",
                         f"{bare / calls * 1e6:,.0f} us (bare httpx2)", ours / bare, target))
        for concurrency in (10, 100):
            ours, bare = asyncio.run(_async_pair(server.url, calls, rounds, concurrency,
                                                 False))
            rows.append((f"throughput, concurrency {concurrency}", f"{calls / ours:,.0f}/s",
                         f"{calls / bare:,.0f}/s (bare httpx2)", bare / ours, ">= 0.9x"))
        ours, bare = _sync_pair(server.url, calls, rounds)
        rows.append(("sync Client in a loop", f"{calls / ours:,.0f}/s",
                     f"{calls / bare:,.0f}/s (bare sync httpx2)", bare / ours, ">= 0.8x"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (median taken)")
    args = parser.parse_args()
    table(figures(args.calls, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
