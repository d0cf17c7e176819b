"""The Allium plugin through asof's conformance kit (:mod:`asof.testing.conformance`).

The answers below are canned (MockHTTP), in the shapes of Allium's documents; nothing is
recorded, so there is nothing to re-record. The client's clock is the kit's fixed
``FIXED_NOW`` (2030-01-01), so every range lies in 2029.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asof_allium
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import Capability, Point, Wallet
from asof.testing.conformance import Case, ProviderConformance
from asof.testing.mock import Reply
from asof.tokens import resolve_token
from tests.plugins.allium.data import ETH_WALLET, SOL_WALLET, USDC_ACCOUNT_1, USDC_SOL

SOL = Wallet(chain="solana", address=SOL_WALLET)
ETH = Wallet(chain="ethereum", address=ETH_WALLET)


def change(when: str, slot: int, raw: int, **token: Any) -> dict[str, Any]:
    return {
        "address": SOL_WALLET, "chain": "solana", "block_timestamp": when, "block_slot": slot,
        "block_hash": f"hash{slot}", "txn_id": f"sig{slot}", "txn_index": 1,
        "raw_balance": raw, "token_account": USDC_ACCOUNT_1,
        "token": {"address": USDC_SOL, "chain": "solana", "type": "sol_spl", "decimals": 6,
                  **token},
    }


def point(when: str, usd: str) -> dict[str, Any]:
    return {"address": ETH_WALLET, "chain": "ethereum", "timestamp": when,
            "amount": {"amount": Decimal(usd), "currency": "USD"}}


class TestAlliumConformance(ProviderConformance):
    plugin = asof_allium
    provider = "allium"
    error_statuses = (400, 401, 404, 422, 429, 500, 502, 503)

    def balance_cases(self) -> list[Case]:
        query = BalanceQuery(wallet=SOL, token=resolve_token("solana", "USDC"),
                             point=Point(time=datetime(2029, 6, 1, tzinfo=UTC)))
        before = BalanceQuery(wallet=SOL, token=resolve_token("solana", "USDC"),
                              point=Point(time=datetime(2029, 1, 1, tzinfo=UTC)))
        return [
            Case(query=query, replies=[
                Reply(json={"items": [change("2029-05-02T10:00:00", 900, 2_000_000)],
                            "cursor": "next"}),
                Reply(json={"items": [change("2029-03-02T10:00:00", 800, 1_000_000)],
                            "cursor": None}),
            ]),
            Case(query=before, replies=[Reply(json={"items": [], "cursor": None})]),
        ]

    def history_cases(self) -> list[Case]:
        balances = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(SOL,),
                                start=datetime(2029, 3, 1, tzinfo=UTC),
                                end=datetime(2029, 6, 1, tzinfo=UTC))
        holdings = HistoryQuery(capability=Capability.HOLDINGS_HISTORY, wallets=(ETH,),
                                start=datetime(2029, 12, 1, tzinfo=UTC),
                                end=datetime(2029, 12, 5, tzinfo=UTC), granularity="1d")
        return [
            Case(query=balances, replies=[
                Reply(json={"items": [change("2029-05-02T10:00:00", 900, 2_000_000)],
                            "cursor": "b2"}),
                Reply(json={"items": [change("2029-03-02T10:00:00", 800, 1_000_000)],
                            "cursor": None}),
            ]),
            Case(query=holdings, replies=[
                Reply(json={"items": [point("2029-12-04T00:00:00Z", "10.50"),
                                      point("2029-12-03T00:00:00Z", "10.25")],
                            "cursor": "h2"}),
                Reply(json={"items": [point("2029-12-02T00:00:00Z", "9.75"),
                                      point("2029-12-01T00:00:00Z", "0")],
                            "cursor": None}),
            ]),
        ]

    def error_query(self) -> HistoryQuery:
        return self.history_cases()[1].query  # type: ignore[return-value]

    def error_reply(self, status: int) -> Reply:
        headers = {"Retry-After": "1"} if status == 429 else {}
        if status == 422:
            detail: Any = [{"loc": ["body", "granularity"], "msg": "conformance 422",
                            "type": "enum"}]
        else:
            detail = f"conformance {status}"
        return Reply(status=status, json={"detail": detail}, headers=headers)
