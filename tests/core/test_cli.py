"""The ``asof`` command line: plugins, chains, route, balance-at, formats and errors.

Every test runs the real command group through click's ``CliRunner`` with a client built
from plugins defined here (answering from memory, or through a ``MockTransport``), so
nothing reaches the network and no installed plugin is involved.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from asof import hookimpl, wire
from asof.cli import main as cli_entry
from asof.cli.app import COMMAND_MODULES, cli
from asof.cli.common import EXIT_CODES, CliState
from asof.client import AsyncClient
from asof.context import ProviderContext
from asof.errors import ProviderRequestError
from asof.provider import Credential, ProviderInfo
from asof.queries import BalanceQuery
from asof.records import (
    NATIVE_SOL_MINT,
    Amount,
    BalanceAt,
    BlockRef,
    Capability,
    ChainSupport,
    Cost,
    Point,
    Provenance,
    SupportStatus,
)
from asof.tokens import resolve_token
from asof.transport import MockTransport, Request, Response

WALLET = "GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
EVM_WALLET = "0xd8da6bf26964af9d7eed9e03e53415d37aa96045"
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
REFUSED_WALLET = "0x" + "cd" * 20
SECRET = "sekrit-key-4242"
BIG_RAW = 2**64 + 12345  # above every fixed-width integer


class MemoryProvider:
    """A direct balance_at provider on Solana and Ethereum; no credential needed.

    It records every query it is asked; wallets listed in ``empty`` have no activity.
    """

    name = "memo"

    def __init__(self, *, empty: Iterable[str] = (), fail: Exception | None = None) -> None:
        self.queries: list[BalanceQuery] = []
        self.empty = set(empty)
        self.fail = fail

    @hookimpl
    def provider_info(self) -> ProviderInfo:
        return ProviderInfo(
            name=self.name, title="Memory", base_url="https://memo.invalid",
            credentials=(Credential(header="X-Memo-Key", env=("MEMO_KEY",), required=False),),
            cost=Cost(amount=Decimal(1), unit="credits"))

    @hookimpl
    def supported_chains(self) -> Iterable[ChainSupport]:
        return [
            ChainSupport(provider=self.name, chain="solana",
                         capabilities=(Capability.BALANCE_AT,), preference=10,
                         cost=Cost(amount=Decimal(1), unit="credits")),
            ChainSupport(provider=self.name, chain="ethereum",
                         capabilities=(Capability.BALANCE_AT, Capability.BALANCE_HISTORY),
                         derived=(Capability.BALANCE_AT,), status=SupportStatus.BETA,
                         note="derived from its history"),
        ]

    @hookimpl
    async def balance_at(self, ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
        self.queries.append(query)
        if self.fail is not None:
            raise self.fail
        if query.wallet.address in self.empty:
            return BalanceAt(wallet=query.wallet, token=query.token,
                             amount=Amount(raw=0, decimals=query.token.decimals),
                             requested=query.point, as_of=None,
                             provenance=Provenance(provider=ctx.provider))
        derived = query.chain == "ethereum"
        return BalanceAt(
            wallet=query.wallet, token=query.token,
            amount=Amount(raw=BIG_RAW, decimals=query.token.decimals),
            requested=query.point,
            as_of=BlockRef(number=313_000_000, timestamp=datetime(2025, 1, 9, 23, 59, 58,
                                                                  tzinfo=UTC),
                           transaction="5sigMemo", index=3),
            provenance=Provenance(provider=ctx.provider, derived=derived,
                                  source="memory lookup", caveats=("made-up data",)),
        )


class KeyedProvider:
    """Serves Solana and Base, needs an API key, asks its (mock) HTTP API for the raw
    balance; also publishes a live chain listing."""

    name = "keyed"

    @hookimpl
    def provider_info(self) -> ProviderInfo:
        return ProviderInfo(
            name=self.name, title="Keyed", base_url="https://keyed.invalid",
            credentials=(Credential(header="X-Api-Key", env=("KEYED_API_KEY",)),),
            cost=Cost(amount=Decimal(100), unit="credits"),
        )

    @hookimpl
    def supported_chains(self) -> Iterable[ChainSupport]:
        return [
            ChainSupport(provider=self.name, chain="solana",
                         capabilities=(Capability.BALANCE_AT,), preference=5,
                         cost=Cost(amount=Decimal(100), unit="credits")),
            ChainSupport(provider=self.name, chain="base", capabilities=(Capability.BALANCE_AT,)),
        ]

    @hookimpl
    async def discover_chains(self, ctx: ProviderContext) -> list[ChainSupport]:
        data = await ctx.http.get("/chains")
        return [ChainSupport(provider=self.name, chain=name,
                             capabilities=(Capability.BALANCE_AT,)) for name in data["chains"]]

    @hookimpl
    async def balance_at(self, ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
        data = await ctx.http.get(f"/balance/{query.wallet.address}")
        return BalanceAt(
            wallet=query.wallet, token=query.token,
            amount=Amount(raw=int(data["raw"]), decimals=query.token.decimals),
            requested=query.point, as_of=None,
            provenance=Provenance(provider=ctx.provider, source="GET /balance"),
        )


class BareProvider:
    """Declares one chain and needs no credential at all."""

    @hookimpl
    def provider_info(self) -> ProviderInfo:
        return ProviderInfo(name="bare", title="Bare", base_url="https://bare.invalid")

    @hookimpl
    def supported_chains(self) -> Iterable[ChainSupport]:
        return [ChainSupport(provider="bare", chain="tron", capabilities=(Capability.BALANCE_AT,))]


class BrokenProvider:
    """Implements no required hook: refused at load with a reason."""

    @hookimpl
    async def balance_at(self, ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
        return None


def keyed_api(request: Request) -> Response:
    """The keyed provider's HTTP API: 401 without the key, 400 for REFUSED_WALLET."""
    if request.headers.get("X-Api-Key") != SECRET:
        return Response(401, json={"error": "invalid api key"})
    if request.url.path == "/chains":
        return Response(200, json={"chains": ["solana", "base", "arbitrum"]})
    if request.url.path.endswith(REFUSED_WALLET):
        return Response(400, json={"error": "wallet is not supported here"})
    return Response(200, json={"raw": "1500000"})


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment that points every per-user directory into the test's folder."""
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }


