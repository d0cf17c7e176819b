"""An account's ledger, one request at a time.

The endpoint lists an account's balance events newest first and has no time filter.
A walk starts at the newest event and follows the provider's paging: the newer
revision's ``next_cursor`` while ``has_more`` is true, or, when the answer has neither
(the older revision), ``offset`` until a page comes back shorter than asked. A query
with a start stops as soon as a page reaches past it, so an old range costs every page
from now back to it, and no page more.

Entries that share a millisecond keep the provider's order through ``sequence``: ``0``
for the latest event in its millisecond, ``-1`` for the one before it, and so on, so
that sorting by ``(time, sequence)`` is chronological. Offset paging over an account
that gains events during the walk shifts entries onto the next page; an entry newer
than the last one seen is such a repeat and is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from asof.plugin import (
    HistoryQuery,
    InputError,
    LedgerEntry,
    Page,
    Provenance,
    ProviderContext,
    Wallet,
)
from asof_pacifica import cursor
from asof_pacifica.answer import read_answer, time_of
from asof_pacifica.info import DOCUMENTED_TYPES, HISTORY_PATH, HISTORY_SOURCE, LISTED_WITHOUT_TRADES

__all__ = ["Batch", "fetch", "history_page", "include_trades", "page_size"]

_WARNED: set[str] = set()
_NO_TRADES = "listed without trade, funding and liquidation events (include_trades off)"


@attrs.frozen(kw_only=True)
class Batch:
    """What one request gave: every entry of the page, newest first, and where the walk
    goes next (``None`` when the account's listing is exhausted)."""

    entries: tuple[LedgerEntry, ...]
    next: cursor.State | None


def page_size(ctx: ProviderContext, query: HistoryQuery | None = None) -> int:
    """The provider's ``limit``: the query's hint, else the ``page_size`` option."""
    value = query.page_size if query is not None and query.page_size else None
    if value is None:
        value = int(ctx.options.get("page_size", 100))
    if value < 1:
        raise InputError("must be at least 1", field="page_size", value=value)
    return value


def include_trades(ctx: ProviderContext, event_types: Sequence[str] = ()) -> bool:
    """Whether to ask the newer revision for trade events.

    The event types asked for decide when there are any (trades are asked for only when
    a type outside deposits, withdrawals, subaccount transfers and payouts is wanted);
    otherwise the ``include_trades`` option does (the configuration has typed it).
    """
    if event_types:
        return any(kind not in LISTED_WITHOUT_TRADES for kind in event_types)
    return bool(ctx.options.get("include_trades", True))


async def fetch(
    ctx: ProviderContext, account: Wallet, state: cursor.State, *, limit: int, trades: bool
) -> Batch:
    """One request for ``account`` from ``state``: the page's entries and the next state."""
    params: dict[str, Any] = {"account": account.address, "limit": limit}
    if trades:
        params["include_trades"] = "true"
    if state.token is not None:
        params["cursor"] = state.token
    elif state.offset:
        params["offset"] = state.offset
    answer = read_answer(await ctx.http.get(HISTORY_PATH, params=params))
    provenance = Provenance(
        provider=ctx.provider,
        source=HISTORY_SOURCE,
        fetched_at=ctx.now(),
        caveats=() if trades else (_NO_TRADES,),
    )
    entries: list[LedgerEntry] = []
    last_ms, tie = state.last_ms, state.tie
    for row in answer.rows:
        if last_ms is not None and row.ms > last_ms:
            ctx.log.debug("skipping an entry repeated by a shifted page (created_at %d)", row.ms)
            continue
        tie = tie + 1 if row.ms == last_ms else 0
        last_ms = row.ms
        known = row.event_type in DOCUMENTED_TYPES
        if not known and row.event_type not in _WARNED:
            _WARNED.add(row.event_type)
            ctx.log.warning("pacifica listed an undocumented event type %r; kept as is",
                            row.event_type)
        entries.append(LedgerEntry(
            account=account,
            time=time_of(row.ms),
            event_type=row.event_type,
            amount=row.amount,
            balance=row.balance,
            pending_balance=row.pending_balance,
            known_type=known,
            provenance=provenance,
            sequence=-tie,
        ))
    more = answer.has_more if answer.paged_by_cursor else len(answer.rows) >= limit
    if not more or not answer.rows:
        return Batch(entries=tuple(entries), next=None)
    moved = (
        cursor.State(token=answer.next_cursor)
        if answer.paged_by_cursor
        else cursor.State(offset=state.offset + len(answer.rows))
    )
    return Batch(
        entries=tuple(entries),
        next=attrs.evolve(moved, wallet=state.wallet, last_ms=last_ms, tie=tie),
    )


async def history_page(
    ctx: ProviderContext, query: HistoryQuery, token: str | None
) -> Page[LedgerEntry]:
    """One page of ``query``'s ledger: the entries of one request that fall inside the
    range and the wanted types, newest first, and the cursor of the next request."""
    state = cursor.State() if token is None else cursor.decode(token)
    if state.wallet >= len(query.wallets):
        raise InputError("the cursor belongs to another query", field="cursor", value=token)
    batch = await fetch(
        ctx,
        query.wallets[state.wallet],
        state,
        limit=page_size(ctx, query),
        trades=include_trades(ctx, query.event_types),
    )
    wanted = set(query.event_types)
    items = tuple(
        entry for entry in batch.entries
        if (query.start is None or entry.time >= query.start)
        and (query.end is None or entry.time < query.end)
        and (not wanted or entry.event_type in wanted)
    )
    following = batch.next
    past_start = (
        query.start is not None and bool(batch.entries) and batch.entries[-1].time < query.start
    )
    if following is None or past_start:
        following = (
            cursor.State(wallet=state.wallet + 1)
            if state.wallet + 1 < len(query.wallets)
            else None
        )
    return Page(items=items, cursor=None if following is None else cursor.encode(following))

