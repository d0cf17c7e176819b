"""Plugins are found through the ``asof`` entry-point group, one at a time, isolated.

The plugins here live in temporary distributions made by the tests (a ``.dist-info``
folder with an ``entry_points.txt`` on ``sys.path``), exactly as a third-party plugin is
installed; the core is not changed for them.
"""

from __future__ import annotations

import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import anyio
import pytest

from asof.client import AsyncClient
from asof.config import load_config
from asof.plugins import load_plugins

from . import memory_plugin

WALLET = "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"


def make_distribution(root: Path, dist: str, plugins: dict[str, str]) -> None:
    """Write a distribution ``dist`` whose entry points map names to module sources."""
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = ["[asof]"]
    for name, source in plugins.items():
        module = f"{dist.replace('-', '_')}_{name}"
        (root / f"{module}.py").write_text(textwrap.dedent(source))
        lines.append(f"{name} = {module}")
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in list(sys.modules):
        if name.startswith("thirdparty_"):
            del sys.modules[name]


MEMORY_SOURCE = "from tests.core.memory_plugin import *  # noqa: F403\n"


def test_third_party_plugin_is_discovered_routed_and_answers(site: Path) -> None:
    make_distribution(site, "thirdparty-memory", {
        "memory": MEMORY_SOURCE,
        "broken": "raise RuntimeError('this plugin cannot import')\n",
    })

    async def main() -> None:
        async with AsyncClient(env={}, archive=False) as client:
            states = {s.name: s for s in client.plugins()}
            assert states["memory"].state == "loaded"
            assert states["memory"].distribution == "thirdparty-memory"
            assert states["broken"].state == "failed"
            assert "cannot import" in (states["broken"].error or "")
            # first-party plugins keep working beside the broken one
            assert states["helius"].state == "loaded"
            route = client.route("solana", "balance_at")
            assert "memory" in [s.provider for s in route.usable]
            answer = await client.balance_at(WALLET, "USDC", "2025-02-01",)
            assert answer.amount.raw == memory_plugin.RAW
            assert answer.provenance.provider == "memory"

    # memory is the only usable balance_at provider here: helius has no key
    anyio.run(main)


def test_allow_and_block_lists(site: Path, tmp_path: Path) -> None:
    make_distribution(site, "thirdparty-memory", {"memory": MEMORY_SOURCE})
    config_file = tmp_path / "asof.toml"
    config_file.write_text('[asof]\nblock = ["memory"]\n')
    plugins = load_plugins(load_config(config_file, env={}))
    assert plugins.status("memory").state == "blocked"  # type: ignore[union-attr]
    assert "memory" not in plugins.names()
    config_file.write_text('[asof]\nallow = ["memory"]\n')
    plugins = load_plugins(load_config(config_file, env={}))
    assert plugins.names() == ["memory"]
    assert plugins.status("helius").state == "not allowed"  # type: ignore[union-attr]


def test_name_clash_is_refused_and_reported(site: Path) -> None:
    make_distribution(site, "thirdparty-one", {"memory": MEMORY_SOURCE})
    make_distribution(site, "thirdparty-two", {"memory": MEMORY_SOURCE})
    plugins = load_plugins(load_config(None, env={}))
    clashes = [s for s in plugins.statuses if s.name == "memory"]
    assert {s.state for s in clashes} == {"clash"}
    assert len(clashes) == 2
    assert "memory" not in plugins.names()


def test_third_party_cannot_take_a_first_party_name(site: Path) -> None:
    make_distribution(site, "thirdparty-fake", {"helius": MEMORY_SOURCE})
    plugins = load_plugins(load_config(None, env={}))
    assert plugins.status("helius") is not None
    kept = [s for s in plugins.statuses if s.name == "helius" and s.loaded]
    assert [s.distribution for s in kept] == ["asof-helius"]
    refused = [s for s in plugins.statuses if s.name == "helius" and s.state == "clash"]
    assert [s.distribution for s in refused] == ["thirdparty-fake"]


def test_entry_point_that_does_not_exist_is_reported() -> None:
    eps = [EntryPoint(name="ghost", value="no_such_module_for_asof", group="asof")]
    plugins = load_plugins(load_config(None, env={}), discovered=eps)
    status = plugins.status("ghost")
    assert status is not None
    assert status.state == "failed"
    assert "ModuleNotFoundError" in (status.error or "")
