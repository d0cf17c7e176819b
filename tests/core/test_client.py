"""The async client and its sync facade: same answers, clean shutdown, cancellation."""

from __future__ import annotations

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