Invoke = Callable[..., Result]


@pytest.fixture
def memo() -> MemoryProvider:
    return MemoryProvider(empty={EVM_WALLET})


@pytest.fixture
def run(env: dict[str, str], memo: MemoryProvider) -> Invoke:
    """Run ``asof ARGS`` with the memory, keyed and broken plugins (no key unless the
    test passes ``key=True``)."""

    def invoke(*args: str, key: bool = False, plugins: Mapping[str, object] | None = None,
               extra_env: Mapping[str, str] | None = None) -> Result:
        environ = {**env, **(extra_env or {})}
        if key:
            environ["KEYED_API_KEY"] = SECRET
        chosen = plugins if plugins is not None else {
            "memo": memo, "keyed": KeyedProvider(), "broken": BrokenProvider()}

        def factory(state: CliState) -> AsyncClient:
            return AsyncClient(state.config, plugins=chosen, env=environ, archive=False,
                               http_transport=MockTransport(keyed_api))

        return CliRunner().invoke(cli, list(args), obj=CliState(client_factory=factory))

    return invoke


def assert_user_error(result: Result, code: int, *needles: str) -> str:
    """One line on stderr starting ``asof: error:``, the exit code, no traceback."""
    assert result.exit_code == code, (result.output, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("asof: error: ")
    assert "Traceback" not in result.output
    assert result.stdout == ""
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------------------- group


def test_every_module_contributes_distinct_commands() -> None:
    names = [c.name for m in COMMAND_MODULES for c in m.COMMANDS]
    assert len(names) == len(set(names))
    for name in ("plugins", "chains", "route", "balance-at"):
        assert name in cli.commands


DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_every_command_and_exit_code_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"\n## asof {name}\n" in text, name
    for code in EXIT_CODES:
        assert f"\n| {code} | " in text, code
    for fmt in ("table", "json", "jsonl", "csv"):
        assert f"| `{fmt}`" in text


@pytest.mark.parametrize("command", ["", "plugins", "chains", "route", "balance-at"])
def test_help(command: str) -> None:
    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Usage: asof" in result.stdout
    if command:
        assert "--format" in result.stdout


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert "asof, version" in result.stdout


def test_unknown_command_and_option_are_one_line_usage_errors() -> None:
    line = assert_user_error(CliRunner().invoke(cli, ["nope"]), 2, "nope")
    assert "asof --help" in line
    assert_user_error(CliRunner().invoke(cli, ["plugins", "--bogus"]), 2, "--bogus",
                      "asof plugins --help")
    assert_user_error(CliRunner().invoke(cli, ["plugins", "--format", "xml"]), 2, "xml")


def test_no_arguments_shows_help() -> None:
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 2
    assert "Usage: asof" in result.stderr
    assert "balance-at" in result.stderr


def test_main_without_standalone_mode_returns_the_code() -> None:
    assert cli_entry(["--version"], standalone_mode=False) == 0
    assert cli_entry(["route", "nowhere", "balance_at"], standalone_mode=False) == 2


def test_missing_config_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = CliRunner().invoke(cli, ["--config", str(missing), "plugins"])
    assert_user_error(result, 2, "nope.toml", "does not exist")


def test_config_from_the_environment_variable(tmp_path: Path) -> None:
    missing = tmp_path / "from-env.toml"
    result = CliRunner().invoke(cli, ["chains"], env={"ASOF_CONFIG": str(missing)})
    assert_user_error(result, 2, "from-env.toml")


def test_bad_config_file_is_a_usage_error(run: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[asof\n", encoding="utf-8")
    assert_user_error(run("--config", str(bad), "plugins"), 2, "not valid TOML")


# ---------------------------------------------------------------------------- plugins


def test_plugins_table(run: Invoke) -> None:
    result = run("plugins")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for text in ("memo", "keyed", "broken", "loaded", "invalid", "balance_at",
                 "set ASOF_KEYED_API_KEY or KEYED_API_KEY", "does not implement required"):
        assert text in out, text


def test_plugins_json(run: Invoke) -> None:
    result = run("plugins", "--format", "json", key=True)
    assert result.exit_code == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["memo"]["state"] == "loaded"
    assert rows["memo"]["capabilities"] == ["balance_at", "balance_history"]
    assert rows["memo"]["chains"] == ["ethereum", "solana"]
    assert rows["memo"]["credentials"] == "optional api_key: set ASOF_MEMO_API_KEY or MEMO_KEY"
    assert rows["keyed"]["credentials"] == "ok"
    assert rows["broken"]["state"] == "invalid"
    assert "provider_info" in rows["broken"]["error"]
    assert rows["broken"]["credentials"] is None
    assert SECRET not in result.stdout + result.stderr


def test_plugins_credential_states(run: Invoke) -> None:
    result = run("plugins", "--format", "json", plugins={"memo": MemoryProvider(),
                                                         "bare": BareProvider()},
                 extra_env={"MEMO_KEY": SECRET})
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["bare"]["credentials"] == "none needed"
    assert rows["memo"]["credentials"] == "ok"
    assert SECRET not in result.stdout + result.stderr


def test_plugins_jsonl_and_csv(run: Invoke) -> None:
    lines = run("plugins", "--format", "jsonl").stdout.splitlines()
    assert sorted(json.loads(line)["name"] for line in lines) == ["broken", "keyed", "memo"]
    rows = csv_rows(run("plugins", "--format", "csv").stdout)
    assert list(rows[0]) == ["plugin", "distribution", "version", "state", "capabilities",
                             "chains", "credentials", "error"]
    memo_row = next(row for row in rows if row["plugin"] == "memo")
    assert memo_row["capabilities"] == "balance_at, balance_history"
    assert memo_row["chains"] == "2"


# ---------------------------------------------------------------------------- chains


def test_chains_table(run: Invoke) -> None:
    result = run("chains")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for chain in ("solana", "ethereum", "base"):
        assert chain in out
    assert "balance_at (derived)" in out
    assert "beta" in out
    assert "100 credits per call" in out
    assert "bitcoin" not in out


def test_chains_json_rows(run: Invoke) -> None:
    rows = json.loads(run("chains", "--format", "json").stdout)
    pairs = [(row["chain"], row["provider"]) for row in rows]
    assert pairs == sorted(pairs)
    eth = next(row for row in rows if row["chain"] == "ethereum")
    assert eth == {"chain": "ethereum", "provider": "memo",
                   "capabilities": ["balance_at", "balance_history"], "derived": ["balance_at"],
                   "status": "beta", "cost": None, "preference": 0,
                   "note": "derived from its history"}


def test_chains_all_lists_chains_nobody_serves(run: Invoke) -> None:
    rows = csv_rows(run("chains", "--all", "--format", "csv").stdout)
    bitcoin = next(row for row in rows if row["chain"] == "bitcoin")
    assert bitcoin["provider"] == ""
    assert bitcoin["note"] == "no provider installed"


def test_chains_refresh_reports_on_stderr_and_uses_the_listing(run: Invoke) -> None:
    result = run("chains", "--refresh", "--format", "json", key=True)
    assert result.exit_code == 0, result.stderr
    assert "keyed: 3 chain declarations cached" in result.stderr
    rows = json.loads(result.stdout)  # stdout stays clean JSON
    assert ("arbitrum", "keyed") in [(row["chain"], row["provider"]) for row in rows]
    assert SECRET not in result.stdout + result.stderr


def test_chains_refresh_without_the_key_says_what_to_set(run: Invoke) -> None:
    result = run("chains", "--refresh")
    assert result.exit_code == 0
    assert "keyed: skipped" in result.stderr
    assert "KEYED_API_KEY" in result.stderr


# ---------------------------------------------------------------------------- route


def test_route_table_explains_the_missing_key(run: Invoke) -> None:
    result = run("route", "solana", "balance_at")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "memo answers balance_at on solana" in out
    assert "set ASOF_KEYED_API_KEY or KEYED_API_KEY" in out
    assert "broken" in out


def test_route_json(run: Invoke) -> None:
    doc = json.loads(run("route", "sol", "balance-at", "--format", "json", key=True).stdout)
    assert doc["chain"] == "solana"
    assert doc["capability"] == "balance_at"
    assert doc["answers"] == "memo"
    assert doc["archive"] is False
    usable = [(s["order"], s["provider"]) for s in doc["steps"] if s["usable"]]
    assert usable == [(1, "memo"), (2, "keyed")]
    assert doc["steps"][1]["cost"] == "100 credits per call"


class FakeArchive:
    """Covers nothing: the router asks it first and goes on."""

    def lookup_balance(self, query: object) -> None:
        return None

    def record_balance(self, answer: object, **kwargs: object) -> None:
        pass

    def explain_balance(self, query: object) -> tuple[bool, list[str]]:
        return False, ["covers nothing"]

    def lookup_history(self, query: object) -> None:
        return None

    def record_page(self, *args: object, **kwargs: object) -> None:
        pass

    def complete_history(self, *args: object, **kwargs: object) -> None:
        pass


@pytest.mark.parametrize(
    ("plugins", "summary"),
    [
        ("memo", "the archive answers balance_at on solana where its coverage proves the "
                 "answer, otherwise memo"),
        ("", "only the archive can answer balance_at on solana, where its coverage proves "
             "the answer"),
    ],
)
def test_route_with_the_archive_first(env: dict[str, str], plugins: str, summary: str) -> None:
    chosen = {"memo": MemoryProvider()} if plugins else {}

    def factory(state: CliState) -> AsyncClient:
        return AsyncClient(plugins=chosen, env=env, archive=FakeArchive())

    result = CliRunner().invoke(cli, ["route", "solana", "balance_at"],
                                obj=CliState(client_factory=factory))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == summary
    doc = json.loads(CliRunner().invoke(cli, ["route", "solana", "balance_at", "--format",
                                              "json"], obj=CliState(client_factory=factory)
                                        ).stdout)
    assert doc["archive"] is True
    assert doc["steps"][0]["provider"] == "archive"
    assert doc["answers"] == ("memo" if plugins else None)


def test_route_follows_the_configured_preference(run: Invoke, tmp_path: Path) -> None:
    config = tmp_path / "asof.toml"
    config.write_text('[routes]\nsolana = ["keyed"]\n', encoding="utf-8")
    doc = json.loads(run("--config", str(config), "route", "solana", "balance_at",
                         "--format", "json", key=True).stdout)
    assert doc["answers"] == "keyed"


def test_route_where_nobody_can_answer(run: Invoke) -> None:
    result = run("route", "base", "balance_at")
    assert result.exit_code == 0
    assert "no provider can answer balance_at on base" in result.stdout
    rows = csv_rows(run("route", "base", "balance_at", "--format", "csv").stdout)
    keyed = next(row for row in rows if row["provider"] == "keyed")
    assert keyed["usable"] == "false"
    assert keyed["status"] == "supported"
    assert "ASOF_KEYED_API_KEY" in keyed["reason"]


def test_route_jsonl(run: Invoke) -> None:
    steps = [json.loads(line) for line in run("route", "ethereum", "balance_at",
                                              "--format", "jsonl").stdout.splitlines()]
    assert steps[0]["provider"] == "memo"
    assert steps[0]["usable"] is True


def test_route_rejects_an_unknown_chain_and_capability(run: Invoke) -> None:
    assert_user_error(run("route", "atlantis", "balance_at"), 2, "atlantis")
    assert_user_error(run("route", "solana", "prices"), 2, "prices", "balance_at")


# ---------------------------------------------------------------------------- balance-at


def test_balance_at_table(run: Invoke, memo: MemoryProvider) -> None:
    result = run("balance-at", f"solana:{WALLET}", "usdc", "--at", "2025-01-10")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"{Decimal(BIG_RAW).scaleb(-6)} USDC" in out
    assert str(BIG_RAW) in out
    assert "slot 313000000" in out
    assert "2025-01-09T23:59:58Z" in out
    assert "tx 5sigMemo #3" in out
    assert "direct" in out
    assert "memo" in out
    assert "made-up data" in out
    query = memo.queries[-1]
    assert query.token.address == USDC_MINT
    assert query.point == Point(time=datetime(2025, 1, 10, tzinfo=UTC))


def test_balance_at_json_is_exact(run: Invoke) -> None:
    result = run("balance-at", f"solana:{WALLET}", "USDC", "--at", "2025-01-10",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout, parse_float=Decimal)
    assert doc["amount"]["raw"] == str(BIG_RAW)
    assert Decimal(doc["amount"]["value"]) == Decimal(BIG_RAW).scaleb(-6)
    assert doc["as_of"]["number"] == 313_000_000
    assert doc["provenance"]["provider"] == "memo"
    assert doc["provenance"]["archived"] is False
    assert wire.from_data(BalanceAt, doc).amount.raw == BIG_RAW


def test_balance_at_jsonl_round_trips(run: Invoke) -> None:
    result = run("balance-at", f"solana:{WALLET}", "SOL", "--at", "slot:313000000",
                 "--format", "jsonl")
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    answer = wire.loads_line(lines[0])
    assert isinstance(answer, BalanceAt)
    assert answer.token.address == NATIVE_SOL_MINT
    assert answer.requested == Point(block=313_000_000)


def test_balance_at_csv(run: Invoke) -> None:
    rows = csv_rows(run("balance-at", f"solana:{WALLET}", USDC_MINT, "--at", "1736467200",
                        "--format", "csv").stdout)
    assert len(rows) == 1
    assert rows[0]["amount.raw"] == str(BIG_RAW)
    assert rows[0]["as_of.number"] == "313000000"
    assert rows[0]["requested.time"] == "2025-01-10T00:00:00Z"


def test_balance_at_offset_time_is_read_as_utc(run: Invoke, memo: MemoryProvider) -> None:
    result = run("balance-at", f"solana:{WALLET}", "USDC", "--at", "2025-01-10T12:00:00+02:00")
    assert result.exit_code == 0, result.stderr
    assert memo.queries[-1].point.time == datetime(2025, 1, 10, 10, tzinfo=UTC)
    assert "2025-01-10T10:00:00Z" in result.stdout


def test_balance_at_no_activity_is_zero(run: Invoke) -> None:
    result = run("balance-at", f"eth:{EVM_WALLET.upper().replace('0X', '0x')}", "USDC",
                 "--at", "block:21000000")
    assert result.exit_code == 0, result.stderr
    assert "no activity at or before the point (zero)" in result.stdout
    assert "block:21000000" in result.stdout
    doc = json.loads(run("balance-at", f"ethereum:{EVM_WALLET}", "usdc", "--at", "2025-01-10",
                         "--format", "json").stdout)
    assert doc["as_of"] is None
    assert doc["amount"]["raw"] == "0"


def test_balance_at_derived_answer_says_so(run: Invoke) -> None:
    wallet = "0x" + "ab" * 20
    result = run("balance-at", f"ethereum:{wallet}", "ETH", "--at", "2025-01-10")
    assert "derived from history" in result.stdout
    assert "block 313000000" in result.stdout


def test_balance_at_through_http_with_a_key(run: Invoke, memo: MemoryProvider) -> None:
    result = run("--verbose", "balance-at", f"base:{EVM_WALLET}", "USDC", "--at", "2025-01-10",
                 "--format", "json", key=True)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)  # the debug log went to stderr only
    assert Decimal(doc["amount"]["value"]) == Decimal("1.5")
    assert doc["provenance"]["provider"] == "keyed"
    assert "DEBUG" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert memo.queries == []


# ---------------------------------------------------------------------------- user errors


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["balance-at", "atlantis:abc", "USDC", "--at", "2025-01-10"], ["atlantis"]),
        (["balance-at", "solana:not-a-wallet", "USDC", "--at", "2025-01-10"],
         ["not a Solana address"]),
        (["balance-at", WALLET, "USDC", "--at", "2025-01-10"], ["CHAIN:ADDRESS"]),
        (["balance-at", f"solana:{WALLET}", "USDC", "--at", "2025-02-30"],
         ["not a real date"]),
        (["balance-at", f"solana:{WALLET}", "USDC", "--at", "yesterday-ish"], ["--at"]),
        (["balance-at", f"solana:{WALLET}", "USDC", "--at", "slot:-5"], ["negative"]),
        (["balance-at", f"solana:{WALLET}", "DOGE", "--at", "2025-01-10"],
         ["unknown token 'DOGE' on solana", "address or mint"]),
        (["balance-at", f"solana:{WALLET}", "0x1234", "--at", "2025-01-10"], ["token"]),
        (["balance-at", f"solana:{WALLET}", "USDC"], ["--at"]),
    ],
)
def test_balance_at_user_errors(run: Invoke, args: list[str], needles: list[str]) -> None:
    assert_user_error(run(*args), 2, *needles)


