"""``asof history`` and ``asof holdings`` against the Allium plugin with canned answers
(MockHTTP, in the shapes of Allium's documents): formats, JSONL that ``asof import``
reads back, progress, refusals before any call, and the holdings plot.

Nothing here is recorded, so there is nothing to re-record.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import asof_allium
from asof import wire
from asof.archive.io import read_records
from asof.cli.app import cli
from asof.cli.common import CliState
from asof.cli.history_cmds import plot_holdings, wallet_label
from asof.records import NATIVE_SOL_MINT, BalanceChange, HoldingsPoint, Provenance, Wallet
from asof.testing.client import make_client
from asof.testing.mock import MockHTTP, Reply
from asof_allium.info import BALANCES_PATH, HOLDINGS_PATH
from tests.plugins.allium.data import (
    BALANCES_NOW,
    ETH_WALLET,
    ETH_WALLET_2,
    HOLDINGS_NOW,
    SOL_WALLET,
    USDC_ACCOUNT_1,
    USDC_ETH,
    USDC_SOL,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def change(when: str, slot: int, raw: int, *, wallet: str = SOL_WALLET,
           chain: str = "solana", token: str = USDC_SOL, kind: str = "sol_spl",
           decimals: int | None = 6, symbol: str | None = "USDC") -> dict[str, Any]:
    found: dict[str, Any] = {"address": token, "chain": chain, "type": kind}
    if decimals is not None:
        found["decimals"] = decimals
    if symbol is not None:
        found["info"] = {"name": symbol, "symbol": symbol}
    return {"address": wallet, "chain": chain, "block_timestamp": when, "block_slot": slot,
            "block_hash": f"hash{slot}", "txn_id": f"sig{slot}", "txn_index": 2,
            "raw_balance": raw, "token_account": USDC_ACCOUNT_1 if chain == "solana" else None,
            "token": found}


def point(wallet: str, when: str, usd: str, breakdown: list[Any] | None = None,
          chain: str = "ethereum") -> dict[str, Any]:
    item: dict[str, Any] = {"address": wallet, "chain": chain, "timestamp": when,
                            "amount": {"amount": Decimal(usd), "currency": "USD"}}
    if breakdown is not None:
        item["token_breakdown"] = breakdown
    return item


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., tuple[Result, MockHTTP]]:
    """Run ``asof ARGS...`` with a client holding only Allium, answered by ``mock``."""

    def invoke(*args: str, mock: MockHTTP, now: datetime = BALANCES_NOW) -> tuple[Result, MockHTTP]:
        def factory(state: CliState) -> Any:
            return make_client(asof_allium, config_dir=tmp_path / "cfg",
                               http_transport=mock.transport, clock=lambda: now)

        result = CliRunner().invoke(cli, list(args), obj=CliState(client_factory=factory))
        return result, mock

    return invoke


def two_pages() -> MockHTTP:
    return MockHTTP().post(
        BALANCES_PATH,
        Reply(json={"items": [change("2025-04-01T12:50:00", 331006000, 2**100),
                               change("2025-04-01T12:30:00", 331003000, 7_250_000)],
                    "cursor": "p2"}),
        Reply(json={"items": [change("2025-04-01T12:10:00", 331000800, 5_000_000)],
                    "cursor": None}),
    )


# ---------------------------------------------------------------------------- history


def test_history_jsonl_round_trips_through_import(run: Any, tmp_path: Path) -> None:
    result, mock = run("history", f"solana:{SOL_WALLET}", "--from", "2025-04-01T12:00",
                       "--to", "2025-04-01 13:00", "--format", "jsonl", mock=two_pages())
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    records = [wire.loads_line(line) for line in lines]
    assert all(isinstance(r, BalanceChange) for r in records)
    assert [r.balance.raw for r in records] == [2**100, 7_250_000, 5_000_000]
    assert json.loads(lines[0])["balance"]["raw"] == str(2**100)  # exact, as text
    assert records[1].balance.value == Decimal("7.25")
    assert len(mock.requests) == 2
    assert mock.requests[1].url.params["cursor"] == "p2"

    # the same lines are what `asof import` reads...
    again = list(read_records(io.StringIO(result.stdout), fmt="jsonl"))
    assert again == records
    # ...and imports into an archive
    out = tmp_path / "history.jsonl"
    out.write_text(result.stdout, encoding="utf-8")
    config = tmp_path / "archive.toml"
    config.write_text(f'[archive]\npath = "{tmp_path / "archive.sqlite"}"\n', encoding="utf-8")
    imported = CliRunner().invoke(cli, ["--config", str(config), "import", str(out)])
    assert imported.exit_code == 0, imported.stderr
    assert "imported 3 record(s)" in imported.stderr


def test_history_table_and_token_filter(run: Any) -> None:
    mock = MockHTTP().post(BALANCES_PATH, Reply(json={"items": [
        change("2025-04-01T12:50:00", 331006000, 1_500_000_000, token=NATIVE_SOL_MINT,
               kind="native", decimals=9, symbol="SOL"),
        change("2025-04-01T12:30:00", 331003000, 7_250_000),
    ], "cursor": None}))
    result, _ = run("history", f"solana:{SOL_WALLET}", "--from", "2025-04-01",
                    "--to", "2025-04-02", "--token", "USDC", mock=mock)
    assert result.exit_code == 0, result.stderr
    table = result.stdout
    assert "7.25" in table
    assert "USDC" in table
    assert "1.5" not in table  # the SOL change is filtered out
    assert "2025-04-01T12:30:00Z" in table
    assert "331003000" in table


def test_history_asks_each_chain_separately(run: Any) -> None:
    mock = MockHTTP().post(BALANCES_PATH, Reply(json={"items": [], "cursor": None}))
    result, _ = run("history", f"solana:{SOL_WALLET}", f"ethereum:{ETH_WALLET}",
                    f"eth:{ETH_WALLET_2}", "--from", "2025-04-01", "--to", "2025-04-02",
                    "--format", "json", mock=mock)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []
    bodies = [json.loads(r.content) for r in mock.requests]
    assert [[a["chain"] for a in b["addresses"]] for b in bodies] == [
        ["solana"], ["ethereum", "ethereum"]]


def test_history_progress_is_on_stderr(run: Any) -> None:
    result, _ = run("--verbose", "history", f"solana:{SOL_WALLET}", "--from", "2025-04-01",
                    "--to", "2025-04-02", "--format", "jsonl", mock=two_pages())
    assert result.exit_code == 0, result.stderr
    assert "history on solana from allium: page 2: 3 done" in result.stderr
    assert all(line.startswith("{") for line in result.stdout.splitlines())


def test_history_needs_a_range(run: Any) -> None:
    result, mock = run("history", f"solana:{SOL_WALLET}", "--from", "2025-04-01",
                       mock=MockHTTP())
    assert result.exit_code == 2
    assert "--to" in result.stderr
    assert mock.requests == []


# ---------------------------------------------------------------------------- holdings


def holdings_mock() -> MockHTTP:
    return MockHTTP().post(HOLDINGS_PATH, Reply(json={"items": [
        point(ETH_WALLET, "2026-04-12T00:00:00Z", "297231.67", [
            {"token_address": USDC_ETH, "amount": {"amount": Decimal("79905.56"),
                                                   "currency": "USD"},
             "liquidity": {"details": "LIQUIDITY_TOO_HIGH"}}]),
        point(ETH_WALLET_2, "2026-04-12T00:00:00Z", "0", []),
        point(ETH_WALLET, "2026-04-11T00:00:00Z", "305582.84", []),
        point(ETH_WALLET_2, "2026-04-11T00:00:00Z", "0", []),
    ], "cursor": None}))


def test_holdings_table_with_breakdown(run: Any) -> None:
    result, mock = run("holdings", f"ethereum:{ETH_WALLET}", f"ethereum:{ETH_WALLET_2}",
                       "--from", "2026-04-11", "--to", "2026-04-13", "--granularity", "1d",
                       "--breakdown", "--min-liquidity", "1000", mock=holdings_mock(),
                       now=HOLDINGS_NOW)
    assert result.exit_code == 0, result.stderr
    assert "297231.67" in result.stdout
    assert f"{USDC_ETH} (79905.56 USD)" in result.stdout
    assert mock.requests[0].url.params["min_liquidity"] == "1000"
    assert json.loads(mock.requests[0].content)["include_token_breakdown"] is True


def test_holdings_jsonl(run: Any) -> None:
    result, _ = run("holdings", f"ethereum:{ETH_WALLET}", f"ethereum:{ETH_WALLET_2}",
                    "--from", "2026-04-11", "--to", "2026-04-13", "-g", "1D",
                    "--format", "jsonl", mock=holdings_mock(), now=HOLDINGS_NOW)
    assert result.exit_code == 0, result.stderr
    points = [wire.loads_line(line) for line in result.stdout.splitlines()]
    assert [p.usd for p in points] == [Decimal("297231.67"), Decimal(0),
                                       Decimal("305582.84"), Decimal(0)]
    assert all(p.breakdown is None for p in points)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-g", "1m", "--from", "2026-04-01", "--to", "2026-04-10"],
         "Allium allows 1h or coarser"),
        (["-g", "15s", "--from", "2026-04-01", "--to", "2026-04-01T01:00"],
         "the finest granularity allowed here is 1m"),
        (["-g", "2h", "--from", "2026-04-01", "--to", "2026-04-10"],
         "'2h' is not a granularity"),
        (["-g", "1d", "--from", "2026-04-10", "--to", "2026-04-01"], "is not after start"),
        (["-g", "1d", "--from", "2026-04-01", "--to", "2026-04-10", "--min-liquidity", "x"],
         "'x' is not a number"),
    ],
)
def test_holdings_refusals_cost_no_call(run: Any, args: list[str], needle: str) -> None:
    result, mock = run("holdings", f"ethereum:{ETH_WALLET}", *args, mock=MockHTTP(),
                       now=HOLDINGS_NOW)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert mock.requests == []


def test_provider_errors_are_one_line(run: Any) -> None:
    mock = MockHTTP().post(HOLDINGS_PATH, Reply(status=422, json={"detail": [
        {"loc": ["body", "addresses", 0, "address"], "msg": "Value error, invalid address",
         "type": "value_error"}]}))
    result, _ = run("holdings", f"ethereum:{ETH_WALLET}", "-g", "1d", "--from",
                    "2026-04-01", "--to", "2026-04-10", mock=mock, now=HOLDINGS_NOW)
    assert result.exit_code == 1
    assert result.stderr == ("asof: error: allium: rejected the request as invalid (HTTP 422): "
                             "addresses.0.address: Value error, invalid address\n")


# ---------------------------------------------------------------------------- plot


def test_holdings_plot_writes_a_png(run: Any, tmp_path: Path) -> None:
    target = tmp_path / "holdings.png"
    result, _ = run("holdings", f"ethereum:{ETH_WALLET}", f"ethereum:{ETH_WALLET_2}",
                    "--from", "2026-04-11", "--to", "2026-04-13", "-g", "1d",
                    "--plot", str(target), mock=holdings_mock(), now=HOLDINGS_NOW)
    assert result.exit_code == 0, result.stderr
    assert f"plot written to {target}" in result.stderr
    data = target.read_bytes()
    assert data.startswith(PNG_MAGIC)
    from PIL import Image

    with Image.open(target) as image:
        image.verify()
        assert image.format == "PNG"
        assert image.size == (1200, 660)


def test_plot_draws_one_line_per_wallet(tmp_path: Path) -> None:
    provenance = Provenance(provider="allium")
    first = Wallet(chain="ethereum", address=ETH_WALLET)
    second = Wallet(chain="ethereum", address=ETH_WALLET_2)
    silent = Wallet(chain="solana", address=SOL_WALLET)
    points = [
        HoldingsPoint(wallet=wallet, timestamp=datetime(2026, 4, day, tzinfo=UTC),
                      usd=Decimal(day * factor), breakdown=None, provenance=provenance)
        for day in (3, 1, 2) for wallet, factor in ((first, 1000), (second, 10))
    ]
    target = tmp_path / "plot.png"
    figure = plot_holdings(points, target, wallets=[first, second, silent], title="Test")

    (axes,) = figure.axes
    lines = axes.get_lines()
    assert len(lines) == 3
    assert [line.get_label() for line in lines] == [
        wallet_label(first), wallet_label(second), wallet_label(silent)]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == [
        wallet_label(first), wallet_label(second), wallet_label(silent)]
    assert list(lines[0].get_ydata()) == [1000, 2000, 3000]  # drawn oldest first
    assert len(lines[2].get_xdata()) == 0
    assert axes.get_ylabel() == "holdings (USD)"
    assert axes.get_xlabel() == "time (UTC)"
    assert axes.get_title() == "Test"
    assert axes.yaxis.get_major_formatter()(2500, 0) == "$2,500"
    assert target.read_bytes().startswith(PNG_MAGIC)
    from matplotlib import image as mpimg

    pixels = mpimg.imread(str(target))
    assert pixels.shape[:2] == (660, 1200)


def test_wallet_label_shortens_long_addresses() -> None:
    assert wallet_label(Wallet(chain="ethereum", address=ETH_WALLET)) == "ethereum:0x8e0e…0938"


def test_plot_of_a_small_wallet_shows_cents(tmp_path: Path) -> None:
    wallet = Wallet(chain="ethereum", address=ETH_WALLET)
    points = [HoldingsPoint(wallet=wallet, timestamp=datetime(2026, 4, day, tzinfo=UTC),
                            usd=Decimal("0.75"), breakdown=None,
                            provenance=Provenance(provider="allium")) for day in (1, 2)]
    figure = plot_holdings(points, tmp_path / "small.png")
    assert figure.axes[0].yaxis.get_major_formatter()(0.5, 0) == "$0.50"
