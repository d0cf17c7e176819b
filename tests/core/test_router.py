"""The router: order, reasons, credentials, fail-over and one provider per attempt."""

from __future__ import annotations

import types
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from asof import hookimpl
from asof.client import AsyncClient
from asof.context import ProviderContext
from asof.errors import NoRoute, PluginError, ProviderRequestError, UpstreamError
from asof.provider import Credential, ProviderInfo
from asof.queries import BalanceQuery
from asof.records import BalanceAt, Capability, ChainSupport, Cost

from . import memory_plugin

WALLET = "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"


def provider(name: str, *, preference: int = 0, raises: Exception | None = None,
             key_required: bool = False, derived: bool = False,
             answer: bool = True) -> types.SimpleNamespace:
    """A plugin object whose balance_at raises ``raises`` or declines (``answer=False``)."""
    calls: list[BalanceQuery] = []

    @hookimpl
    def provider_info() -> ProviderInfo:
        creds = (Credential(header="X-Key", env=(f"{name.upper()}_KEY",)),) if key_required else ()
        return ProviderInfo(name=name, title=name, base_url="https://x.invalid", credentials=creds,
                            cost=Cost(amount=Decimal(5), unit="credits"))

    @hookimpl
    def supported_chains() -> Iterable[ChainSupport]:
        return [ChainSupport(provider=name, chain="solana", capabilities=(Capability.BALANCE_AT,),
                             preference=preference,
                             derived=(Capability.BALANCE_AT,) if derived else ())]

    @hookimpl
    async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
        calls.append(query)
        if raises is not None:
            raise raises
        if not answer:
            return None
        result = await memory_plugin.balance_at(ctx, query)
        assert result is not None
        return result

    return types.SimpleNamespace(provider_info=provider_info, supported_chains=supported_chains,
                                 balance_at=balance_at, calls=calls)


def client(plugins: dict[str, object], *, env: dict[str, str] | None = None,
           config: Path | None = None) -> AsyncClient:
    return AsyncClient(config, plugins=plugins, env=env or {}, archive=False)


def test_order_preference_then_name_then_derived_last() -> None:
    c = client({"b": provider("b"), "a": provider("a"), "hi": provider("hi", preference=10),
                "d": provider("d", preference=99, derived=True)})
    route = c.route("sol", "balance_at")
    assert [s.provider for s in route.usable] == ["hi", "a", "b", "d"]
    assert "derived" in route.usable[-1].reason
    assert "5 credits per call" in route.usable[0].reason


def test_configuration_orders_first(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[routes]\nsolana = ["b"]\n"sol.balance_at" = ["a", "b"]\n')
    c = client({"b": provider("b"), "a": provider("a"), "hi": provider("hi", preference=10)},
               config=cfg)
    route = c.route("solana", Capability.BALANCE_AT)
    assert [s.provider for s in route.usable] == ["a", "b", "hi"]
    assert "preferred by configuration" in route.usable[0].reason


def test_missing_credential_is_explained_and_skipped() -> None:
    keyed = provider("keyed", preference=10, key_required=True)
    free = provider("free")
    c = client({"keyed": keyed, "free": free})
    route = c.route("solana", "balance_at")
    step = next(s for s in route.steps if s.provider == "keyed")
    assert not step.usable
    assert "ASOF_KEYED_API_KEY" in step.reason
    assert "KEYED_KEY" in step.reason
    assert "keyed" in route.explain()
    assert "missing credential" in route.explain()
    answer = anyio.run(lambda: c.balance_at(WALLET, "USDC", "2025-01-01"))
    assert answer.provider == "free"
    assert keyed.calls == []
    # with the key, it is usable and first
    c2 = client({"keyed": keyed, "free": free}, env={"KEYED_KEY": "k" * 30})
    assert [s.provider for s in c2.route("solana", "balance_at").usable] == ["keyed", "free"]


def test_retryable_failure_falls_over_to_the_next_provider() -> None:
    first = provider("first", preference=10, raises=UpstreamError("first", "upstream error",
                                                                 status=502))
    second = provider("second")
    c = client({"first": first, "second": second})
    answer = anyio.run(lambda: c.balance_at(WALLET, "SOL", "slot:5"))
    assert answer.provider == "second"
    assert len(first.calls) == 1
    assert len(second.calls) == 1


def test_non_retryable_failure_stops_at_once() -> None:
    first = provider("first", preference=10,
                     raises=ProviderRequestError("first", "rejected", status=400))
    second = provider("second")
    c = client({"first": first, "second": second})
    with pytest.raises(ProviderRequestError):
        anyio.run(lambda: c.balance_at(WALLET, "SOL", "slot:5"))
    assert second.calls == []


def test_single_failure_keeps_its_type_and_many_give_no_route() -> None:
    only = provider("only", raises=UpstreamError("only", "upstream error", status=500))
    with pytest.raises(UpstreamError):
        anyio.run(lambda: client({"only": only}).balance_at(WALLET, "SOL", "slot:5"))
    a = provider("a", raises=UpstreamError("a", "upstream error", status=500))
    b = provider("b", raises=UpstreamError("b", "upstream error", status=503))
    with pytest.raises(NoRoute) as info:
        anyio.run(lambda: client({"a": a, "b": b}).balance_at(WALLET, "SOL", "slot:5"))
    assert [name for name, _ in info.value.reasons][:2] == ["a", "b"]
    assert isinstance(info.value.__cause__, UpstreamError)


def test_decline_moves_on_and_no_provider_is_no_route() -> None:
    shy = provider("shy", preference=5, answer=False)
    c = client({"shy": shy, "memory": memory_plugin})
    assert anyio.run(lambda: c.balance_at(WALLET, "SOL", "slot:5")).provider == "memory"
    with pytest.raises(NoRoute, match="no provider could answer"):
        anyio.run(lambda: client({"shy": shy}).balance_at(WALLET, "SOL", "slot:5"))
    with pytest.raises(NoRoute):
        anyio.run(lambda: client({}).balance_at(WALLET, "SOL", "slot:5"))


def test_unexpected_exception_is_a_plugin_error() -> None:
    buggy = provider("buggy", raises=KeyError("oops"))
    with pytest.raises(PluginError, match="buggy"):
        anyio.run(lambda: client({"buggy": buggy}).balance_at(WALLET, "SOL", "slot:5"))


def test_history_pages_follow_cursors_to_the_end() -> None:
    c = client({"memory": memory_plugin})

    async def main() -> list[str]:
        return [str(e.balance) async for e in c.ledger(
            "pacifica:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz")]

    assert anyio.run(main) == ["10", "20", "30"]


def test_invalid_plugins_are_refused_with_reasons() -> None:
    sync_hook = provider("syncy")

    @hookimpl
    def balance_at(ctx: ProviderContext, query: BalanceQuery) -> None:
        return None

    sync_hook.balance_at = balance_at
    unknown = provider("unknown")

    @hookimpl
    def mystery_hook() -> None:
        return None

    unknown.mystery_hook = mystery_hook
    misnamed = provider("misnamed")
    c = client({"syncy": sync_hook, "unknown": unknown, "other": misnamed, "memory": memory_plugin})
    states = {s.name: s for s in c.plugins()}
    assert states["syncy"].state == "invalid"
    assert "async def" in (states["syncy"].error or "")
    assert states["unknown"].state == "invalid"
    assert "mystery_hook" in (states["unknown"].error or "")
    assert states["other"].state == "invalid"
    assert "misnamed" in (states["other"].error or "")
    assert states["memory"].state == "loaded"
    explained = c.route("solana", "balance_at").explain()
    assert "syncy: invalid" in explained