def test_balance_at_with_only_a_keyless_provider_explains_the_key(run: Invoke) -> None:
    line = assert_user_error(
        run("balance-at", f"base:{EVM_WALLET}", "USDC", "--at", "2025-01-10"), 1,
        "no provider could answer balance_at on base")
    assert "set ASOF_KEYED_API_KEY or KEYED_API_KEY" in line


def test_balance_at_on_a_chain_nobody_serves(run: Invoke) -> None:
    assert_user_error(run("balance-at", f"arbitrum:{EVM_WALLET}", "USDC", "--at", "2025-01-10"),
                      1, "arbitrum")


def test_provider_error_keeps_the_provider_message(run: Invoke) -> None:
    line = assert_user_error(
        run("balance-at", f"base:{REFUSED_WALLET}", "USDC", "--at", "2025-01-10", key=True), 1,
        "keyed", "HTTP 400", "wallet is not supported here")
    assert SECRET not in line


def test_multi_line_provider_message_stays_on_one_line(env: dict[str, str]) -> None:
    failing = MemoryProvider(fail=ProviderRequestError("memo", "rejected the request",
                                                       status=400,
                                                       provider_message="bad\nthing\n\nhere"))

    def factory(state: CliState) -> AsyncClient:
        return AsyncClient(plugins={"memo": failing}, env=env, archive=False)

    result = CliRunner().invoke(
        cli, ["balance-at", f"solana:{WALLET}", "USDC", "--at", "2025-01-10"],
        obj=CliState(client_factory=factory))
    assert_user_error(result, 1, "bad thing here")


