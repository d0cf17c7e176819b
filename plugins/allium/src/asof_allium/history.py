"""One asof page of a balance or holdings history, and ``balance_at`` derived from the
balance history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from asof.plugin import (
    Amount,
    BalanceAt,
    BalanceChange,
    BalanceQuery,
    Capability,
    HistoryQuery,
    HoldingsPoint,
    Page,
    Provenance,
    ProviderContext,
    Token,
    balance_from_changes,
    change_order,
)
from asof_allium.granularity import check_granularity, normalize_granularity
from asof_allium.info import BALANCES_PATH, DEFAULT_LIMIT, HOLDINGS_PATH, NAME
from asof_allium.paging import BatchState, Fetched, MergeCursor, fingerprint, merge_page
from asof_allium.parse import parse_balance_page, parse_holdings_page
from asof_allium.request import (
    HISTORY_EPOCH,
    Window,
    balances_request,
    batches,
    holdings_request,
    window_for,
)

__all__ = ["balance_at", "balance_page", "holdings_page"]

BALANCES_SOURCE = f"POST {BALANCES_PATH}"
HOLDINGS_SOURCE = f"POST {HOLDINGS_PATH}"

#: How a holdings point's USD figures are labelled: the provider's valuation, not asof's.
HOLDINGS_VALUATION = ("USD values are Allium's own valuation (its prices and liquidity "
                      "rules), not asof's amount at T times price at T")


def _start(
    query: HistoryQuery, cursor: str | None, now: datetime, groups: Sequence[Any],
    open_start: datetime | None,
) -> tuple[Window, list[BatchState | None], str]:
    digest = fingerprint(query)
    if cursor is None:
        window = window_for(query, now, open_start=open_start)
        return window, [BatchState(None) for _ in groups], digest
    decoded = MergeCursor.decode(cursor, fingerprint=digest, batches=len(groups))
    start = query.start if query.start is not None else open_start
    assert start is not None
    return Window(start=start, end=decoded.end), list(decoded.batches), digest


def _next_cursor(digest: str, window: Window, states: Sequence[BatchState | None]) -> str | None:
    if all(state is None for state in states):
        return None
    return MergeCursor(fingerprint=digest, end=window.end, batches=tuple(states)).encode()


def _in_window(moment: datetime | None, window: Window) -> bool:
    return moment is None or window.start <= moment < window.end


async def balance_page(
    ctx: ProviderContext, query: HistoryQuery, cursor: str | None
) -> Page[BalanceChange]:
    """One page of balance changes of ``query.wallets`` in ``[start, end)``.

    An open start reads from :data:`~asof_allium.request.HISTORY_EPOCH`; ``tokens``
    filters on token address (Allium has no such filter, so every change is still read).
    """
    groups = batches(query.wallets)
    window, states, digest = _start(query, cursor, ctx.now(), groups, HISTORY_EPOCH)
    limit = query.page_size or DEFAULT_LIMIT
    provenance = Provenance(provider=NAME, source=BALANCES_SOURCE, fetched_at=ctx.now())

    async def fetch(index: int, provider_cursor: str | None) -> Fetched[BalanceChange]:
        body, params = balances_request(groups[index], window, provider_cursor, limit)
        data = await ctx.http.post(BALANCES_PATH, json=body, params=params)
        items, after = parse_balance_page(
            data, chain=query.chain, batch=groups[index], provenance=provenance
        )
        return Fetched(items, after)

    items, states = await merge_page(states, fetch, change_order)
    kept = tuple(
        c for c in items
        if _in_window(c.block.timestamp, window)
        and (not query.tokens or any(_same_token(c.token, t) for t in query.tokens))
    )
    return Page(items=kept, cursor=_next_cursor(digest, window, states))


async def holdings_page(
    ctx: ProviderContext, query: HistoryQuery, cursor: str | None
) -> Page[HoldingsPoint]:
    """One page of holdings points, newest first, of ``query.wallets`` in ``[start, end)``.

    The granularity is checked against Allium's range and retention rules before the
    first call; points outside the window (from Allium snapping timestamps to its grid)
    are left out.
    """
    groups = batches(query.wallets)
    now = ctx.now()
    window, states, digest = _start(query, cursor, now, groups, None)
    if cursor is None:
        granularity = check_granularity(query.granularity, window.start, window.end, now)
    else:
        granularity = normalize_granularity(query.granularity)
    provenance = Provenance(provider=NAME, source=HOLDINGS_SOURCE, fetched_at=now,
                            caveats=(HOLDINGS_VALUATION,))

    async def fetch(index: int, provider_cursor: str | None) -> Fetched[HoldingsPoint]:
        body, params = holdings_request(
            groups[index],
            window,
            granularity=granularity,
            breakdown=query.breakdown,
            min_liquidity=query.min_liquidity,
            cursor=provider_cursor,
        )
        data = await ctx.http.post(HOLDINGS_PATH, json=body, params=params)
        items, after = parse_holdings_page(
            data, chain=query.chain, batch=groups[index], breakdown=query.breakdown,
            provenance=provenance,
        )
        return Fetched(items, after)

    items, states = await merge_page(states, fetch, lambda p: p.timestamp)
    kept = tuple(p for p in items if _in_window(p.timestamp, window))
    return Page(items=kept, cursor=_next_cursor(digest, window, states))


async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
    """A balance read off the wallet's balance history: the last change at or before
    the point (summed over token accounts), zero with no ``as_of`` before any change.

    Only time points are answered (``None`` for a block or slot point: Allium's history
    is asked by time, and a block point would mean reading the whole history to now).
    """
    point = query.point
    if point.time is None:
        return None
    changes: list[BalanceChange] = []
    if point.time >= HISTORY_EPOCH:
        history = HistoryQuery(
            capability=Capability.BALANCE_HISTORY,
            wallets=(query.wallet,),
            start=HISTORY_EPOCH,
            end=point.time + timedelta(seconds=1),
        )
        changes = await _all_changes(ctx, history, query.token)
    amount, block = balance_from_changes(changes, point, decimals=query.token.decimals)
    token = _best_token(query.token, changes)
    if amount.decimals is None and token.decimals is not None:
        amount = Amount(raw=amount.raw, decimals=token.decimals)
    return BalanceAt(
        wallet=query.wallet,
        token=token,
        amount=amount,
        requested=point,
        as_of=block,
        provenance=Provenance(
            provider=NAME,
            derived=True,
            source=BALANCES_SOURCE,
            fetched_at=ctx.now(),
            caveats=("derived from the balance history: the last change at or before "
                     "the point",),
        ),
    )


async def _all_changes(
    ctx: ProviderContext, history: HistoryQuery, token: Token
) -> list[BalanceChange]:
    changes: list[BalanceChange] = []
    cursor: str | None = None
    while True:
        page = await balance_page(ctx, history, cursor)
        changes.extend(c for c in page.items if _same_token(c.token, token))
        if page.cursor is None:
            return changes
        cursor = page.cursor


def _same_token(found: Token, wanted: Token) -> bool:
    if wanted.is_native or found.is_native:
        return wanted.is_native and found.is_native
    return found.address == wanted.address


def _best_token(wanted: Token, changes: Sequence[BalanceChange]) -> Token:
    if wanted.decimals is not None and wanted.standard != "unknown":
        return wanted
    for change in changes:
        seen = change.token
        return Token(
            chain=wanted.chain,
            address=wanted.address,
            standard=seen.standard if wanted.standard == "unknown" else wanted.standard,
            decimals=wanted.decimals if wanted.decimals is not None else seen.decimals,
            symbol=wanted.symbol or seen.symbol,
        )
    return wanted
