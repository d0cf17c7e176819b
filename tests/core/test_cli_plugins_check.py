"""`asof plugins --check`: the offline contract checks over every installed plugin."""

from __future__ import annotations

import json
import types
from pathlib import Path

from click.testing import CliRunner, Result

import asof_helius
import asof_pacifica
from asof.cli.app import cli
from asof.cli.common import CliState
from asof.client import AsyncClient
from asof.plugin import ChainSupport, Credential, ProviderInfo, hookimpl


def _careless() -> types.SimpleNamespace:
    """A plugin that loads but breaks the contract: no rate limit, no cost, no env."""

    @hookimpl
    def provider_info() -> ProviderInfo:
        return ProviderInfo(name="careless", title="Careless", base_url="https://c.example",
                            credentials=(Credential(header="X-Key", required=False),))

    @hookimpl
    def supported_chains() -> list[ChainSupport]:
        return [ChainSupport(provider="careless", chain="solana", capabilities=())]

    return types.SimpleNamespace(provider_info=provider_info,
                                 supported_chains=supported_chains,
                                 __name__="careless_not_installed")


def _invoke(plugins: dict[str, object], tmp_path: Path, *args: str) -> Result:
    def factory(state: CliState) -> AsyncClient:
        (tmp_path / "asof.toml").write_text("", encoding="utf-8")
        return AsyncClient(tmp_path / "asof.toml", plugins=plugins, env={}, archive=False)

    return CliRunner().invoke(cli, ["plugins", "--check", *args],
                              obj=CliState(client_factory=factory))


def test_first_party_plugins_pass(tmp_path: Path) -> None:
    result = _invoke({"helius": asof_helius, "pacifica": asof_pacifica}, tmp_path,
                     "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {(r["name"], r["check"], tuple(r["problems"])) for r in rows} == {
        ("helius", "pass", ()), ("pacifica", "pass", ())}


def test_a_plugin_that_breaks_the_contract_fails_with_exit_1(tmp_path: Path) -> None:
    result = _invoke({"helius": asof_helius, "careless": _careless()}, tmp_path,
                     "--format", "json")
    assert result.exit_code == 1
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["helius"]["check"] == "pass"
    assert rows["careless"]["check"] == "fail"
    problems = " | ".join(rows["careless"]["problems"])
    assert "declares no rate_limit" in problems
    assert "no cost per call" in problems
    assert "names no environment variable" in problems
    assert "1 plugin(s) fail the contract: careless" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_plugin_that_did_not_load_fails(tmp_path: Path) -> None:
    @hookimpl
    def provider_info() -> ProviderInfo:
        return ProviderInfo(name="other", title="Other", base_url="https://o.example")

    @hookimpl
    def supported_chains() -> list[ChainSupport]:
        return []

    wrong = types.SimpleNamespace(provider_info=provider_info,
                                  supported_chains=supported_chains)
    result = _invoke({"wrong": wrong}, tmp_path)
    assert result.exit_code == 1
    assert "invalid" in result.stdout
