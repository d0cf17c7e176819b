"""Balance series on a time grid, forward-filled from stored balance changes.

The grid follows the rules of holdings histories: ``start`` is inclusive and ``end``
exclusive, and every point sits on a boundary of the step counted from the Unix epoch
in UTC (midnight for ``1d``, the top of the hour for ``1h``, a quarter hour for
``15m``). The points are exactly the boundaries inside ``[start, end)``.

The value at each point follows the as-of rule (the state after the last change at or
before it) and the proof rules of :mod:`asof.archive.rules`; a point the archive cannot
prove has no value rather than a zero.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import attrs

from asof.archive.coverage import Span, find_span, from_us, to_us
from asof.errors import InvalidRange
from asof.records import Amount, BlockRef

__all__ = ["MAX_POINTS", "Known", "Row", "SeriesPoint", "grid", "parse_every", "sweep"]

#: The most points one series may have.
MAX_POINTS = 1_000_000

_EVERY = re.compile(r"^\s*(?P<n>\d{1,12})\s*(?P<unit>s|sec|m|min|h|d|w)?\s*$",
                    re.IGNORECASE | re.ASCII)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_every(every: str | int | timedelta) -> timedelta:
    """A grid step from ``1d``, ``1h``, ``15m``, ``30s``, ``2w``, or whole seconds
    (``3600`` or the int ``3600``). Raises :class:`~asof.errors.InvalidRange` for
    anything else, or a step below one second."""
    try:
        if isinstance(every, timedelta):
            step = every
        elif isinstance(every, int) and not isinstance(every, bool):
            step = timedelta(seconds=every)
        elif isinstance(every, str) and (match := _EVERY.match(every)):
            unit = (match["unit"] or "s").lower()
            step = timedelta(seconds=int(match["n"]) * _UNITS[unit])
        else:
            shown = every[:40] if isinstance(every, str) else every
            raise InvalidRange(f"cannot read {shown!r} as a step; use 1d, 1h, 15m, 30s or a "
                               "number of seconds", field="every",
                               value=shown if isinstance(every, str) else None)
    except OverflowError:
        raise InvalidRange("the step is too large", field="every") from None
    if step < timedelta(seconds=1) or step % timedelta(seconds=1):
        raise InvalidRange("the step must be a whole number of seconds, at least one",
                           field="every", value=every)
    return step


def grid(start: datetime, end: datetime, every: str | int | timedelta) -> list[datetime]:
    """The grid points: every boundary of the step inside ``[start, end)``."""
    step = parse_every(every)
    if end <= start:
        raise InvalidRange(f"end {end.isoformat()} is not after start {start.isoformat()}",
                           field="end")
    step_us = step // timedelta(microseconds=1)
    first = -(-to_us(start) // step_us) * step_us  # the first boundary at or after start
    last = to_us(end)
    count = 0 if first >= last else (last - first - 1) // step_us + 1
    if count > MAX_POINTS:
        raise InvalidRange(f"the grid would have {count} points; the most is {MAX_POINTS}: "
                           "use a coarser step or a shorter range", field="every")
    return [from_us(first + i * step_us) for i in range(count)]


class Row(NamedTuple):
    """One stored change, reduced to what a sweep needs (a named tuple: a series
    builds one per change it reads)."""

    time_us: int
    block: int | None
    tx_index: int | None  #: the transaction's index in its block
    account: str
    raw: int
    decimals: int | None
    transaction: str | None = None
    hash: str | None = None

    @property
    def order(self) -> tuple[int, int, int]:
        """The as-of order: time, then slot or block, then transaction index."""
        return (self.time_us, -1 if self.block is None else self.block,
                -1 if self.tx_index is None else self.tx_index)

    def block_ref(self) -> BlockRef:
        """Where the change happened."""
        return BlockRef(number=self.block, hash=self.hash, timestamp=from_us(self.time_us),
                        transaction=self.transaction, index=self.tx_index)


@attrs.frozen
class Anchor:
    """A stored balance answer at a moment, usable between a range's start and the
    first change in it."""

    time_us: int
    amount: Amount
    as_of: BlockRef | None
    provider: str


@attrs.frozen
class Known:
    """A balance the archive can vouch for at one point."""

    amount: Amount
    as_of: BlockRef | None
    provider: str
    anchored: bool = False  #: read off a stored answer rather than the changes


@attrs.frozen(kw_only=True)
class SeriesPoint:
    """One point of a balance series. ``amount`` is ``None`` where the archive does not
    cover the point (ask a provider, or sync the range first)."""

    time: datetime
    amount: Amount | None
    as_of: BlockRef | None
    provider: str | None

    @property
    def known(self) -> bool:
        """Whether the archive answered this point."""
        return self.amount is not None


def sweep(
    rows: Sequence[Row],
    spans: Sequence[Span],
    positions: Sequence[int],
    *,
    provider: str,
    anchors: Sequence[Anchor] = (),
    decimals: int | None = None,
    blocked: Mapping[int | None, frozenset[str]] | None = None,
) -> list[Known | None]:
    """The balance at each of ``positions`` (ascending microseconds) from one
    provider's changes of one wallet and token (``rows`` sorted by :attr:`Row.order`),
    its merged covered ``spans`` and exact stored answers (``anchors``, by time), by
    the rules of :mod:`asof.archive.rules`.

    Inside a span that starts at the beginning, or at a window with opening balances,
    the balance sums over token accounts each account's balance after its last change
    in the span at or before the position (zero for an account with none). ``blocked``
    maps an opening span's start to the accounts with records before it: until each
    has changed inside the span the balance is unknown. Inside a window without opening
    balances only an anchor between the window start and the first change answers.
    Outside every span the balance is unknown.
    """
    times = [row.time_us for row in rows]
    out: list[Known | None] = []
    current: Span | None = None
    held: dict[str, int] = {}
    total = 0
    last: Row | None = None
    last_row: Row | None = None  # the change last_ref was built from
    last_ref: BlockRef | None = None
    found_decimals = decimals
    cursor = 0
    first_in_span: int | None = None
    waiting: frozenset[str] = frozenset()
    nothing = Known(Amount(raw=0, decimals=decimals), None, provider)  # no change yet
    last_known = nothing  # what last_row gave
    for pos in positions:
        span = find_span(spans, pos)
        if span is None:
            out.append(None)
            continue
        if span is not current:
            current = span
            held, total, last, found_decimals = {}, 0, None, decimals
            last_row = None
            cursor = 0 if span.start is None else bisect.bisect_left(times, span.start)
            first_in_span = times[cursor] if cursor < len(times) and \
                times[cursor] < span.end else None
            waiting = (blocked or {}).get(span.start, frozenset()) if span.opening \
                else frozenset()
        while cursor < len(rows) and rows[cursor].time_us <= pos:
            row = rows[cursor]
            total += row.raw - held.get(row.account, 0)
            held[row.account] = row.raw
            last = row
            if row.decimals is not None:
                found_decimals = row.decimals
            cursor += 1
        if span.start is None or span.opening:
            if waiting and not waiting <= held.keys():
                out.append(None)
            elif last is not None:
                if last is not last_row:  # a change since the previous point
                    last_row, last_ref = last, last.block_ref()
                    last_known = Known(Amount(raw=total, decimals=found_decimals),
                                       last_ref, provider)
                out.append(last_known)
            else:
                out.append(nothing)
        elif last is not None:
            out.append(None)
        else:
            limit = span.end if first_in_span is None else first_in_span
            anchor = _anchor(anchors, span.start, limit)
            out.append(None if anchor is None else
                       Known(anchor.amount, anchor.as_of, anchor.provider, anchored=True))
    return out


def _anchor(anchors: Sequence[Anchor], start: int, limit: int) -> Anchor | None:
    """The latest stored answer at a moment in ``[start, limit)``."""
    chosen: Anchor | None = None
    for anchor in anchors:
        if start <= anchor.time_us < limit and (chosen is None or
                                                anchor.time_us >= chosen.time_us):
            chosen = anchor
    return chosen
