"""Bulk answers, series and sync against a rate-limited local server of a model world.

The server (:mod:`tests.cli.world_server`) speaks Allium's balances history and
Helius's balance-at as documented, answers from a :class:`World` whose truth is
computed from its transactions alone, enforces a sliding-window rate limit and logs
every request: the tests count calls and 429s from that log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from asof.archive import Archive
from asof.blocking import Client
from asof.bulk import BulkResult
from asof.client import AsyncClient
from asof.errors import InputError, RateLimited
from asof.records import Wallet
from asof.testing.client import credential_env, load_plugin, plugin_info
from tests.cli.world_server import WorldServer, busy_world, serve
from tests.core.archive.world import USDC, World, frozen

NOW = datetime(2026, 1, 1, tzinfo=UTC)
START = datetime(2025, 1, 1, tzinfo=UTC)
ADDRESSES = [
    "GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz",
    "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM",
    "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU",
    "HN7cABqLq46Es1jh92dQQisAq662SmxELLLsHHe4YWrH",
    "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1",
    "DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy",
    "3yFwqXBfZY4jBVUafQ1YEXw189y2dN3V5KQq9uzBDy1E",
    "BQcdHdAQW1hczDbBi9hiegXAR7A98Q9jx3X3iBBBDiq4",
    "CuieVDEDtLo7FypA9SbLM9saXFdb1dsshEkyErMqkRQq",
    "EJfU3A1p6NLxEBSs9Ga6NxWFoLYkU6kWAKgHHb1qSjsx",
    "Fe8TtqQwtjsFqPHY4x6QyQK6uJqTbhX3RfXvAwzL9tfu",
    "G3u9bs2i6pWqMZ4gfTEEBB3ZsrUqWiSLH5MVpLA5dE3P",
    "H8sMJSCQxfKiFTCfDR3DUMLPwcRbM61LGFJ8N4dK3WjS",
    "JD3bq9hGdy38PuWQ4h2YJpELmHVGPPfFSuFkpzAd9zfu",
    "KqPZbBDKrFdG2cAuh8w4jRCCRMJuRvGtJd3vw7tVEiYA",
    "LtJzSzVV2gGZRz7ZJkXFTJgFqvSkmLuXp7sK9k1xwEbd",
    "MangoCzJ36AjZyKwVj3VnYU4GTonjfVEnJmvvWaxLac",
]
WALLETS = [Wallet(chain="solana", address=a) for a in ADDRESSES]


def config(tmp_path: Path, server: WorldServer, *, limit: str, providers: tuple[str, ...],
           archive: bool = True, attempts: int = 3, text: str = "") -> Path:
    path = tmp_path / "asof.toml"
    archived = (f'[archive]\npath = "{tmp_path / "archive.sqlite"}"\n' if archive
                else "[archive]\nenabled = false\n")
    sections = "".join(f'[providers.{name}]\nbase_url = "{server.url}"\n'
                       f'rate_limit = "{limit}"\n\n' for name in providers)
    path.write_text(f"[asof]\nattempts = {attempts}\n\n{archived}\n{sections}{text}",
                    encoding="utf-8")
    return path


def client_for(tmp_path: Path, server: WorldServer, providers: tuple[str, ...], *,
               limit: str = "20/1s", archive: bool = True, attempts: int = 3,
               text: str = "") -> AsyncClient:
    plugins = {name: load_plugin(name) for name in providers}
    env: dict[str, str] = {}
    for module in plugins.values():
        env.update(credential_env(plugin_info(module)))
    return AsyncClient(config(tmp_path, server, limit=limit, providers=providers,
                              archive=archive, attempts=attempts, text=text),
                       plugins=plugins, env=env, clock=frozen(NOW))


@pytest.fixture
def world_server() -> Iterator[WorldServer]:
    with serve(WorldServer(World(), limit=20, per_seconds=1.0)) as server:
        yield server


def test_a_series_of_many_wallets_is_a_few_pulls_and_matches_the_truth(
        tmp_path: Path, world_server: WorldServer) -> None:
    wallets = WALLETS[:17]  # two batches at Allium's 15
    world_server.world = busy_world(wallets, every_days=5)

    async def run() -> tuple[list[BulkResult], int]:
        async with client_for(tmp_path, world_server, ("allium", "helius")) as client:
            plan = client.plan_series(wallets, "USDC", start="2025-01-01", end="2026-01-01")
            assert [len(p.wallets) for p in plan.pulls] == [15, 2]
            assert plan.points == ()
            return [r async for r in client.series(wallets, "USDC", start="2025-01-01",
                                                  end="2026-01-01")], plan.calls

    results, planned = anyio.run(run)
    assert len(results) == 17 * 365
    for result in results:
        assert result.answer is not None
        assert result.query is not None
        moment = result.query.point.time
        assert moment is not None
        assert result.answer.amount.raw == world_server.world.truth(
            result.query.wallet, USDC, moment)
    assert world_server.calls("/v1/wallet/") == 0  # no point call
    pulls = world_server.calls("/api/v1/developer/wallet/balances/history")
    assert planned == 2 <= pulls <= 4  # one page each here, at most one more per batch
    assert world_server.refused == 0


def test_a_point_only_series_walks_and_never_asks_a_proven_point(
        tmp_path: Path, world_server: WorldServer) -> None:
    wallets = WALLETS[:3]
    world_server.world = busy_world(wallets, every_days=10)

    async def run() -> list[BulkResult]:
        async with client_for(tmp_path, world_server, ("helius",)) as client:
            plan = client.plan_series(wallets, "USDC", start="2025-01-01", end="2025-04-01")
            assert plan.pulls == ()
            assert plan.points[0].walk
            return [r async for r in client.series(wallets, "USDC", start="2025-01-01",
                                                  end="2025-04-01")]

    results = anyio.run(run)
    assert len(results) == 3 * 90
    # in order, walked side by side or not: pair by pair, each pair's points in time order
    assert [r.index for r in results] == list(range(len(results)))
    assert [(r.query.wallet, r.query.point.time) for r in results if r.query] == [
        (w, START + timedelta(days=d)) for w in wallets for d in range(90)]
    for result in results:
        assert result.answer is not None
        assert result.query is not None
        assert result.query.point.time is not None
        assert result.answer.amount.raw == world_server.world.truth(
            result.query.wallet, USDC, result.query.point.time)
    asked = world_server.calls("/v1/wallet/")
    # one call per change in range plus one for the stretch before the first: ~10 of 90
    changes = sum(1 for t in world_server.world.txs if t.time < datetime(2025, 4, 1, tzinfo=UTC))
    assert asked <= changes + len(wallets)
    assert asked < len(results) // 5
    assert world_server.refused == 0


def test_balance_at_many_stays_inside_the_limit_and_asks_each_question_once(
        tmp_path: Path) -> None:
    wallets = WALLETS[:5]
    world = busy_world(wallets)
    moments = [START + timedelta(days=d, hours=3) for d in range(0, 360, 12)]
    queries = [(str(w), "USDC", m) for w in wallets for m in moments]
    duplicated = queries + queries[:20]  # identical questions
    with serve(WorldServer(world, limit=25, per_seconds=1.0, latency=0.02)) as server:

        async def run() -> list[BulkResult]:
            async with client_for(tmp_path, server, ("helius",), limit="25/1s",
                                  archive=False) as client:
                plan = client.plan_balance_at_many(duplicated)
                assert (plan.distinct, plan.calls) == (len(queries), len(queries))
                return [r async for r in client.balance_at_many(duplicated, ordered=True)]

        results = anyio.run(run)
    assert [r.index for r in results] == list(range(len(duplicated)))
    for result in results:
        assert result.answer is not None
        assert result.query is not None
        assert result.query.point.time is not None
        assert result.answer.amount.raw == world.truth(result.query.wallet, USDC,
                                                       result.query.point.time)
    assert server.refused == 0
    assert server.calls("/v1/wallet/") == len(queries)  # the 20 repeats cost nothing


def test_a_failed_row_carries_its_error_and_the_batch_goes_on(
        tmp_path: Path, world_server: WorldServer) -> None:
    world_server.world = busy_world(WALLETS[:1])
    rows = [("solana:" + ADDRESSES[0], "USDC", "2025-03-01"),
            ("solana:not-an-address", "USDC", "2025-03-01"),
            {"wallet": "solana:" + ADDRESSES[0], "token": "USDC"},
            ("solana:" + ADDRESSES[0], "USDC", "2025-13-45")]

    async def run() -> list[BulkResult]:
        async with client_for(tmp_path, world_server, ("helius",)) as client:
            return [r async for r in client.balance_at_many(rows, ordered=True)]

    first, bad_wallet, no_at, bad_time = anyio.run(run)
    assert first.ok
    assert first.answer is not None
    assert isinstance(bad_wallet.error, InputError)
    assert bad_wallet.query is None
    assert isinstance(no_at.error, InputError)
    assert no_at.error.field == "at"
    assert bad_time.error is not None
    assert bad_time.error.field == "at"
    assert world_server.calls() == 1


def test_archived_answers_are_not_asked_again(tmp_path: Path,
                                              world_server: WorldServer) -> None:
    wallets = WALLETS[:2]
    world_server.world = busy_world(wallets)

    async def run() -> tuple[int, int]:
        async with client_for(tmp_path, world_server, ("allium",)) as client:
            async for _ in client.sync(wallets):
                pass
            first = world_server.calls()
            plan = client.plan_series(wallets, "USDC", start="2025-02-01", end="2025-03-01")
            assert plan.archived == plan.questions == 2 * 28
            assert plan.calls == 0
            found = [r async for r in client.series(wallets, "USDC", start="2025-02-01",
                                                   end="2025-03-01")]
            assert all(r.answer is not None and r.answer.provenance.archived for r in found)
            return first, world_server.calls()

    first, after = anyio.run(run)
    assert first >= 1
    assert after == first


def test_sync_resumes_and_batches_by_the_wallet_limit(tmp_path: Path,
                                                      world_server: WorldServer) -> None:
    wallets = WALLETS[:16]
    world_server.world = busy_world(wallets)
    world_server.world.page_limit = 200  # several pages per pull

    async def run() -> list[int]:
        async with client_for(tmp_path, world_server, ("allium",)) as client:
            plan = client.plan_sync(wallets)
            assert [len(p.wallets) for p in plan.pulls] == [15, 1]
            reports = [report.pages async for _, report in client.sync(wallets)]
            again = [report.already_complete async for _, report in client.sync(wallets)]
            assert again == [True, True]
            return reports

    pages = anyio.run(run)
    assert world_server.calls() == sum(pages)
    assert pages[0] > 1
    assert world_server.refused == 0
    with Archive(tmp_path / "archive.sqlite", clock=frozen(NOW)) as archive:
        for wallet in wallets:
            moment = datetime(2025, 7, 1, tzinfo=UTC)
            found = archive.balance_at(wallet, USDC, moment)
            assert found is not None
            assert found.amount.raw == world_server.world.truth(wallet, USDC, moment)


def test_early_stop_cancels_what_is_in_flight(tmp_path: Path,
                                              world_server: WorldServer) -> None:
    world_server.world = busy_world(WALLETS[:1])
    rows = ((str(WALLETS[0]), "USDC", START + timedelta(hours=h)) for h in range(10_000))

    async def run() -> int:
        async with client_for(tmp_path, world_server, ("helius",), archive=False) as client:
            seen = 0
            async with aclosing(client.balance_at_many(rows)) as results:
                async for _ in results:
                    seen += 1
                    if seen == 5:
                        break
            return seen

    assert anyio.run(run) == 5
    assert world_server.calls() < 200  # the window, not the 10,000


def test_the_blocking_client_has_the_same_bulk_api(tmp_path: Path,
                                                   world_server: WorldServer) -> None:
    wallets = WALLETS[:2]
    world_server.world = busy_world(wallets)
    plugins = {"allium": load_plugin("allium")}
    env = credential_env(plugin_info(plugins["allium"]))
    path = config(tmp_path, world_server, limit="20/1s", providers=("allium",))
    with Client(path, plugins=plugins, env=env, clock=frozen(NOW)) as client:
        plan = client.plan_series(wallets, "USDC", start="2025-03-01", end="2025-03-08")
        assert len(plan.pulls) == 1
        found = list(client.series(wallets, "USDC", start="2025-03-01", end="2025-03-08"))
        assert len(found) == 14
        assert all(r.ok for r in found)
        many = list(client.balance_at_many([(str(wallets[0]), "USDC", "2025-03-02")]))
        assert many[0].answer is not None
        assert many[0].answer.provenance.archived
        assert [r.pages for _, r in client.sync(wallets)] == [1]  # to now: one more pull
        assert [r.already_complete for _, r in client.sync(wallets)] == [True]
    assert world_server.calls() == 2


def test_the_blocking_client_answers_one_question_at_a_time_with_the_worlds_truth(
        tmp_path: Path, world_server: WorldServer) -> None:
    """One question at a time goes through the blocking HTTP client (the asynchronous
    one is never opened); each answer is the world's truth, and each is one call."""
    wallets = WALLETS[:2]
    world_server.world = busy_world(wallets, every_days=5)
    plugins = {"helius": load_plugin("helius")}
    env = credential_env(plugin_info(plugins["helius"]))
    path = config(tmp_path, world_server, limit="20/1s", providers=("helius",),
                  archive=False)
    moments = [START + timedelta(days=d, hours=7) for d in range(0, 60, 6)]
    with Client(path, plugins=plugins, env=env, clock=frozen(NOW)) as client:
        for wallet in wallets:
            for moment in moments:
                answer = client.balance_at(str(wallet), "USDC", moment)
                assert answer.amount.raw == world_server.world.truth(wallet, USDC, moment)
        transport = client._async.transport
        assert transport.blocking
        assert transport._blocking_client is not None
        assert transport._client is None
    assert world_server.calls() == len(wallets) * len(moments)


