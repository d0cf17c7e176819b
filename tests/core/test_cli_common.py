"""The shared CLI helpers other command modules build on: output formats, parameter
types, error lines and exit codes, progress."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from asof import wire
from asof.cli.common import (
    CAPABILITY,
    CHAIN,
    EXIT_CODES,
    EXIT_FAILURE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    POINT,
    TIME,
    WALLET,
    CliState,
    WalletType,
    configure_logging,
    emit,
    error_exit_code,
    format_cell,
    output,
    output_option,
    pass_state,
    progress,
    report_error,
    time_range_options,
)
from asof.errors import (
    ArchiveError,
    AuthenticationError,
    ConfigError,
    InvalidAddress,
    InvalidPoint,
    NoRoute,
    PluginError,
    RateLimited,
    UnknownChain,
    UnknownToken,
)
from asof.records import (
    Amount,
    BalanceChange,
    BlockRef,
    Capability,
    Point,
    Provenance,
    Token,
    Wallet,
)

WALLET_TEXT = "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


def change(slot: int, raw: int, *, tx: str | None = "sig") -> BalanceChange:
    wallet = Wallet.parse(WALLET_TEXT)
    return BalanceChange(
        wallet=wallet,
        token=Token(chain="solana", address=MINT, standard="spl", decimals=6, symbol="USDC"),
        token_account=None,
        balance=Amount(raw=raw, decimals=6),
        block=BlockRef(number=slot, timestamp=datetime(2025, 1, 1, tzinfo=UTC), transaction=tx),
        provenance=Provenance(provider="memo"),
    )


def run_emit(fmt: str, data: Any, **kw: Any) -> Result:
    @click.command()
    @output_option
    @pass_state
    def show(state: CliState) -> None:
        emit(state, data, **kw)

    return CliRunner().invoke(show, ["--format", fmt])


# ---------------------------------------------------------------------------- formats


def test_jsonl_records_use_the_wire_form() -> None:
    records = [change(1, 10), change(2, 2**70)]
    result = run_emit("jsonl", records)
    lines = result.stdout.splitlines()
    assert [wire.loads_line(line) for line in lines] == records
    assert json.loads(lines[0])["kind"] == "balance_change"


def test_jsonl_rows_are_plain_json() -> None:
    rows = [{"n": 1, "usd": Decimal("1.10"), "at": datetime(2025, 1, 1, tzinfo=UTC),
             "cap": Capability.BALANCE_AT, "tags": ("a", "b"), "none": None}]
    result = run_emit("jsonl", rows)
    assert json.loads(result.stdout) == {"n": 1, "usd": "1.10", "at": "2025-01-01T00:00:00Z",
                                         "cap": "balance_at", "tags": ["a", "b"], "none": None}


def test_json_is_one_document() -> None:
    many = json.loads(run_emit("json", [change(1, 10), change(2, 20)]).stdout)
    assert [item["balance"]["raw"] for item in many] == ["10", "20"]
    one = json.loads(run_emit("json", change(3, 30)).stdout)
    assert one["block"]["number"] == 3
    empty = json.loads(run_emit("json", []).stdout)
    assert empty == []


def test_csv_of_records_is_the_canonical_form() -> None:
    records = [change(1, 10, tx=None), change(2, 2**70)]
    rows = list(csv.DictReader(io.StringIO(run_emit("csv", records).stdout)))
    assert rows[0]["balance.raw"] == "10"
    assert rows[1]["balance.raw"] == str(2**70)
    assert rows[0]["block.transaction"] == ""
    assert rows[1]["block.transaction"] == "sig"
    assert list(rows[0]) == ["kind", *wire.csv_columns(type(records[1]))]
    assert [wire.loads_csv_row(row) for row in rows] == records  # `asof import` reads it


def test_csv_drops_a_parent_column_that_is_always_empty() -> None:
    rows = [{"as_of": None}, {"as_of.number": 5}]
    text = run_emit("csv", rows).stdout
    assert text.splitlines()[0] == "as_of.number"


def test_csv_with_columns_streams_the_chosen_columns() -> None:
    result = run_emit("csv", [change(1, 1_500_000)], columns=[
        ("slot", "block.number"), ("balance", lambda c: c.balance), "wallet"])
    assert result.stdout.splitlines() == ["slot,balance,wallet", f"1,1.5,{WALLET_TEXT}"]


def test_table_has_headers_and_exact_values() -> None:
    result = run_emit("table", [change(1, 2**70)], columns=[
        ("slot", "block.number"), ("balance", lambda c: c.balance.value)])
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["slot", "balance"]
    assert lines[-1].split() == ["1", str(Decimal(2**70).scaleb(-6))]
    assert all(line == line.rstrip() for line in lines)


def test_table_of_one_row_is_vertical() -> None:
    result = run_emit("table", {"wallet": WALLET_TEXT, "amount": Decimal("1.50"), "as_of": None})
    assert result.stdout.splitlines() == [
        f"wallet  {WALLET_TEXT}", "amount  1.50", "as_of   -"]


def test_empty_table_says_so_on_stderr() -> None:
    result = run_emit("table", [], columns=["a"])
    assert result.stdout == ""
    assert "nothing to show" in result.stderr


def test_table_cells_are_not_rich_markup() -> None:
    result = run_emit("table", [{"note": "[bold]not markup[/bold]"}])
    assert "[bold]not markup[/bold]" in result.stdout


def test_output_streams_jsonl_as_it_is_written(capsys: pytest.CaptureFixture[str]) -> None:
    with output(CliState(format="jsonl")) as out:
        out.write(change(1, 1))
        first = capsys.readouterr().out
        out.write(change(2, 2))
    assert out.count == 2
    assert first.count("\n") == 1
    assert wire.loads_line(first) == change(1, 1)
    assert capsys.readouterr().out.count("\n") == 1


def test_output_holds_a_table_back_until_the_end(capsys: pytest.CaptureFixture[str]) -> None:
    with output(CliState(format="table"), columns=[("slot", "block.number")]) as out:
        out.write(change(1, 1))
        assert capsys.readouterr().out == ""
    assert capsys.readouterr().out.split() == ["slot", "─" * 4, "1"]


def test_output_option_default_and_state() -> None:
    @click.command()
    @output_option(default="csv")
    @pass_state
    def which(state: CliState) -> None:
        click.echo(state.format)

    assert CliRunner().invoke(which, []).stdout == "csv\n"
    assert CliRunner().invoke(which, ["--format", "JSON"]).stdout == "json\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.000001"), "0.000001"),
        (datetime(2025, 1, 1, 12, tzinfo=UTC), "2025-01-01T12:00:00Z"),
        (Capability.ACCOUNT_LEDGER, "account_ledger"),
        (Amount(raw=1_500_000, decimals=6), "1.5"),
        (Point(block=7), "block:7"),
        ([1, "a"], '[1,"a"]'),
        (2**80, str(2**80)),
    ],
)
def test_format_cell(value: Any, text: str) -> None:
    assert format_cell(value) == text


# ---------------------------------------------------------------------------- params


def test_wallet_type() -> None:
    assert WALLET.convert(WALLET_TEXT, None, None) == Wallet.parse(WALLET_TEXT)
    evm = WALLET.convert("eip155:1:0x" + "AB" * 20, None, None)
    assert evm == Wallet(chain="ethereum", address="0x" + "ab" * 20)
    bare = WalletType(default_chain="pacifica").convert(WALLET_TEXT.split(":")[1], None, None)
    assert bare.chain == "pacifica"
    with pytest.raises(click.BadParameter, match="not a Solana address"):
        WALLET.convert("solana:0OIl", None, None)
    with pytest.raises(click.BadParameter, match="unknown chain"):
        WALLET.convert("narnia:abc", None, None)


def test_time_and_point_types() -> None:
    assert TIME.convert("2025-01-10 12:00+02:00", None, None) == datetime(2025, 1, 10, 10,
                                                                           tzinfo=UTC)
    assert POINT.convert("slot:313000000", None, None) == Point(block=313000000)
    assert POINT.convert("1736467200", None, None) == Point(
        time=datetime(2025, 1, 10, tzinfo=UTC))
    with pytest.raises(click.BadParameter, match="not a real date"):
        TIME.convert("2025-02-30", None, None)
    with pytest.raises(click.BadParameter, match="cannot read"):
        POINT.convert("soon", None, None)


def test_chain_and_capability_types() -> None:
    assert CHAIN.convert("ETH", None, None) == "ethereum"
    assert CHAIN.convert("eip155:8453", None, None) == "base"
    assert CAPABILITY.convert("balance-history", None, None) is Capability.BALANCE_HISTORY
    with pytest.raises(click.BadParameter, match="unknown chain"):
        CHAIN.convert("narnia", None, None)
    with pytest.raises(click.BadParameter, match="account_ledger"):
        CAPABILITY.convert("price", None, None)


def test_time_range_options() -> None:
    @click.command()
    @time_range_options(required=True)
    def span(start: datetime, end: datetime) -> None:
        click.echo(f"{start.isoformat()} {end.isoformat()}")

    ok = CliRunner().invoke(span, ["--from", "2025-01-01", "--to", "2025-01-02T00:00Z"])
    assert ok.stdout.split() == ["2025-01-01T00:00:00+00:00", "2025-01-02T00:00:00+00:00"]
    missing = CliRunner().invoke(span, ["--from", "2025-01-01"])
    assert missing.exit_code == 2


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidAddress("bad", field="wallet"), EXIT_USAGE),
        (InvalidPoint("bad", field="at"), EXIT_USAGE),
        (ConfigError("bad"), EXIT_USAGE),
        (UnknownChain("narnia"), EXIT_USAGE),
        (UnknownToken("solana", "DOGE"), EXIT_USAGE),
        (click.UsageError("bad"), EXIT_USAGE),
        (NoRoute("none"), EXIT_FAILURE),
        (AuthenticationError("helius", "refused the credential", status=401), EXIT_FAILURE),
        (RateLimited("helius", "rate limit exceeded", status=429), EXIT_FAILURE),
        (PluginError("x", "bad hook"), EXIT_FAILURE),
        (ArchiveError("locked"), EXIT_FAILURE),
        (RuntimeError("bug"), EXIT_INTERNAL),
        (KeyboardInterrupt(), EXIT_INTERRUPTED),
        (ExceptionGroup("g", [UnknownChain("narnia")]), EXIT_USAGE),
    ],
)
def test_exit_codes(error: BaseException, code: int) -> None:
    assert error_exit_code(error) == code
    assert code in EXIT_CODES


def test_report_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = report_error(NoRoute("no provider could answer", reasons=[("a", "x\ny")]))
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE
    assert err == "asof: error: no provider could answer (a: x y)\n"


def test_report_error_unexpected_with_and_without_verbose(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def boom() -> None:
        raise ValueError("odd")

    with pytest.raises(ValueError, match="odd") as caught:
        boom()
    assert report_error(caught.value) == EXIT_INTERNAL
    quiet = capsys.readouterr().err
    assert report_error(caught.value, verbose=True) == EXIT_INTERNAL
    loud = capsys.readouterr().err
    assert quiet == ("asof: error: unexpected ValueError: odd "
                     "(rerun with --verbose to see the traceback)\n")
    assert "Traceback" in loud
    assert "in boom" in loud
    assert loud.splitlines()[-1] == "asof: error: unexpected ValueError: odd"


# ---------------------------------------------------------------------------- logging


def test_configure_logging_verbose_and_undo(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("asof.test")
    undo = configure_logging(True)
    try:
        logger.debug("visible detail")
    finally:
        undo()
    logger.debug("after undo")
    err = capsys.readouterr().err
    assert "DEBUG asof.test: visible detail" in err
    assert "after undo" not in err


def test_configure_logging_quiet_shows_warnings_only(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("asof.test")
    undo = configure_logging(False)
    try:
        logger.info("chatter")
        logger.warning("plugin x failed to import")
    finally:
        undo()
    err = capsys.readouterr().err
    assert "chatter" not in err
    assert "asof: WARNING: plugin x failed to import" in err


def test_retry_warnings_only_with_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    retries = logging.getLogger("stamina")
    undo = configure_logging(False)
    try:
        retries.warning("stamina.retry_scheduled")
    finally:
        undo()
    assert capsys.readouterr().err == ""
    undo = configure_logging(True)
    try:
        retries.warning("stamina.retry_scheduled")
    finally:
        undo()
    assert "WARNING stamina: stamina.retry_scheduled" in capsys.readouterr().err


def test_late_verbose_turns_the_same_handler_up(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("asof.test")
    undo_quiet = configure_logging(False)
    undo_loud = configure_logging(True)
    try:
        logger.debug("once")
    finally:
        undo_loud()
    logger.debug("hidden again")
    logger.warning("still shown")
    undo_quiet()
    err = capsys.readouterr().err
    assert err.count("once") == 1
    assert "hidden again" not in err
    assert err.count("still shown") == 1


# ---------------------------------------------------------------------------- progress


def test_progress_counts_without_drawing_when_not_a_terminal() -> None:
    @click.command()
    @pass_state
    def work(state: CliState) -> None:
        with progress(state, "pages") as bar:
            bar.advance()
            bar.advance(4)
            bar.update(total=10, description="pages of history")
        click.echo(f"{bar.completed} {bar.total} {bar.description}")

    result = CliRunner().invoke(work, [])
    assert result.stdout == "5 10 pages of history\n"
    assert result.stderr == ""
