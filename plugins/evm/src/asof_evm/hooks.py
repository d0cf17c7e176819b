"""The hook implementations of the evm plugin."""

from __future__ import annotations

from collections.abc import Iterable

from asof.plugin import (
    BalanceAt,
    BalanceChange,
    BalanceQuery,
    ChainSupport,
    HistoryQuery,
    Page,
    ProviderContext,
    ProviderInfo,
    hookimpl,
)
from asof_evm import balance, history, info

__all__ = ["balance_at", "history_page", "provider_info", "supported_chains"]


@hookimpl
def provider_info() -> ProviderInfo:
    """The evm provider: any Ethereum JSON-RPC node."""
    return info.info()


@hookimpl
def supported_chains() -> Iterable[ChainSupport]:
    """Every EVM chain asof knows; ethereum's node is the base URL."""
    return info.chain_support()


@hookimpl
async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
    """A native or ERC-20 balance read from the node's state at a block."""
    return await balance.balance_at(ctx, query)


@hookimpl
async def history_page(
    ctx: ProviderContext, query: HistoryQuery, cursor: str | None
) -> Page[BalanceChange] | None:
    """One page of ERC-20 balance changes from Transfer logs."""
    return await history.history_page(ctx, query, cursor)
