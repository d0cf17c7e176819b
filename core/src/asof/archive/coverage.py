"""Coverage: which ranges of which histories the archive holds completely.

A :class:`Coverage` says: provider P gave every ``capability`` record of ``wallet`` (for
one token, or all tokens) over a range of time or of slots/blocks. The archive keeps
coverage merged per (capability, provider, chain, wallet, scope, axis).

Coverage alone does not make a balance known. A history that carries the balance after
each change says nothing about the balance before its first change in the range, so
inside a covered range a balance is known only

- from the first stored change of the token in that range onward (then it is the sum of
  each token account's balance after its last change in the range at or before the
  point), or
- anywhere when the range starts at the beginning of the chain (``start`` is ``None``:
  before the first change the balance is zero), or
- between the range's start and the first change, when a stored balance answer for a
  moment in that stretch says what it was.

A point anywhere else is not answered from the archive: it goes to a remote provider,
and is never answered as zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import attrs

from asof.errors import InputError, InvalidRange
from asof.records import Capability, HistoryScope, Token, Wallet

__all__ = [
    "ALL",
    "Coverage",
    "Span",
    "find_span",
    "from_us",
    "holdings_scope",
    "ledger_scope",
    "merge_spans",
    "to_us",
]

#: The scope of coverage over every token (or every ledger event type).
ALL = "*"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """Exact integer microseconds since the Unix epoch of an aware datetime."""
    return (moment - _EPOCH) // _US


def from_us(us: int) -> datetime:
    """The aware UTC datetime of integer microseconds since the Unix epoch."""
    return _EPOCH + timedelta(microseconds=us)


def ledger_scope(event_types: Iterable[str]) -> str:
    """The coverage scope of a ledger query: its event types, or :data:`ALL`."""
    kinds = sorted(set(event_types))
    return ",".join(kinds) if kinds else ALL


def holdings_scope(granularity: str | None, breakdown: bool, min_liquidity: object) -> str:
    """The coverage scope of a holdings query: grid, breakdown and liquidity filter."""
    scope = granularity or "?"
    if breakdown:
        scope += "|breakdown"
    if min_liquidity is not None:
        scope += f"|min_liquidity={min_liquidity}"
    return scope


@attrs.frozen(kw_only=True)
class Coverage:
    """A range of a history known to be complete in the archive.

    Give a time range (``start``/``end``) or a slot/block range (``start_block``/
    ``end_block``), start inclusive and end exclusive. A ``None`` start means "from the
    beginning of the chain": the wallet had no activity before what is stored.
    ``scope`` is a token address or :data:`ALL` for balance histories, the event types
    (comma-separated, sorted) or :data:`ALL` for ledgers, and the grid for holdings.

    ``history_scope`` (balance histories) is what the provider declared its history
    covers (:class:`~asof.records.HistoryScope`); ``None`` is undeclared: the range then
    proves balances only of tokens the provider returned records for.
    """

    capability: Capability
    provider: str
    wallet: Wallet
    scope: str = ALL
    start: datetime | None = None
    end: datetime | None = None
    start_block: int | None = None
    end_block: int | None = None
    history_scope: HistoryScope | None = None

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "capability", Capability(self.capability))
        timed = self.end is not None or self.start is not None
        blocked = self.end_block is not None or self.start_block is not None
        if timed == blocked:
            raise InvalidRange("give a time range (start, end) or a block range "
                               "(start_block, end_block)", field="coverage")
        if timed and self.end is None:
            raise InvalidRange("a covered time range needs an end", field="end")
        if blocked and self.end_block is None:
            raise InvalidRange("a covered block range needs an end", field="end_block")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset()):
                raise InputError("must be a timezone-aware UTC time", field=name)
        start, end = self.bounds
        if start is not None and end <= start:
            raise InvalidRange("the end is not after the start", field="end")
        if not self.provider:
            raise InputError("names no provider", field="provider")

    @property
    def axis(self) -> str:
        """``time`` or ``block``."""
        return "time" if self.end is not None else "block"

    @property
    def bounds(self) -> tuple[int | None, int]:
        """(start, end) on the axis: microseconds for time, numbers for blocks."""
        if self.end is not None:
            return (None if self.start is None else to_us(self.start)), to_us(self.end)
        assert self.end_block is not None
        return self.start_block, self.end_block


    def proves(self, token: Token, *, mentioned: bool) -> bool:
        """Whether this balance-history range includes every change of ``token``:
        the declared scope covers it, or (undeclared) the provider returned records of
        it (``mentioned``), and a token-scoped range names it."""
        if self.scope not in (ALL, token.address):
            return False
        if self.history_scope is None:
            return mentioned
        return self.history_scope.covers(token)


@attrs.frozen
class Span:
    """A merged covered range on one axis; ``start`` ``None`` is the beginning."""

    start: int | None
    end: int
    provider: str = ""
    #: the wallet's opening balances at ``start`` are in the history
    opening: bool = False

    def contains(self, pos: int) -> bool:
        """Whether ``pos`` is inside the range (start inclusive, end exclusive)."""
        return (self.start is None or self.start <= pos) and pos < self.end


def _low(start: int | None) -> float | int:
    return float("-inf") if start is None else start


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Spans merged where they overlap or touch, sorted by start (one provider)."""
    ordered = sorted(spans, key=lambda s: _low(s.start))
    merged: list[Span] = []
    for span in ordered:
        if merged and _low(span.start) <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.provider,
                              last.opening)
        else:
            merged.append(span)
    return merged


def find_span(spans: Iterable[Span], pos: int) -> Span | None:
    """The span containing ``pos``, if any."""
    for span in spans:
        if span.contains(pos):
            return span
    return None
