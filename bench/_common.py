"""Shared pieces of the benchmarks: made-up data, a timer and the output format.

The benchmarks build their archives in a temporary directory from made-up balance
changes of one wallet (two token accounts of USDC, one change every ~10 minutes) and
print their figures; they are not tests and are not run by the test suite.
"""

from __future__ import annotations

import random
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from asof.archive import Archive, Coverage
from asof.records import Amount, BalanceChange, BlockRef, Capability, Provenance, Wallet
from asof.tokens import resolve_token

WALLET = Wallet(chain="solana", address="ExampLeWa11et1111111111111111111111111111111")
USDC = resolve_token("solana", "USDC")
START = datetime(2024, 1, 1, tzinfo=UTC)
PROVENANCE = Provenance(provider="bench", source="made-up benchmark data")
ACCOUNTS = ("BenchAccountA111111111111111111111111111111",
            "BenchAccountB111111111111111111111111111111")


def changes(count: int, *, span: timedelta = timedelta(days=365),
            seed: int = 7) -> Iterator[BalanceChange]:
    """``count`` changes spread evenly over ``span`` from 2024-01-01, alternating
    between two token accounts, with random balances."""
    rng = random.Random(seed)
    step = span / count
    for n in range(count):
        moment = START + step * n
        yield BalanceChange(
            wallet=WALLET, token=USDC, token_account=ACCOUNTS[n % 2],
            balance=Amount(raw=rng.randrange(10**12), decimals=6),
            block=BlockRef(number=250_000_000 + n * 3, timestamp=moment,
                           transaction=f"bench-{n}", index=n % 7),
            provenance=PROVENANCE,
        )


def coverage(span: timedelta = timedelta(days=365)) -> Coverage:
    """The whole generated range, complete from the beginning."""
    return Coverage(capability=Capability.BALANCE_HISTORY, provider="bench", wallet=WALLET,
                    start=None, end=START + span + timedelta(days=1))


def fill(archive: Archive, count: int, *, span: timedelta = timedelta(days=365)) -> float:
    """Store ``count`` changes and their coverage; return the seconds it took."""
    began = time.perf_counter()
    batch = 50_000
    source = changes(count, span=span)
    archive.add([coverage(span)])
    while True:
        chunk = [c for _, c in zip(range(batch), source, strict=False)]
        if not chunk:
            break
        archive.add(chunk)
    return time.perf_counter() - began


def clock() -> datetime:
    """A fixed "now" after all the data."""
    return datetime(2026, 1, 1, tzinfo=UTC)


def rate(count: int, seconds: float) -> str:
    """``count`` per second, readable."""
    per = count / seconds if seconds > 0 else float("inf")
    return f"{per:,.0f}/s"


def header(title: str) -> None:
    """A title line for a benchmark's output."""
    print(title)
    print("-" * len(title))


#: One figure: name, asof's number, the baseline's, the ratio (0: none) and the target.
Figure = tuple[str, str, str, float, str]


def table(rows: list[Figure]) -> None:
    """Print figures as one Markdown table with the ratio column."""
    head = ("figure", "asof", "baseline (same run)", "ratio", "target")
    widths = (44, 22, 44, 7, 16)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for name, ours, bare, ratio, target in rows:
        cells = (name, ours, bare, f"{ratio:.2f}x" if ratio else "-", target)
        print("| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
              + " |")


def peak_mib() -> float:
    """This process's peak resident memory, in MiB. On Linux from ``VmHWM`` (the
    high-water mark of this program's own memory): ``ru_maxrss`` survives ``exec`` and
    so would count a large parent's memory at the fork."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
