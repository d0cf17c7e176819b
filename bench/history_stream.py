"""Benchmark: streaming a long balance history through ``AsyncClient.history``.

The local server (:mod:`server`, a separate process) serves an Allium-shaped balances
history of ``--records`` made-up changes, 1,000 per page. asof streams them through
``AsyncClient.history`` (the Allium plugin, the real transport, router and archive: a
file in a temporary directory, every page stored) beside a bare httpx2 ``POST`` of the
same pages, each read with ``json.loads``. Each side runs in a fresh child process, so
its peak resident memory (``VmHWM``) is its own; the time excludes start-up and a
first request for a window without changes (plugin, route and archive set-up).

Both sides must see the same changes: their count, the sum of the raw balances and a
checksum of the transaction ids are compared.

Run: ``python bench/history_stream.py [--records 100000] [--runs 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from _common import Figure, peak_mib, table
from server import HISTORY_END, HISTORY_PATH, HISTORY_START, start

ADDRESS = "GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
KEY = "bench-key-not-secret"
PAGE = 1000
#: A window before the history (no changes), asked once by each side before timing.
WARM_UP = (datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 1, 2, tzinfo=UTC))


async def _asof(url: str) -> dict[str, Any]:
    from asof import AsyncClient
    from asof.testing.client import load_plugin

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "asof.toml"
        config.write_text(
            f'[asof]\nattempts = 1\n\n[archive]\npath = "{Path(tmp) / "archive.sqlite"}"\n\n'
            f'[providers.allium]\nrate_limit = "off"\nbase_url = "{url}"\n',
            encoding="utf-8")
        client = AsyncClient(config, plugins={"allium": load_plugin("allium")},
                             env={"ALLIUM_API_KEY": KEY})
        count = total = check = 0
        async with client:
            # Warm up (plugin, route, archive file) on a window with no changes.
            async for _ in client.history(f"solana:{ADDRESS}", start=WARM_UP[0],
                                          end=WARM_UP[1]):
                pass
            began, cpu = time.perf_counter(), time.process_time()
            async for change in client.history(f"solana:{ADDRESS}", start=HISTORY_START,
                                               end=HISTORY_END, page_size=PAGE):
                count += 1
                total += change.balance.raw
                check += zlib.crc32((change.block.transaction or "").encode())
            spent, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {"seconds": spent, "cpu": cpu, "count": count, "total": total, "check": check}


async def _bare(url: str) -> dict[str, Any]:
    body = {"addresses": [{"chain": "solana", "address": ADDRESS}],
            "start_timestamp": HISTORY_START.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_timestamp": HISTORY_END.strftime("%Y-%m-%dT%H:%M:%SZ")}
    count = total = check = 0
    async with httpx2.AsyncClient(timeout=60) as plain:
        warm = {**body, "start_timestamp": WARM_UP[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end_timestamp": WARM_UP[1].strftime("%Y-%m-%dT%H:%M:%SZ")}
        (await plain.post(url + HISTORY_PATH, json=warm, params={"limit": PAGE},
                          headers={"X-API-KEY": KEY})).raise_for_status()
        began, cpu = time.perf_counter(), time.process_time()
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if cursor is not None:
                params["cursor"] = cursor
            response = await plain.post(url + HISTORY_PATH, json=body, params=params,
                                        headers={"X-API-KEY": KEY})
            response.raise_for_status()
            page = json.loads(response.content)
            for item in page["items"]:
                count += 1
                total += int(item["raw_balance"])
                check += zlib.crc32(item["txn_id"].encode())
            cursor = page.get("cursor")
            if cursor is None:
                break
        spent, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {"seconds": spent, "cpu": cpu, "count": count, "total": total, "check": check}


def _side(side: str, url: str) -> dict[str, Any]:
    """Run one side in a fresh child process; its figures and peak memory."""
    done = subprocess.run([sys.executable, __file__, "--side", side, "--url", url],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{side} side failed:\n{done.stderr}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def figures(records: int = 100_000, runs: int = 1) -> list[Figure]:
    """(figure, asof, baseline, ratio, target)."""
    ours, bare = [], []
    with start(history=records) as server:
        for _ in range(runs):
            ours.append(_side("asof", server.url))
            bare.append(_side("bare", server.url))
    for a, b in zip(ours, bare, strict=True):
        if (a["count"], a["total"], a["check"]) != (b["count"], b["total"], b["check"]):
            raise SystemExit(f"asof and the bare reader saw different changes: {a} {b}")
        if a["count"] != records:
            raise SystemExit(f"streamed {a['count']} of {records} changes")
    a_s = statistics.median(r["seconds"] for r in ours)
    b_s = statistics.median(r["seconds"] for r in bare)
    a_c = statistics.median(r["cpu"] for r in ours)
    b_c = statistics.median(r["cpu"] for r in bare)
    print(f"CPU seconds of the client process: asof {a_c:.2f}, bare {b_c:.2f} "
          f"({a_c / b_c:.2f}x)")
    a_m = max(r["peak_mib"] for r in ours)
    b_m = max(r["peak_mib"] for r in bare)
    return [(f"history streaming of {records:,} records", f"{a_s:.2f} s, {a_m:.0f} MiB",
             f"{b_s:.2f} s, {b_m:.0f} MiB (httpx2 + json.loads)", a_s / b_s,
             "<= 1.5x, < 100 MiB")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1, help="runs per side (median)")
    parser.add_argument("--side", choices=("asof", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side is not None:
        found = asyncio.run(_asof(args.url) if args.side == "asof" else _bare(args.url))
        found["peak_mib"] = peak_mib()
        print(json.dumps(found))
        return 0
    table(figures(args.records, args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
