"""The as-of rules: what the archive proves, written once against the storage protocol.

A balance of one wallet and token as of a point comes from the archive only when it is
proven, by one of two kinds of evidence (``docs/archive.md`` gives examples):

**A covered history** (:class:`~asof.archive.coverage.Coverage` of ``balance_history``)
proves it when a covered range of one provider contains the point, the range's scope
includes the token (the provider's declared :class:`~asof.records.HistoryScope`; an
undeclared scope includes only tokens the provider returned records for), and the last
change at or before the point of *every* token account of the wallet and token is
known:

- the range starts at the beginning (``start`` ``None``): an account with no change by
  the point holds zero;
- the range starts at a window start and carries opening balances: an account with no
  record in the window held zero at its start (refused if an older record of that
  account exists, since that would contradict the declaration);
- the range starts at a window start without opening balances: an account that did not
  change inside the window is invisible, so the only proof is an exact stored answer
  for a moment between the window start and the first change in it.

**A stored point answer** at point P read at ``as_of`` S vouches for every point in
[S, P] (the provider read the last change at or before P, so nothing changed between)
and nothing outside it; an answer with no ``as_of`` (no activity) vouches for every
point up to P.

**Precedence.** A proving history is exact (every token account summed) and beats a
stored point answer; when they disagree the answer's provenance says so, with both
values and sources. Among stored answers an exact method beats one that may undercount
(:attr:`~asof.records.ChainSupport.balance_at_exact`). A series uses the same rules at
every point, so a series point equals the balance asked alone.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from asof.archive.backend import Last, StorageReader, StoredAnswer
from asof.archive.coverage import Coverage, Span, find_span, from_us, merge_spans, to_us
from asof.archive.series import Anchor, Known, Row, SeriesPoint, sweep
from asof.chains import resolve_chain
from asof.derive import balance_from_ledger
from asof.errors import InputError
from asof.exact import to_raw
from asof.records import (
    Amount,
    BalanceAt,
    BlockRef,
    Capability,
    Point,
    Provenance,
    Token,
    Wallet,
)

__all__ = [
    "ANCHOR_CAVEAT",
    "DERIVED_CAVEAT",
    "LEDGER_CAVEAT",
    "balance",
    "explain",
    "proving_spans",
    "series",
    "series_points",
    "vouches",
]

DERIVED_CAVEAT = "derived from balance changes stored in the archive"
ANCHOR_CAVEAT = "read off a stored balance answer and the archive's coverage"
LEDGER_CAVEAT = "derived from the account ledger stored in the archive"


# ---------------------------------------------------------------------------- coverage


def proving_spans(r: StorageReader, wallet: Wallet, token: Token,
                  axis: str) -> dict[str, list[Span]]:
    """Per provider, the merged ranges of its balance history that include every change
    of ``token`` (scope checked), on ``axis`` (kept by the reader while the stored data
    is unchanged; the caller must not change what it gets)."""
    return r.memo(("proving spans", wallet.chain, wallet.address, token.chain,
                   token.address, token.standard, token.decimals, token.symbol, axis),
                  lambda: _proving_spans(r, wallet, token, axis))


def _proving_spans(r: StorageReader, wallet: Wallet, token: Token,
                   axis: str) -> dict[str, list[Span]]:
    covs = r.coverage(wallet, capability=Capability.BALANCE_HISTORY.value, axis=axis)
    undeclared = any(cov.history_scope is None for cov in covs)
    mentioned = r.mentioned(wallet, token) if undeclared else set()
    found: dict[str, list[Span]] = {}
    for cov in covs:
        if not cov.proves(token, mentioned=cov.provider in mentioned):
            continue
        start, end = cov.bounds
        opening = cov.history_scope is not None and cov.history_scope.opening_balances
        found.setdefault(cov.provider, []).append(Span(start, end, cov.provider, opening))
    return {p: merge_spans(spans) for p, spans in sorted(found.items())}


def _accounts(changes: Iterable[Last]) -> set[str]:
    return {c.account for c in changes}


# ---------------------------------------------------------------------------- answers


def vouches(answer: BalanceAt, point: Point) -> bool:
    """Whether a stored answer proves the balance at ``point``: the same point, or a
    point inside [as_of, requested] on the same axis. An answer read at a block
    (``provenance.read_at``, no ``as_of``) proves its own point only."""
    asked, as_of = answer.requested, answer.as_of
    if as_of is None and answer.read_at is not None:
        # read at a block: the provider knows that block's state, not when the balance
        # last changed, so the answer proves its own point only
        return asked == point
    if point.time is not None:
        if asked.time is None:
            return False
        if asked.time == point.time:
            return True
        return asked.time > point.time and (
            as_of is None or (as_of.timestamp is not None and as_of.timestamp <= point.time))
    if asked.block is None:
        return False
    assert point.block is not None
    if asked.block == point.block:
        return True
    return asked.block > point.block and (
        as_of is None or (as_of.number is not None and as_of.number <= point.block))


def _rank(stored: StoredAnswer, point: Point) -> tuple[int, int]:
    exact = {True: 0, None: 1, False: 2}[stored.exact]
    same = 0 if stored.answer.requested == point else 1
    return exact, same


def _describe(answer: BalanceAt) -> str:
    symbol = answer.token.symbol or ""
    where = answer.provenance.source or "its answer"
    text = f"{answer.amount} {symbol}".strip() + f" from {answer.provenance.provider} ({where}"
    if answer.as_of is not None and answer.as_of.number is not None:
        text += f", as of {answer.as_of.number}"
    return text + ")"


def _choose(point: Point, derived: BalanceAt | None,
            stored: Sequence[StoredAnswer]) -> BalanceAt | None:
    if not stored:
        return derived
    vouching = sorted((s for s in stored if vouches(s.answer, point)),
                      key=lambda s: _rank(s, point))
    if derived is not None:
        other = [s.answer for s in vouching if s.answer.amount.raw != derived.amount.raw]
        if not other:
            return derived
        notes = [f"disagrees with the stored answer {_describe(a)}; this answer sums "
                 "every token account of a complete history and is preferred" for a in other]
        return attrs.evolve(derived, provenance=attrs.evolve(
            derived.provenance, caveats=(*derived.provenance.caveats, *notes)))
    if not vouching:
        return None
    best = vouching[0]
    chosen = best.answer
    same = chosen.requested == point
    notes = [f"disagrees with the stored answer {_describe(s.answer)}"
             for s in vouching[1:] if s.answer.amount.raw != chosen.amount.raw]
    prov = chosen.provenance
    return attrs.evolve(chosen, requested=point, provenance=attrs.evolve(
        prov, archived=True, derived=prov.derived or not same,
        caveats=(*prov.caveats, *notes)))


# ---------------------------------------------------------------------------- history


@functools.lru_cache(maxsize=256)
def _derived_provenance(provider: str) -> Provenance:
    return Provenance(provider=provider, derived=True, archived=True,
                      caveats=(DERIVED_CAVEAT,))


def _derived(query_wallet: Wallet, token: Token, point: Point, provider: str,
             latest: Sequence[Last]) -> BalanceAt:
    """The balance summed over each token account's last change (the result of
    :func:`asof.derive.balance_from_changes` over those changes: the sum, the first
    decimals given, and the block of the latest change by the as-of order, the first
    of equals)."""
    total = 0
    decimals: int | None = None
    chosen: Last | None = None
    order: tuple[float, int, int] | None = None
    for last in latest:
        total += last.raw
        if decimals is None:
            decimals = last.decimals
        key = last.order
        if order is None or key > order:
            chosen, order = last, key
    return BalanceAt(wallet=query_wallet, token=token,
                     amount=Amount(raw=total,
                                   decimals=token.decimals if decimals is None else decimals),
                     requested=point, as_of=None if chosen is None else chosen.block_ref(),
                     provenance=_derived_provenance(provider))


def _anchored(wallet: Wallet, token: Token, point: Point, anchor: StoredAnswer) -> BalanceAt:
    stored = anchor.answer
    return BalanceAt(wallet=wallet, token=token, amount=stored.amount, requested=point,
                     as_of=stored.as_of, provenance=attrs.evolve(
                         stored.provenance, archived=True, derived=True,
                         caveats=(*stored.provenance.caveats, ANCHOR_CAVEAT)))


def _in_span(r: StorageReader, provider: str, wallet: Wallet, token: Token, point: Point,
             span: Span, axis: str, pos: int,
             stored: Sequence[StoredAnswer]) -> BalanceAt | None:
    latest = r.latest(provider, wallet, token, axis=axis, at=pos, low=span.start)
    if span.start is None:
        return _derived(wallet, token, point, provider, latest)
    if span.opening:
        earlier = r.latest(provider, wallet, token, axis=axis, at=span.start - 1, low=None)
        if _accounts(earlier) - _accounts(latest):
            return None  # an account changed before the window and not inside it
        return _derived(wallet, token, point, provider, latest)
    if latest or axis != "time":
        return None  # an account that did not change in the window is invisible
    best: tuple[int, StoredAnswer] | None = None
    for candidate in stored:
        when = candidate.answer.requested.time
        if candidate.exact is not True or when is None:
            continue
        moment = to_us(when)
        if not span.contains(moment) or (best is not None and moment <= best[0]):
            continue
        if not r.latest(provider, wallet, token, axis=axis, at=max(moment, pos),
                        low=span.start):
            best = (moment, candidate)
    return None if best is None else _anchored(wallet, token, point, best[1])


def _by_time(r: StorageReader, wallet: Wallet, token: Token, point: Point,
             spans: dict[str, list[Span]]) -> BalanceAt | None:
    """A slot/block point inside a covered time range: the wallet's own stored changes
    (any token) on both sides of the block place it in time."""
    assert point.block is not None
    for provider, provider_spans in spans.items():
        below, above = r.place(provider, wallet, point.block)
        if above is None:
            continue  # nothing stored at or after the block: cannot place it
        span = find_span(provider_spans, above if below is None else below)
        if span is None or not span.contains(above) or (below is None and
                                                      span.start is not None):
            continue
        latest = [c for c in r.latest(provider, wallet, token, axis="block", at=point.block,
                                      low=None)
                  if c.time_us is not None and (span.start is None or
                                                c.time_us >= span.start)]
        if span.start is None:
            return _derived(wallet, token, point, provider, latest)
        if span.opening:
            everything = r.latest(provider, wallet, token, axis="block", at=point.block,
                                  low=None)
            if _accounts(everything) - _accounts(latest):
                continue
            return _derived(wallet, token, point, provider, latest)
    return None


def _from_history(r: StorageReader, wallet: Wallet, token: Token, point: Point,
                  stored: Sequence[StoredAnswer]) -> BalanceAt | None:
    if point.time is not None:
        axis, pos = "time", to_us(point.time)
    else:
        assert point.block is not None
        axis, pos = "block", point.block
    for provider, spans in proving_spans(r, wallet, token, axis).items():
        span = find_span(spans, pos)
        if span is None:
            continue
        found = _in_span(r, provider, wallet, token, point, span, axis, pos, stored)
        if found is not None:
            return found
    if point.block is not None:
        return _by_time(r, wallet, token, point, proving_spans(r, wallet, token, "time"))
    return None


def _from_ledger(r: StorageReader, wallet: Wallet, token: Token,
                 point: Point) -> BalanceAt | None:
    """A venue account's balance from its stored ledger (time points only), for the
    token its declared scope covers (undeclared: the venue's own asset only)."""
    if point.time is None:
        return None
    venue_asset = resolve_chain(wallet.chain).native_symbol
    decimals = token.decimals if token.decimals is not None else \
        resolve_chain(wallet.chain).native_decimals
    if decimals is None:
        return None
    pos = to_us(point.time)
    spans: dict[str, list[Span]] = {}
    for cov in r.coverage(wallet, capability=Capability.ACCOUNT_LEDGER.value, axis="time"):
        scope = cov.history_scope
        if scope is None:
            covered = venue_asset is not None and token.symbol == venue_asset
        else:
            covered = scope.covers(token)
        if cov.scope == "*" and covered:
            start, end = cov.bounds
            spans.setdefault(cov.provider, []).append(Span(start, end, cov.provider))
    for provider in sorted(spans):
        span = find_span(merge_spans(spans[provider]), pos)
        if span is None:
            continue
        entry = r.latest_ledger(provider, wallet, at=pos, low=span.start)
        if entry is None and span.start is not None:
            continue
        value, last = balance_from_ledger([] if entry is None else [entry], point)
        try:
            raw = to_raw(value, decimals)
        except InputError:
            continue
        return BalanceAt(
            wallet=wallet, token=token, amount=Amount(raw=raw, decimals=decimals),
            requested=point, as_of=None if last is None else BlockRef(timestamp=last.time),
            provenance=Provenance(provider=provider, derived=True, archived=True,
                                  caveats=(LEDGER_CAVEAT,)))
    return None


def _answers_for(r: StorageReader, wallet: Wallet, token: Token,
                 point: Point) -> list[StoredAnswer]:
    """:meth:`~asof.archive.backend.StorageReader.answers_for`, not asked again while
    the data is unchanged for a point at or after one where it found nothing on the
    same axis: it returns every exact answer and every answer asked at or after the
    point, so finding none at P means none for any later point."""
    axis, pos = ("time", to_us(point.time)) if point.time is not None else \
        ("block", point.block)
    assert pos is not None
    none_from: dict[str, int] = r.memo(
        ("no stored answer from", wallet.chain, wallet.address, token.chain, token.address),
        dict)
    low = none_from.get(axis)
    if low is not None and pos >= low:
        return []
    found = r.answers_for(wallet, token, point)
    if not found:
        none_from[axis] = pos
    return found


def balance(r: StorageReader, wallet: Wallet, token: Token, point: Point) -> BalanceAt | None:
    """The archive's proven balance of ``wallet`` in ``token`` as of ``point``, or
    ``None`` (see the module docstring for the rules and their precedence)."""
    known = r.token(token) or token
    stored = _answers_for(r, wallet, known, point)
    derived = _from_history(r, wallet, known, point, stored)
    if derived is None and resolve_chain(wallet.chain).venue:
        derived = _from_ledger(r, wallet, known, point)
    return _choose(point, derived, stored)


# ---------------------------------------------------------------------------- series


def series(r: StorageReader, wallet: Wallet, token: Token,
           positions: Sequence[int]) -> list[BalanceAt | None]:
    """The proven balance at each of ``positions`` (ascending microseconds), by the same
    rules as :func:`balance` at each point."""
    known, stored, found = _swept(r, wallet, token, positions)
    out: list[BalanceAt | None] = []
    by_point = _vouching_index(stored)
    for pos, k in zip(positions, found, strict=True):
        point = Point(time=from_us(pos))
        derived = None if k is None else _known(wallet, known, point, k, stored)
        out.append(_choose(point, derived, by_point(pos)))
    return out


def series_points(r: StorageReader, wallet: Wallet, token: Token,
                  times: Sequence[datetime]) -> list[SeriesPoint]:
    """:func:`series` at ``times`` (ascending), as the points of a balance series: the
    amount, ``as_of`` and provider of each answer, built without the answers
    themselves (a point proven by the stored changes takes them from the sweep; only a
    point without one looks at the stored answers that may vouch for it)."""
    positions = [to_us(t) for t in times]
    _, stored, found = _swept(r, wallet, token, positions)
    by_point = _vouching_index(stored)
    out: list[SeriesPoint] = []
    for when, pos, k in zip(times, positions, found, strict=True):
        if k is not None:  # _choose keeps the derived amount, as_of and provider
            out.append(SeriesPoint(time=when, amount=k.amount, as_of=k.as_of,
                                   provider=k.provider))
            continue
        vouching = by_point(pos)
        chosen = _choose(Point(time=when), None, vouching) if vouching else None
        out.append(SeriesPoint(time=when, amount=None if chosen is None else chosen.amount,
                               as_of=None if chosen is None else chosen.as_of,
                               provider=None if chosen is None
                               else chosen.provenance.provider))
    return out


def _swept(r: StorageReader, wallet: Wallet, token: Token, positions: Sequence[int],
           ) -> tuple[Token, list[StoredAnswer], list[Known | None]]:
    """The stored token, every stored answer of it, and what the stored changes prove
    at each position (the first provider, by name, that proves a point answers it)."""
    known = r.token(token) or token
    stored = r.answers(wallet, known)
    found: list[Known | None] = [None] * len(positions)
    end = positions[-1]
    for provider, spans in proving_spans(r, wallet, known, "time").items():
        relevant = [s for s in spans if (s.start is None or s.start <= end)
                    and s.end > positions[0]]
        if not relevant:
            continue
        rows = _sweep_rows(r, provider, wallet, known, relevant, positions)
        blocked: dict[int | None, frozenset[str]] = {}
        for span in relevant:
            if span.start is not None and span.opening:
                before = r.latest(provider, wallet, known, axis="time", at=span.start - 1,
                                  low=None)
                blocked[span.start] = frozenset(_accounts(before))
        anchors = [Anchor(to_us(s.answer.requested.time), s.answer.amount, s.answer.as_of,
                          s.answer.provenance.provider)
                   for s in stored
                   if s.exact is True and s.answer.requested.time is not None
                   and s.answer.read_at is None]
        anchors.sort(key=lambda a: a.time_us)
        values = sweep(rows, relevant, positions, provider=provider, anchors=anchors,
                       decimals=known.decimals, blocked=blocked)
        found = [old if old is not None else new for old, new in zip(found, values,
                                                                     strict=True)]
    return known, stored, found


def _sweep_rows(r: StorageReader, provider: str, wallet: Wallet, token: Token,
                spans: Sequence[Span], positions: Sequence[int]) -> list[Row]:
    """The stored changes :func:`~asof.archive.series.sweep` needs for ``positions``:
    per point, each account's last change in the point's span up to the point, and per
    span its first change (a sweep over these gives what a sweep over every change
    gives: the same held balance per account, the same last change, the same first
    change of each span)."""
    last: list[tuple[int | None, int]] = []
    for pos in positions:
        span = find_span(spans, pos)
        if span is not None:
            last.append((span.start, pos))
    first = [(s.start, s.end) for s in spans if s.start is not None]
    return r.rows_near(provider, wallet, token, last=last, first=first)


def _known(wallet: Wallet, token: Token, point: Point, k: Known,
           stored: Sequence[StoredAnswer]) -> BalanceAt:
    if not k.anchored:
        return BalanceAt(wallet=wallet, token=token, amount=k.amount, requested=point,
                         as_of=k.as_of, provenance=Provenance(
                             provider=k.provider, derived=True, archived=True,
                             caveats=(DERIVED_CAVEAT,)))
    anchor = next(s for s in stored if s.exact is True and s.answer.as_of == k.as_of
                  and s.answer.amount == k.amount and s.answer.provider == k.provider)
    return _anchored(wallet, token, point, anchor)


def _vouching_index(stored: Sequence[StoredAnswer]) -> _Index:
    return _Index([s for s in stored if s.answer.requested.time is not None])


class _Index:
    """Stored time answers by requested time, to find those that may vouch for a
    position quickly (an answer vouches only for points at or before its own)."""

    def __init__(self, stored: list[StoredAnswer]) -> None:
        self.stored = sorted(stored, key=lambda s: _requested_us(s))
        self.times = [_requested_us(s) for s in self.stored]

    def __call__(self, pos: int) -> list[StoredAnswer]:
        return self.stored[bisect.bisect_left(self.times, pos):]


def _requested_us(stored: StoredAnswer) -> int:
    when = stored.answer.requested.time
    assert when is not None
    return to_us(when)


# ---------------------------------------------------------------------------- explain


def explain(r: StorageReader, wallet: Wallet, token: Token, point: Point) -> list[str]:
    """Why the archive can or cannot answer: one line per piece of evidence or gap."""
    known = r.token(token) or token
    lines: list[str] = []
    mentioned = r.mentioned(wallet, known)
    covs = r.coverage(wallet, capability=Capability.BALANCE_HISTORY.value)
    if not covs:
        lines.append(f"no balance history of {wallet} is stored")
    for cov in covs:
        lines.append(_coverage_line(cov, known, point, cov.provider in mentioned))
    for s in r.answers(wallet, known):
        a = s.answer
        if vouches(a, point):
            exact = "exact" if s.exact else ("may undercount" if s.exact is False
                                             else "method not declared")
            lines.append(f"stored answer of {a.provider} at {a.requested} vouches for "
                         f"{point} ({exact})")
    return lines


def _bound(cov: Coverage, pos: int) -> str:
    if cov.axis == "time":
        return from_us(pos).isoformat().replace("+00:00", "Z")
    return f"block {pos}"


def _coverage_line(cov: Coverage, token: Token, point: Point, mentioned: bool) -> str:
    start, end = cov.bounds
    span = (f"from the beginning to {_bound(cov, end)}" if start is None
            else f"window {_bound(cov, start)} to {_bound(cov, end)}")
    what = f"{cov.provider} history {span}"
    scope = cov.history_scope
    if not cov.proves(token, mentioned=mentioned):
        if cov.scope not in ("*", token.address):
            return f"{what}: covers {cov.scope} only, not {token}"
        if scope is None:
            return (f"{what}: scope undeclared and {cov.provider} returned no record of "
                    f"{token}: it proves nothing about {token}")
        return f"{what}: its declared scope ({scope.describe()}) excludes {token}"
    inside = (point.time is not None and cov.axis == "time") or \
        (point.block is not None and cov.axis == "block")
    pos = None
    if inside:
        pos = to_us(point.time) if point.time is not None else point.block
    if pos is not None and not ((start is None or start <= pos) and pos < end):
        return f"{what}: does not contain {point}"
    if start is not None and not (scope is not None and scope.opening_balances):
        return (f"{what}: starts at a window without opening balances, so an account "
                "that did not change inside it is unknown; sync from the beginning "
                "(asof sync without --from) to prove it")
    return f"{what}: proves {token}"