def test_unexpected_error_names_its_type_and_hints_at_verbose() -> None:
    def factory(state: CliState) -> AsyncClient:
        raise RuntimeError("the disk is made of cheese")

    result = CliRunner().invoke(cli, ["plugins"], obj=CliState(client_factory=factory))
    line = assert_user_error(result, 3, "unexpected RuntimeError",
                             "the disk is made of cheese", "--verbose")
    assert line.count("asof: error:") == 1

    verbose = CliRunner().invoke(cli, ["--verbose", "plugins"],
                                 obj=CliState(client_factory=factory))
    assert verbose.exit_code == 3
    assert "Traceback" in verbose.stderr
    assert verbose.stderr.rstrip().splitlines()[-1].startswith(
        "asof: error: unexpected RuntimeError")


def test_plugin_bug_is_a_failure_not_a_traceback(env: dict[str, str]) -> None:
    failing = MemoryProvider(fail=ZeroDivisionError("oops"))

    def factory(state: CliState) -> AsyncClient:
        return AsyncClient(plugins={"memo": failing}, env=env, archive=False)

    result = CliRunner().invoke(
        cli, ["balance-at", f"solana:{WALLET}", "USDC", "--at", "2025-01-10"],
        obj=CliState(client_factory=factory))
    assert_user_error(result, 1, "plugin memo", "ZeroDivisionError")


