"""Many questions at once: :meth:`~asof.client.AsyncClient.balance_at_many`,
:meth:`~asof.client.AsyncClient.series` and :meth:`~asof.client.AsyncClient.sync`,
planned by :mod:`asof.planner` and streamed.

Results come out as they are ready: a bounded number of questions is in flight, a
bounded window of results waits to be read, and the input is read lazily, so a
generator of 100,000 questions runs in flat memory. Identical questions in flight
share one call, recent answers are reused, and the archive answers first where its
coverage proves the answer. The rate limit of each provider paces the calls; the
concurrency only keeps enough of them in flight to reach it.

Stop early with ``contextlib.aclosing`` (or by reading to the end) so the tasks in
flight are cancelled in the task that started them.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import anyio
import anyio.lowlevel
import attrs

from asof.archive.pull import PullReport, pull
from asof.archive.series import grid
from asof.batches import batches
from asof.errors import AsofError, InputError, NoRoute
from asof.planner import Plan, Pull, plan_points, plan_series, plan_sync
from asof.points import TimeLike, parse_point, parse_time
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import BalanceAt, Capability, Point, Token, Wallet
from asof.tokens import resolve_token

__all__ = ["DEFAULT_CONCURRENCY", "Bulk", "BulkResult", "QueryLike", "SeriesPart", "series_parts",
           "series_times", "series_tokens", "to_query"]

#: Questions in flight at once (the rate limits pace them).
DEFAULT_CONCURRENCY = 32
#: Answers kept for identical questions asked again (beyond those in flight).
RECENT = 4096
#: Questions planned together: the input is read and planned this many at a time, so
#: that wallets asked at many moments are pulled once while memory stays bounded.
CHUNK = 10_000

log = logging.getLogger("asof.bulk")

QueryLike = BalanceQuery | tuple[Any, Any, Any] | Mapping[str, Any]


@attrs.frozen(kw_only=True)
class BulkResult:
    """One question's outcome: its ``answer``, or the typed ``error`` that stopped it
    (a failed row never stops the batch). ``index`` is its position in the input and
    ``given`` the row as given; ``query`` is ``None`` when the row could not be read."""

    index: int
    given: Any = attrs.field(eq=False, repr=False)
    query: BalanceQuery | None
    answer: BalanceAt | None = None
    error: AsofError | None = None

    @property
    def ok(self) -> bool:
        """Whether the question was answered."""
        return self.answer is not None


def to_query(item: QueryLike) -> BalanceQuery:
    """A :class:`~asof.queries.BalanceQuery` from a query, a ``(wallet, token, at)``
    tuple or a mapping with those keys; an :class:`~asof.errors.InputError` names the
    field that cannot be read."""
    if isinstance(item, BalanceQuery):
        return item
    if isinstance(item, Mapping):
        missing = [k for k in ("wallet", "token", "at") if item.get(k) in (None, "")]
        if missing:
            raise InputError(f"missing {', '.join(missing)}", field=missing[0])
        wallet, token, at = item["wallet"], item["token"], item["at"]
    elif isinstance(item, tuple | list) and len(item) == 3:
        wallet, token, at = item
    else:
        raise InputError("expected (wallet, token, at) or a BalanceQuery", field="query")
    who = wallet if isinstance(wallet, Wallet) else Wallet.parse(str(wallet).strip())
    what = resolve_token(who.chain, token if isinstance(token, Token) else str(token).strip())
    point = parse_point(at if isinstance(at, Point | datetime | int) else str(at).strip(),
                        field="at")
    return BalanceQuery(wallet=who, token=what, point=point)


@attrs.define
class _Slot:
    done: anyio.Event = attrs.field(factory=anyio.Event)
    outcome: BalanceAt | AsofError | None = None


def proves(answer: BalanceAt, moment: datetime) -> bool:
    """Whether ``answer`` (asked at a later point) also holds at ``moment``: an answer
    at P with ``as_of`` S holds for [S, P]; one with neither ``as_of`` nor ``read_at``
    (no activity at or before P) holds for every earlier moment; a ``read_at`` answer
    holds only at its own point."""
    if answer.read_at is not None:
        return False
    if answer.as_of is None:
        return True
    stamp = answer.as_of.timestamp
    return stamp is not None and stamp <= moment


def _carried(answer: BalanceAt, moment: datetime) -> BalanceAt:
    shown = answer.requested.describe()
    note = (f"the answer at {shown} (its last change at or before it is before this "
            "point), which holds for every point between its last change and it")
    return attrs.evolve(
        answer, requested=Point(time=moment),
        provenance=attrs.evolve(answer.provenance,
                                caveats=(*answer.provenance.caveats, note)))


def _result(index: int, given: Any, query: BalanceQuery,
            outcome: BalanceAt | AsofError) -> BulkResult:
    if isinstance(outcome, AsofError):
        return BulkResult(index=index, given=given, query=query, error=outcome)
    return BulkResult(index=index, given=given, query=query, answer=outcome)


@attrs.define
class _Walk:
    """The moments of one (wallet, token) asked in a chunk of ``balance_at_many``,
    answered by one walk (:meth:`Bulk._walk`, latest first, each answer filling the
    earlier moments it proves). The first of its questions to run walks; the others
    wait for it. So no moment a walk has proven is paid for, whatever the input order."""

    wallet: Wallet
    token: Token
    times: list[datetime]
    outcomes: dict[datetime, BalanceAt | AsofError] = attrs.field(factory=dict)
    done: anyio.Event | None = None

    async def outcome(self, bulk: Bulk, query: BalanceQuery) -> BalanceAt | AsofError:
        if self.done is None:
            self.done = anyio.Event()
            try:
                found = await bulk._walk(self.wallet, self.token, self.times)
                self.outcomes = dict(zip(self.times, found, strict=True))
            finally:
                self.done.set()
        else:
            await self.done.wait()
        assert query.point.time is not None
        got = self.outcomes.get(query.point.time)
        if got is None:  # the walk was stopped before it finished: ask on its own
            return await bulk.answer(query)
        return got


#: A row of the input: its index, the item as given, and its question (or why it
#: cannot be read).
_Row = tuple[int, Any, "BalanceQuery | AsofError"]


async def _read(chunk: Sequence[tuple[int, Any]]) -> list[_Row]:
    """A chunk's rows read into questions (letting the event loop run now and then)."""
    rows: list[_Row] = []
    for n, (index, item) in enumerate(chunk):
        try:
            rows.append((index, item, to_query(item)))
        except AsofError as exc:
            rows.append((index, item, exc))
        if n % 500 == 499:
            await anyio.lowlevel.checkpoint()
    return rows


