"""The Helius plugin against asof's conformance suite (:mod:`asof.testing.conformance`).

Replies follow the ``balance-at`` OpenAPI schema and its ``Error`` schema
(``{"error", "code", "details"}``); the suite serves them through ``MockTransport``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asof_helius
from asof.queries import BalanceQuery
from asof.records import NATIVE_SOL_MINT, Point, Token, Wallet
from asof.testing.conformance import Case, ProviderConformance
from asof.testing.mock import Reply

WALLET = Wallet(chain="solana", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz")
USDC = Token(chain="solana", address="EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
             standard="spl", decimals=6, symbol="USDC")
SOL = Token(chain="solana", address=NATIVE_SOL_MINT)
AT = Point(time=datetime(2025, 1, 10, 19, 20, tzinfo=UTC))
SLOT = Point(block=313000000)


def _answer(token: Token, point: Point, raw: str, balance: str, decimals: int,
            as_of: dict[str, object] | None) -> Reply:
    requested = (
        {"time": None, "slot": point.block, "datetime": None}
        if point.block is not None
        else {"time": 1736536800, "slot": None, "datetime": None}
    )
    return Reply(json={
        "wallet": WALLET.address,
        "mint": token.address,
        "isNative": token.address == NATIVE_SOL_MINT,
        "balance": balance,
        "balanceRaw": raw,
        "decimals": decimals,
        "requested": requested,
        "asOf": as_of,
    })


class TestHeliusConformance(ProviderConformance):
    plugin = asof_helius
    provider = "helius"
    error_statuses = (400, 401, 404, 429, 500, 502, 503)

    def balance_cases(self) -> list[Case]:
        return [
            Case(
                query=BalanceQuery(wallet=WALLET, token=USDC, point=AT),
                replies=[_answer(USDC, AT, "284961463392936", "284961463.392936", 6,
                                 {"slot": 313000000, "blockTime": 1736536794,
                                  "signature": "5Cyy7Mh9nVgFq3T8wJp2sKxR4dE6bA1uZoNcLrXmYqUpon"})],
            ),
            Case(
                query=BalanceQuery(wallet=WALLET, token=SOL, point=SLOT),
                replies=[_answer(SOL, SLOT, "18446744073709551617", "18446744073.709551617", 9,
                                 {"slot": 312999870, "blockTime": None, "signature": "3kXw"})],
            ),
            Case(
                query=BalanceQuery(wallet=WALLET, token=USDC, point=AT),
                replies=[_answer(USDC, AT, "0", "0", 6, None)],
            ),
        ]

    def error_reply(self, status: int) -> Reply:
        headers = {"Retry-After": "2"} if status == 429 else {}
        return Reply(status=status, headers=headers,
                     json={"error": f"HELIUS_{status}", "code": status,
                           "details": f"documented failure {status}"})

    def error_message(self, status: int) -> str:
        return f"HELIUS_{status}: documented failure {status}"
