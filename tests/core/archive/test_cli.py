"""The archive commands: sync (resumable), series, import, export, archive info|clear,
and the offline example shipped in examples/."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from asof.archive import Archive
from asof.cli.app import cli
from asof.cli.common import EXIT_USAGE, CliState
from asof.client import AsyncClient

from .helpers import at, change, clock, covered, lines_of
from .history_plugin import HistoryProvider

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
EXAMPLE_WALLET = "solana:ExampLeWa11et1111111111111111111111111111111"
WALLET = "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ASOF_CONFIG", "ASOF_ARCHIVE_PATH", "ASOF_ARCHIVE_URL",
                 "ASOF_ARCHIVE_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A configuration whose archive is tmp_path/archive.sqlite."""
    path = tmp_path / "asof.toml"
    path.write_text('[archive]\npath = "archive.sqlite"\n')
    return path


def invoke(args: list[str], state: CliState | None = None, **kw: object) -> Result:
    return CliRunner().invoke(cli, args, obj=state or CliState(), **kw)  # type: ignore[arg-type]


def test_example_balance_at_offline() -> None:
    result = invoke(["--config", str(EXAMPLES / "asof.toml"), "balance-at", EXAMPLE_WALLET,
                     "USDC", "--at", "2025-03-01"])
    assert result.exit_code == 0, result.output
    assert "3110.25 USDC" in result.stdout
    assert "2025-02-28T23:59:58Z" in result.stdout
    assert "example" in result.stdout


def test_example_series_offline() -> None:
    result = invoke(["--config", str(EXAMPLES / "asof.toml"), "series", EXAMPLE_WALLET, "USDC",
                     "--from", "2025-02-27", "--to", "2025-03-02", "--every", "1d"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("2025-")]
    assert [(r[0], r[1]) for r in rows] == [("2025-02-27T00:00:00Z", "2610.25"),
                                           ("2025-02-28T00:00:00Z", "2610.25"),
                                           ("2025-03-01T00:00:00Z", "3110.25")]


def test_example_sums_token_accounts_and_refuses_before_its_window() -> None:
    base = ["--config", str(EXAMPLES / "asof.toml"), "balance-at", EXAMPLE_WALLET, "USDC"]
    summed = invoke([*base, "--at", "2025-03-25", "--format", "json"])
    assert json.loads(summed.stdout)["amount"]["raw"] == "660250000"
    # The file declares opening balances at 2025-01-01: none, so zero before 01-03.
    opening = invoke([*base, "--at", "2025-01-02", "--format", "json"])
    assert json.loads(opening.stdout)["amount"]["raw"] == "0"
    early = invoke([*base, "--at", "2024-12-31"])
    assert early.exit_code != 0
    assert "no provider could answer" in early.stderr


def test_series_formats_and_unknown_points(config: Path) -> None:
    with Archive(config.parent / "archive.sqlite", clock=clock()) as archive:
        archive.add([covered(at(2), at(31)), change(at(3), 1_500_000), change(at(5), 2)])
    args = ["--config", str(config), "series", WALLET, "USDC", "--from", "2025-03-01",
            "--to", "2025-03-06"]
    table = invoke(args)
    assert table.exit_code == 0, table.output
    assert "1.5 USDC" in table.stdout
    assert "1 of 5 point(s) are outside" in table.stderr
    data = json.loads(invoke([*args, "--format", "json"]).stdout)
    # Opening balances declared at the 2nd (none): zero there.
    assert [row["raw"] for row in data] == [None, "0", "1500000", "1500000", "2"]
    assert data[2]["value"] == "1.500000"
    csv_text = invoke([*args, "--format", "csv", "--every", "12h"]).stdout
    assert csv_text.splitlines()[0].startswith("time,balance,value,raw")
    assert len(csv_text.splitlines()) == 11


def test_import_export_info_clear(config: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(lines_of(change(at(3), 10), change(at(4), 20)))
    base = ["--config", str(config)]
    result = invoke([*base, "import", str(source), "--complete-from", "2025-03-01",
                     "--complete-to", "2025-03-31"])
    assert result.exit_code == 0, result.output
    assert "imported 2 record(s)" in result.stderr
    info = invoke([*base, "archive", "info", "--format", "json"])
    data = json.loads(info.stdout)
    assert data["changes"] == 2
    assert data["coverage"][0]["scope"] == "all tokens"
    assert "archive.sqlite" in invoke([*base, "archive", "info"]).stdout
    exported = invoke([*base, "export", "--format", "csv", "--kind", "balance_change"])
    assert exported.exit_code == 0
    assert len(exported.stdout.splitlines()) == 3
    out = tmp_path / "out.jsonl"
    invoke([*base, "export", "--output", str(out), "--wallet", WALLET])
    assert [json.loads(line)["kind"] for line in out.read_text().splitlines()] == [
        "coverage", "balance_change", "balance_change"]
    refused = invoke([*base, "archive", "clear"], input="n\n")
    assert refused.exit_code != 0
    cleared = invoke([*base, "archive", "clear", "--yes"])
    assert cleared.exit_code == 0
    assert json.loads(invoke([*base, "archive", "info", "--format", "json"]).stdout)[
        "changes"] == 0


def test_import_error_names_line_and_field_and_stores_nothing(config: Path,
                                                              tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    good = lines_of(change(at(3), 10))
    source.write_text(good + good.replace('"raw":"10"', '"raw":"ten"'))
    result = invoke(["--config", str(config), "import", str(source)])
    assert result.exit_code == EXIT_USAGE
    assert "bad.jsonl line 2: balance.raw" in result.stderr
    info = invoke(["--config", str(config), "archive", "info", "--format", "json"])
    assert json.loads(info.stdout)["changes"] == 0


def test_disabled_archive_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "off.toml"
    path.write_text("[archive]\nenabled = false\n")
    result = invoke(["--config", str(path), "archive", "info"])
    assert result.exit_code == 1
    assert "archive is disabled" in result.stderr


def factory(config: Path, plugin: HistoryProvider) -> Callable[[CliState], AsyncClient]:
    def build(state: CliState) -> AsyncClient:
        return AsyncClient(state.config, plugins={plugin.name: plugin},
                           archive=Archive(config.parent / "archive.sqlite", clock=clock()))

    return build


def test_sync_interrupted_then_resumed(config: Path) -> None:
    args = ["--config", str(config), "sync", WALLET, "--from", "2025-03-01",
            "--to", "2025-03-31"]
    first = HistoryProvider(pages=4, fail_at=2, failure=KeyboardInterrupt())
    result = invoke(args, CliState(client_factory=factory(config, first)))
    assert result.exit_code == 130
    second = HistoryProvider(pages=4)
    result = invoke(args, CliState(client_factory=factory(config, second)))
    assert result.exit_code == 0, result.output
    assert second.cursors == ["2", "3"]
    assert "resuming after page 2 from fakehist" in result.stderr
    assert "4 page(s), 4 item(s) in all" in result.stderr
    again = invoke(args, CliState(client_factory=factory(config, HistoryProvider())))
    assert "already complete" in again.stderr
    series = invoke(["--config", str(config), "series", WALLET, "USDC", "--from",
                     "2025-03-04", "--to", "2025-03-07", "--format", "json"])
    assert [row["raw"] for row in json.loads(series.stdout)] == ["300", "400", "400"]
