"""``balance-at --verify`` and ``verify_balance``: the evm node's answer checked against a
second provider, through the client and through the command line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import asof_evm
from asof.cli.app import cli
from asof.client import AsyncClient
from asof.records import Amount, BalanceAt, Point, Provenance, Token, Wallet
from asof.verify import Verification
from tests.plugins.evm import mirror_plugin
from tests.plugins.evm.conftest import World

pytestmark = pytest.mark.integration


def both(world: World, tmp_path: Path) -> AsyncClient:
    config = tmp_path / "asof.toml"
    config.write_text("[asof]\nattempts = 1\n", encoding="utf-8")
    return AsyncClient(config, plugins={"evm": asof_evm, "mirror": mirror_plugin},
                       env={"ASOF_EVM_BASE_URL": world.node.url}, archive=False)


@pytest.mark.anyio
async def test_agreement_and_difference(world: World, tmp_path: Path) -> None:
    wallet = Wallet(chain="ethereum", address=world.wallet)
    truth = world.node.eth_balance(world.wallet, 5)
    async with both(world, tmp_path) as asof:
        mirror_plugin.ANSWER["raw"] = truth
        agreed = await asof.verify_balance(wallet, "ETH", Point(block=5))
        mirror_plugin.ANSWER["raw"] = truth + 10**18
        differed = await asof.verify_balance(wallet, "ETH", Point(block=5))
    assert agreed.answer.provider == "evm"
    assert agreed.answer.amount.raw == truth
    assert agreed.check is not None
    assert agreed.check.provider == "mirror"
    assert agreed.agree is True
    assert agreed.describe().startswith("agrees with mirror")
    assert differed.agree is False
    assert differed.difference == Decimal(1)
    assert "differs from mirror" in differed.describe()


@pytest.mark.anyio
async def test_no_second_provider_says_why(world: World, asof_client_factory: Any) -> None:
    async with asof_client_factory(asof_evm, env={"ASOF_EVM_BASE_URL": world.node.url}) as asof:
        found = await asof.verify_balance(f"ethereum:{world.wallet}", "ETH", "block:3")
    assert found.check is None
    assert found.agree is None
    assert found.answer.amount.raw == world.node.eth_balance(world.wallet, 3)
    assert found.describe().startswith("not verified: no provider could answer")


def test_the_command_reports_and_exits_by_the_verdict(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asof.plugins

    config = tmp_path / "asof.toml"
    config.write_text('[asof]\nallow = ["evm", "mirror"]\nattempts = 1\n', encoding="utf-8")
    real = asof.plugins.load_plugins

    def with_mirror(*args: Any, **kw: Any) -> Any:
        kw["explicit"] = {"evm": asof_evm, "mirror": mirror_plugin}
        return real(*args, **kw)

    monkeypatch.setattr("asof.client.load_plugins", with_mirror)
    env = {"ASOF_EVM_BASE_URL": world.node.url, "ASOF_CONFIG": str(config),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    args = ["balance-at", f"ethereum:{world.wallet}", "ETH", "--at", "block:6", "--verify"]
    runner = CliRunner()
    mirror_plugin.ANSWER["raw"] = world.node.eth_balance(world.wallet, 6)
    agreed = runner.invoke(cli, args, env=env)
    assert agreed.exit_code == 0, agreed.output
    assert "agrees with mirror" in agreed.output
    mirror_plugin.ANSWER["raw"] += 1
    differed = runner.invoke(cli, [*args, "--format", "json"], env=env)
    assert differed.exit_code == 1, differed.output
    records = json.loads(differed.stdout)
    assert [r["provenance"]["provider"] for r in records] == ["evm", "mirror"]
    assert "differs from mirror" in differed.stderr


def test_amounts_with_different_decimals_compare_as_values() -> None:
    token = Token(chain="ethereum", address="0x" + "ab" * 20, standard="erc20", decimals=6)
    wallet = Wallet(chain="ethereum", address="0x" + "cd" * 20)

    def answer(raw: int, decimals: int | None, provider: str) -> BalanceAt:
        return BalanceAt(wallet=wallet, token=token, amount=Amount(raw=raw, decimals=decimals),
                         requested=Point(block=1), as_of=None,
                         provenance=Provenance(provider=provider))

    same = Verification(answer=answer(1_500_000, 6, "a"), check=answer(1_500_000_000, 9, "b"))
    assert same.agree is True
    assert same.difference == 0
    unknown = Verification(answer=answer(5, None, "a"), check=answer(7, 6, "b"))
    assert unknown.agree is False
    assert unknown.difference == 2
