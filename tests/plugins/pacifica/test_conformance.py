"""The Pacifica plugin through asof's conformance suite.

Replies are canned from the provider's documented answer shape (no cassette, nothing to
re-record): both revisions of the balance history endpoint, and error answers in its
``{"success": false, "data": null, "error": ..., "code": ...}`` envelope.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

import asof_pacifica
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import Capability, Point, Wallet
from asof.testing.conformance import Case, ProviderConformance
from asof.testing.mock import Reply
from asof_pacifica.info import USDC

ACCOUNT = Wallet(chain="pacifica", address="42trU9A5Hs7WcKnJ3mRtYpXvQz8LbEdGfN2aPuVwCx6M")


def event(ms: int, kind: str, amount: str, balance: str) -> dict[str, object]:
    return {"amount": amount, "balance": balance, "pending_balance": "0.000000",
            "event_type": kind, "created_at": ms}


NEWER = [event(1716200120000, "trade", "-0.500000", "99.500000"),
         event(1716200060000, "deposit", "100.000000", "100.000000")]


class TestPacificaConformance(ProviderConformance):
    plugin: ClassVar[object] = asof_pacifica
    provider: ClassVar[str] = "pacifica"

    def balance_cases(self) -> Sequence[Case]:
        at = Point(time=datetime(2024, 5, 20, 10, 14, tzinfo=UTC))
        return [
            Case(query=BalanceQuery(wallet=ACCOUNT, token=USDC, point=at),
                 replies=[Reply(json={"success": True, "data": NEWER})]),
            Case(query=BalanceQuery(wallet=ACCOUNT, token=USDC,
                                    point=Point(time=datetime(2020, 1, 1, tzinfo=UTC))),
                 replies=[Reply(json={"success": True, "data": NEWER})]),
        ]

    def history_cases(self) -> Sequence[Case]:
        whole = HistoryQuery(capability=Capability.ACCOUNT_LEDGER, wallets=(ACCOUNT,))
        ranged = HistoryQuery(
            capability=Capability.ACCOUNT_LEDGER, wallets=(ACCOUNT,),
            start=datetime(2024, 5, 20, 10, 14, 30, tzinfo=UTC),
            end=datetime(2024, 5, 20, 10, 15, 10, tzinfo=UTC),
        )
        return [
            # the older revision: offset paging, a short page ends it
            Case(query=whole, replies=[Reply(json={"success": True, "data": NEWER})]),
            # the newer revision: cursor paging
            Case(query=ranged, replies=[
                Reply(json={"success": True, "data": NEWER[:1], "next_cursor": "11114Lz77",
                            "has_more": True}),
                Reply(json={"success": True, "data": NEWER[1:], "next_cursor": None,
                            "has_more": False}),
            ]),
        ]

    def error_reply(self, status: int) -> Reply:
        headers = {"Retry-After": "2"} if status == 429 else {}
        return Reply(status=status, headers=headers, json={
            "success": False, "data": None, "error": f"conformance {status}", "code": status})
