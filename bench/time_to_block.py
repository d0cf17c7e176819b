"""Benchmark: block-header lookups per time-to-block answer, asof's search beside a
plain bisection, on model chains.

asof's :func:`asof.blocks.last_block_at_or_before` interpolates between known
timestamps and bisects when a step fails to halve the range; each lookup is one
``eth_getBlockByNumber`` request for the evm plugin. The baseline is a binary search over
the same chain. Chains: steady 12 s blocks (21 million, Ethereum's size), random gaps of
1 to 30 s (2 million, pre-merge-like), and 2 s blocks followed by 12 s blocks (2 million,
a chain that changed its pace).

Run: ``.venv/bin/python bench/time_to_block.py [--moments 1000]``
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from itertools import accumulate

import anyio

from asof.blocks import last_block_at_or_before

GENESIS = 1_438_269_973


def steady(b: int) -> int:
    return GENESIS + 12 * b


def table(stamps: list[int]) -> Callable[[int], int]:
    return stamps.__getitem__


def bisect(second: int, ts: Callable[[int], int], latest: int) -> tuple[int | None, int]:
    lookups = 1
    if ts(latest) <= second:
        return latest, lookups
    lookups += 1
    if ts(0) > second:
        return None, lookups
    lo, hi = 0, latest
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lookups += 1
        if ts(mid) <= second:
            lo = mid
        else:
            hi = mid
    return lo, lookups


def asof_search(second: int, ts: Callable[[int], int], latest: int) -> tuple[int | None, int]:
    calls = 0

    async def timestamp_of(n: int) -> int:
        nonlocal calls
        calls += 1
        return ts(n)

    found = anyio.run(lambda: last_block_at_or_before(second, timestamp_of, latest=latest))
    return found, calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moments", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(13)
    jitter = list(accumulate((rng.randint(1, 30) for _ in range(2_000_000)), initial=GENESIS))
    paced = list(accumulate((2 if b < 1_000_000 else 12 for b in range(2_000_000)),
                            initial=GENESIS))
    chains = [("steady 12 s, 21M blocks", steady, 21_000_000 - 1),
              ("random 1-30 s, 2M blocks", table(jitter), len(jitter) - 1),
              ("2 s then 12 s, 2M blocks", table(paced), len(paced) - 1)]
    print("block-header lookups per time-to-block answer (mean / max over "
          f"{args.moments} moments)")
    print(f"{'chain':28} {'asof':>12} {'bisection':>12} {'ratio':>7}")
    for name, ts, latest in chains:
        ours, base = [], []
        for _ in range(args.moments):
            second = rng.randint(ts(0), ts(latest))
            found, calls = asof_search(second, ts, latest)
            expected, lookups = bisect(second, ts, latest)
            if found != expected:
                print(f"MISMATCH on {name} at {second}: {found} != {expected}")
                return 1
            ours.append(calls)
            base.append(lookups)
        mean_ours, mean_base = sum(ours) / len(ours), sum(base) / len(base)
        print(f"{name:28} {mean_ours:6.1f} / {max(ours):3d} {mean_base:6.1f} / {max(base):3d} "
              f"{mean_base / mean_ours:6.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
