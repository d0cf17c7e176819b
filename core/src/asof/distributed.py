"""Bulk jobs on a ``dask.distributed`` cluster: the same plan as in one process, its tasks
spread over the cluster's workers (install ``asof[dask]``).

The caller plans the job with its own client (:mod:`asof.planner`), and partitions it
by provider batch: the questions of one history pull (up to the provider's wallet limit,
15 wallets for Allium) are one task, and the remaining point questions of a chain are
cut into runs of ``batch`` questions, one task each; a sync is one task per pull; a
series is one task per pull (the pull, then its wallets' points from the archive) and
the other (wallet, token) pairs in groups of ``batch`` pairs, each pair's walk on one
worker (so each answer still fills the points it proves). A task
is plain data (questions, wallets, times) plus a :class:`Deployment` (the configuration
file's path and the environment variables to set), never a client: each worker opens
its own :class:`~asof.client.AsyncClient` on the deployment's shared archive
(``[archive] url``) and shared rate budget (``[asof] rate_limit_store``), so every
worker stays inside each provider's limit together and sees every answer the others
stored. Results stream back as tasks complete (:func:`distributed.as_completed`).

A worker that dies mid-task loses nothing that was stored: the scheduler gives its
unfinished tasks to another worker, which finds the answers and pages already in the
archive (a pull resumes after its last stored page, under the archive's claim) and pays
only for what is missing.

The workers must have the same plugins installed, reach the archive, the rate-limit
store and the providers, and see the configuration file at the same path (or get
everything from the environment variables the deployment carries). Credentials in
``Deployment.env`` travel to the workers with each task: secure the cluster's
connections (TLS) or set the credentials on the workers instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from asof import errors
from asof.bulk import (
    BulkResult,
    QueryLike,
    SeriesPart,
    series_parts,
    series_times,
    series_tokens,
    to_query,
)
from asof.errors import AsofError
from asof.planner import Plan, Pull
from asof.points import TimeLike
from asof.queries import BalanceQuery
from asof.records import BalanceAt, Token, Wallet

if TYPE_CHECKING:
    from distributed import Client as DaskClient

    from asof.archive.pull import PullReport
    from asof.client import AsyncClient, WalletLike

__all__ = ["DEFAULT_BATCH", "DEFAULT_PAIRS", "Deployment", "PointsTask", "SeriesTask",
           "SyncTask", "balance_at_many", "partition", "partition_series", "run_task",
           "series", "sync"]

#: Point questions per task.
DEFAULT_BATCH = 64
#: At most this many (wallet, token) pairs per task of a series' walks (walked side by
#: side on a worker); fewer when that leaves under four tasks per worker thread.
DEFAULT_PAIRS = 16


@attrs.frozen(kw_only=True)
class Deployment:
    """What a worker needs to open its own client: the configuration file's path (as
    the workers see it; ``None``: their default) and environment variables set for it
    on top of the worker's own (``ASOF_*`` settings, credentials)."""

    config: str | None = None
    env: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    #: Questions (a series: pairs) in flight at once in each task on a worker
    #: (``None``: :data:`asof.bulk.DEFAULT_CONCURRENCY`); the rate budget paces them.
    concurrency: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(1)))

    @classmethod
    def here(cls, config: str | os.PathLike[str] | None = None) -> Deployment:
        """This process's deployment: ``config`` (else ``$ASOF_CONFIG``) and every
        ``ASOF_*`` environment variable."""
        env = {k: v for k, v in os.environ.items() if k.startswith("ASOF_")}
        return cls(config=None if config is None else os.fspath(config), env=env)

    def client(self) -> AsyncClient:
        """A new client for this deployment (on a worker)."""
        from asof.client import AsyncClient

        client = AsyncClient(self.config, env={**os.environ, **self.env})
        if self.concurrency is not None:
            client.bulk.concurrency = self.concurrency
        return client


@attrs.frozen(kw_only=True)
class PointsTask:
    """Questions answered together on one worker: those of one history pull
    (``pull`` set: its wallets' histories are pulled once) or a run of point calls
    on one chain. ``questions`` pairs each question with its index in the input."""

    chain: str
    questions: tuple[tuple[int, BalanceQuery], ...]
    pull: Pull | None = None


@attrs.frozen(kw_only=True)
class SyncTask:
    """One pull of a sync: its wallets' histories into the archive."""

    pull: Pull
    start: datetime | None = None
    end: datetime | None = None


@attrs.frozen(kw_only=True)
class SeriesTask:
    """One part of a series on one worker (:class:`~asof.bulk.SeriesPart`): the
    ``pull`` if any, then each pair's points at ``times``; indexes from ``first``."""

    pairs: tuple[tuple[Wallet, Token], ...]
    times: tuple[datetime, ...]
    pull: Pull | None = None
    first: int = 0


