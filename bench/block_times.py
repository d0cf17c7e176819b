"""Benchmark: header requests per time answer of the evm plugin, with the block-time
cache in an archive: a first session (nothing stored), a second session asking the same
moments, and a second session asking new moments.

Each session is a new client (and a new :class:`~asof.archive.Archive` object on the
same SQLite file), answering native balances at random moments through the real plugin
against the tests' fake node (``tests/plugins/evm/fakenode.py``: 2 million blocks, 12 s
apart). The second session asks another wallet, so the archive cannot answer from a
stored balance and the time search runs. Requests are the node's own log
(``eth_getBlockByNumber`` calls, the latest header included); every resolved block is
checked against the model chain.

Run: ``.venv/bin/python bench/block_times.py [--moments 200]``
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asof_evm
from asof.archive import Archive
from asof.records import Point, Wallet
from asof.testing.client import make_client
from asof.tokens import native_token
from tests.plugins.evm.fakenode import FakeNode, methods_of

BLOCKS = 2_000_000


async def session(node: FakeNode, archive: Path, config: Path, wallet: Wallet,
                  moments: list[int]) -> list[int]:
    """Header requests per answer, one session."""
    client = make_client(asof_evm, config_dir=config, http_transport=node.transport,
                         env={"ASOF_EVM_BASE_URL": "http://node.test:8545"},
                         archive=Archive(archive))
    counts = []
    async with client:
        for second in moments:
            before = len(node.bodies)
            answer = await client.balance_at(wallet, native_token("ethereum"),
                                             Point(time=datetime.fromtimestamp(second, UTC)))
            expected = (second - node.genesis) // node.pace
            read = None if answer.read_at is None else answer.read_at.number
            if read != expected:
                raise AssertionError(f"MISMATCH at {second}: block {read}, not {expected}")
            counts.append(methods_of(node.bodies[before:]).count("eth_getBlockByNumber"))
    return counts


async def run(count: int) -> None:
    rng = random.Random(17)
    node = FakeNode(blocks=BLOCKS)
    # settled moments: well below the latest block
    top = node.genesis + node.pace * (BLOCKS - 1000)
    first = [rng.randint(node.genesis, top) for _ in range(count)]
    fresh = [rng.randint(node.genesis, top) for _ in range(count)]
    one = Wallet(chain="ethereum", address="0x" + "11" * 20)
    two = Wallet(chain="ethereum", address="0x" + "22" * 20)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.sqlite"
        rows = [("first session", await session(node, path, Path(tmp) / "c1", one, first)),
                ("same moments, new session",
                 await session(node, path, Path(tmp) / "c2", two, first)),
                ("new moments, new session",
                 await session(node, path, Path(tmp) / "c3", two, fresh))]
    print(f"header requests per time answer (mean / max over {count} moments, "
          f"{BLOCKS:,} blocks)")
    print(f"{'session':28} {'headers':>12} {'vs first':>9}")
    base = sum(rows[0][1]) / count
    for name, counts in rows:
        mean = sum(counts) / count
        print(f"{name:28} {mean:6.2f} / {max(counts):3d} {base / mean:8.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moments", type=int, default=200)
    args = parser.parse_args()
    anyio.run(run, args.moments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
