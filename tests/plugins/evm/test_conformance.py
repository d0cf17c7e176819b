"""The evm plugin through asof's conformance suite.

Replies are canned JSON-RPC answers shaped as the Ethereum JSON-RPC specification
shows them (no cassette, nothing to re-record), served in the order the plugin asks:
``eth_chainId`` first (once per session), then its reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import asof_evm
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import Capability, Point, Token, Wallet
from asof.testing.conformance import Case, ProviderConformance
from asof.testing.mock import Reply
from asof.tokens import native_token, resolve_token
from tests.plugins.evm.fakenode import TRANSFER, topic, word

WALLET = Wallet(chain="ethereum", address="0xd8da6bf26964af9d7eed9e03e53415d37aa96045")
USDC = resolve_token("ethereum", "USDC")
UNKNOWN = Token(chain="ethereum", address="0x" + "cd" * 20)
LATEST = 3000
STAMP = 1736467200


def ok(result: Any, id_: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "result": result}


def header(number: int) -> dict[str, Any]:
    return {"number": hex(number), "hash": "0x" + f"{number:064x}",
            "timestamp": hex(STAMP - 12 * (LATEST - number))}


CHAIN = Reply(json=ok("0x1"))


def log(block: int, value: int) -> dict[str, Any]:
    return {"address": USDC.address,
            "topics": [TRANSFER, topic("0x" + "22" * 20), topic(WALLET.address)],
            "data": word(value), "blockNumber": hex(block), "blockHash": "0x" + "ab" * 32,
            "blockTimestamp": hex(STAMP - 12 * (LATEST - block)), "transactionIndex": "0x0",
            "transactionHash": "0x" + "cd" * 32, "logIndex": "0x0", "removed": False}


class TestEvmConformance(ProviderConformance):
    plugin: ClassVar[object] = asof_evm
    provider: ClassVar[str] = "evm"

    def balance_cases(self) -> Sequence[Case]:
        eth = native_token("ethereum")
        after_latest = Point(time=datetime.fromtimestamp(STAMP + 30, UTC))
        return [
            # native at a block: one batch of the header and the balance
            Case(query=BalanceQuery(wallet=WALLET, token=eth, point=Point(block=2500)),
                 replies=[CHAIN, Reply(json=[ok(header(2500), 1),
                                             ok(hex(2**70 + 1), 2)])]),
            # ERC-20 at a time after the latest block: latest header, then balanceOf
            Case(query=BalanceQuery(wallet=WALLET, token=USDC, point=after_latest),
                 replies=[CHAIN, Reply(json=ok(header(LATEST))),
                          Reply(json=ok(word(12_345_678)))]),
            # a token address that had no contract yet: zero, no as_of
            Case(query=BalanceQuery(wallet=WALLET, token=UNKNOWN, point=Point(block=10)),
                 replies=[CHAIN, Reply(json=[ok(header(10), 1), ok("0x", 2),
                                             ok("0x", 3)]),
                          Reply(json=ok("0x"))]),
        ]

    def history_cases(self) -> Sequence[Case]:
        query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(WALLET,),
                             tokens=(USDC,), page_size=1)
        return [
            # two log ranges of 2000 blocks; the first page stops after its first change
            Case(query=query, replies=[
                CHAIN, Reply(json=ok(header(LATEST))),
                Reply(json=[ok([], 1), ok([log(1200, 5_000_000)], 2)]),
                Reply(json=[ok([], 1), ok([log(2900, 1_000_000)], 2)]),
            ]),
        ]
