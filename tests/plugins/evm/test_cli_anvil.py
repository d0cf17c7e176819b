"""The installed ``asof`` command against anvil, as a user runs it: the issue's
"done when" commands, each answer compared with the node's own state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.evm.conftest import JAN10, World

pytestmark = pytest.mark.integration

ASOF = str(Path(sys.executable).with_name("asof"))


def run(world: World, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text('[asof]\nallow = ["evm"]\n', encoding="utf-8")
    env = {**os.environ, "ASOF_EVM_BASE_URL": world.node.url, "ASOF_CONFIG": str(config),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return subprocess.run([ASOF, *args], env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def test_eth_at_a_block(world: World, tmp_path: Path) -> None:
    done = run(world, tmp_path, "balance-at", f"ethereum:{world.wallet}", "ETH",
               "--at", "block:5", "--format", "json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert int(answer["amount"]["raw"]) == world.node.eth_balance(world.wallet, 5)
    assert answer["provenance"]["provider"] == "evm"
    assert answer["provenance"]["read_at"]["number"] == 5


def test_usdc_at_a_date(world: World, tmp_path: Path) -> None:
    done = run(world, tmp_path, "balance-at", f"eth:{world.wallet}", "USDC",
               "--at", "2025-01-10", "--format", "json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    block = max(b for b in range(world.latest + 1) if world.node.timestamp(b) <= JAN10)
    assert int(answer["amount"]["raw"]) == world.node.token_balance(world.usdc, world.wallet,
                                                                   block)
    assert answer["provenance"]["read_at"]["number"] == block == 6
    assert answer["provenance"]["resolved"] == {"block": 6}


def test_route_lists_evm(world: World, tmp_path: Path) -> None:
    done = run(world, tmp_path, "route", "ethereum", "balance_at")
    assert done.returncode == 0, done.stderr
    assert "evm" in done.stdout


def test_a_pruned_or_missing_block_is_one_line(world: World, tmp_path: Path) -> None:
    done = run(world, tmp_path, "balance-at", f"ethereum:{world.wallet}", "ETH",
               "--at", f"block:{world.latest + 50}")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"no block {world.latest + 50}" in done.stderr