def test_derived_balance_at_reads_the_history_once_then_looks_up(
        tmp_path: Path, world_server: WorldServer) -> None:
    world_server.world = busy_world(WALLETS[:1], every_days=1)
    world_server.world.page_limit = 100  # 362 changes: 4 pages
    moments = [START + timedelta(days=3 * d, hours=5) for d in range(100)]

    async def run() -> list[BulkResult]:
        async with client_for(tmp_path, world_server, ("allium",)) as client:
            rows = [(str(WALLETS[0]), "USDC", m) for m in moments]
            return [r async for r in client.balance_at_many(rows)]

    results = anyio.run(run)
    for result in results:
        assert result.answer is not None
        assert result.query is not None
        assert result.query.point.time is not None
        assert result.answer.amount.raw == world_server.world.truth(
            WALLETS[0], USDC, result.query.point.time)
    # the pages of the history up to the last moment asked, not a read per point (the
    # whole history has 4 pages; the plan pulls only up to the last moment)
    reached = [tx for tx in world_server.world.txs if tx.time <= max(moments)]
    assert world_server.calls() == -(-len(reached) // 100) == 3


def test_a_rate_limited_direct_provider_is_not_replaced_by_a_derived_one(
        tmp_path: Path) -> None:
    world = busy_world(WALLETS[:1])
    with serve(WorldServer(world, limit=1, per_seconds=60.0, limited="/v1/")) as server:

        async def run(text: str) -> BulkResult:
            async with client_for(tmp_path, server, ("helius", "allium"), limit="off",
                                  attempts=1, archive=False, text=text) as client:
                rows = [(str(WALLETS[0]), "USDC", "2025-05-01")]
                found = [r async for r in client.balance_at_many(rows)]
                return found[0]

        anyio.run(run, "")  # spends the one call the server allows a minute
        refused = anyio.run(run, "")
        assert isinstance(refused.error, RateLimited)
        assert server.calls("/api/") == 0  # Allium was not asked in its place
        allowed = anyio.run(run, '[routes]\n"solana.balance_at" = ["helius", "allium"]\n')
    assert allowed.answer is not None  # the deployment allowed the derived one
    assert allowed.answer.provider == "allium"


def test_balance_at_many_pulls_the_busy_wallets_and_asks_the_rest_directly(
        tmp_path: Path, world_server: WorldServer) -> None:
    """Wallets asked at many moments are one history pull per batch of Allium's wallet
    limit; a wallet asked once is one point call; every answer is the world's truth."""
    busy, quiet = WALLETS[:16], WALLETS[16]
    world_server.world = busy_world([*busy, quiet], every_days=9)
    moments = [START + timedelta(days=d, hours=7) for d in range(0, 300, 30)]
    rows = [(str(w), "USDC", m) for w in busy for m in moments]
    rows.append((str(quiet), "USDC", moments[4]))

    async def run() -> list[BulkResult]:
        async with client_for(tmp_path, world_server, ("allium", "helius")) as client:
            plan = client.plan_balance_at_many(rows)
            assert [len(p.wallets) for p in plan.pulls] == [15, 1]
            assert [p.points for p in plan.pulls] == [150, 10]
            assert [(r.provider, r.calls) for r in plan.points] == [("helius", 1)]
            assert any(line.startswith("pull allium solana: 15 wallet(s)")
                       for line in plan.lines())
            return [r async for r in client.balance_at_many(rows, ordered=True)]

    results = anyio.run(run)
    assert [r.index for r in results] == list(range(len(rows)))
    for result in results:
        assert result.answer is not None, result.error
        assert result.query is not None
        assert result.query.point.time is not None
        assert result.answer.amount.raw == world_server.world.truth(
            result.query.wallet, USDC, result.query.point.time)
    assert world_server.calls("/v1/wallet/") == 1  # the quiet wallet's one question
    pages = world_server.calls("/api/v1/developer/wallet/balances/history")
    assert 2 <= pages <= 4  # one page per pull here, at most one more per batch
    assert world_server.refused == 0


def test_questions_asked_once_each_are_not_turned_into_pulls(
        tmp_path: Path, world_server: WorldServer) -> None:
    world_server.world = busy_world(WALLETS[:6], every_days=9)
    rows = [(str(w), "USDC", START + timedelta(days=40 + n)) for n, w in
            enumerate(WALLETS[:6])]

    async def run() -> list[BulkResult]:
        async with client_for(tmp_path, world_server, ("allium", "helius")) as client:
            plan = client.plan_balance_at_many(rows)
            assert plan.pulls == ()
            return [r async for r in client.balance_at_many(rows)]

    results = anyio.run(run)
    assert all(r.ok for r in results)
    assert world_server.calls("/v1/wallet/") == 6
    assert world_server.calls("/api/v1/developer/wallet/balances/history") == 0


@pytest.mark.parametrize("archive", [True, False])
def test_balance_at_many_walks_the_moments_of_a_wallet_and_never_pays_a_proven_one(
        tmp_path: Path, world_server: WorldServer, archive: bool) -> None:
    """A point-only provider: the moments asked of one (wallet, token), in any input
    order, are walked latest first, and each answer fills the earlier moments it
    proves; the answers are the world's truth and come back in input order."""
    wallets = WALLETS[:3]
    world_server.world = busy_world(wallets, every_days=20)
    moments = [START + timedelta(days=d, hours=11) for d in range(0, 120, 3)]
    rows = [(str(w), "USDC", m) for m in reversed(moments) for w in wallets]
    rows = rows[::2] + rows[1::2]  # shuffled: wallets and moments interleaved

    async def run() -> list[BulkResult]:
        async with client_for(tmp_path, world_server, ("helius",), archive=archive) as client:
            return [r async for r in client.balance_at_many(rows, ordered=True)]

    results = anyio.run(run)
    assert [r.index for r in results] == list(range(len(rows)))
    for result, row in zip(results, rows, strict=True):
        assert result.answer is not None, result.error
        assert result.query is not None
        assert result.query.point.time == row[2]
        assert result.answer.amount.raw == world_server.world.truth(
            result.query.wallet, USDC, row[2])
    # one call per change before the last moment, plus one per wallet for the stretch
    # before its first change: far fewer than one per question
    changes = sum(1 for t in world_server.world.txs if t.time <= max(moments))
    asked = world_server.calls("/v1/wallet/")
    assert asked <= changes + len(wallets)
    assert asked < len(rows) // 3
    assert world_server.refused == 0
