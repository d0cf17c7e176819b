"""The blocking client, :class:`Client`: :class:`AsyncClient`'s API for code that does
not use async (``asof.Client``). Not to be confused with ``asof sync``, the command that
pulls a history into the archive (:mod:`asof.archive.pull`).

::

    import asof

    with asof.Client() as client:
        answer = client.balance_at("solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz",
                                   "SOL", at="slot:313000000")

It runs one event loop in a background thread (an anyio blocking portal), so it works in
scripts, in threads and inside Jupyter, whose own loop is already running. Ctrl-C while a
call waits cancels that call. The portal is closed by :meth:`Client.close`, by leaving
the ``with`` block, or when the client is garbage-collected or the interpreter exits.
"""

from __future__ import annotations

import weakref
from collections.abc import (
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import Future
from contextlib import AbstractContextManager, aclosing
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from asof.archive.pull import PullReport
from asof.bulk import BulkResult, QueryLike
from asof.client import AsyncClient, WalletLike
from asof.config import Config
from asof.frames import Results, Stream
from asof.planner import Plan, Pull
from asof.plugins import PluginStatus
from asof.points import PointLike, TimeLike
from asof.queries import HistoryQuery
from asof.records import (
    Amount,
    BalanceAt,
    BalanceChange,
    Capability,
    ChainSupport,
    HoldingsPoint,
    LedgerEntry,
    Page,
    Token,
)
from asof.router import ArchiveLike, Route
from asof.verify import Verification

if TYPE_CHECKING:
    from asof.portfolio import Portfolio, SpamPolicy
    from asof.prices import Price, Valuation

__all__ = ["Client"]

T = TypeVar("T")


def _channel() -> tuple[MemoryObjectSendStream[Any], MemoryObjectReceiveStream[Any]]:
    return anyio.create_memory_object_stream[Any](64)


def _shutdown(
    portal_cm: AbstractContextManager[BlockingPortal], portal: BlockingPortal,
    inner: AsyncClient,
) -> None:
    try:
        portal.call(inner.aclose)
        # A call still running (its caller interrupted) is cancelled, not waited for.
        portal.call(portal.stop, True)
    finally:
        portal_cm.__exit__(None, None, None)


class Client:
    """Synchronous facade over :class:`~asof.client.AsyncClient`; same arguments and
    methods, with async iterators turned into plain iterators. Wallets on several chains
    are asked chain by chain, as the command line does."""

    def __init__(
        self,
        config: Config | str | Path | None = None,
        *,
        http_transport: Any = None,
        plugins: Mapping[str, object] | None = None,
        env: Mapping[str, str] | None = None,
        archive: ArchiveLike | bool | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """The same arguments as :class:`~asof.client.AsyncClient`."""
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()

        async def build() -> AsyncClient:
            # Built on the portal's thread, where every later call runs too.
            return AsyncClient(config, http_transport=http_transport, plugins=plugins,
                               env=env, archive=archive, clock=clock)

        try:
            self._async = self._portal.call(build)
        except BaseException:
            self._portal_cm.__exit__(None, None, None)
            raise
        self._finalizer = weakref.finalize(
            self, _shutdown, self._portal_cm, self._portal, self._async
        )

    # -- plumbing ---------------------------------------------------------------------

    def _call(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        if not self._finalizer.alive:
            raise RuntimeError("this asof.Client is closed")
        future: Future[T] = self._portal.start_task_soon(fn, *args)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            raise

    def _iterate(self, agen: AsyncIterator[T]) -> Iterator[T]:
        async def step() -> tuple[bool, T | None]:
            try:
                return True, await agen.__anext__()
            except StopAsyncIteration:
                return False, None

        async def close() -> None:
            aclose = getattr(agen, "aclose", None)
            if aclose is not None:
                await aclose()

        try:
            while True:
                more, item = self._call(step)
                if not more:
                    return
                yield item  # type: ignore[misc]
        finally:
            if self._finalizer.alive:
                self._call(close)

    def _stream(self, agen: AsyncIterator[T]) -> Iterator[T]:
        """Run ``agen`` in one task of the loop (bulk iterators hold a task group, which
        must stay in the task that opened it) and hand its items over one by one."""
        if not self._finalizer.alive:
            raise RuntimeError("this asof.Client is closed")
        send, receive = self._portal.call(_channel)

        async def produce() -> None:
            async with send, aclosing(agen):  # type: ignore[type-var]
                async for item in agen:
                    await send.send(item)

        future: Future[None] = self._portal.start_task_soon(produce)
        try:
            while True:
                try:
                    item = self._portal.call(receive.receive)
                except anyio.EndOfStream:
                    break
                yield item
            future.result()  # an error the iterator raised
        finally:
            if not future.done():
                future.cancel()
            if self._finalizer.alive:
                self._portal.call(receive.aclose)

    def close(self) -> None:
        """Close the client: its HTTP client, archive and background loop."""
        self._finalizer()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def async_client(self) -> AsyncClient:
        """The async client underneath."""
        return self._async

    # -- the API ----------------------------------------------------------------------

    def plugins(self) -> list[PluginStatus]:
        """See :meth:`AsyncClient.plugins`."""
        return self._async.plugins()

    def supported_chains(self) -> list[ChainSupport]:
        """See :meth:`AsyncClient.supported_chains`."""
        return self._async.supported_chains()

    def route(self, chain: str, capability: Capability | str) -> Route:
        """See :meth:`AsyncClient.route`."""
        return self._async.route(chain, capability)

    def refresh_chains(self) -> dict[str, str]:
        """See :meth:`AsyncClient.refresh_chains`."""
        return self._call(self._async.refresh_chains)

    def balance_at(
        self, wallet: WalletLike, token: str | Token, at: PointLike, *, chain: str | None = None
    ) -> BalanceAt:
        """See :meth:`AsyncClient.balance_at`."""

        async def run() -> BalanceAt:
            return await self._async.balance_at(wallet, token, at, chain=chain)

        return self._call(run)

    def verify_balance(
        self, wallet: WalletLike, token: str | Token, at: PointLike, *, chain: str | None = None
    ) -> Verification:
        """See :meth:`AsyncClient.verify_balance`."""

        async def run() -> Verification:
            return await self._async.verify_balance(wallet, token, at, chain=chain)

        return self._call(run)

    def fetch_page(
        self, query: HistoryQuery, cursor: str | None = None, *, provider: str | None = None
    ) -> tuple[str, Page[Any]]:
        """See :meth:`AsyncClient.fetch_page`."""

        async def run() -> tuple[str, Page[Any]]:
            return await self._async.fetch_page(query, cursor, provider=provider)

        return self._call(run)

    def pages(self, query: HistoryQuery) -> Iterator[tuple[str, Page[Any]]]:
        """See :meth:`AsyncClient.pages`."""
        return self._iterate(self._async.pages(query))

    def history(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        tokens: Sequence[str | Token] = (),
        chain: str | None = None,
        page_size: int | None = None,
    ) -> Stream[BalanceChange]:
        """See :meth:`AsyncClient.history`."""
        return Stream(self._iterate(self._async.history(
            wallets, start=start, end=end, tokens=tokens, chain=chain, page_size=page_size)))

    def history_queries(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        tokens: Sequence[str | Token] = (),
        chain: str | None = None,
        page_size: int | None = None,
    ) -> list[HistoryQuery]:
        """See :meth:`AsyncClient.history_queries`."""
        return self._async.history_queries(wallets, start=start, end=end, tokens=tokens,
                                           chain=chain, page_size=page_size)

    def holdings(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        start: TimeLike,
        end: TimeLike,
        granularity: str,
        breakdown: bool = False,
        min_liquidity: Any = None,
        chain: str | None = None,
    ) -> Stream[HoldingsPoint]:
        """See :meth:`AsyncClient.holdings`."""
        return Stream(self._iterate(self._async.holdings(
            wallets, start=start, end=end, granularity=granularity, breakdown=breakdown,
            min_liquidity=min_liquidity, chain=chain)))

    def ledger(
        self,
        account: WalletLike,
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        event_types: Sequence[str] = (),
        chain: str | None = None,
    ) -> Stream[LedgerEntry]:
        """See :meth:`AsyncClient.ledger`."""
        return Stream(self._iterate(self._async.ledger(
            account, start=start, end=end, event_types=event_types, chain=chain)))

    def portfolio(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        at: PointLike,
        chain: str | None = None,
        include_zero: bool = False,
        value: str | None = None,
        spam: SpamPolicy | None = None,
    ) -> Results[Portfolio]:
        """See :meth:`AsyncClient.portfolio`."""

        async def run() -> Results[Portfolio]:
            return await self._async.portfolio(wallets, at=at, chain=chain,
                                               include_zero=include_zero, value=value,
                                               spam=spam)

        return self._call(run)

    def price_at(self, token: str | Token, at: PointLike, *, chain: str | None = None
                 ) -> Price | None:
        """See :meth:`AsyncClient.price_at`."""

        async def run() -> Price | None:
            return await self._async.price_at(token, at, chain=chain)

        return self._call(run)

    def value(self, answer: BalanceAt) -> Valuation:
        """See :meth:`AsyncClient.value`."""

        async def run() -> Valuation:
            return await self._async.value(answer)

        return self._call(run)

    def value_at(self, token: Token, amount: Amount, at: PointLike) -> Valuation:
        """See :meth:`AsyncClient.value_at`."""

        async def run() -> Valuation:
            return await self._async.value_at(token, amount, at)

        return self._call(run)

    # -- many questions ---------------------------------------------------------------

    def balance_at_many(
        self, queries: Iterable[QueryLike], *, ordered: bool = False
    ) -> Iterator[BulkResult]:
        """See :meth:`AsyncClient.balance_at_many`."""
        return self._stream(self._async.balance_at_many(queries, ordered=ordered))

    def plan_balance_at_many(self, queries: Iterable[QueryLike]) -> Plan:
        """See :meth:`AsyncClient.plan_balance_at_many`."""

        async def run() -> Plan:
            return self._async.plan_balance_at_many(queries)

        return self._call(run)

    def series(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        tokens: str | Token | Sequence[str | Token],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        every: str | int | timedelta | None = None,
        points: Sequence[TimeLike] | None = None,
        chain: str | None = None,
    ) -> Iterator[BulkResult]:
        """See :meth:`AsyncClient.series`."""
        return self._stream(self._async.series(
            wallets, tokens, start=start, end=end, every=every, points=points, chain=chain))

    def plan_series(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        tokens: str | Token | Sequence[str | Token],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        every: str | int | timedelta | None = None,
        points: Sequence[TimeLike] | None = None,
        chain: str | None = None,
    ) -> Plan:
        """See :meth:`AsyncClient.plan_series`."""

        async def run() -> Plan:
            return self._async.plan_series(wallets, tokens, start=start, end=end,
                                           every=every, points=points, chain=chain)

        return self._call(run)

    def sync(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        tokens: Sequence[str | Token] = (),
        provider: str | None = None,
        chain: str | None = None,
    ) -> Iterator[tuple[Pull, PullReport]]:
        """See :meth:`AsyncClient.sync`."""
        return self._stream(self._async.sync(wallets, start=start, end=end, tokens=tokens,
                                             provider=provider, chain=chain))

    def plan_sync(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        end: TimeLike | None = None,
        tokens: Sequence[str | Token] = (),
        chain: str | None = None,
    ) -> Plan:
        """See :meth:`AsyncClient.plan_sync`."""

        async def run() -> Plan:
            return self._async.plan_sync(wallets, end=end, tokens=tokens, chain=chain)

        return self._call(run)
