"""The blocking client, :class:`Client`: :class:`AsyncClient`'s API for code that does
not use async (``asof.Client``). Not to be confused with ``asof sync``, the command that
pulls a history into the archive (:mod:`asof.archive.pull`).

::

    import asof

    with asof.Client() as client:
        answer = client.balance_at("solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz",
                                   "SOL", at="slot:313000000")

It owns one event loop, which the calling thread runs for the length of each call (no
hand-off to another thread). A request that is the only work on the loop (one
question, a page of a history) is sent with a blocking HTTP client, which costs less
than the event loop's sockets; requests made side by side (bulk calls, a page asked for
ahead) go through the asynchronous one. It works in scripts and from several threads
(their calls take turns on the loop), and inside Jupyter, whose own loop is already
running (there the call runs in a helper thread). Ctrl-C while a call waits cancels
that call, or interrupts its blocking request at once. The loop is closed by
:meth:`Client.close`, by leaving the ``with`` block, or when the client is
garbage-collected or the interpreter exits.
"""

from __future__ import annotations

import asyncio
import signal
import threading
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

try:  # the C functions that ``signal`` wraps, without its enum conversions (8 µs a call)
    from _signal import getsignal as _get_handler  # type: ignore[import-not-found,unused-ignore]
    from _signal import signal as _set_handler  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - an interpreter without it
    from signal import getsignal as _get_handler
    from signal import signal as _set_handler
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


class _Loop:
    """The one event loop of a :class:`Client`, run by the thread that calls.

    A call from a thread without a running event loop runs the loop right there until
    the call is done (no hand-off to another thread); calls from several threads take
    turns. A call from a thread whose own loop is running (a notebook) runs it in a
    helper thread instead. Ctrl-C during a call in the main thread cancels that call
    (the call unwinds inside the loop) and raises :class:`KeyboardInterrupt`; a second
    Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._lock = threading.Lock()  # held by the thread running the loop
        self._making = threading.Lock()
        self._helper: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[Any] | None = None
        #: whether Ctrl-C must interrupt at once (a blocking request is on its way,
        #: which cancelling the call would not stop)
        self.at_once: Callable[[], bool] = lambda: False

    def run(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """Run ``fn(*args)`` on the loop and return its result."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return self._run_here(fn, args)
        if running is self.loop:  # it would wait for itself
            raise RuntimeError("an asof.Client cannot be called from inside one of its "
                               "own calls; await the AsyncClient there")
        with self._making:  # the helper is made once
            if self._helper is None:
                self._helper = ThreadPoolExecutor(1, thread_name_prefix="asof-client")
            helper = self._helper
        future = helper.submit(self._run_here, fn, args)
        try:
            return future.result()
        except KeyboardInterrupt:
            task = self._task
            if task is not None:
                self.loop.call_soon_threadsafe(task.cancel)
            raise

    def _run_here(self, fn: Callable[..., Coroutine[Any, Any, T]], args: tuple[Any, ...]) -> T:
        with self._lock:
            if self.loop.is_closed():
                raise RuntimeError("this asof.Client is closed")
            task: asyncio.Task[T] = self.loop.create_task(fn(*args))
            self._task = task
            interrupted = False
            restore: Any = None

            def on_interrupt(signum: int, frame: Any) -> None:
                nonlocal interrupted
                if interrupted or task.done() or self.at_once():
                    raise KeyboardInterrupt
                interrupted = True
                task.cancel()
                self.loop.call_soon_threadsafe(lambda: None)  # wake the loop

            if (threading.current_thread() is threading.main_thread()
                    and _get_handler(signal.SIGINT) is signal.default_int_handler):
                restore = _set_handler(signal.SIGINT, on_interrupt)
            try:
                result = self.loop.run_until_complete(task)
            except asyncio.CancelledError:
                if interrupted:
                    raise KeyboardInterrupt from None
                raise
            except KeyboardInterrupt:
                if task.done() and not task.cancelled():
                    task.exception()  # raised inside the call, which has unwound: seen
                raise
            finally:
                if restore is not None:
                    _set_handler(signal.SIGINT, restore)
                self._task = None
            if interrupted:
                raise KeyboardInterrupt
            return result

    def close(self) -> None:
        """Cancel what is left on the loop (an abandoned stream), then close it."""
        if self.loop.is_closed():
            return

        async def wind_down() -> None:
            left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
            await self.loop.shutdown_asyncgens()

        try:
            self.run(wind_down)
        finally:
            with self._lock:
                self.loop.close()
            if self._helper is not None:
                self._helper.shutdown(wait=False)


def _shutdown(runner: _Loop, inner: AsyncClient) -> None:
    try:
        runner.run(inner.aclose)
    finally:
        runner.close()


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
        self._runner = _Loop()

        async def build() -> AsyncClient:
            # Built on the client's loop, where every later call runs too.
            return AsyncClient(config, http_transport=http_transport, plugins=plugins,
                               env=env, archive=archive, clock=clock)

        try:
            self._async = self._runner.run(build)
        except BaseException:
            self._runner.close()
            raise
        # a call alone on the loop sends its request with a blocking client (unless a
        # given http_transport replaces the network), and Ctrl-C then interrupts that
        # request at once
        transport = self._async.transport
        transport.blocking = True
        self._runner.at_once = lambda: transport.sending_blocking
        self._finalizer = weakref.finalize(self, _shutdown, self._runner, self._async)

    # -- plumbing ---------------------------------------------------------------------

    def _call(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        if not self._finalizer.alive:
            raise RuntimeError("this asof.Client is closed")
        return self._runner.run(fn, *args)

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
        must stay in the task that opened it) and hand its items over one by one; the
        task goes on while the loop runs, that is during each hand-over."""
        if not self._finalizer.alive:
            raise RuntimeError("this asof.Client is closed")

        async def open_channel() -> tuple[MemoryObjectSendStream[Any],
                                          MemoryObjectReceiveStream[Any]]:
            return _channel()

        send, receive = self._call(open_channel)

        async def produce() -> None:
            async with send, aclosing(agen):  # type: ignore[type-var]
                async for item in agen:
                    await send.send(item)

        async def start() -> asyncio.Task[None]:
            return asyncio.get_running_loop().create_task(produce())

        async def finish(task: asyncio.Task[None], cancel: bool) -> None:
            try:
                if not cancel:
                    await task  # an error the iterator raised
                    return
                # abandoned: what the cancelled iterator raises while it unwinds (its
                # cancellation, a task group's wrapped GeneratorExit) is not news
                task.cancel()
                try:
                    await task
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException:
                    pass
            finally:
                await receive.aclose()

        producer = self._call(start)
        done = False
        try:
            while True:
                try:
                    item = self._call(receive.receive)
                except anyio.EndOfStream:
                    break
                yield item
            done = True
        finally:
            if self._finalizer.alive:
                self._call(finish, producer, not done)

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
