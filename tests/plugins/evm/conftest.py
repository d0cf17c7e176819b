"""A local anvil node with a small history, built once per test session.

The history (block timestamps chosen with ``evm_setNextBlockTimestamp``):

- block 1: the TestToken contract (TST) is deployed; the same runtime code is placed at
  the registry's USDC address before block 1 (``anvil_setCode``);
- block 2: a native send to the wallet W;
- block 3: USDC and TST minted;
- blocks 4 and 5 share one timestamp (2025-01-09 23:59:50): USDC transfers to and from
  W, one transaction with three transfers (two of them to W), a native send from W;
- block 6 at exactly 2025-01-10 00:00:00; block 7 at 12:00 that day;
- 300 empty blocks 12 s apart, then one more USDC transfer.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest

from asof.tokens import resolve_token
from tests.plugins.evm.anvil import CONTRACT, Anvil, encode_call

GENESIS = 1736294400  # 2025-01-08T00:00:00Z
JAN10 = 1736467200  # 2025-01-10T00:00:00Z
USDC = resolve_token("ethereum", "USDC").address
ETHER = 10**18


@attrs.frozen
class World:
    node: Anvil
    wallet: str
    other: str
    tst: str
    usdc: str
    latest: int
    #: block -> what happened in it, for readers of failing tests
    notes: dict[int, str]


def build(node: Anvil) -> World:
    acc = node.accounts()
    minter, holder, wallet, other = acc[0], acc[1], acc[2], acc[3]
    stranger = "0x" + "ab" * 20
    notes: dict[int, str] = {}

    def mint(token: str, to: str, value: int) -> str:
        return node.send(minter, token, data=encode_call("mint(address,uint256)", to, value))

    def transfer(token: str, sender: str, to: str, value: int) -> str:
        return node.send(sender, token, data=encode_call("transfer(address,uint256)", to, value))

    node.call("anvil_setCode", USDC, CONTRACT["deployedBytecode"])
    deploy = node.send(minter, None, data=CONTRACT["bytecode"])
    notes[node.mine(GENESIS + 100)] = "TST deployed"
    tst = str(node.receipt(deploy)["contractAddress"]).lower()

    node.send(minter, wallet, value=1 * ETHER)
    notes[node.mine(GENESIS + 200)] = "1 ETH to W"

    mint(USDC, holder, 1_000 * 10**6)
    mint(tst, wallet, 500 * 10**6)
    notes[node.mine(GENESIS + 300)] = "mints"

    transfer(USDC, holder, wallet, 250 * 10**6)
    transfer(USDC, holder, other, 5 * 10**6)
    notes[node.mine(JAN10 - 10)] = "USDC 250 to W, 5 to other"

    transfer(USDC, wallet, other, 40 * 10**6)
    node.send(holder, USDC, data=encode_call(
        "transferMany(address[],uint256[])", [wallet, wallet, other],
        [3 * 10**6, 4 * 10**6, 1 * 10**6]))
    node.send(wallet, stranger, value=ETHER // 2)
    notes[node.mine(JAN10 - 10)] = "same time: W sends 40 USDC, gets 3+4 in one tx, 0.5 ETH out"

    node.send(wallet, stranger, value=ETHER // 4)
    transfer(USDC, holder, wallet, 1 * 10**6)
    notes[node.mine(JAN10)] = "midnight: 0.25 ETH out, 1 USDC in"

    transfer(tst, wallet, other, 100 * 10**6)
    transfer(USDC, other, wallet, 2 * 10**6)
    notes[node.mine(JAN10 + 43_200)] = "noon: TST 100 out, USDC 2 in"

    node.call("anvil_mine", hex(300), hex(12))
    transfer(USDC, holder, wallet, 9 * 10**6)
    last = node.timestamp(node.block_number())
    notes[node.mine(last + 12)] = "after 300 empty blocks: 9 USDC in"
    return World(node=node, wallet=wallet, other=other, tst=tst, usdc=USDC,
                 latest=node.block_number(), notes=notes)


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    node = Anvil(genesis=GENESIS)
    try:
        yield build(node)
    finally:
        node.stop()
