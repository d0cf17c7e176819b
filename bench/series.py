"""Benchmark: a one-year hourly balance series (8,760 points) from the archive.

Stores a year of made-up changes (``--changes``, default 100,000: one every ~5 minutes)
and times :meth:`Archive.series` over the whole year at ``1h``, checking a sample of
points against single ``balance_at`` lookups.

Run: ``.venv/bin/python bench/series.py [--changes 100000]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _common import START, USDC, WALLET, clock, fill, header, rate

from asof.archive import Archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    header("one-year hourly series from the archive")
    with tempfile.TemporaryDirectory() as tmp, \
            Archive(Path(tmp) / "bench.sqlite", clock=clock) as archive:
        filled = fill(archive, args.changes)
        end = START + timedelta(days=365)
        timings = []
        points = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            points = archive.series(WALLET, USDC, start=START, end=end, every="1h")
            timings.append(time.perf_counter() - began)
        for point in points[:: len(points) // 12]:
            alone = archive.balance_at(WALLET, USDC, point.time)
            if alone is None or point.amount is None or alone.amount.raw != point.amount.raw:
                raise SystemExit(f"series and balance_at differ at {point.time}")
    best = min(timings)
    print(f"stored changes   {args.changes:,} (filled in {filled:.1f}s)")
    print(f"points           {len(points):,}")
    print(f"best of {args.repeat}        {best * 1000:,.0f} ms ({rate(len(points), best)} points)")
    print(f"median           {sorted(timings)[len(timings) // 2] * 1000:,.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
