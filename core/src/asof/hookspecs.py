"""The hooks a provider plugin implements. Each docstring is the contract.

A plugin is a module registered under the ``asof`` entry-point group; its entry-point
name is the provider's name. It implements hooks with :data:`hookimpl`::

    from asof.plugin import ProviderInfo, hookimpl

    @hookimpl
    def provider_info() -> ProviderInfo: ...

Sync hooks (``provider_info``, ``supported_chains``) are called once per plugin when
the core builds its route table. Async hooks (``balance_at``, ``history_page``,
``discover_chains``, ``portfolio_at``, ``price_at``) are **never broadcast**: the
router picks one provider per attempt and awaits that plugin's implementation alone.
Hook implementations are checked when the plugin loads: unknown hook names, wrong
argument names, a sync function where an async one is required (or the reverse) refuse
the plugin with a reason.

Errors: async hooks let the transport's :mod:`asof.errors` errors propagate unchanged.
A plugin raises :class:`~asof.errors.ResponseError` for a body that breaks the
provider's documented shape (:func:`asof.strict.strict` does it) and
:class:`~asof.errors.InputError` for a query it can tell is invalid before spending a
call. An error the provider reports inside a success status is best declared with
``ProviderInfo.check_body``, so the transport builds, redacts and retries it; a plugin
may also raise a :class:`~asof.errors.ProviderError` subclass for a refusal it finds
while translating an answer (not retried by the transport). Any other exception is
wrapped by the core in :class:`~asof.errors.PluginError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pluggy

from asof.context import ProviderContext
from asof.portfolio.records import Portfolio
from asof.prices import Price
from asof.provider import ProviderInfo
from asof.queries import BalanceQuery, HistoryQuery, PortfolioQuery
from asof.records import BalanceAt, ChainSupport, HistoryItem, Page, Point, Token

PROJECT = "asof"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Marker for a plugin's hook implementations.
hookimpl = pluggy.HookimplMarker(PROJECT)

#: Hooks that must be ``async def``; the router awaits them directly.
ASYNC_HOOKS = frozenset({"balance_at", "history_page", "discover_chains", "portfolio_at",
                         "price_at"})
#: Hooks every provider plugin must implement.
REQUIRED_HOOKS = frozenset({"provider_info", "supported_chains"})


@hookspec
def provider_info() -> ProviderInfo:  # type: ignore[empty-body]
    """Declare the provider: name (equal to the entry-point name), title, default base
    URL and networks, credentials with their environment variable names, documented
    rate limit, cost per call, caveats and options.

    Sync, required, called once at load. Must not do I/O.
    """


@hookspec
def supported_chains() -> Iterable[ChainSupport]:  # type: ignore[empty-body]
    """Declare which chains and capabilities the provider serves, at what status
    (supported / beta), cost and preference, and which capabilities it answers by
    derivation (for example ``balance_at`` read off a history).

    Sync, required, declarative: no I/O. Each record's ``provider`` must equal the
    plugin's name. A plugin whose provider publishes a live listing also implements
    ``discover_chains``; the core caches that listing and prefers it to this one.
    """


@hookspec
async def discover_chains(ctx: ProviderContext) -> Sequence[ChainSupport]:  # type: ignore[empty-body]
    """Fetch the provider's live list of supported chains and capabilities.

    Async, optional. Called only when the user asks to refresh (``asof chains
    --refresh`` or ``Client.refresh_chains()``); the core stores the answer and uses it
    instead of ``supported_chains`` until the next refresh. Chains the core does not
    know are left out by the core, not by the plugin.
    """


@hookspec
async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
    """Answer one wallet's balance of one token as of ``query.point``.

    Async. Follow the as-of rule: the state after the last block/slot at or before the
    point. No activity at or before the point is a zero :class:`~asof.records.BalanceAt`
    with ``as_of=None``, not an error. Fill ``provenance`` (provider, source, echo,
    derived). Return ``None`` only to say "this provider cannot answer this particular
    query" (for example a point form it does not support); the router then tries the
    next provider and reports the decline in its explanation.
    """


@hookspec
async def history_page(
    ctx: ProviderContext, query: HistoryQuery, cursor: str | None
) -> Page[HistoryItem] | None:
    """Return one page of a history and the opaque cursor of the next page.

    Async. ``cursor`` is ``None`` for the first page and otherwise a value this plugin
    returned before; a page whose ``cursor`` is ``None`` is the last. Items are
    :class:`~asof.records.BalanceChange` for ``balance_history``,
    :class:`~asof.records.HoldingsPoint` for ``holdings_history`` and
    :class:`~asof.records.LedgerEntry` for ``account_ledger``; only items inside
    ``[query.start, query.end)`` are returned, in the provider's documented order (which
    the plugin's docs state). Return ``None`` when this provider cannot serve the
    capability for this query.
    """


@hookspec
async def portfolio_at(ctx: ProviderContext, query: PortfolioQuery) -> Portfolio | None:
    """Answer every token one wallet held as of ``query.point``, from a provider's native
    "all balances at T" call.

    Async, optional; declared with the ``portfolio_at`` capability. Follow the as-of
    rule for every token; sum a token held in several token accounts; fill each
    holding's ``provenance`` and the portfolio's ``may_miss`` with what the call cannot
    see (for example token accounts closed before the call, or the native coin). Return
    ``None`` to decline (the core then derives the portfolio from a balance history).
    Holdings with a zero amount are dropped by the core unless ``query.include_zero``.
    """


@hookspec
async def price_at(ctx: ProviderContext, token: Token, point: Point) -> Price | None:
    """Answer ``token``'s price in USD at the time ``point``.

    Async, optional; declared with the ``price_at`` capability on each chain whose
    tokens the provider prices. ``point`` always carries a time. The
    :class:`~asof.prices.Price` states the price's own time (``time``, the provider's
    nearest data point), the time asked (``requested``), ``usd`` as a Decimal parsed
    without floats, and ``provenance`` (provider, source). Return ``None`` when the
    provider has no price for the token near that time; the core refuses a price
    whose time is further from the point than the configured tolerance.
    """
