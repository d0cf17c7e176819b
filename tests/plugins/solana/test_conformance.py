"""The Solana node plugin against asof's conformance suite (:mod:`asof.testing.conformance`).

The suite serves replies in order; they are the fake node's own answers (shaped as the
Solana JSON-RPC documentation gives them) to the calls the plugin makes for each case,
so each case also checks that the plugin asks in exactly that order.
"""

from __future__ import annotations

from typing import Any

import asof_solana
from asof.queries import BalanceQuery
from asof.records import NATIVE_SOL_MINT, Point, Token, Wallet
from asof.testing.conformance import Case, ProviderConformance
from asof.testing.mock import Reply
from asof_solana.rpc import COMMITMENT, PAGE_LIMIT
from tests.plugins.solana.fakenode import FakeNode, World, address

WORLD = World()
HOLDER, BANK = address("conformance-holder"), address("conformance-bank")
MINT = WORLD.mint("conformance", 6)
ACCOUNT, RESERVE = address("conformance-account"), address("conformance-reserve")
WORLD.tx(10, BANK, ("sol", BANK, 10**12), ("sol", HOLDER, 3 * 10**9))
WORLD.tx(11, BANK, ("open", RESERVE, MINT, BANK), ("tok", RESERVE, 10**12))
WORLD.tx(12, HOLDER, ("open", ACCOUNT, MINT, HOLDER))
WORLD.tx(20, BANK, ("tok", RESERVE, -1_500_000), ("tok", ACCOUNT, 1_500_000))
NODE = FakeNode(WORLD)
WALLET = Wallet(chain="solana", address=HOLDER)
TOKEN = Token(chain="solana", address=MINT, standard="spl", decimals=6)
SOL = Token(chain="solana", address=NATIVE_SOL_MINT)
PAGE = {"limit": PAGE_LIMIT, "commitment": COMMITMENT}
TX = {"encoding": "json", "commitment": COMMITMENT, "maxSupportedTransactionVersion": 0}


def reply(method: str, *params: Any) -> Reply:
    return Reply(json=NODE.handle_body({"jsonrpc": "2.0", "id": 1, "method": method,
                                        "params": list(params)}))


def batch(*calls: tuple[str, list[Any]]) -> Reply:
    return Reply(json=NODE.handle_body([
        {"jsonrpc": "2.0", "id": n, "method": method, "params": params}
        for n, (method, params) in enumerate(calls, start=1)
    ]))


def last_signature(account: str, slot: int) -> str:
    listing = NODE.rpc_get_signatures_for_address(account, PAGE)
    return str(next(item["signature"] for item in listing if item["slot"] <= slot))


ACCOUNTS = reply("getTokenAccountsByOwner", HOLDER, {"mint": MINT},
                 {"encoding": "jsonParsed", "commitment": COMMITMENT})


class TestSolanaConformance(ProviderConformance):
    plugin = asof_solana
    provider = "solana"
    error_statuses = (400, 401, 404, 429, 500, 502, 503)

    def balance_cases(self) -> list[Case]:
        return [
            Case(query=BalanceQuery(wallet=WALLET, token=TOKEN, point=Point(block=25)),
                 replies=[ACCOUNTS, reply("getSignaturesForAddress", ACCOUNT, PAGE),
                          reply("getTransaction", last_signature(ACCOUNT, 25), TX)]),
            Case(query=BalanceQuery(wallet=WALLET, token=SOL, point=Point(block=15)),
                 replies=[batch(("getSignaturesForAddress", [HOLDER, PAGE]),
                                ("getSlot", [{"commitment": COMMITMENT}])),
                          reply("getTransaction", last_signature(HOLDER, 15), TX)]),
            Case(query=BalanceQuery(wallet=WALLET, token=TOKEN, point=Point(block=5)),
                 replies=[ACCOUNTS, reply("getSignaturesForAddress", ACCOUNT, PAGE)]),
        ]

    def error_reply(self, status: int) -> Reply:
        headers = {"Retry-After": "2"} if status == 429 else {}
        return Reply(status=status, headers=headers,
                     json={"jsonrpc": "2.0", "id": 1,
                           "error": {"code": -32000, "message": f"node failed {status}"}})

    def error_message(self, status: int) -> str:
        return f"node failed {status}"
