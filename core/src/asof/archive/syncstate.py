"""Sync state: where each history fetch stands, so that an interrupted sync resumes.

A fetch is keyed by its canonical query (:func:`query_key`, the page size left out).
Each stored page moves its cursor on in the same transaction that stores the page's
items; the provider's declared history scope rides along, so that the coverage
recorded when the last page is in states what the history includes. Written against
the storage protocol (:mod:`asof.archive.backend`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import attrs

from asof.archive.backend import ChangeRow, StorageWriter, SyncRow
from asof.archive.coverage import ALL, Coverage, from_us, holdings_scope, ledger_scope, to_us
from asof.archive.lines import row_of
from asof.queries import HistoryQuery
from asof.records import (
    BalanceChange,
    Capability,
    HistoryScope,
    HoldingsPoint,
    LedgerEntry,
    Page,
)

__all__ = ["SyncState", "complete", "query_key", "record_page", "scopes", "sync_state"]


def query_key(query: HistoryQuery) -> str:
    """A canonical text for a history query (its page size left out): the key of its
    sync state."""
    data = {
        "capability": query.capability.value,
        "wallets": sorted(str(w) for w in query.wallets),
        "start": None if query.start is None else to_us(query.start),
        "end": None if query.end is None else to_us(query.end),
        "tokens": sorted(t.address for t in query.tokens),
        "granularity": query.granularity,
        "breakdown": query.breakdown,
        "min_liquidity": None if query.min_liquidity is None else str(query.min_liquidity),
        "event_types": sorted(query.event_types),
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


@attrs.frozen(kw_only=True)
class SyncState:
    """Where a history fetch stands: the provider, the cursor of the next page (``None``
    before the first page or after the last), and whether the range is complete."""

    provider: str
    cursor: str | None
    exhausted: bool  #: the last page has been stored
    done: bool  #: the range is recorded as covered
    pages: int
    items: int
    started: datetime
    updated: datetime
    scope: HistoryScope | None = None  #: what the provider declared its history covers


def sync_state(row: SyncRow) -> SyncState:
    """The public view of a stored sync row."""
    return SyncState(provider=row.provider, cursor=row.cursor, exhausted=row.exhausted,
                     done=row.done, pages=row.pages, items=row.items,
                     started=from_us(row.started_us), updated=from_us(row.updated_us),
                     scope=row.scope)


def scopes(query: HistoryQuery) -> list[str]:
    """The coverage scopes a completed query covers."""
    if query.capability is Capability.BALANCE_HISTORY:
        return [t.address for t in query.tokens] or [ALL]
    if query.capability is Capability.ACCOUNT_LEDGER:
        return [ledger_scope(query.event_types)]
    return [holdings_scope(query.granularity, query.breakdown, query.min_liquidity)]


def _store_item(w: StorageWriter, item: Any, provider: str, query: HistoryQuery,
                cut: int) -> None:
    if isinstance(item, BalanceChange):
        stamp = item.block.timestamp
        if stamp is not None and to_us(stamp) <= cut:
            w.change(item, provider)
    elif isinstance(item, LedgerEntry) and to_us(item.time) <= cut:
        w.ledger(item, provider)
    elif isinstance(item, HoldingsPoint) and to_us(item.timestamp) <= cut:
        w.holding(item, provider, query.min_liquidity)


def record_page(w: StorageWriter, query: HistoryQuery, provider: str, page: Page[Any],
                cursor: str | None, *, now_us: int, cut: int,
                scope: HistoryScope | None) -> None:
    """Store the final items of one page (at or before ``cut``) and move the fetch's
    state on. ``cursor`` ``None`` (the first page) starts the fetch afresh."""
    changes: list[ChangeRow] = []
    for item in page.items:
        if type(item) is BalanceChange:  # the bulk of a history: one batch per page
            found = row_of(item, provider)
            if found.time_us is not None and found.time_us <= cut:
                changes.append(found)
        else:
            _store_item(w, item, provider, query, cut)
    if changes:
        w.changes(changes)
    key = query_key(query)
    row = w.sync(key)
    fresh = cursor is None or row is None or row.provider != provider
    if fresh or row is None:
        pages, items, cut_us, started = 1, len(page.items), cut, now_us
    else:
        pages, items = row.pages + 1, row.items + len(page.items)
        cut_us, started = min(row.cut_us, cut), row.started_us
    w.put_sync(key, SyncRow(provider=provider, cursor=page.cursor,
                            exhausted=page.cursor is None, done=False, pages=pages,
                            items=items, cut_us=cut_us, started_us=started,
                            updated_us=now_us, scope=scope))


def complete(w: StorageWriter, query: HistoryQuery, provider: str, *, now_us: int,
             cut: int, scope: HistoryScope | None) -> None:
    """Record the query's range, up to the finality horizon in force when its first
    page was stored (else ``cut``), as covered by ``provider`` for each wallet, with
    the history scope declared when its pages were stored (else ``scope``)."""
    key = query_key(query)
    row = w.sync(key)
    if row is not None and row.provider == provider:
        cut = row.cut_us
        scope = row.scope if row.scope is not None else scope
    end = cut if query.end is None else min(to_us(query.end), cut)
    start = None if query.start is None else to_us(query.start)
    if start is None or end > start:
        basis = scope if query.capability in (Capability.BALANCE_HISTORY,
                                              Capability.ACCOUNT_LEDGER) else None
        for wallet in query.wallets:
            for name in scopes(query):
                w.coverage(Coverage(
                    capability=query.capability, provider=provider, wallet=wallet,
                    scope=name, start=None if start is None else from_us(start),
                    end=from_us(end), history_scope=basis))
    if row is not None:
        w.put_sync(key, attrs.evolve(row, done=True, exhausted=True, cursor=None,
                                     updated_us=now_us))
