"""Benchmark: ``balance_at`` through the Solana node plugin, batched, beside the same walk
against a node that refuses JSON-RPC batches (one HTTP request per call).

Both run through the real transport against the tests' fake Solana node on a loopback
port (``tests/plugins/solana/fakenode.py``), for a wallet holding one mint in 1, 2, 5 and
10 token accounts, at a recent point (fewer than 1,000 later signatures per account) and
at an old one (2,500 later signatures in the busiest account). Every answer is checked
against the model world's replayed balance; requests are the node's own log.

Run: ``.venv/bin/python bench/solana_node.py [--repeat 20]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import anyio
from _common import header

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asof_solana
from asof.records import Point, Token, Wallet
from asof.testing.client import make_client
from tests.plugins.solana.fakenode import FakeNode, World, address


def build(accounts: int) -> tuple[World, str, str]:
    world = World()
    owner, bank = address("bench-owner"), address("bench-bank")
    mint = world.mint("bench", 6)
    reserve = address("bench-reserve")
    world.tx(1, bank, ("sol", bank, 10**15), ("open", reserve, mint, bank),
             ("tok", reserve, 10**15))
    held = [address(f"bench-account-{n}") for n in range(accounts)]
    for n, account in enumerate(held):
        world.tx(2 + n, owner, ("open", account, mint, owner))
    slot = 100
    for n in range(2500):  # the busiest account: 2,500 transfers, one per slot
        world.tx(slot + n, bank, ("tok", reserve, -1), ("tok", held[0], 1))
    for n, account in enumerate(held[1:], 1):
        world.tx(5000 + n, bank, ("tok", reserve, -n), ("tok", account, n))
    return world, owner, mint


async def ask(node: FakeNode, url: str, owner: str, mint: str, point: Point, repeat: int,
              tmp: Path) -> tuple[float, float, int]:
    """Seconds per answer, HTTP requests per answer, and the answer."""
    client = make_client(asof_solana, config_dir=tmp,
                         env={"ASOF_SOLANA_BASE_URL": url, "ASOF_SOLANA_RATE_LIMIT": "off"})
    wallet, token = Wallet(chain="solana", address=owner), Token(chain="solana", address=mint)
    async with client:
        before = node.requests
        began = time.perf_counter()
        for _ in range(repeat):
            answer = await client.balance_at(wallet, token, point)
        seconds = (time.perf_counter() - began) / repeat
    return seconds, (node.requests - before) / repeat, answer.amount.raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="answers per measurement")
    args = parser.parse_args()
    header("Solana node balance_at: batched vs one request per call (loopback fake node)")
    print(f"{'accounts':>8}  {'point':>6}  {'batched':>16}  {'unbatched':>16}  {'requests':>8}"
          f"  {'time':>6}")
    for accounts in (1, 2, 5, 10):
        world, owner, mint = build(accounts)
        for label, point in (("recent", Point(block=9000)), ("old", Point(block=50))):
            truth = world.true_token(owner, mint, point)
            row = []
            for batching in (True, False):
                node = FakeNode(world, batching=batching)
                with node.serve() as url, tempfile.TemporaryDirectory() as tmp:
                    seconds, requests, raw = anyio.run(
                        ask, node, url, owner, mint, point, args.repeat, Path(tmp))
                if raw != truth:
                    raise SystemExit(f"answer {raw} differs from the world's {truth}")
                row.append((seconds, requests))
            (fast, few), (slow, many) = row
            print(f"{accounts:>8}  {label:>6}  {few:>4.1f} req {fast * 1000:>6.1f} ms  "
                  f"{many:>4.1f} req {slow * 1000:>6.1f} ms  {many / few:>7.1f}x  "
                  f"{slow / fast:>5.1f}x")
            sys.stdout.flush()
    print(f"\nper answer, mean of {args.repeat} answers by one client (a refused batch is "
          "remembered after the first);\nthe ratios are unbatched / batched (requests, wall "
          "time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