def test_ctrl_c_exits_130() -> None:
    def factory(state: CliState) -> AsyncClient:
        raise KeyboardInterrupt

    result = CliRunner().invoke(cli, ["plugins"], obj=CliState(client_factory=factory))
    assert result.exit_code == 130
    assert "asof: error: interrupted" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_closed_pipe_ends_quietly() -> None:
    def factory(state: CliState) -> AsyncClient:
        raise BrokenPipeError

    result = CliRunner().invoke(cli, ["plugins"], obj=CliState(client_factory=factory))
    assert result.exit_code == 141
    assert result.stderr == ""


def test_verbose_logs_debug_and_is_removed_afterwards(run: Invoke) -> None:
    noisy = run("--verbose", "route", "solana", "balance_at", "--format", "json")
    assert noisy.exit_code == 0
    json.loads(noisy.stdout)
    quiet = run("route", "solana", "balance_at", "--format", "json")
    assert "DEBUG" not in quiet.stderr


@pytest.mark.parametrize("flag", ["--verbose", "-v"])
def test_verbose_after_the_command(run: Invoke, flag: str) -> None:
    result = run("balance-at", f"base:{EVM_WALLET}", "USDC", "--at", "2025-01-10",
                 "--format", "json", flag, key=True)
    assert result.exit_code == 0, result.stderr
    assert "DEBUG asof.http" in result.stderr
    assert Decimal(json.loads(result.stdout)["amount"]["value"]) == Decimal("1.5")
    assert SECRET not in result.stderr


