"""A balance-history provider that lives only in these tests.

``HistoryProvider(pages=5, fail_at=3)`` serves five pages (one change per page, a day
apart, cursors ``"1"``..``"4"``) and raises ``failure`` when asked for page 3, as a
crash or a Ctrl-C in the middle of a sync would.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from asof import hookimpl
from asof.context import ProviderContext
from asof.provider import ProviderInfo
from asof.queries import HistoryQuery
from asof.records import Capability, ChainSupport, HistoryItem, HistoryScope, Page

from .helpers import at, change


class HistoryProvider:
    """Pages of balance changes; records the cursor of every call."""

    name = "fakehist"

    def __init__(self, *, pages: int = 5, fail_at: int | None = None,
                 failure: BaseException | None = None) -> None:
        self.pages = pages
        self.fail_at = fail_at
        self.failure = failure or RuntimeError("connection lost")
        self.cursors: list[str | None] = []

    @hookimpl
    def provider_info(self) -> ProviderInfo:
        return ProviderInfo(name=self.name, title="Fake history",
                            base_url="https://fakehist.invalid")

    @hookimpl
    def supported_chains(self) -> Iterable[ChainSupport]:
        return [ChainSupport(provider=self.name, chain="solana",
                             capabilities=(Capability.BALANCE_HISTORY,),
                             history_scope=HistoryScope(opening_balances=True))]

    @hookimpl
    async def history_page(self, ctx: ProviderContext, query: HistoryQuery,
                           cursor: str | None) -> Page[HistoryItem] | None:
        self.cursors.append(cursor)
        index = int(cursor or 0)
        if self.fail_at is not None and index == self.fail_at:
            raise self.failure
        item = change(at(2) + timedelta(days=index), 100 * (index + 1), provider=self.name)
        following = str(index + 1) if index + 1 < self.pages else None
        return Page(items=(item,), cursor=following)