def _walks(rows: Sequence[_Row]) -> dict[int, _Walk]:
    """The questions of a chunk that one walk answers: those at a time whose (wallet,
    token) is asked at two moments or more."""
    found: dict[tuple[Wallet, Token], list[tuple[int, BalanceQuery]]] = {}
    for index, _, query in rows:
        if isinstance(query, BalanceQuery) and query.point.time is not None:
            found.setdefault((query.wallet, query.token), []).append((index, query))
    out: dict[int, _Walk] = {}
    for (wallet, token), asked in found.items():
        times = sorted({q.point.time for _, q in asked if q.point.time is not None})
        if len(times) < 2:
            continue
        walk = _Walk(wallet=wallet, token=token, times=times)
        for index, _ in asked:
            out[index] = walk
    return out


def series_times(start: TimeLike | None, end: TimeLike | None, every: Any,
                 points: Sequence[TimeLike] | None) -> list[datetime]:
    """The moments of a series: the given ``points`` (sorted, each once), else the grid
    ``every`` (default ``1d``) over [``start``, ``end``)."""
    if points is not None:
        return sorted({parse_time(p, field="points") for p in points})
    if start is None or end is None:
        raise InputError("give start and end (or points)", field="start" if start is None
                         else "end")
    return grid(parse_time(start, field="start"), parse_time(end, field="end"),
                every or "1d")


def series_tokens(wallets: Sequence[Wallet],
                  tokens: Sequence[str | Token]) -> dict[str, tuple[Token, ...]]:
    """The tokens of a series on each chain of ``wallets`` (text read on that chain,
    Token objects on their own)."""
    return {chain: tuple(dict.fromkeys(
        resolve_token(chain, t) for t in tokens
        if not isinstance(t, Token) or t.chain == chain))
        for chain in dict.fromkeys(w.chain for w in wallets)}