def test_every_command_accepts_verbose() -> None:
    pending: list[tuple[str, click.Command]] = list(cli.commands.items())
    while pending:
        name, command = pending.pop()
        opts = {opt for param in command.params for opt in getattr(param, "opts", ())}
        assert "--verbose" in opts, name
        if isinstance(command, click.Group):
            pending += [(f"{name} {sub}", c) for sub, c in command.commands.items()]


def test_tokens_resolve_per_chain() -> None:
    # The CLI resolves TOKEN on the wallet's chain: USDC differs per chain.
    assert resolve_token("solana", "usdc").address == USDC_MINT
    assert resolve_token("base", "USDC").address != resolve_token("ethereum", "USDC").address


def test_commands_run_outside_the_group_report_errors_too(env: dict[str, str]) -> None:
    # A command invoked on its own (not through the group) still ends in one line.
    command = cli.commands["balance-at"]
    assert isinstance(command, click.Command)

    def factory(state: CliState) -> AsyncClient:
        return AsyncClient(plugins={}, env=env, archive=False)

    result = CliRunner().invoke(command, [f"solana:{WALLET}", "USDC", "--at", "2025-01-10"],
                                obj=CliState(client_factory=factory))
    assert result.exit_code == 1
    assert result.stderr.startswith("asof: error: no provider could answer")
