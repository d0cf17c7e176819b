"""The five wrong answers of issue 8, each against a model world whose truth is known.

The providers are the real Allium and Helius plugins talking to a fake server
(:mod:`.world`) that answers as their documents say; the true balance comes from the
model's transactions alone. Call counts are read from the server's log.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner

from asof import hookimpl
from asof.archive import Archive
from asof.archive.pull import pull
from asof.cli.app import cli
from asof.cli.common import CliState
from asof.client import AsyncClient
from asof.context import ProviderContext
from asof.errors import NoRoute
from asof.provider import ProviderInfo
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import (
    Amount,
    BalanceAt,
    BalanceChange,
    BlockRef,
    Capability,
    ChainSupport,
    HistoryItem,
    HistoryScope,
    Page,
    Point,
    Provenance,
    Wallet,
)
from asof.testing.client import credential_env, load_plugin, plugin_info
from asof.tokens import native_token, resolve_token
from asof.transport import MockTransport

from .world import USDC, World, config_file, frozen

NOW = datetime(2025, 6, 1, tzinfo=UTC)
W = Wallet(chain="solana", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz")
A = "TokenAccountA111111111111111111111111111111"
B = "TokenAccountB111111111111111111111111111111"


def when(day: int, hour: int = 0, minute: int = 0, month: int = 4) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def make_client(world: World, tmp_path: Path, names: Iterable[str], *,
                archive: Archive | None = None, extra: dict[str, object] | None = None,
                ) -> AsyncClient:
    plugins: dict[str, object] = {name: load_plugin(name) for name in names}
    plugins.update(extra or {})
    env: dict[str, str] = {}
    for name, module in plugins.items():
        if name in ("allium", "helius", "pacifica"):
            env.update(credential_env(plugin_info(module)))
    return AsyncClient(config_file(tmp_path, archive=None),
                       http_transport=MockTransport(world.handler), plugins=plugins,
                       env=env, archive=archive if archive is not None else False,
                       clock=frozen(NOW))


def history(start: datetime | None, end: datetime) -> HistoryQuery:
    return HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(W,), start=start,
                        end=end)


async def ask(client: AsyncClient, at: datetime, token: Any = "USDC") -> BalanceAt:
    return await client.balance_at(W, token, at)


# ------------------------------------------------------------------- 1: 155 USDC


def two_accounts(world: World) -> None:
    world.add(W, USDC, A, when(1), 100_000_000)  # A last changes before the window
    world.add(W, USDC, B, when(5), 30_000_000)
    world.add(W, USDC, B, when(10, 0, 10), 55_000_000)


def test_a_partial_sync_does_not_give_a_wrong_derived_balance(tmp_path: Path) -> None:
    world = World()
    two_accounts(world)
    moment = when(10, 0, 30)
    assert world.truth(W, USDC, moment) == 155_000_000

    async def run() -> tuple[BalanceAt, list[Any]]:
        with Archive(tmp_path / "a.sqlite", clock=frozen(NOW)) as archive:
            async with make_client(world, tmp_path, ["allium"], archive=archive) as client:
                await pull(client, history(when(10), when(11)))
                series = archive.series(W, USDC, start=when(10), end=when(11), every="1h")
                assert archive.balance_at(W, USDC, moment) is None  # not proven
                return await ask(client, moment), series

    answer, series = anyio.run(run)
    assert answer.amount.raw == 155_000_000
    # the window did not prove it: Allium's derived balance_at pulled the history from
    # the beginning into the archive, which then proved it
    assert answer.provenance.archived
    assert answer.provenance.provider == "allium"
    assert all(point.amount is None for point in series)  # unknown, never 130 or 55


def test_offline_the_error_names_the_missing_coverage_and_the_sync(tmp_path: Path) -> None:
    world = World()
    two_accounts(world)

    async def run() -> None:
        with Archive(tmp_path / "a.sqlite", clock=frozen(NOW)) as archive:
            async with make_client(world, tmp_path, ["allium"], archive=archive) as client:
                await pull(client, history(when(10), when(11)))
        with Archive(tmp_path / "a.sqlite", clock=frozen(NOW)) as archive:
            async with make_client(world, tmp_path, [], archive=archive) as offline:
                await ask(offline, when(10, 0, 30))

    with pytest.raises(NoRoute) as caught:
        anyio.run(run)
    message = str(caught.value)
    assert "window without opening balances" in message
    assert f"asof sync {W}" in message


def test_a_sync_from_the_beginning_proves_it(tmp_path: Path) -> None:
    world = World()
    two_accounts(world)

    async def run() -> BalanceAt:
        with Archive(tmp_path / "a.sqlite", clock=frozen(NOW)) as archive:
            async with make_client(world, tmp_path, ["allium"], archive=archive) as client:
                await pull(client, history(None, when(11)))
                before = world.calls("/api/")
                found = await ask(client, when(10, 0, 30))
                assert world.calls("/api/") == before  # answered offline
                return found

    answer = anyio.run(run)
    assert answer.amount.raw == 155_000_000
    assert answer.provenance.archived


# ------------------------------------------------------------------- 2: 2 ETH

E = Wallet(chain="ethereum", address="0x8e0e6fbaf18f209916bb7c5960a70d6bb5760938")
ETH = native_token("ethereum")
EUSDC = resolve_token("ethereum", "USDC")


class Erc20Logs:
    """A node-like provider: its history is built from ERC-20 Transfer logs (no native
    coin), its balance_at reads state directly. The model: 2 ETH, USDC moves twice."""

    def __init__(self, name: str, scope: HistoryScope | None) -> None:
        self.name = name
        self.scope = scope
        self.calls = 0

    @hookimpl
    def provider_info(self) -> ProviderInfo:
        return ProviderInfo(name=self.name, title="ERC-20 logs",
                            base_url="https://logs.invalid")

    @hookimpl
    def supported_chains(self) -> Iterable[ChainSupport]:
        return [ChainSupport(provider=self.name, chain="ethereum",
                             capabilities=(Capability.BALANCE_HISTORY, Capability.BALANCE_AT),
                             history_scope=self.scope)]

    @hookimpl
    async def history_page(self, ctx: ProviderContext, query: HistoryQuery,
                           cursor: str | None) -> Page[HistoryItem] | None:
        items = tuple(
            BalanceChange(wallet=E, token=EUSDC, token_account=None,
                          balance=Amount(raw=raw, decimals=6),
                          block=BlockRef(number=n, timestamp=when(day), index=0,
                                         transaction=f"0x{n:064x}"),
                          provenance=Provenance(provider=self.name))
            for n, (day, raw) in enumerate([(2, 5_000_000), (6, 7_000_000)], start=100))
        return Page(items=items, cursor=None)

    @hookimpl
    async def balance_at(self, ctx: ProviderContext, query: BalanceQuery) -> BalanceAt:
        self.calls += 1
        raw = 2 * 10**18 if query.token.is_native else 7_000_000
        return BalanceAt(wallet=query.wallet, token=query.token,
                         amount=Amount(raw=raw, decimals=query.token.decimals),
                         requested=query.point, as_of=BlockRef(number=150),
                         provenance=Provenance(provider=self.name))


@pytest.mark.parametrize("scope", [HistoryScope(native=False, standards=("erc20",)), None],
                         ids=["declared", "undeclared"])
def test_a_token_only_history_does_not_poison_the_native_coin(
    tmp_path: Path, scope: HistoryScope | None,
) -> None:
    plugin = Erc20Logs("erc20logs", scope)

    async def run() -> tuple[BalanceAt, BalanceAt, Any]:
        with Archive(tmp_path / "a.sqlite", clock=frozen(NOW)) as archive:
            async with make_client(World(), tmp_path, [], archive=archive,
                                   extra={"erc20logs": plugin}) as client:
                await pull(client, HistoryQuery(capability=Capability.BALANCE_HISTORY,
                                                wallets=(E,), start=None, end=when(20)))
                eth = await client.balance_at(E, "ETH", when(10))
                usdc = await client.balance_at(E, "USDC", when(10))
                series = archive.series(E, ETH, start=when(8), end=when(10))
                return eth, usdc, series

    eth, usdc, series = anyio.run(run)
    assert eth.amount.raw == 2 * 10**18  # never "0 ETH, archived"
    assert not eth.provenance.archived
    assert usdc.amount.raw == 7_000_000
    assert usdc.provenance.archived
    assert [p.amount for p in series] == [None, None]
    assert plugin.calls == 1  # only the ETH question reached the provider


# ------------------------------------------------------------------- 3: 150 USDC


def one_mint_two_accounts(world: World) -> None:
    world.add(W, USDC, A, when(1), 100_000_000)
    world.add(W, USDC, B, when(3), 50_000_000)  # Helius reads this account only


@pytest.mark.parametrize("order", ["ask-then-sync", "sync-then-ask"])
def test_a_complete_history_beats_an_undercounting_answer(tmp_path: Path, order: str) -> None:
    world = World()
    one_mint_two_accounts(world)
    moment = when(20)
    assert world.truth(W, USDC, moment) == 150_000_000
    assert world.helius_view(W, USDC, moment)[0] == 50_000_000

    async def run() -> tuple[BalanceAt | None, BalanceAt]:
        first = None
        with Archive(tmp_path / "a.sqlite", clock=frozen(NOW)) as archive:
            async with make_client(world, tmp_path, ["allium", "helius"],
                                   archive=archive) as client:
                if order == "ask-then-sync":
                    first = await ask(client, moment)  # Helius, stored with its caveat
                await pull(client, history(None, when(30)))
                return first, await ask(client, moment)

    first, answer = anyio.run(run)
    assert answer.amount.raw == 150_000_000
    assert answer.provenance.archived
    assert answer.provenance.provider == "allium"
    if first is not None:
        assert first.amount.raw == 50_000_000
        assert first.provenance.provider == "helius"
        assert any("undercounted" in c for c in first.provenance.caveats)
        # The disagreement is in the provenance, with both values and sources.
        assert any("50 USDC from helius" in c for c in answer.provenance.caveats)


# ------------------------------------------------------------------- 4: paid calls


def predicted_calls(world: World, points: list[datetime]) -> int:
    """The stated rule, on the model: a point costs a call unless an answer already
    stored at P with as_of S vouches for it (S <= point <= P)."""
    vouched: list[tuple[datetime | None, datetime]] = []
    calls = 0
    for point in points:
        if any((s is None or s <= point) and point <= p for s, p in vouched):
            continue
        calls += 1
        _, tx = world.helius_view(W, USDC, point)
        vouched.append((None if tx is None else tx.time, point))
    return calls


@pytest.mark.parametrize("newest_first", [True, False], ids=["newest-first", "oldest-first"])
def test_a_stored_answer_vouches_only_for_as_of_to_its_point(
    tmp_path: Path, newest_first: bool,
) -> None:
    world = World()
    for day, raw in [(3, 10), (40, 20), (41, 25), (90, 5), (200, 70)]:
        world.add(W, USDC, A, datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=day), raw)
    days = [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=d) for d in range(0, 150)]
    points = sorted(days, reverse=newest_first)

    async def run() -> list[BalanceAt]:
        with Archive(tmp_path / "a.sqlite", clock=frozen(NOW)) as archive:
            async with make_client(world, tmp_path, ["helius"], archive=archive) as client:
                return [await ask(client, p) for p in points]

    answers = anyio.run(run)
    # Every answer is what Helius would answer at that very point (the wallet has one
    # account, so it is also the truth), whichever stored answer vouched for it.
    for point, answer in zip(points, answers, strict=True):
        assert answer.amount.raw == world.truth(W, USDC, point), point
    assert world.calls("/v1/wallet/") == predicted_calls(world, points)


# ------------------------------------------------------------------- 5: one order


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "table"])
def test_holdings_come_newest_first_live_and_archived(tmp_path: Path, fmt: str) -> None:
    world = World()
    world.add(W, USDC, A, when(1, month=5), 10_000_000)
    world.add(W, USDC, A, when(3, month=5), 30_000_000)
    archive_path = tmp_path / "a.sqlite"

    def factory(state: CliState) -> AsyncClient:
        archive = Archive(archive_path, clock=frozen(NOW))
        return make_client(world, tmp_path, ["allium"], archive=archive)

    args = ["holdings", str(W), "--from", "2025-05-01", "--to", "2025-05-05",
            "--granularity", "1d", "--format", fmt]
    live = CliRunner().invoke(cli, args, obj=CliState(client_factory=factory))
    assert live.exit_code == 0, live.output
    calls = world.calls("/api/")
    archived = CliRunner().invoke(cli, args, obj=CliState(client_factory=factory))
    assert archived.exit_code == 0, archived.output
    assert world.calls("/api/") == calls  # the second answer came from the archive
    # The same records in the same order; only the archived flag tells them apart.
    if fmt == "csv":
        rows = [dict(r, **{"provenance.archived": "false"})
                for r in csv.DictReader(io.StringIO(archived.stdout))]
        assert any(r["provenance.archived"] == "true"
                   for r in csv.DictReader(io.StringIO(archived.stdout)))
        assert rows == list(csv.DictReader(io.StringIO(live.stdout)))
    else:
        marked = archived.stdout.replace('"archived": true', '"archived": false')
        assert marked.replace('"archived":true', '"archived":false') == live.stdout
    stamps = [s for s in ("2025-05-04", "2025-05-03", "2025-05-02", "2025-05-01")
              if s in live.stdout]
    assert stamps == ["2025-05-04", "2025-05-03", "2025-05-02", "2025-05-01"]
    positions = [live.stdout.index(s) for s in stamps]
    assert positions == sorted(positions)  # newest first
    if fmt == "json":
        assert [p["timestamp"][:10] for p in json.loads(live.stdout)] == stamps


def test_point_round_trip_of_the_fake_server() -> None:
    """The fake Helius answers as its document says (guards the model itself)."""
    world = World()
    one_mint_two_accounts(world)
    raw, tx = world.helius_view(W, USDC, when(2))
    assert (raw, tx is not None and tx.account) == (100_000_000, A)
    assert world.helius_view(W, USDC, datetime(2024, 1, 1, tzinfo=UTC)) == (0, None)
    assert Point(time=when(2)).time == when(2)


def test_route_explains_why_the_archive_cannot_answer_one_question(tmp_path: Path) -> None:
    world = World()
    two_accounts(world)
    archive_path = tmp_path / "a.sqlite"

    async def sync() -> None:
        with Archive(archive_path, clock=frozen(NOW)) as archive:
            async with make_client(world, tmp_path, ["allium"], archive=archive) as client:
                await pull(client, history(when(10), when(11)))

    anyio.run(sync)

    def factory(state: CliState) -> AsyncClient:
        return make_client(world, tmp_path, ["allium", "helius"],
                           archive=Archive(archive_path, clock=frozen(NOW)))

    base = ["route", "solana", "balance_at", "--format", "json"]
    plain = json.loads(CliRunner().invoke(cli, base, obj=CliState(
        client_factory=factory)).stdout)
    helius = next(s for s in plain["steps"] if s["provider"] == "helius")
    assert "may undercount" in helius["reason"]
    asked = CliRunner().invoke(cli, [*base, "--wallet", W.address, "--token", "USDC",
                                     "--at", "2025-04-10T00:30Z"],
                               obj=CliState(client_factory=factory))
    assert asked.exit_code == 0, asked.output
    doc = json.loads(asked.stdout)
    archive_step = doc["steps"][0]
    assert archive_step["archive"] is True
    assert archive_step["usable"] is False
    assert "window without opening balances" in archive_step["reason"]
    assert doc["archive"] is False
    assert doc["question"]["token"] == USDC.address
    proven = CliRunner().invoke(cli, [*base, "--wallet", W.address, "--token", "USDC",
                                      "--at", "2025-04-10T00:05Z", "--at", "x"],
                                obj=CliState(client_factory=factory))
    assert proven.exit_code != 0  # a bad point is a usage error, one line
    missing = CliRunner().invoke(cli, [*base, "--wallet", W.address],
                                 obj=CliState(client_factory=factory))
    assert missing.exit_code != 0
    assert "together" in missing.output
