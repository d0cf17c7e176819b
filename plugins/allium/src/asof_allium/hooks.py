"""The Allium plugin's hook implementations."""

from __future__ import annotations

from collections.abc import Sequence

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
    resolve_chain,
)
from asof_allium import history
from asof_allium.chains import fallback_support, parse_listing
from asof_allium.info import CHAINS_PATH
from asof_allium.info import provider_info as _info

__all__ = [
    "balance_at",
    "discover_chains",
    "history_page",
    "provider_info",
    "supported_chains",
]


@hookimpl
def provider_info() -> ProviderInfo:
    """Allium: base URL, the ``X-API-KEY`` credential (``ALLIUM_API_KEY``), rate limit
    and caveats."""
    return _info()


@hookimpl
def supported_chains() -> list[ChainSupport]:
    """The built-in chain list; ``discover_chains`` replaces it after a refresh."""
    return fallback_support()


@hookimpl
async def discover_chains(ctx: ProviderContext) -> Sequence[ChainSupport]:
    """Allium's live listing of chains per product (``GET {CHAINS_PATH}``)."""
    return parse_listing(await ctx.http.get(CHAINS_PATH))


@hookimpl
async def history_page(
    ctx: ProviderContext, query: HistoryQuery, cursor: str | None
) -> Page[HistoryItem] | None:
    """One page of a balance history or a holdings history; ``None`` for any other
    capability or for an exchange venue."""
    if resolve_chain(query.chain).venue:
        return None
    page: Page[HistoryItem]
    if query.capability is Capability.BALANCE_HISTORY:
        found = await history.balance_page(ctx, query, cursor)
        page = Page(items=found.items, cursor=found.cursor)
        return page
    if query.capability is Capability.HOLDINGS_HISTORY:
        points = await history.holdings_page(ctx, query, cursor)
        page = Page(items=points.items, cursor=points.cursor)
        return page
    return None


@hookimpl
async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
    """A balance derived from the balance history (provenance marks it derived)."""
    if resolve_chain(query.chain).venue:
        return None
    return await history.balance_at(ctx, query)
