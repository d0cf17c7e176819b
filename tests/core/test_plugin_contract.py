"""Contract tests over every installed plugin (the ``asof`` entry points), first-party or
not: name, hooks and their signatures, declarations, and imports only from asof.plugin.

A plugin distribution installed in this environment is checked without being listed
here, so an outside plugin added to the workspace is held to the same contract.
"""

from __future__ import annotations

import importlib.metadata
import types
from pathlib import Path

import pytest

from asof.plugins import GROUP
from asof.testing.contract import (
    check_hook_signatures,
    check_imports,
    check_plugin,
    foreign_imports,
)

ENTRY_POINTS = sorted(importlib.metadata.entry_points(group=GROUP), key=lambda ep: ep.name)
FIRST_PARTY = {"allium", "helius", "pacifica"}


def test_the_first_party_plugins_are_discovered() -> None:
    assert {ep.name for ep in ENTRY_POINTS} >= FIRST_PARTY


@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=lambda ep: ep.name)
def test_every_installed_plugin_keeps_the_contract(
    entry_point: importlib.metadata.EntryPoint,
) -> None:
    plugin = entry_point.load()
    assert check_plugin(plugin, entry_point.name) == []


def test_a_foreign_import_is_found(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "import asof\nfrom asof.plugin import hookimpl\nfrom asof.records import Token\n"
        "def f():\n    from asof import errors\n",
        encoding="utf-8",
    )
    assert foreign_imports(source) == ["1: asof", "3: asof.records", "5: asof"]


def test_every_first_party_module_imports_only_asof_plugin() -> None:
    for name in sorted(FIRST_PARTY):
        check_imports(importlib.import_module(f"asof_{name}"))


def test_a_hook_with_a_foreign_marker_or_argument_is_refused() -> None:
    import pluggy

    from asof.plugin import hookimpl

    other = pluggy.HookimplMarker("other")

    @other
    def provider_info() -> None: ...

    with pytest.raises(AssertionError, match="not marked with asof's hookimpl"):
        check_hook_signatures(types.SimpleNamespace(provider_info=provider_info))

    @hookimpl
    async def history_page(cursor: str | None, ctx: object) -> None: ...

    with pytest.raises(AssertionError, match="another order"):
        check_hook_signatures(types.SimpleNamespace(history_page=history_page))

    @hookimpl
    async def balance_at(ctx: object, query: object, extra: int) -> None: ...

    with pytest.raises(AssertionError, match="takes extra"):
        check_hook_signatures(types.SimpleNamespace(balance_at=balance_at))


def test_missing_declarations_are_reported() -> None:
    from asof.plugin import Capability, ChainSupport, Credential, ProviderInfo, hookimpl

    @hookimpl
    def provider_info() -> ProviderInfo:
        return ProviderInfo(name="toy", title="Toy", base_url="https://toy.example",
                            credentials=(Credential(header="X-Key"),))

    @hookimpl
    def supported_chains() -> list[ChainSupport]:
        return [ChainSupport(provider="toy", chain="solana", capabilities=()),
                ChainSupport(provider="toy", chain="ethereum",
                             capabilities=(Capability.BALANCE_AT,))]

    plugin = types.SimpleNamespace(provider_info=provider_info,
                                   supported_chains=supported_chains,
                                   __name__="toy_plugin_not_installed")
    problems = check_plugin(plugin, "toy")
    assert any("declares no rate_limit" in p for p in problems)
    assert any("no cost per call" in p for p in problems)
    assert any("names no environment variable" in p for p in problems)
    assert any("declares no capability" in p for p in problems)
    assert any("the balance_at hook is missing" in p for p in problems)