@attrs.frozen(kw_only=True)
class SeriesPart:
    """The (wallet, token) pairs answered together after one ``pull`` (``None``: the
    pairs no pull covers, walked); its first result's index is ``first``."""

    pairs: tuple[tuple[Wallet, Token], ...]
    pull: Pull | None = None
    first: int = 0


def series_parts(plan: Plan, wallets: Sequence[Wallet],
                 tokens_of: Mapping[str, tuple[Token, ...]], points: int) -> list[SeriesPart]:
    """A series in the order it is answered: each pull of ``plan`` with its wallets'
    pairs, then every other pair; ``points`` per pair fix each part's ``first``."""
    parts: list[SeriesPart] = []
    first = 0
    pulled: set[Wallet] = set()
    for task in plan.pulls:
        pulled.update(task.wallets)
        pairs = tuple((w, t) for w in task.wallets for t in tokens_of[w.chain])
        parts.append(SeriesPart(pairs=pairs, pull=task, first=first))
        first += len(pairs) * points
    rest = tuple((w, t) for w in dict.fromkeys(wallets) if w not in pulled
                 for t in tokens_of[w.chain])
    if rest:
        parts.append(SeriesPart(pairs=rest, first=first))
    return parts


class Bulk:
    """The bulk engine of one client: its router, its archive and its shared state."""

    def __init__(self, client: Any, *, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.client = client
        self.router = client.router
        self.archive = client.archive
        self.concurrency = concurrency
        self._inflight: dict[BalanceQuery, _Slot] = {}
        self._recent: OrderedDict[BalanceQuery, BalanceAt | AsofError] = OrderedDict()
        self._limiter: anyio.CapacityLimiter | None = None  # built in the event loop

    @property
    def _limit(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        return self._limiter

    # -- one question ---------------------------------------------------------------

    async def answer(self, query: BalanceQuery) -> BalanceAt | AsofError:
        """The answer to one question (or its error), asked once however many callers
        ask it at the same time."""
        recent = self._recent.get(query)
        if recent is not None:
            self._recent.move_to_end(query)
            return recent
        slot = self._inflight.get(query)
        if slot is not None:
            await slot.done.wait()
            if slot.outcome is not None:
                return slot.outcome
        slot = self._inflight[query] = _Slot()
        try:
            async with self._limit:
                slot.outcome = await self.router.balance_at(query)
        except AsofError as exc:
            slot.outcome = exc
        finally:
            self._inflight.pop(query, None)
            slot.done.set()
        if isinstance(slot.outcome, BalanceAt):  # an error may pass; it is asked again
            self._recent[query] = slot.outcome
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        assert slot.outcome is not None
        return slot.outcome

    # -- many questions ---------------------------------------------------------------

    async def balance_at_many(
        self, queries: Iterable[QueryLike], *, ordered: bool = False
    ) -> AsyncIterator[BulkResult]:
        """Each question's result as it completes (in input order with ``ordered``)."""
        window = self.concurrency * 4
        slots = anyio.Semaphore(window)
        send, receive = anyio.create_memory_object_stream[BulkResult](window)

        async def work(index: int, item: Any, query: BalanceQuery | AsofError,
                       out: Any) -> None:
            async with out:
                if isinstance(query, AsofError):
                    await out.send(BulkResult(index=index, given=item, query=None,
                                              error=query))
                else:
                    await out.send(_result(index, item, query, await self.answer(query)))

        async def walked(index: int, item: Any, query: BalanceQuery, walk: _Walk,
                         out: Any) -> None:
            async with out:
                await out.send(_result(index, item, query, await walk.outcome(self, query)))

        async def produce(tg: anyio.abc.TaskGroup) -> None:
            async with send:
                for chunk in batches(enumerate(queries), CHUNK):
                    rows = await _read(chunk)
                    await self._pull_for(rows)
                    walks = _walks(rows)
                    for index, item, query in rows:
                        await slots.acquire()
                        walk = walks.get(index)
                        if walk is None or isinstance(query, AsofError):
                            tg.start_soon(work, index, item, query, send.clone())
                        else:
                            tg.start_soon(walked, index, item, query, walk, send.clone())

        async with anyio.create_task_group() as tg:
            tg.start_soon(produce, tg)
            async with receive:
                if not ordered:
                    async for result in receive:
                        slots.release()
                        yield result
                    return
                waiting: dict[int, BulkResult] = {}
                following = 0
                async for result in receive:
                    waiting[result.index] = result
                    while following in waiting:
                        slots.release()
                        yield waiting.pop(following)
                        following += 1

    @property
    def _can_pull(self) -> bool:
        return self.archive is not None and callable(getattr(self.archive, "sync_state", None))

    async def _pull_for(self, rows: Sequence[_Row]) -> None:
        """Before a chunk's questions are asked: the history pulls its plan chooses (for
        wallets asked at many moments), so that the archive answers those questions.
        A pull that fails leaves its questions to be asked one by one."""
        if not self._can_pull:
            return
        readable: list[BalanceQuery] = []
        moments: dict[Wallet, int] = {}
        for _, _, query in rows:
            if isinstance(query, AsofError):
                continue
            readable.append(query)
            if query.point.time is not None:
                moments[query.wallet] = moments.get(query.wallet, 0) + 1
        if not any(n > 1 for n in moments.values()):
            return  # a pull answers one wallet's moments: none is asked twice here
        plan = plan_points(self.router, self.archive, readable, can_pull=True)
        for task in plan.pulls:
            try:
                await self._pull(task, task.end or self.router.now())
            except AsofError as exc:
                log.warning("pull of %d wallet(s) on %s from %s failed (%s); their "
                            "questions are asked one by one", len(task.wallets), task.chain,
                            task.provider, exc)

    def plan_many(self, queries: Iterable[QueryLike]) -> Plan:
        """The plan of :meth:`balance_at_many` (rows that cannot be read are left out)."""
        count = 0

        def readable() -> Iterable[BalanceQuery]:
            nonlocal count
            for item in queries:
                count += 1
                try:
                    yield to_query(item)
                except AsofError:
                    continue

        found = plan_points(self.router, self.archive, readable(), can_pull=self._can_pull)
        return attrs.evolve(found, questions=count)

    # -- series -----------------------------------------------------------------------

    def _lookup(self, wallet: Wallet, token: Token,
                times: Sequence[datetime]) -> list[BalanceAt | None]:
        lookup = getattr(self.archive, "lookup_series", None)
        if lookup is None:
            return [None] * len(times)
        return list(lookup(wallet, token, times))

    def _series_plan(self, wallets: Sequence[Wallet], tokens_of: Mapping[str, tuple[Token, ...]],
                     times: Sequence[datetime]) -> Plan:
        unknown = {
            (w, t): sum(1 for a in self._lookup(w, t, times) if a is None)
            for w in dict.fromkeys(wallets) for t in tokens_of[w.chain]
        }
        return plan_series(self.router, wallets, tokens_of, times, unknown=unknown,
                           can_pull=self._can_pull)

    def plan_series(self, wallets: Sequence[Wallet], tokens: Sequence[str | Token], *,
                    start: TimeLike | None = None, end: TimeLike | None = None,
                    every: Any = None, points: Sequence[TimeLike] | None = None) -> Plan:
        """The plan of :meth:`series`, spending nothing."""
        return self._series_plan(wallets, series_tokens(wallets, tokens),
                                 series_times(start, end, every, points))

    async def series(
        self, wallets: Sequence[Wallet], tokens: Sequence[str | Token], *,
        start: TimeLike | None = None, end: TimeLike | None = None, every: Any = None,
        points: Sequence[TimeLike] | None = None, plan: Plan | None = None,
    ) -> AsyncIterator[BulkResult]:
        """Every (wallet, token, point) of the grid in :func:`series_parts` order (each
        pair's points in time order; ``index`` is the position in that order): pulls
        first where the plan chose them (then look-ups), walks of point calls
        elsewhere."""
        times = series_times(start, end, every, points)
        tokens_of = series_tokens(wallets, tokens)
        if plan is None:
            plan = self._series_plan(wallets, tokens_of, times)
        for part in series_parts(plan, wallets, tokens_of, len(times)):
            async for result in self.series_part(part.pairs, times, pull=part.pull,
                                                 first=part.first):
                yield result

    async def series_part(self, pairs: Sequence[tuple[Wallet, Token]],
                          times: Sequence[datetime], *, pull: Pull | None = None,
                          first: int = 0) -> AsyncIterator[BulkResult]:
        """One part of a series (:func:`series_parts`): the ``pull`` if any, then each
        pair's points (look-ups, then a walk of what they leave unproven), pairs side
        by side but yielded in order; the n-th result's index is ``first + n``."""
        if pull is not None:
            await self._pull(pull, times[-1] + timedelta(seconds=1))
        if not pairs:
            return
        slots = anyio.Semaphore(self.concurrency)
        send, receive = anyio.create_memory_object_stream[tuple[int, list[BulkResult]]](
            self.concurrency)

        async def walk_one(n: int, wallet: Wallet, token: Token, out: Any) -> None:
            async with out:
                found = [r async for r in self._pair(wallet, token, times,
                                                     first + n * len(times))]
                await out.send((n, found))

        async def produce(tg: anyio.abc.TaskGroup) -> None:
            async with send:
                for n, (wallet, token) in enumerate(pairs):
                    await slots.acquire()
                    tg.start_soon(walk_one, n, wallet, token, send.clone())

        async with anyio.create_task_group() as tg:
            tg.start_soon(produce, tg)
            async with receive:
                waiting: dict[int, list[BulkResult]] = {}
                following = 0
                async for n, found in receive:
                    waiting[n] = found
                    while following in waiting:
                        slots.release()
                        for result in waiting.pop(following):
                            yield result
                        following += 1

    async def _pull(self, task: Pull, end: datetime) -> PullReport:
        query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=task.wallets,
                             start=None, end=end, tokens=task.tokens)
        return await pull(self.client, query, provider=task.provider)

    async def _walk(self, wallet: Wallet, token: Token,
                    times: Sequence[datetime]) -> list[BalanceAt | AsofError]:
        """One (wallet, token) at ``times`` (sorted): archive look-ups, then a walk from
        the latest unproven point back, each answer filling the points it proves."""
        known: list[BalanceAt | AsofError | None] = list(self._lookup(wallet, token, times))
        i = len(times) - 1
        while i >= 0:
            if known[i] is not None:
                i -= 1
                continue
            query = BalanceQuery(wallet=wallet, token=token, point=Point(time=times[i]))
            outcome = await self.answer(query)
            known[i] = outcome
            j = i - 1
            if isinstance(outcome, BalanceAt):
                while j >= 0 and known[j] is None and proves(outcome, times[j]):
                    known[j] = _carried(outcome, times[j])
                    j -= 1
            i = j
        return [NoRoute("no answer") if found is None else found for found in known]

    async def _pair(self, wallet: Wallet, token: Token, times: Sequence[datetime],
                    first: int) -> AsyncIterator[BulkResult]:
        """One (wallet, token) of a series over ``times``, walked (:meth:`_walk`); the
        results' indexes count from ``first``."""
        found = await self._walk(wallet, token, times)
        for n, (moment, outcome) in enumerate(zip(times, found, strict=True)):
            query = BalanceQuery(wallet=wallet, token=token, point=Point(time=moment))
            given = (str(wallet), token.symbol or token.address, moment)
            yield _result(first + n, given, query, outcome)

    # -- sync -------------------------------------------------------------------------

    def plan_sync(self, wallets: Sequence[Wallet], *, tokens: Sequence[Token] = (),
                  end: datetime | None = None) -> Plan:
        """The plan of :meth:`sync`, spending nothing."""
        return plan_sync(self.router, wallets, tokens=tokens, end=end)

    async def sync(self, wallets: Sequence[Wallet], *, start: datetime | None = None,
                   end: datetime | None = None, tokens: Sequence[Token] = (),
                   provider: str | None = None,
                   plan: Plan | None = None) -> AsyncIterator[tuple[Pull, PullReport]]:
        """Pull the wallets' histories into the archive, one pull per batch of the
        provider's wallet limit, resumably; each batch's report as it completes."""
        plan = plan or self.plan_sync(wallets, tokens=tokens, end=end)
        for task in plan.pulls:
            query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=task.wallets,
                                 start=start, end=end, tokens=task.tokens)
            yield task, await pull(self.client, query, provider=provider or task.provider)

