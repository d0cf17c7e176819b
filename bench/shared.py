"""Benchmark: the PostgreSQL archive beside the SQLite one, in one run.

For each backend: import ``--records`` made-up balance changes (default 100,000; batches
of 50,000 per transaction, as ``Archive.add`` does for an import) in records per
second, then ``balance_at`` look-ups at random moments (``Archive.lookup_balance``, the
router's path) for ``--seconds`` in look-ups per second. Every PostgreSQL answer is
compared with SQLite's. The PostgreSQL server is one started for the run on a loopback
port (``asof.testing.postgres``), or ``--url`` of an existing empty database.

Run: ``.venv/bin/python bench/shared.py [--records 100000] [--seconds 3] [--url URL]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _common import START, USDC, WALLET, clock, fill, header, rate

from asof.archive import Archive
from asof.archive.postgres import PostgresStorage
from asof.queries import BalanceQuery
from asof.records import BalanceAt, Point
from asof.testing.postgres import PostgresServer


def measure(archive: Archive, records: int, queries: list[BalanceQuery],
            seconds: float) -> tuple[float, float, list[BalanceAt | None]]:
    """(import records/s, look-ups/s, answers) on one archive."""
    filled = fill(archive, records)
    answers: list[BalanceAt | None] = []
    began = time.perf_counter()
    while time.perf_counter() - began < seconds and len(answers) < len(queries):
        answers.append(archive.lookup_balance(queries[len(answers)]))
    asked = time.perf_counter() - began
    return records / filled, len(answers) / asked, answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: start one)")
    args = parser.parse_args()
    rng = random.Random(1)
    queries = [BalanceQuery(wallet=WALLET, token=USDC,
                            point=Point(time=START + timedelta(days=365) * rng.random()))
               for _ in range(100_000)]
    server = None if args.url else PostgresServer().start()
    try:
        url = args.url or server.database()  # type: ignore[union-attr]
        with tempfile.TemporaryDirectory() as tmp, \
                Archive(Path(tmp) / "bench.sqlite", clock=clock) as lite:
            lite_import, lite_lookup, lite_answers = measure(lite, args.records, queries,
                                                             args.seconds)
        with Archive(storage=PostgresStorage(url), clock=clock) as shared:
            server_name = shared.storage.about()["server"]
            pg_import, pg_lookup, pg_answers = measure(shared, args.records, queries,
                                                       args.seconds)
    finally:
        if server is not None:
            server.stop()
    same = min(len(lite_answers), len(pg_answers))
    if lite_answers[:same] != pg_answers[:same] or not any(lite_answers[:same]):
        print("error: PostgreSQL and SQLite answers differ", file=sys.stderr)
        return 1
    header(f"shared archive ({server_name}, loopback) beside SQLite, "
           f"{args.records:,} changes")
    print(f"{'':<22}{'SQLite':>12}  {'PostgreSQL':>12}  {'PG/SQLite':>9}")
    for name, lite_value, pg_value in (("import records", lite_import, pg_import),
                                       ("balance_at look-ups", lite_lookup, pg_lookup)):
        print(f"{name:<22}{rate(1, 1 / lite_value):>12}  {rate(1, 1 / pg_value):>12}  "
              f"{pg_value / lite_value:>8.2f}x")
    print(f"({same:,} answers compared, all equal)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
