"""The planner: which paid calls answer a set of questions, before any is spent.

A plan is a list of tasks, each one of:

- a :class:`Pull`: one history pull of up to a provider's wallet limit
  (:attr:`~asof.records.ChainSupport.history_wallets`, 15 for Allium) from the
  beginning of the wallets' history, after which every point of those wallets is an
  archive look-up. A pull answers a series' points, and the questions of a
  ``balance_at_many`` for the wallets asked at several moments;
- a :class:`PointCalls`: a run of ``balance_at`` calls to one provider. For a series
  the run is a *walk*: each answer at a point P with ``as_of`` S proves every point in
  [S, P] (the archive's rule for stored answers), so the walk asks the latest
  unanswered point next and never asks a point it has proven. The plan counts the
  worst case (every point asked); a quiet wallet costs far fewer.

The planner chooses per chain the cheaper of the two by each provider's declared cost
(:class:`~asof.records.Cost`): credits when both providers bill in the same unit, calls
when their units differ (a request and a credit are not comparable). A pull's pages
are not known before it runs: the plan counts one page per pull (a lower bound) and
says so. Identical questions are counted once and questions the archive already proves
(by its coverage rules) are not counted at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from asof.batches import batches
from asof.queries import BalanceQuery
from asof.records import Capability, ChainSupport, Token, Wallet

__all__ = ["Plan", "PointCalls", "Pull", "Spend", "history_batches", "plan_points",
           "plan_series", "plan_sync"]

#: A pull for questions up to a moment reads the history to just after it (its end is
#: exclusive).
_PAST_END = timedelta(seconds=1)


@attrs.frozen(kw_only=True)
class Pull:
    """One history pull: ``wallets`` (at most the provider's wallet limit) on ``chain``,
    from the beginning of their history to ``end`` (``None``: up to now)."""

    provider: str
    chain: str
    wallets: tuple[Wallet, ...]
    tokens: tuple[Token, ...] = ()
    end: datetime | None = None
    points: int = 0  #: the questions it answers (0 for a plain sync)

    @property
    def calls(self) -> int:
        """The calls the plan counts for it: one page (a lower bound)."""
        return 1


@attrs.frozen(kw_only=True)
class PointCalls:
    """A run of ``balance_at`` calls to ``provider`` on ``chain``: ``calls`` at most."""

    provider: str
    chain: str
    calls: int
    walk: bool = False  #: answers prove intervals; fewer calls when wallets are quiet


@attrs.frozen(kw_only=True)
class Spend:
    """What a plan spends at one provider, by its declarations."""

    provider: str
    calls: int
    credits: Decimal  #: calls times the declared cost per call
    unit: str  #: the cost's unit (``credits``, ``request``)
    seconds: float  #: the calls at the declared rate limit (0 without one)
    at_least: bool = False  #: history pulls may take more pages than counted


@attrs.frozen(kw_only=True)
class Plan:
    """The calls a bulk job would make, and what it would cost, before it runs."""

    questions: int  #: questions given
    distinct: int  #: after identical questions are merged
    archived: int  #: distinct questions the archive already proves
    pulls: tuple[Pull, ...] = ()
    points: tuple[PointCalls, ...] = ()
    spend: tuple[Spend, ...] = ()
    unanswerable: Mapping[str, str] = attrs.field(factory=dict)  #: chain -> why
    unanswerable_count: int = 0

    @property
    def calls(self) -> int:
        """Paid calls in all (pulls counted at one page each)."""
        return sum(s.calls for s in self.spend)

    @property
    def credits(self) -> Decimal:
        """The declared cost of every call, summed over providers in their own units."""
        return sum((s.credits for s in self.spend), Decimal(0))

    @property
    def seconds(self) -> float:
        """Time at the declared rate limits, providers one after another."""
        return sum(s.seconds for s in self.spend)

    def within(self, budget: Decimal | int | None) -> bool:
        """Whether the plan spends at most ``budget`` (``None``: no budget)."""
        return budget is None or self.credits <= Decimal(budget)

    def lines(self) -> list[str]:
        """The plan in words, one line each (``--plan`` prints these)."""
        out = [f"{self.questions} question(s), {self.distinct} distinct, "
               f"{self.archived} already proven by the archive"]
        for pull in self.pulls:
            out.append(f"pull {pull.provider} {pull.chain}: {len(pull.wallets)} wallet(s) "
                       f"from the beginning, answering {pull.points} point(s)")
        for run in self.points:
            kind = "walk" if run.walk else "point calls"
            out.append(f"{kind} {run.provider} {run.chain}: at most {run.calls} call(s)")
        for chain, why in self.unanswerable.items():
            out.append(f"cannot plan {chain}: {why}")
        for s in self.spend:
            more = "at least " if s.at_least else ""
            rate = f", about {s.seconds:,.1f} s at its rate limit" if s.seconds else ""
            out.append(f"{s.provider}: {more}{s.calls} call(s), {more}{s.credits} "
                       f"{s.unit}{rate}")
        out.append(f"total: {'at least ' if any(s.at_least for s in self.spend) else ''}"
                   f"{self.calls} paid call(s), {self.credits} in the providers' units")
        return out

    def to_data(self) -> dict[str, Any]:
        """The plan as JSON-ready data."""
        return {
            "questions": self.questions, "distinct": self.distinct, "archived": self.archived,
            "pulls": [{"provider": p.provider, "chain": p.chain, "points": p.points,
                       "wallets": [str(w) for w in p.wallets]} for p in self.pulls],
            "points": [{"provider": r.provider, "chain": r.chain, "calls": r.calls,
                        "walk": r.walk} for r in self.points],
            "spend": [{"provider": s.provider, "calls": s.calls, "credits": str(s.credits),
                       "unit": s.unit, "seconds": round(s.seconds, 3),
                       "at_least": s.at_least} for s in self.spend],
            "unanswerable": dict(self.unanswerable),
            "calls": self.calls, "credits": str(self.credits),
        }


# -- what the router offers -----------------------------------------------------------


@attrs.frozen(kw_only=True)
class Offer:
    """One provider's terms for a (chain, capability): cost per call and rate."""

    provider: str
    amount: Decimal
    unit: str
    per_second: float | None  #: calls per second at its declared limit
    support: ChainSupport | None = None


def _offer(router: Any, chain: str, capability: Capability, *,
           direct: bool) -> Offer | str:
    """The first provider the route would ask (direct ones only when ``direct``), or
    the reason there is none."""
    route = router.route(chain, capability)
    for step in route.usable:
        if step.archive:
            continue
        support = step.support
        if direct and support is not None and capability in support.derived:
            continue
        info = router.plugins.infos[step.provider]
        cost = (support.cost if support is not None else None) or info.cost
        limit = router.settings[step.provider].rate_limit
        return Offer(provider=step.provider,
                     amount=Decimal(1) if cost is None else cost.amount,
                     unit="request" if cost is None else cost.unit,
                     per_second=None if limit is None else limit.requests / limit.per_seconds,
                     support=support)
    return f"no usable provider serves {capability} on {chain}"


class _Ledger:
    """Calls per provider, as the plan is built."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.offers: dict[str, Offer] = {}
        self.at_least: set[str] = set()

    def add(self, offer: Offer, calls: int, *, at_least: bool = False) -> None:
        self.calls[offer.provider] = self.calls.get(offer.provider, 0) + calls
        self.offers[offer.provider] = offer
        if at_least:
            self.at_least.add(offer.provider)

    def spend(self) -> tuple[Spend, ...]:
        out = []
        for name, calls in self.calls.items():
            offer = self.offers[name]
            seconds = 0.0 if offer.per_second is None else calls / offer.per_second
            out.append(Spend(provider=name, calls=calls, credits=offer.amount * calls,
                             unit=offer.unit, seconds=seconds, at_least=name in self.at_least))
        return tuple(out)


def _cheaper_to_pull(pull: Offer, pulls: int, point: Offer | str, points: int) -> bool:
    if isinstance(point, str):
        return True
    if pull.unit == point.unit:
        return pull.amount * pulls < point.amount * points
    return pulls < points


def _batches(wallets: Sequence[Wallet], size: int) -> list[tuple[Wallet, ...]]:
    return [tuple(batch) for batch in batches(wallets, size)]


def history_batches(router: Any, chain: str,
                    wallets: Sequence[Wallet]) -> list[tuple[Wallet, ...]]:
    """``wallets`` (of ``chain``) in batches of the wallet limit of the provider that
    would serve their balance history, so that a history of many wallets is read and
    streamed batch after batch instead of merged across every batch (which pays a
    first page of each batch before the first record). One batch when no provider
    serves it (the router then says why)."""
    offer = _offer(router, chain, Capability.BALANCE_HISTORY, direct=False)
    if isinstance(offer, str) or offer.support is None:
        return [tuple(wallets)] if wallets else []
    return _batches(list(wallets), offer.support.history_wallets)


# -- plans ----------------------------------------------------------------------------


def plan_points(router: Any, archive: Any, queries: Iterable[BalanceQuery], *,
                given: int | None = None, can_pull: bool = False) -> Plan:
    """The plan of :meth:`~asof.client.AsyncClient.balance_at_many`: each distinct
    question not proven by the archive, asked of the first provider on its route;
    or, when ``can_pull`` (an archive to pull into) and it costs less, one history
    pull per batch of the history provider's wallet limit for the wallets asked at
    many moments, whose questions the archive then answers (questions at a block,
    not a time, are always asked directly)."""
    seen: set[BalanceQuery] = set()
    count = archived = 0
    per_chain: dict[str, int] = {}
    timed: dict[str, dict[Wallet, list[BalanceQuery]]] = {}
    for query in queries:
        count += 1
        if query in seen:
            continue
        seen.add(query)
        if archive is not None and archive.lookup_balance(query) is not None:
            archived += 1
            continue
        per_chain[query.chain] = per_chain.get(query.chain, 0) + 1
        if can_pull and query.point.time is not None:
            timed.setdefault(query.chain, {}).setdefault(query.wallet, []).append(query)
    ledger = _Ledger()
    pulls: list[Pull] = []
    runs: list[PointCalls] = []
    why: dict[str, str] = {}
    lost = 0
    for chain, calls in per_chain.items():
        offer = _offer(router, chain, Capability.BALANCE_AT, direct=False)
        puller, chosen = _pulls_for(router, chain, timed.get(chain, {}), offer)
        if puller is not None and chosen:
            pulls.extend(chosen)
            ledger.add(puller, len(chosen), at_least=True)
            calls -= sum(p.points for p in chosen)
        if not calls:
            continue
        if isinstance(offer, str):
            why[chain] = offer
            lost += calls
            continue
        runs.append(PointCalls(provider=offer.provider, chain=chain, calls=calls))
        ledger.add(offer, calls)
    return Plan(questions=count if given is None else given, distinct=len(seen),
                archived=archived, pulls=tuple(pulls), points=tuple(runs),
                spend=ledger.spend(), unanswerable=why, unanswerable_count=lost)


def _pulls_for(router: Any, chain: str, asked: Mapping[Wallet, Sequence[BalanceQuery]],
               point: Offer | str) -> tuple[Offer | None, list[Pull]]:
    """History pulls for the wallets asked at several moments (busiest first, in
    batches of the wallet limit), while a batch costs less than its point calls. A
    wallet asked at one moment is never pulled: its history is a page at least, the
    same as its one call."""
    # a wallet asked at one moment is one call either way: its history is a page at least
    asked = {w: qs for w, qs in asked.items() if len(qs) > 1}
    if not asked:
        return None, []
    offer = _offer(router, chain, Capability.BALANCE_HISTORY, direct=True)
    if isinstance(offer, str):
        return None, []
    size = offer.support.history_wallets if offer.support is not None else 1
    busiest = sorted(asked, key=lambda w: len(asked[w]), reverse=True)
    out: list[Pull] = []
    for batch in _batches(busiest, size):
        points = sum(len(asked[w]) for w in batch)
        if not _cheaper_to_pull(offer, 1, point, points):
            break  # the batches after it are quieter still
        questions = [q for w in batch for q in asked[w]]
        end = max(q.point.time for q in questions if q.point.time is not None)
        tokens = tuple(dict.fromkeys(q.token for q in questions))
        out.append(Pull(provider=offer.provider, chain=chain, wallets=batch, tokens=tokens,
                        end=end + _PAST_END, points=points))
    return offer, out


def plan_series(router: Any, wallets: Sequence[Wallet],
                tokens_of: Mapping[str, tuple[Token, ...]], times: Sequence[datetime],
                *, unknown: Mapping[tuple[Wallet, Token], int] | None = None,
                can_pull: bool = True) -> Plan:
    """The plan of a series: per chain, history pulls in batches of the provider's
    wallet limit when they cost less than point calls, else a walk of point calls.

    ``unknown`` gives, per (wallet, token), how many points the archive does not prove
    (default: all of them); ``can_pull`` is false when there is no archive to pull
    into.
    """
    wallets = list(dict.fromkeys(wallets))
    questions = sum(len(tokens_of.get(w.chain, ())) for w in wallets) * len(times)
    ledger = _Ledger()
    pulls: list[Pull] = []
    runs: list[PointCalls] = []
    why: dict[str, str] = {}
    lost = 0
    known = 0
    chains = list(dict.fromkeys(w.chain for w in wallets))
    end = max(times) if times else None
    for chain in chains:
        group = [w for w in wallets if w.chain == chain]
        tokens = tokens_of.get(chain, ())
        missing: dict[Wallet, int] = {}
        for wallet in group:
            for token in tokens:
                n = len(times) if unknown is None else unknown.get((wallet, token), 0)
                known += len(times) - n
                if n:
                    missing[wallet] = missing.get(wallet, 0) + n
        if not missing:
            continue
        need = list(missing)
        points = sum(missing.values())
        pull = _offer(router, chain, Capability.BALANCE_HISTORY, direct=True)
        point = _offer(router, chain, Capability.BALANCE_AT, direct=True)
        if can_pull and isinstance(pull, Offer):
            size = pull.support.history_wallets if pull.support is not None else 1
            batches = _batches(need, size)
            if _cheaper_to_pull(pull, len(batches), point, points):
                for batch in batches:
                    pulls.append(Pull(provider=pull.provider, chain=chain, wallets=batch,
                                      tokens=tokens, end=end,
                                      points=sum(missing[w] for w in batch)))
                ledger.add(pull, len(batches), at_least=True)
                continue
        if isinstance(point, str):
            derived = _offer(router, chain, Capability.BALANCE_AT, direct=False)
            if isinstance(derived, str):
                why[chain] = derived
                lost += points
                continue
            point = derived
        runs.append(PointCalls(provider=point.provider, chain=chain, calls=points, walk=True))
        ledger.add(point, points)
    return Plan(questions=questions, distinct=questions, archived=known,
                pulls=tuple(pulls), points=tuple(runs), spend=ledger.spend(),
                unanswerable=why, unanswerable_count=lost)


def plan_sync(router: Any, wallets: Sequence[Wallet], *, tokens: Sequence[Token] = (),
              end: datetime | None = None, done: Iterable[Wallet] = ()) -> Plan:
    """The plan of a sync: the wallets not yet complete, in pulls of the history
    provider's wallet limit, chain by chain."""
    complete = set(done)
    wallets = list(dict.fromkeys(wallets))
    ledger = _Ledger()
    pulls: list[Pull] = []
    why: dict[str, str] = {}
    for chain in dict.fromkeys(w.chain for w in wallets):
        need = [w for w in wallets if w.chain == chain and w not in complete]
        if not need:
            continue
        offer = _offer(router, chain, Capability.BALANCE_HISTORY, direct=True)
        if isinstance(offer, str):
            why[chain] = offer
            continue
        size = offer.support.history_wallets if offer.support is not None else 1
        on_chain = tuple(t for t in tokens if t.chain == chain)
        batches = _batches(need, size)
        pulls.extend(Pull(provider=offer.provider, chain=chain, wallets=b, tokens=on_chain,
                          end=end) for b in batches)
        ledger.add(offer, len(batches), at_least=True)
    return Plan(questions=len(wallets), distinct=len(wallets), archived=len(complete),
                pulls=tuple(pulls), spend=ledger.spend(), unanswerable=why,
                unanswerable_count=sum(1 for w in wallets if w.chain in why))