@attrs.frozen
class _Failure:
    """An asof error carried back from a worker (its class by name, its state)."""

    kind: str
    args: tuple[Any, ...]
    state: dict[str, Any]

    @classmethod
    def of(cls, error: AsofError) -> _Failure:
        return cls(type(error).__name__, tuple(str(a) for a in error.args),
                   {k: v for k, v in vars(error).items() if _plain(v)})

    def error(self) -> AsofError:
        kind = getattr(errors, self.kind, None)
        if not (isinstance(kind, type) and issubclass(kind, AsofError)):
            kind = AsofError
        made = kind.__new__(kind)
        Exception.__init__(made, *self.args)
        vars(made).update(self.state)
        return made


def _plain(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool | tuple | list | dict)


def partition(plan_pulls: Sequence[Pull], queries: Sequence[BalanceQuery], *,
              batch: int = DEFAULT_BATCH) -> list[PointsTask]:
    """The tasks of a ``balance_at_many`` job: each pull's questions (those of its
    wallets) as one task, the other questions in runs of ``batch`` per chain, in input
    order. Each question is in exactly one task."""
    if batch < 1:
        raise ValueError(f"batch must be positive, not {batch!r}")
    owner: dict[Wallet, int] = {}
    for n, found in enumerate(plan_pulls):
        for wallet in found.wallets:
            owner.setdefault(wallet, n)
    pulled: dict[int, list[tuple[int, BalanceQuery]]] = {}
    runs: dict[str, list[tuple[int, BalanceQuery]]] = {}
    for index, query in enumerate(queries):
        n = owner.get(query.wallet, -1)
        if n >= 0:
            pulled.setdefault(n, []).append((index, query))
        else:
            runs.setdefault(query.wallet.chain, []).append((index, query))
    tasks = [PointsTask(chain=plan_pulls[n].chain, questions=tuple(items), pull=plan_pulls[n])
             for n, items in sorted(pulled.items())]
    for chain, items in runs.items():
        tasks.extend(PointsTask(chain=chain, questions=tuple(items[i:i + batch]))
                     for i in range(0, len(items), batch))
    return tasks


def partition_series(parts: Sequence[SeriesPart], times: Sequence[datetime], *,
                     batch: int = DEFAULT_PAIRS) -> list[SeriesTask]:
    """The tasks of a series (its :func:`~asof.bulk.series_parts`): each pull's part
    as one task, the walked part in runs of ``batch`` pairs. Each pair is in exactly
    one task, and its indexes are those of the one-process series."""
    if batch < 1:
        raise ValueError(f"batch must be positive, not {batch!r}")
    moments = tuple(times)
    tasks: list[SeriesTask] = []
    for part in parts:
        if part.pull is not None:
            tasks.append(SeriesTask(pairs=part.pairs, times=moments, pull=part.pull,
                                    first=part.first))
            continue
        for i in range(0, len(part.pairs), batch):
            tasks.append(SeriesTask(pairs=part.pairs[i:i + batch], times=moments,
                                    first=part.first + i * len(moments)))
    return tasks


Task = PointsTask | SyncTask | SeriesTask


def run_task(deployment: Deployment, task: Task) -> list[Any]:
    """Run one task on this worker with a client of its own (a new event loop in the
    worker's thread); the outcomes as plain, picklable data."""
    import anyio

    async def points(job: PointsTask) -> list[Any]:
        out: list[Any] = []
        async with deployment.client() as client:
            by_position = [index for index, _ in job.questions]
            async for result in client.balance_at_many([q for _, q in job.questions]):
                index = by_position[result.index]
                if result.error is not None:
                    out.append((index, None, _Failure.of(result.error)))
                else:
                    out.append((index, result.answer, None))
        return out

    async def one_sync(job: SyncTask) -> list[Any]:
        from asof.archive.pull import pull
        from asof.queries import HistoryQuery
        from asof.records import Capability

        query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=job.pull.wallets,
                             start=job.start, end=job.end, tokens=job.pull.tokens)
        async with deployment.client() as client:
            try:
                report = await pull(client, query, provider=job.pull.provider)
            except AsofError as exc:
                return [(job.pull, None, _Failure.of(exc))]
        return [(job.pull, report, None)]

    async def series_part(job: SeriesTask) -> list[Any]:
        out: list[Any] = []
        async with deployment.client() as client:
            try:
                async for result in client.bulk.series_part(job.pairs, job.times,
                                                            pull=job.pull, first=job.first):
                    failure = None if result.error is None else _Failure.of(result.error)
                    out.append((attrs.evolve(result, error=None), failure))
            except AsofError as exc:  # the pull failed: the series stops, as in one process
                return [(None, _Failure.of(exc))]
        return out

    if isinstance(task, PointsTask):
        return anyio.run(points, task)
    if isinstance(task, SeriesTask):
        return anyio.run(series_part, task)
    return anyio.run(one_sync, task)


def _stream(dask: DaskClient, deployment: Deployment,
            tasks: Sequence[Task]) -> Iterator[list[Any]]:
    from distributed import as_completed

    if not tasks:
        return
    futures = dask.map(run_task, [deployment] * len(tasks), tasks, pure=False)
    try:
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            yield future.result()
    finally:
        dask.cancel(futures)  # type: ignore[no-untyped-call]


