"""The plugin's hook implementations: declarations, the ledger, the derived balance."""

from __future__ import annotations

from collections.abc import Iterable

from asof.plugin import (
    BalanceAt,
    BalanceQuery,
    Capability,
    ChainSupport,
    HistoryItem,
    HistoryQuery,
    Page,
    ProviderContext,
    ProviderInfo,
    hookimpl,
)
from asof_pacifica import balance, info, ledger

__all__ = ["balance_at", "history_page", "provider_info", "supported_chains"]


@hookimpl
def provider_info() -> ProviderInfo:
    """Pacifica: mainnet and testnet, the optional ``PF-API-KEY``, its options."""
    return info.info()


@hookimpl
def supported_chains() -> Iterable[ChainSupport]:
    """The venue ``pacifica``: ``account_ledger``, and ``balance_at`` derived from it."""
    return info.chain_support()


@hookimpl
async def history_page(
    ctx: ProviderContext, query: HistoryQuery, cursor: str | None
) -> Page[HistoryItem] | None:
    """One page of an account's ledger, newest first; ``None`` for anything else."""
    if query.capability is not Capability.ACCOUNT_LEDGER or query.chain != info.CHAIN:
        return None
    page = await ledger.history_page(ctx, query, cursor)
    return Page(items=page.items, cursor=page.cursor)


@hookimpl
async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
    """An account's USDC balance as of a time, read off its ledger."""
    if query.chain != info.CHAIN:
        return None
    return await balance.balance_at(ctx, query)
