"""Fuzzing every public entry point: whatever a caller passes, asof answers or raises a
typed asof error that names the field; never another exception (no ``ValueError``,
``OverflowError``, ``RecursionError``, ``AttributeError``, ``TypeError``, no traceback
from the command line).

Strategies mix well-formed values with hostile ones (non-ASCII digits, huge integers,
deep nesting, control characters, wrong types). Example counts are bounded so that the
whole module runs in a few seconds in CI.
"""

from __future__ import annotations

import csv
import io
import json
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asof.addresses import normalize_address
from asof.archive.io import ImportRecordError, read_records
from asof.archive.series import parse_every
from asof.chains import Family, known_chains, resolve_chain
from asof.cli.app import cli
from asof.cli.state import CliState
from asof.client import AsyncClient
from asof.config import load_config
from asof.errors import (
    AsofError,
    ConfigError,
    InputError,
    InvalidAddress,
    InvalidPoint,
    InvalidRange,
    UnknownChain,
    UnknownToken,
)
from asof.points import parse_point, parse_time
from asof.provider import Credential, Option, ProviderInfo
from asof.queries import HistoryQuery
from asof.records import Capability, Point, Token, Wallet
from asof.tokens import resolve_token
from asof_allium.granularity import check_granularity
from tests.core import memory_plugin

FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

WALLET = "GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
EVM = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"

#: Digits of other scripts, which str.isdigit() accepts and asof must not.
ODD_DIGITS = "²³¹٠١٢٣٤٥٦٧٨٩۰۱۲０１２３４５６７８９𝟎𝟏߀०१"

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.digits + ODD_DIGITS + "-:T Z+.", max_size=30),
    st.sampled_from(["", " ", "\x00", "now", "2025-02-30", "0001-01-01T00:00+01:00",
                     "9999-12-31T23:59-01:00", "1" * 5000, "slot:" + "9" * 5000,
                     "block:-1", "2025-01-10T25:00", "²", "١٧٣٦٥٣٦٨٠٠", "\u202e2025"]),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:?\d{2}|Z)?)?\Z"),
)
any_value = st.one_of(
    hostile_text, st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300),
    st.floats(allow_nan=True), st.binary(max_size=20), st.lists(st.integers(), max_size=3),
    st.datetimes(), st.dates(),
)


def expect_typed(exc: BaseException, field: str | None, *types: type[AsofError],
                 fields: tuple[str, ...] = (), mentions: tuple[str, ...] = ()) -> None:
    """``exc`` is one of asof's ``types``; an input error names ``field`` (or one of
    ``fields``); the message mentions one of ``mentions`` (where the mistake is)."""
    assert isinstance(exc, types), f"{type(exc).__name__}: {exc}"
    if isinstance(exc, InputError) and field is not None:
        assert exc.field == field, f"{exc.field!r} != {field!r}: {exc}"
    if fields:
        assert isinstance(exc, InputError)
        assert exc.field in fields, f"{exc.field!r}: {exc}"
    if mentions:
        assert any(where in str(exc) for where in mentions), str(exc)


# --------------------------------------------------------------------------- moments


@FAST
@given(any_value)
def test_parse_time(value: Any) -> None:
    try:
        found = parse_time(value, field="when")
    except Exception as exc:
        expect_typed(exc, "when", InvalidPoint)
    else:
        assert found.tzinfo is not None
        assert found.utcoffset() == timedelta(0)


@FAST
@given(any_value)
def test_parse_point(value: Any) -> None:
    try:
        found = parse_point(value, field="at")
    except Exception as exc:
        expect_typed(exc, "at", InvalidPoint)
    else:
        assert isinstance(found, Point)


@FAST
@given(st.text(alphabet=ODD_DIGITS, min_size=1, max_size=12))
def test_only_ascii_digits_are_epoch_seconds(digits: str) -> None:
    with pytest.raises(InvalidPoint):
        parse_time(digits)


# --------------------------------------------------------------------------- addresses, chains


@FAST
@given(st.sampled_from(list(Family)), st.one_of(hostile_text, st.none(), st.integers(),
                                                st.from_regex(r"\A0[xX][0-9a-fA-F]{40}\Z")))
def test_normalize_address(family: Family, value: Any) -> None:
    try:
        found = normalize_address(family, value, field="wallet")
    except Exception as exc:
        expect_typed(exc, "wallet", InvalidAddress)
    else:
        assert found == found.strip()


@FAST
@given(st.one_of(hostile_text, st.just(f"solana:{WALLET}"), st.just(f"eth:{EVM}"),
                 st.just(f"eip155:1:{EVM}"), st.just(f"eth:{EVM.swapcase()}")))
