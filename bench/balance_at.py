"""Benchmark: ``balance_at`` answered from the archive at 10^3, 10^5 and 10^6 stored
changes, side by side with a naive scan of the same changes.

The archive path is the one the router uses (``Archive.lookup_balance``: coverage, then
an index seek per token account). The naive scan keeps every change in a Python list
and applies :func:`asof.derive.balance_from_changes` to all of them per query (no
reading from disk counted). Both answers are compared for every query.

Run: ``.venv/bin/python bench/balance_at.py [--sizes 1000,100000,1000000]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _common import START, USDC, WALLET, changes, clock, fill, header, rate

from asof.archive import Archive
from asof.derive import balance_from_changes
from asof.queries import BalanceQuery
from asof.records import Point


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000",
                        help="stored changes per run, comma-separated")
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="time spent asking the archive per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    header("balance_at from the archive vs a naive scan")
    print(f"{'changes':>10}  {'fill':>8}  {'archive':>12}  {'naive scan':>12}  {'speed-up':>9}")
    rng = random.Random(1)
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp, \
                Archive(Path(tmp) / "bench.sqlite", clock=clock) as archive:
            filled = fill(archive, size)
            moments = [START + timedelta(days=365) * rng.random() for _ in range(5000)]
            queries = [BalanceQuery(wallet=WALLET, token=USDC, point=Point(time=m))
                       for m in moments]
            asked = 0
            began = time.perf_counter()
            answers = []
            while time.perf_counter() - began < args.seconds and asked < len(queries):
                answers.append(archive.lookup_balance(queries[asked]))
                asked += 1
            archive_seconds = time.perf_counter() - began

            data = list(changes(size))
            naive_count = max(1, min(len(answers), 2_000_000 // size))
            began = time.perf_counter()
            for query, stored in zip(queries[:naive_count], answers, strict=False):
                amount, _ = balance_from_changes(data, query.point)
                if stored is None or stored.amount.raw != amount.raw:
                    raise SystemExit(f"answers differ at {query.point}")
            naive_seconds = time.perf_counter() - began
        archive_rate = asked / archive_seconds
        naive_rate = naive_count / naive_seconds
        print(f"{size:>10,}  {filled:>7.1f}s  {rate(asked, archive_seconds):>12}  "
              f"{rate(naive_count, naive_seconds):>12}  {archive_rate / naive_rate:>8,.0f}x")
        sys.stdout.flush()
    print("\nqueries per second; fill = seconds to store the changes (one transaction "
          "per 50,000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
