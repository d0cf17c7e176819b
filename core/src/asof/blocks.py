"""Time and blocks on chains whose blocks carry integer-second timestamps (EVM chains).

Two helpers for sources that answer by block number:

- :func:`last_block_at_or_before`: the last block whose timestamp is at or before a
  moment (on equal timestamps, the last of them), by a binary search over a function
  that reads one block's timestamp. Block timestamps never decrease along the chain.
- :func:`block_window`: the blocks of a time window ``[start, end)``, given a function
  "last block at or before t". A block stamped ``ts`` lies in the window when
  ``start <= ts < end``; with integer seconds that is ``ceil(start) <= ts`` and
  ``ts <= ceil(end) - 1``.

Both are async because their lookups usually are requests; both accept sync lookups
wrapped in a coroutine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import attrs

from asof.errors import InvalidPoint

__all__ = [
    "BlockWindow",
    "block_window",
    "ceil_seconds",
    "floor_seconds",
    "last_block_at_or_before",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ceil_seconds(moment: datetime) -> int:
    """The smallest whole epoch second at or after ``moment`` (timezone-aware)."""
    if moment.tzinfo is None:
        raise InvalidPoint("must be timezone-aware", field="time", value=moment)
    delta = moment - _EPOCH
    whole = delta.days * 86_400 + delta.seconds
    return whole + (1 if delta.microseconds else 0)


def floor_seconds(moment: datetime) -> int:
    """The largest whole epoch second at or before ``moment`` (timezone-aware)."""
    if moment.tzinfo is None:
        raise InvalidPoint("must be timezone-aware", field="time", value=moment)
    delta = moment - _EPOCH
    return delta.days * 86_400 + delta.seconds


async def last_block_at_or_before(
    seconds: int,
    timestamp_of: Callable[[int], Awaitable[int]],
    *,
    latest: int,
    latest_timestamp: int | None = None,
    low: int = 0,
) -> int | None:
    """The last block in ``[low, latest]`` whose timestamp is at or before ``seconds``;
    ``None`` when even block ``low`` is later.

    ``timestamp_of(n)`` reads block ``n``'s timestamp; ``latest_timestamp`` (the
    timestamp of ``latest``, when the caller has it) saves one lookup. Lookups:
    at most ``ceil(log2(latest - low + 1)) + 2``.
    """
    if latest < low:
        return None
    top = latest_timestamp if latest_timestamp is not None else await timestamp_of(latest)
    if top <= seconds:
        return latest
    if await timestamp_of(low) > seconds:
        return None
    lo, hi = low, latest  # invariant: ts(lo) <= seconds < ts(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if await timestamp_of(mid) <= seconds:
            lo = mid
        else:
            hi = mid
    return lo


@attrs.frozen(kw_only=True)
class BlockWindow:
    """The blocks ``first..last`` (both included) of a time window; ``before`` is the
    last block before the window (``-1`` when the window starts at genesis), whose state
    is the window's opening state. ``empty`` when no block lies inside."""

    before: int
    first: int
    last: int

    @property
    def empty(self) -> bool:
        """Whether no block lies inside the window."""
        return self.last < self.first


async def block_window(
    start: datetime | None,
    end: datetime | None,
    last_at_or_before: Callable[[int], Awaitable[int | None]],
    *,
    latest: int,
) -> BlockWindow:
    """The blocks whose timestamps lie in ``[start, end)``; ``None`` bounds are open
    (genesis, and ``latest``). ``last_at_or_before(s)`` gives the last block stamped at
    or before epoch second ``s``, or ``None`` when there is none."""
    if start is None:
        before = -1
    else:
        found = await last_at_or_before(ceil_seconds(start) - 1)
        before = -1 if found is None else found
    if end is None:
        last = latest
    else:
        found = await last_at_or_before(ceil_seconds(end) - 1)
        last = -1 if found is None else found
    return BlockWindow(before=before, first=before + 1, last=min(last, latest))

