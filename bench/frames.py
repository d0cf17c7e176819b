"""Benchmark: records to a pandas DataFrame through asof.frames (exact Arrow columns),
beside the naive baseline of ``pandas.DataFrame`` over :func:`asof.wire.flatten` rows
(text amounts and values, no typed columns), at 10^3..10^5 balance changes.

Both read the same made-up changes (see ``_common.changes``); the asof figure includes
the exactness checks (int64 or text per column, decimal precision). Not run by the tests.

Run: ``.venv/bin/python bench/frames.py [--sizes 1000,10000,100000]``
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import changes, header

from asof import wire
from asof.frames import to_pandas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="records per run, comma-separated")
    args = parser.parse_args()
    import pandas as pd
    import pyarrow  # noqa: F401  (imported before timing, as pandas is)

    header("records to pandas: asof.frames (exact, typed) vs DataFrame(flatten rows)")
    print(f"{'records':>10}  {'asof.frames':>12}  {'baseline':>12}  {'ratio':>7}")
    for size in (int(s) for s in args.sizes.split(",")):
        items = list(changes(size))
        began = time.perf_counter()
        frame = to_pandas(items)
        ours = time.perf_counter() - began
        began = time.perf_counter()
        baseline = pd.DataFrame([wire.flatten(item) for item in items])
        theirs = time.perf_counter() - began
        if len(frame) != size or len(baseline) != size:
            print("row count mismatch", file=sys.stderr)
            return 1
        if [int(v) for v in frame["balance.raw"][:100]] != \
                [item.balance.raw for item in items[:100]]:
            print("amounts differ", file=sys.stderr)
            return 1
        print(f"{size:>10}  {ours:>10.3f} s  {theirs:>10.3f} s  {ours / theirs:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
