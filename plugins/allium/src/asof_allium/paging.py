"""Paging across wallet batches: the opaque cursor and the newest-first merge.

Allium takes at most 15 wallets per request, so a longer list is cut into batches, each
with its own provider cursor. One asof page is built by merging the batches' streams
newest first, fetching a batch's next page whenever its buffer runs dry (a batch's
stream is taken to be newest first already, as Allium documents for holdings). Every
item of every batch is emitted exactly once, whatever order the streams are in.

The opaque cursor records, per batch, the provider cursor of the page it is reading
and how many of that page's items were already emitted (``None`` once the batch is
done), plus the effective end of the range (a clamped "now" must not move between
pages) and a fingerprint of the query, so that a cursor is refused on another query.
With a single batch a page stops exactly at Allium's page boundary and nothing is read
twice; with several, the next asof page re-reads each batch's current provider page.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from asof.plugin import (
    HistoryQuery,
    InputError,
    ResponseError,
    foreign_cursor,
    format_time,
    pack_cursor,
    unpack_cursor,
)
from asof_allium.info import NAME
from asof_allium.parse import parse_time

__all__ = ["BatchState", "Fetched", "MergeCursor", "fingerprint", "merge_page"]

T = TypeVar("T")
_VERSION = 1
_OWNER = "this Allium history"


@attrs.frozen
class BatchState:
    """Where a batch is: the provider cursor of the page being read and how many of
    its items were emitted."""

    cursor: str | None
    skip: int = 0


@attrs.frozen(kw_only=True)
class MergeCursor:
    """The decoded opaque cursor of a multi-batch history."""

    fingerprint: str
    end: datetime
    batches: tuple[BatchState | None, ...]

    def encode(self) -> str:
        """The opaque text handed out as a page cursor."""
        data = {
            "v": _VERSION,
            "q": self.fingerprint,
            "e": format_time(self.end),
            "b": [None if b is None else [b.cursor, b.skip] for b in self.batches],
        }
        return pack_cursor(data)

    @classmethod
    def decode(cls, text: str, *, fingerprint: str, batches: int) -> MergeCursor:
        """Read a cursor this plugin handed out for the same query; anything else is
        refused with :class:`~asof.errors.InputError` (field ``cursor``)."""
        try:
            data = unpack_cursor(text, owner=_OWNER)
            if data["v"] != _VERSION:
                raise ValueError("version")
            states: list[BatchState | None] = []
            for entry in data["b"]:
                if entry is None:
                    states.append(None)
                    continue
                cursor, skip = entry
                if (cursor is not None and not isinstance(cursor, str)) or not (
                    isinstance(skip, int) and skip >= 0
                ):
                    raise ValueError("batch")
                states.append(BatchState(cursor, skip))
            decoded = cls(fingerprint=data["q"], end=parse_time(data["e"]),
                          batches=tuple(states))
        except Exception:
            raise foreign_cursor(text, _OWNER) from None
        if decoded.fingerprint != fingerprint or len(decoded.batches) != batches:
            raise InputError("this cursor belongs to another query", field="cursor",
                             value=text)
        return decoded


def fingerprint(query: HistoryQuery) -> str:
    """A short digest of everything in ``query`` that shapes Allium's pages."""
    parts: list[Any] = [
        str(query.capability),
        [str(w) for w in query.wallets],
        None if query.start is None else format_time(query.start),
        None if query.end is None else format_time(query.end),
        query.granularity,
        query.breakdown,
        None if query.min_liquidity is None else format(query.min_liquidity, "f"),
        query.page_size,
    ]
    digest = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
    return digest[:16]


@attrs.frozen
class Fetched(Generic[T]):
    """One provider page of one batch: its items and the provider's next cursor."""

    items: Sequence[T]
    next: str | None


@attrs.define
class _Buffer(Generic[T]):
    cursor: str | None  # the provider cursor this page was fetched with
    items: Sequence[T]
    position: int
    next: str | None


Fetch = Callable[[int, str | None], Awaitable[Fetched[T]]]


async def _load(fetch: Fetch[T], index: int, cursor: str | None, skip: int) -> _Buffer[T]:
    page = await fetch(index, cursor)
    if cursor is not None and page.next == cursor:
        raise ResponseError(NAME, f"returned the cursor {cursor!r} for the page it names")
    if skip > len(page.items):
        raise ResponseError(
            NAME,
            f"a page read again has {len(page.items)} items where {skip} were read before; "
            "restart the history",
        )
    return _Buffer(cursor=cursor, items=page.items, position=skip, next=page.next)


async def merge_page(
    states: Sequence[BatchState | None],
    fetch: Fetch[T],
    key: Callable[[T], Any],
) -> tuple[list[T], list[BatchState | None]]:
    """Emit the next run of items from every live batch, newest first by ``key``.

    Stops once every batch is done, or when a batch needs its next provider page and at
    least as many items were emitted as were buffered at the start. Returns the items
    and the new per-batch states (all ``None`` when the history is complete).
    """
    buffers: dict[int, _Buffer[T]] = {}
    for index, state in enumerate(states):
        if state is not None:
            buffers[index] = await _load(fetch, index, state.cursor, state.skip)
    target = max(1, sum(len(b.items) - b.position for b in buffers.values()))
    out: list[T] = []
    while buffers:
        for index in [i for i, b in buffers.items() if b.position >= len(b.items)]:
            if buffers[index].next is None:
                del buffers[index]
        dry = [i for i, b in buffers.items() if b.position >= len(b.items)]
        if dry:
            if len(out) >= target:
                break
            for index in dry:
                buffers[index] = await _load(fetch, index, buffers[index].next, 0)
            continue
        if not buffers:
            break
        if len(buffers) == 1:  # one live batch: its items, in order, up to its end
            ((_, buffer),) = buffers.items()
            out.extend(buffer.items[buffer.position:])
            buffer.position = len(buffer.items)
            continue
        chosen = max(buffers, key=lambda i: (key(buffers[i].items[buffers[i].position]), -i))
        buffer = buffers[chosen]
        out.append(buffer.items[buffer.position])
        buffer.position += 1
    new_states: list[BatchState | None] = []
    for index in range(len(states)):
        left = buffers.get(index)
        if left is None:
            new_states.append(None)
        elif left.position >= len(left.items):
            new_states.append(BatchState(left.next, 0) if left.next is not None else None)
        else:
            new_states.append(BatchState(left.cursor, left.position))
    return out, new_states
