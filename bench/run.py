"""Every figure of the hot-path table, each beside its baseline measured in the same run.

Prints one table: the figure, asof's number, the baseline's, the ratio (for latency
and time: asof / baseline, lower is better; for rates: asof / baseline, higher is
better) and the target. Defaults keep the whole run to a few minutes on a 2-core
machine; ``--changes 1000000`` gives the archive figures (and the history streamed) at
the issue's size.

Run: ``uv run --all-packages python bench/run.py [--changes 100000] [--calls 400]
[--rounds 5] [--runs 3]``
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import archive_paths
import client_overhead
import history_stream
from _common import table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100_000,
                        help="stored changes / records for the archive and history "
                        "figures")
    parser.add_argument("--calls", type=int, default=400, help="calls per client round")
    parser.add_argument("--rounds", type=int, default=5, help="client rounds (median)")
    parser.add_argument("--runs", type=int, default=3, help="archive runs (median)")
    args = parser.parse_args()
    rows = client_overhead.figures(args.calls, args.rounds)
    rows += archive_paths.figures(args.changes, args.runs)
    rows += history_stream.figures(args.changes, args.runs)
    print(f"machine: {platform.machine()}, {platform.processor() or '?'}, "
          f"Python {platform.python_version()}; archive figures at {args.changes:,} "
          f"changes; medians")
    table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
