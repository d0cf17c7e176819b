"""A provider plugin that lives only in the tests and answers from memory.

It is registered explicitly (``AsyncClient(plugins={"memory": memory_plugin})``) or
through a temporary distribution's entry point, exactly as a third-party plugin would be.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from asof import hookimpl
from asof.context import ProviderContext
from asof.provider import Credential, ProviderInfo
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import (
    Amount,
    BalanceAt,
    BlockRef,
    Capability,
    ChainSupport,
    Cost,
    HistoryItem,
    LedgerEntry,
    Page,
    Provenance,
)

NAME = "memory"
#: raw balance this plugin reports for every query
RAW = 1_234_567


@hookimpl
def provider_info() -> ProviderInfo:
    return ProviderInfo(
        name=NAME,
        title="In-memory test provider",
        base_url="https://memory.invalid",
        credentials=(Credential(header="X-Memory-Key", env=("MEMORY_KEY",), required=False),),
        cost=Cost(amount=Decimal(1), unit="credits"),
    )


@hookimpl
def supported_chains() -> Iterable[ChainSupport]:
    return [
        ChainSupport(provider=NAME, chain="solana",
                     capabilities=(Capability.BALANCE_AT, Capability.ACCOUNT_LEDGER)),
        ChainSupport(provider=NAME, chain="pacifica", capabilities=(Capability.ACCOUNT_LEDGER,)),
    ]


@hookimpl
async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
    return BalanceAt(
        wallet=query.wallet, token=query.token,
        amount=Amount(raw=RAW, decimals=query.token.decimals), requested=query.point,
        as_of=BlockRef(number=42, timestamp=datetime(2025, 1, 1, tzinfo=UTC),
                       transaction="memorysig"),
        provenance=Provenance(provider=ctx.provider, source="memory", fetched_at=ctx.now()),
    )


@hookimpl
async def history_page(
    ctx: ProviderContext, query: HistoryQuery, cursor: str | None
) -> Page[HistoryItem] | None:
    if query.capability is not Capability.ACCOUNT_LEDGER:
        return None
    index = int(cursor or 0)
    entry = LedgerEntry(
        account=query.wallets[0], time=datetime(2025, 1, 1 + index, tzinfo=UTC),
        event_type="deposit", amount=Decimal(10), balance=Decimal(10 * (index + 1)),
        pending_balance=None, known_type=True,
        provenance=Provenance(provider=ctx.provider), sequence=index,
    )
    return Page(items=(entry,), cursor=str(index + 1) if index < 2 else None)