def balance_at_many(dask: DaskClient, queries: Iterable[QueryLike], *,
                    deployment: Deployment | None = None, client: AsyncClient | None = None,
                    batch: int = DEFAULT_BATCH, plan: Plan | None = None,
                    ) -> Iterator[BulkResult]:
    """Answer many balance questions on the cluster ``dask`` (a
    ``distributed.Client``), each result as its task completes.

    The job is planned here with ``client`` (default: a client of ``deployment``,
    itself by default :meth:`Deployment.here`) unless ``plan`` is given (the plan of
    the same rows), partitioned (:func:`partition`) and run on the workers. Rows that
    cannot be read come back first, with their error."""
    deployment = deployment or Deployment.here()
    given = list(queries)
    readable: list[BalanceQuery] = []
    position: list[int] = []
    for index, item in enumerate(given):
        try:
            query = to_query(item)
        except AsofError as exc:
            yield BulkResult(index=index, given=item, query=None, error=exc)
            continue
        readable.append(query)
        position.append(index)
    if plan is None:
        plan = _plan(deployment, client, lambda c: c.plan_balance_at_many(readable))
    tasks = partition(plan.pulls, readable, batch=batch)
    for outcomes in _stream(dask, deployment, tasks):
        for index, answer, failure in outcomes:
            at = position[index]
            if failure is not None:
                yield BulkResult(index=at, given=given[at], query=readable[index],
                                 error=failure.error())
            else:
                assert isinstance(answer, BalanceAt)
                yield BulkResult(index=at, given=given[at], query=readable[index],
                                 answer=answer)


def sync(dask: DaskClient, wallets: Sequence[Wallet], *,
         start: datetime | None = None, end: datetime | None = None,
         deployment: Deployment | None = None, client: AsyncClient | None = None,
         plan: Plan | None = None) -> Iterator[tuple[Pull, PullReport | AsofError]]:
    """Pull the wallets' histories into the shared archive on the cluster, one task per
    pull of the plan (the provider's wallet limit); each pull and its report (or the
    error that stopped it) as it completes (``plan``: the sync's plan, made here when
    not given)."""
    deployment = deployment or Deployment.here()
    if plan is None:
        plan = _plan(deployment, client, lambda c: c.plan_sync(list(wallets), end=end))
    tasks = [SyncTask(pull=p, start=start, end=end) for p in plan.pulls]
    for outcomes in _stream(dask, deployment, tasks):
        for pulled, report, failure in outcomes:
            yield pulled, failure.error() if failure is not None else report


def series(dask: DaskClient, wallets: WalletLike | Sequence[WalletLike],
           tokens: str | Token | Sequence[str | Token], *, start: TimeLike | None = None,
           end: TimeLike | None = None, every: str | int | timedelta | None = None,
           points: Sequence[TimeLike] | None = None, chain: str | None = None,
           deployment: Deployment | None = None, client: AsyncClient | None = None,
           plan: Plan | None = None, batch: int | None = None) -> Iterator[BulkResult]:
    """:meth:`AsyncClient.series <asof.client.AsyncClient.series>` on the cluster
    ``dask``: every (wallet, token, point) of the grid (``every`` from ``start`` to
    ``end``, default ``1d``) or of the given ``points``, each part's results as its
    task completes.

    The series is planned here with ``client`` (default: a client of ``deployment``,
    itself by default :meth:`Deployment.here`) unless ``plan`` is given (the plan of
    the same series), and partitioned (:func:`partition_series`): one task per history
    pull, which then answers its wallets' points from the shared archive, and the
    walks of the other pairs in tasks of ``batch`` pairs (default: up to
    :data:`DEFAULT_PAIRS`, fewer so that each worker thread gets four tasks or more,
    for balance and a moving progress bar). The results are those of the
    one-process series, with the same ``index`` (its position there); a failed pull
    raises its error, as there."""
    from asof.client import _token_list, _wallets

    deployment = deployment or Deployment.here()
    who = _wallets(wallets, chain)
    toks = _token_list(tokens)
    times = series_times(start, end, every, points)
    tokens_of = series_tokens(who, toks)
    if plan is None:
        plan = _plan(deployment, client,
                     lambda c: c.plan_series(who, toks, start=start, end=end, every=every,
                                             points=points))
    parts = series_parts(plan, who, tokens_of, len(times))
    if batch is None:
        walked = sum(len(p.pairs) for p in parts if p.pull is None)
        threads = max(1, sum(dask.nthreads().values()))  # type: ignore[no-untyped-call]
        batch = max(1, min(DEFAULT_PAIRS, -(-walked // (4 * threads))))
    tasks = partition_series(parts, times, batch=batch)
    for outcomes in _stream(dask, deployment, tasks):
        for result, failure in outcomes:
            if result is None:
                raise failure.error()
            yield result if failure is None else attrs.evolve(result, error=failure.error())


def _plan(deployment: Deployment, client: AsyncClient | None, make: Any) -> Any:
    if client is not None:
        return make(client)
    import anyio

    async def planned() -> Any:
        async with deployment.client() as opened:
            return make(opened)

    return anyio.run(planned)