def test_wallet_parse(value: str) -> None:
    try:
        Wallet.parse(value)
    except Exception as exc:
        expect_typed(exc, None, InputError, UnknownChain)


@FAST
@given(st.one_of(any_value, st.sampled_from([c.name for c in known_chains()])))
def test_resolve_chain(value: Any) -> None:
    try:
        resolve_chain(value)
    except Exception as exc:
        expect_typed(exc, "chain", UnknownChain, InputError)


# --------------------------------------------------------------------------- tokens


@FAST
@given(st.sampled_from(["solana", "ethereum", "base", "pacifica", "nosuch", ""]),
       st.one_of(any_value, st.sampled_from(["USDC", "usdt", "native", "SOL", EVM,
                                              EVM.swapcase(), "0x", WALLET])))
def test_resolve_token(chain: str, value: Any) -> None:
    try:
        found = resolve_token(chain, value)
    except Exception as exc:
        expect_typed(exc, "token", UnknownToken, UnknownChain, InputError)
    else:
        assert isinstance(found, Token)


# --------------------------------------------------------------------------- ranges, granularities

moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1),
                       timezones=st.just(UTC))


@FAST
@given(st.one_of(st.none(), moments), st.one_of(st.none(), moments),
       st.one_of(st.none(), st.integers(min_value=-5, max_value=10**6)))
def test_history_ranges(start: datetime | None, end: datetime | None,
                        page_size: int | None) -> None:
    try:
        HistoryQuery(capability=Capability.BALANCE_HISTORY,
                     wallets=(Wallet(chain="solana", address=WALLET),),
                     start=start, end=end, page_size=page_size)
    except Exception as exc:
        expect_typed(exc, None, InvalidRange, InputError,
                     fields=("start", "end", "page_size"))


@FAST
@given(st.one_of(any_value, st.sampled_from(["1d", "1h", "15m", "30s", "2w", "0s", "3600",
                                              "-1d", "1y"])))
def test_series_steps(value: Any) -> None:
    try:
        parse_every(value)
    except Exception as exc:
        expect_typed(exc, "every", InvalidRange, InputError)


@FAST
@given(st.one_of(st.none(), hostile_text, st.sampled_from(["15s", "1M", " 1h ", "5m"])),
       moments, st.integers(min_value=0, max_value=10**8))
def test_allium_granularities(value: str | None, start: datetime, span: int) -> None:
    now = datetime(2100, 1, 2, tzinfo=UTC)
    try:
        check_granularity(value, start, start + timedelta(seconds=span), now)
    except Exception as exc:
        expect_typed(exc, "granularity", InvalidRange, InputError)


# --------------------------------------------------------------------------- configuration

INFO = ProviderInfo(
    name="venue", title="Venue", base_url="https://api.venue.example/v1",
    networks={"mainnet": "https://api.venue.example/v1", "testnet": "https://t.example/v1"},
    credentials=(Credential(header="X-Key", name="api_key", required=False),),
    options=(Option(name="page_size", default=100, description="rows"),
             Option(name="trades", default=True, description="trades"),
             Option(name="mode", default="fast", description="how", choices=("fast", "safe"))),
)

toml_scalar = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)
toml_value = st.one_of(toml_scalar, st.lists(toml_scalar, max_size=3),
                       st.dictionaries(st.sampled_from(["requests", "per_seconds", "x"]),
                                       toml_scalar, max_size=2))


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"


@FAST
@given(st.dictionaries(st.sampled_from(["allow", "block", "timeout", "attempts", "nosuch"]),
                       toml_value, max_size=3),
       st.dictionaries(st.sampled_from(["base_url", "network", "rate_limit", "timeout",
                                        "api_key", "page_size", "trades", "mode", "other"]),
                       toml_value, max_size=4),
       st.dictionaries(st.sampled_from(["ASOF_TIMEOUT", "ASOF_ATTEMPTS", "ASOF_ALLOW",
                                        "ASOF_VENUE_NETWORK", "ASOF_VENUE_RATE_LIMIT",
                                        "ASOF_VENUE_PAGE_SIZE", "ASOF_VENUE_BASE_URL"]),
                       hostile_text, max_size=3))
def test_configuration_values(tmp_path_factory: pytest.TempPathFactory, main: dict[str, Any],
                              provider: dict[str, Any], env: dict[str, str]) -> None:
    lines = ["[asof]", *(f"{k} = {_toml(v)}" for k, v in main.items()),
             "[providers.venue]", *(f"{k} = {_toml(v)}" for k, v in provider.items())]
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    try:
        config = load_config(path, env={k: v.replace("\x00", "") for k, v in env.items()})
        config.check_provider_tables(["venue"])
        config.check_provider(INFO)
        config.network(INFO)
    except Exception as exc:
        expect_typed(exc, None, ConfigError, mentions=("[asof]", "venue", "ASOF_", str(path)))


