"""asof provider plugin for Etherscan's API V2.

Balances of the native coin and of ERC-20 tokens at a block, a time turned into the
last block at or before it, and ERC-20 balance histories built from token transfer
lists, on every EVM chain Etherscan indexes. The plugin registers the entry point
``etherscan`` in the group ``asof``; the key is ``ETHERSCAN_API_KEY`` (or
``ASOF_ETHERSCAN_API_KEY``).
"""

from __future__ import annotations

from asof.plugin import (
    BalanceAt,
    BalanceChange,
    BalanceQuery,
    HistoryQuery,
    Page,
    ProviderContext,
    hookimpl,
)
from asof_etherscan import balance, history
from asof_etherscan.info import provider_info, supported_chains

__all__ = ["balance_at", "history_page", "provider_info", "supported_chains"]


@hookimpl
async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
    """A wallet's balance of the native coin or an ERC-20 token as of a point (declined
    unless the ``pro`` option is on)."""
    return await balance.balance_at(ctx, query)


@hookimpl
async def history_page(ctx: ProviderContext, query: HistoryQuery,
                       cursor: str | None) -> Page[BalanceChange]:
    """One page of a wallet's ERC-20 balance changes."""
    return await history.history_page(ctx, query, cursor)
