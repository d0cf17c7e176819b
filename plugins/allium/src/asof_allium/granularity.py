"""Allium's holdings-history granularity rules, checked before a call is spent.

The finest granularity allowed depends on the length of the range:

============================  ==========================
range (end - start)           finest granularity allowed
============================  ==========================
up to 24 hours                ``15s``
more than 24 hours to 7 days  ``5m``
more than 7 days to 1 year    ``1h``
more than 1 year              ``1d``
============================  ==========================

A year is counted as 365 days. ``15s`` data is kept for 7 days only: the start may not
be more than 7 days before now when asking for ``15s``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from asof.plugin import InputError, InvalidRange

__all__ = [
    "GRANULARITIES",
    "RETENTION_15S",
    "STEPS",
    "check_granularity",
    "finest_allowed",
    "normalize_granularity",
]

#: The granularities Allium accepts, finest first.
GRANULARITIES: tuple[str, ...] = ("15s", "1m", "5m", "1h", "1d")
#: The step of each granularity.
STEPS: dict[str, timedelta] = {
    "15s": timedelta(seconds=15),
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
#: How long 15s data is kept.
RETENTION_15S = timedelta(days=7)

_RULES: tuple[tuple[timedelta, str, str], ...] = (
    (timedelta(hours=24), "15s", "up to 24 hours"),
    (timedelta(days=7), "5m", "of 24 hours to 7 days"),
    (timedelta(days=365), "1h", "of 7 days to 1 year"),
)
_LONGEST = ("1d", "over 1 year")


def normalize_granularity(value: str | None) -> str:
    """The granularity in Allium's spelling; unknown or missing ones are refused."""
    if value is None:
        raise InputError(
            f"holdings history needs a granularity: one of {', '.join(GRANULARITIES)}",
            field="granularity",
        )
    text = value.strip().lower()
    if text not in STEPS:
        raise InputError(
            f"{value!r} is not a granularity; use one of {', '.join(GRANULARITIES)}",
            field="granularity",
            value=value,
        )
    return text


def _rule(span: timedelta) -> tuple[str, str]:
    for limit, finest, words in _RULES:
        if span <= limit:
            return finest, words
    return _LONGEST


def finest_allowed(start: datetime, end: datetime, now: datetime) -> str:
    """The finest granularity Allium allows for ``[start, end)`` asked at ``now``."""
    finest, _ = _rule(end - start)
    if finest == "15s" and start < now - RETENTION_15S:
        return "1m"
    return finest


def _describe(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds >= 86400:
        days = round(seconds / 86400, 1)
        return f"{days:g} day" + ("" if days == 1 else "s")
    if seconds >= 3600:
        hours = round(seconds / 3600, 1)
        return f"{hours:g} hour" + ("" if hours == 1 else "s")
    minutes = round(seconds / 60, 1)
    return f"{minutes:g} minute" + ("" if minutes == 1 else "s")


def check_granularity(value: str | None, start: datetime, end: datetime, now: datetime) -> str:
    """Check ``value`` against the range rules and 15s retention; return it normalised.

    Raises :class:`~asof.errors.InvalidRange` (field ``granularity``) naming the finest
    granularity allowed, so the caller can fix the query without spending a call.
    """
    granularity = normalize_granularity(value)
    rank = GRANULARITIES.index
    by_range, words = _rule(end - start)
    if rank(granularity) < rank(by_range):
        raise InvalidRange(
            f"{granularity} is too fine for a range of {_describe(end - start)}; Allium "
            f"allows {by_range} or coarser for ranges {words}",
            field="granularity",
            value=granularity,
        )
    if granularity == "15s" and start < now - RETENTION_15S:
        raise InvalidRange(
            f"15s data is kept for 7 days only and the start is {_describe(now - start)} "
            f"ago; the finest granularity allowed here is {finest_allowed(start, end, now)}",
            field="granularity",
            value=granularity,
        )
    return granularity