# --------------------------------------------------------------------------- import lines

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10),
                      st.sampled_from(["balance_change", "holdings_point", "coverage"]))
json_data = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


@FAST
@given(st.one_of(
    hostile_text,
    json_data.map(json.dumps),
    st.dictionaries(st.sampled_from(["kind", "wallet", "token", "balance", "block",
                                     "provenance"]), json_data, max_size=6).map(json.dumps),
    st.integers(min_value=1, max_value=6).map(lambda n: "[" * (10_000 * n) + "]" * (10_000 * n)),
    st.just('{"kind": "balance_change", "balance": {"raw": ' + "7" * 5000 + "}}"),
))
def test_import_lines(line: str) -> None:
    try:
        list(read_records(io.StringIO(line.replace("\n", " ") + "\n"), source="in.jsonl"))
    except Exception as exc:
        expect_typed(exc, None, ImportRecordError, mentions=("in.jsonl",))


@FAST
@given(st.dictionaries(st.sampled_from(["kind", "wallet", "balance.raw", "block.timestamp",
                                        "provenance.echo", "token.decimals"]),
                       hostile_text, max_size=6))
def test_import_csv_rows(row: dict[str, str]) -> None:
    if not row:
        return
    header = list(row)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerow([row[h].replace("\x00", "") for h in header])
    try:
        list(read_records(io.StringIO(text.getvalue()), fmt="csv", source="in.csv"))
    except Exception as exc:
        expect_typed(exc, None, ImportRecordError)


# --------------------------------------------------------------------------- CLI arguments

COMMANDS = [
    ["balance-at", "{a}", "{b}", "--at", "{c}"],
    ["history", "{a}", "--from", "{b}", "--to", "{c}"],
    ["holdings", "{a}", "--from", "{b}", "--to", "{c}", "-g", "{b}"],
    ["ledger", "{a}", "--from", "{b}", "--type", "{c}"],
    ["route", "{a}", "{b}"],
    ["series", "{a}", "{b}", "--from", "{c}", "--to", "{c}", "--every", "{b}"],
]
cli_text = st.one_of(hostile_text.map(lambda t: t.replace("\x00", "")),
                     st.sampled_from([f"solana:{WALLET}", f"pacifica:{WALLET}", f"eth:{EVM}",
                                      f"eth:{EVM.swapcase()}", "USDC", "2025-01-10",
                                      "slot:1", "balance_at", "--help", "-v", "1h"]))


def _runner_state(home: Path) -> CliState:
    """A client holding only the in-memory test provider, with an empty configuration."""
    return CliState(client_factory=lambda _state: AsyncClient(
        plugins={"memory": memory_plugin}, env={"XDG_CONFIG_HOME": str(home)}, archive=False))


@FAST
@given(st.sampled_from(COMMANDS), cli_text, cli_text, cli_text)
def test_cli_arguments(tmp_path_factory: pytest.TempPathFactory, template: list[str],
                       a: str, b: str, c: str) -> None:
    home = tmp_path_factory.mktemp("home")
    args = [part.format(a=a, b=b, c=c) if "{" in part else part for part in template]
    result = CliRunner().invoke(cli, args, obj=_runner_state(home))
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert "Traceback" not in result.output
    assert "unexpected" not in result.stderr, (args, result.stderr)


# ---------------------------------------------------------------- bulk rows and files

_CELL = st.one_of(st.text(max_size=60), st.integers(), st.none(), st.floats(),
                  st.sampled_from(["solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz",
                                   "USDC", "SOL", "2025-01-10", "slot:313000000", "eth:0x1"]))


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.tuples(_CELL, _CELL, _CELL),
                 st.dictionaries(st.sampled_from(["wallet", "token", "at", "x"]), _CELL),
                 st.lists(_CELL, max_size=4), _CELL))
def test_a_bulk_row_is_a_query_or_a_typed_error(row: Any) -> None:
    from asof.bulk import to_query

    failure: AsofError | None = None
    try:
        to_query(row)
    except AsofError as exc:  # typed (the bulk row carries it); nothing else escapes
        failure = exc
    assert failure is None or str(failure)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_an_input_file_is_rows_or_a_typed_error(tmp_path: Path, text: str) -> None:
    from asof.cli.bulk_cmds import read_rows

    path = tmp_path / "input.txt"
    path.write_text(text, encoding="utf-8")
    failure: InputError | None = None
    try:
        for row in read_rows(str(path), ("wallet",)):
            assert isinstance(row, dict)
    except InputError as exc:
        failure = exc
    assert failure is None or failure.field == "input"
