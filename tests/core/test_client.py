"""The async client and its sync facade: same answers, clean shutdown, cancellation."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import types

import anyio
import pytest

import asof
from asof import hookimpl
from asof.context import ProviderContext
from asof.errors import InvalidAddress, InvalidPoint, UnknownToken
from asof.provider import ProviderInfo
from asof.queries import BalanceQuery
from asof.records import BalanceAt, Capability, ChainSupport

from . import memory_plugin

WALLET = "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
ACCOUNT = "pacifica:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"


def make(**kw: object) -> asof.Client:
    return asof.Client(plugins={"memory": memory_plugin}, env={}, archive=False, **kw)


def test_async_client_answers_with_provenance() -> None:
    async def main() -> BalanceAt:
        async with asof.AsyncClient(plugins={"memory": memory_plugin}, env={},
                                    archive=False) as client:
            return await client.balance_at(WALLET, "USDC", "2025-01-10T19:20:00+02:00")

    answer = anyio.run(main)
    assert answer.amount.raw == memory_plugin.RAW
    assert str(answer.amount.value) == "1.234567"
    assert answer.requested.time is not None
    assert answer.requested.time.hour == 17
    assert answer.provenance.provider == "memory"


def test_async_client_runs_under_trio_too() -> None:
    async def main() -> int:
        async with asof.AsyncClient(plugins={"memory": memory_plugin}, env={},
                                    archive=False) as client:
            return (await client.balance_at(WALLET, "SOL", "slot:1")).amount.raw

    assert anyio.run(main, backend="trio") == memory_plugin.RAW


def test_sync_client_same_api() -> None:
    with make() as client:
        answer = client.balance_at(WALLET, "SOL", "slot:313000000")
        assert answer.requested.block == 313000000
        assert [s.name for s in client.plugins()] == ["memory"]
        assert client.route("sol", "balance_at").usable[0].provider == "memory"
        assert {s.chain for s in client.supported_chains()} == {"solana", "pacifica"}
        balances = [str(e.balance) for e in client.ledger(ACCOUNT)]
        assert balances == ["10", "20", "30"]


def test_sync_client_from_several_threads() -> None:
    results: list[int] = []
    with make() as client:
        def work() -> None:
            results.append(client.balance_at(WALLET, "USDC", "2025-01-01").amount.raw)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [memory_plugin.RAW] * 4


def test_sync_client_inside_a_running_event_loop() -> None:
    """As in Jupyter: a loop is already running in this thread."""
    async def notebook_cell() -> int:
        with make() as client:
            return client.balance_at(WALLET, "USDC", "2025-01-01").amount.raw

    assert anyio.run(notebook_cell) == memory_plugin.RAW


def _recording_plugin(threads: list[int]) -> types.SimpleNamespace:
    """A provider that notes the thread each balance-at runs in."""

    @hookimpl
    async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
        threads.append(threading.get_ident())
        return await memory_plugin.balance_at(ctx, query)  # type: ignore[no-any-return]

    return types.SimpleNamespace(
        provider_info=memory_plugin.provider_info, supported_chains=memory_plugin.
        supported_chains, balance_at=balance_at)


def test_a_sync_call_runs_in_the_calling_thread_and_keeps_one_loop() -> None:
    """No hand-off: the caller's thread runs the client's loop for the call; several
    calls (and threads) share the one loop and its connections."""
    threads: list[int] = []
    loops: list[object] = []

    async def note_loop() -> None:
        loops.append(asyncio.get_running_loop())

    with asof.Client(plugins={"memory": _recording_plugin(threads)}, env={},
                     archive=False) as client:
        client.balance_at(WALLET, "USDC", "2025-01-01")
        client._call(note_loop)
        worker = threading.Thread(target=lambda: (client.balance_at(WALLET, "USDC",
                                                                      "2025-01-02"),
                                                   client._call(note_loop)))
        worker.start()
        worker.join()
        assert threads == [threading.get_ident(), worker.ident]
        assert loops[0] is loops[1]


def test_a_sync_call_inside_a_running_loop_runs_in_a_helper_thread() -> None:
    threads: list[int] = []

    async def notebook_cell() -> int:
        with asof.Client(plugins={"memory": _recording_plugin(threads)}, env={},
                         archive=False) as client:
            return client.balance_at(WALLET, "USDC", "2025-01-01").amount.raw

    assert anyio.run(notebook_cell) == memory_plugin.RAW
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()


def test_an_abandoned_stream_does_not_hold_up_later_calls_or_the_close() -> None:
    with make() as client:
        rows = iter(client.balance_at_many(
            [(WALLET, "USDC", f"2025-01-{day:02d}") for day in range(1, 29)], ordered=True))
        first = next(rows)
        assert first.ok
        assert client.balance_at(WALLET, "USDC", "2025-02-01").amount.raw == memory_plugin.RAW
        rows.close()  # abandoned: its task is cancelled
        assert client.balance_at(WALLET, "SOL", "slot:1").amount.raw == memory_plugin.RAW
        left = list(client.balance_at_many([(WALLET, "USDC", "2025-03-01")]))
    assert [r.ok for r in left] == [True]


def test_input_errors_are_raised_before_any_call() -> None:
    with make() as client:
        with pytest.raises(InvalidAddress):
            client.balance_at("solana:not-an-address", "USDC", "2025-01-01")
        with pytest.raises(InvalidPoint):
            client.balance_at(WALLET, "USDC", "2025-02-30")
        with pytest.raises(UnknownToken):
            client.balance_at(WALLET, "NOPE", "2025-01-01")


def test_closed_client_refuses_calls() -> None:
    client = make()
    client.close()
    client.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        client.balance_at(WALLET, "USDC", "2025-01-01")


def test_keyboard_interrupt_cancels_the_running_call() -> None:
    started = threading.Event()
    cancelled = threading.Event()

    @hookimpl
    async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
        started.set()
        try:
            await anyio.sleep(3600)
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise
        return None

    slow = types.SimpleNamespace(
        provider_info=hookimpl(lambda: ProviderInfo(name="slow", title="slow",
                                                    base_url="https://x.invalid")),
        supported_chains=hookimpl(lambda: [ChainSupport(
            provider="slow", chain="solana", capabilities=(Capability.BALANCE_AT,))]),
        balance_at=balance_at,
    )
    client = asof.Client(plugins={"slow": slow}, env={}, archive=False)
    future_result: list[BaseException] = []

    def interrupt_when_started() -> None:
        started.wait(10)
        time.sleep(0.2)  # let the caller settle into its wait before the interrupt
        os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    try:
        client.balance_at(WALLET, "USDC", "2025-01-01")
    except KeyboardInterrupt as exc:
        future_result.append(exc)
    assert future_result, "the call should have been interrupted"
    assert cancelled.wait(10)
    client.close()


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError):
        asof.NoSuchThing  # noqa: B018


def test_a_call_from_inside_the_clients_own_loop_is_refused() -> None:
    with make() as client:
        async def inside() -> None:
            client.balance_at(WALLET, "USDC", "2025-01-01")

        with pytest.raises(RuntimeError, match="inside one of its own calls"):
            client._call(inside)
        assert client.balance_at(WALLET, "USDC", "2025-01-01").amount.raw == memory_plugin.RAW
