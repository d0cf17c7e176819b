"""A series on a dask.distributed LocalCluster (2 worker processes) against the
rate-limited local server of a model world, with a real PostgreSQL archive and rate
budget shared by the workers: the results equal one process's (index, answer and
provenance), and the world's truth; the server answers no 429 and is asked each
question once; a worker killed mid-job loses nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from asof import distributed
from asof.bulk import BulkResult, SeriesPart, series_parts, series_tokens
from asof.client import AsyncClient
from asof.planner import Plan, Pull
from asof.records import Wallet
from asof.testing.client import credentials_of
from asof.testing.postgres import PostgresServer
from tests.cli.world_server import WorldServer, busy_world, made_up_wallets, serve
from tests.core.archive.world import USDC, World
from tests.core.distributed.conftest import kill_a_busy_worker

WALLETS: list[Wallet] = made_up_wallets(6)
SPAN = {"start": "2025-01-01", "end": "2025-04-01"}  # 90 daily points
POINT_CALLS = "/v1/wallet/"
PULLS = "/api/v1/developer/wallet/balances/history"


def _config(folder: Path, server: WorldServer, archive: str, *,
            providers: tuple[str, ...] = ("helius",), store: str = "") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "asof.toml"
    budget = f'rate_limit_store = "{store}"\n' if store else ""
    sections = "".join(f'[providers.{name}]\nbase_url = "{server.url}"\n'
                       'rate_limit = "20/1s"\n\n' for name in providers)
    path.write_text(f"[asof]\nattempts = 2\n{budget}\n{archive}\n\n{sections}",
                    encoding="utf-8")
    return path


def _sqlite(folder: Path) -> str:
    return f'[archive]\npath = "{folder / "archive.sqlite"}"'


def _postgres(url: str) -> str:
    return f'[archive]\nurl = "{url}"'


def _one_process(path: Path, env: dict[str, str], wallets: list[Wallet]) -> list[BulkResult]:
    async def run() -> list[BulkResult]:
        async with AsyncClient(path, env=env) as client:
            return [r async for r in client.series(wallets, "USDC", **SPAN)]

    return anyio.run(run)


def _walked_alone(tmp_path: Path, world: World, latency: float,
                  ) -> tuple[list[BulkResult], Counter[str]]:
    """The walked series of WALLETS in one process (its own archive); the results and
    the point questions it paid, each once, with no 429."""
    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=latency)) as server:
        alone = _one_process(_config(tmp_path / "one", server, _sqlite(tmp_path)),
                             credentials_of("helius"), WALLETS)
        assert server.refused == 0
        return alone, _each_once(server)


def _shown(results: list[BulkResult]) -> dict[int, tuple[Any, ...]]:
    """Each result by index: its question, its answer and the answer's provenance."""
    out: dict[int, tuple[Any, ...]] = {}
    for r in results:
        assert r.index not in out, f"index {r.index} twice"
        assert r.answer is not None, r.error
        assert r.query is not None
        answer = r.answer
        out[r.index] = (r.query, answer.amount.raw, answer.amount.decimals,
                        answer.as_of.timestamp if answer.as_of else None,
                        answer.provenance.provider, answer.provenance.archived,
                        answer.provenance.caveats)
    return out


def _check_truth(world: World, results: list[BulkResult]) -> None:
    for r in results:
        assert r.answer is not None
        assert r.query is not None
        assert r.query.point.time is not None
        assert r.answer.amount.raw == world.truth(r.query.wallet, USDC, r.query.point.time)


def _each_once(server: WorldServer) -> Counter[str]:
    asked = Counter(h.target for h in server.hits
                    if h.status != 429 and h.path.startswith(POINT_CALLS))
    assert set(asked.values()) <= {1}, "a point question was paid twice"
    return asked


def test_a_walked_series_on_two_workers_equals_one_process_and_pays_each_point_once(
        tmp_path: Path, pg_server: PostgresServer, dask_client: Any) -> None:
    world = busy_world(WALLETS, every_days=9)
    env = credentials_of("helius")
    alone, paid_alone = _walked_alone(tmp_path, world, 0.02)
    database = pg_server.database()
    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.02)) as server:
        path = _config(tmp_path / "many", server, _postgres(database), store=database)
        deployment = distributed.Deployment(config=str(path), env=env)
        spread = list(distributed.series(dask_client, WALLETS, "USDC", **SPAN,
                                         deployment=deployment, batch=2))
        paid = _each_once(server)
        assert server.refused == 0  # the workers kept the limit together
    assert len(spread) == len(WALLETS) * 90
    assert _shown(spread) == _shown(alone)  # same indexes, answers and provenance
    _check_truth(world, spread)
    assert paid == paid_alone  # the same questions, each paid once
    assert sum(paid.values()) < len(spread) // 5  # each answer filled the points it proves


def test_a_pulled_series_is_one_task_per_pull_then_archive_look_ups(
        tmp_path: Path, pg_server: PostgresServer, dask_client: Any) -> None:
    wallets = made_up_wallets(17)  # two pulls at Allium's 15
    world = busy_world(wallets, every_days=5)
    providers = ("allium", "helius")
    env = credentials_of(*providers)
    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.02)) as server:
        alone = _one_process(_config(tmp_path / "one", server, _sqlite(tmp_path),
                                     providers=providers), env, wallets)
        pages_alone = server.calls(PULLS)
    database = pg_server.database()
    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.02)) as server:
        path = _config(tmp_path / "many", server, _postgres(database),
                       providers=providers, store=database)
        deployment = distributed.Deployment(config=str(path), env=env)

        async def planned() -> Plan:
            async with deployment.client() as client:
                return client.plan_series(wallets, "USDC", **SPAN)

        plan = anyio.run(planned)
        assert [len(p.wallets) for p in plan.pulls] == [15, 2]
        spread = list(distributed.series(dask_client, wallets, "USDC", **SPAN,
                                         deployment=deployment, plan=plan))
        assert server.refused == 0
        assert server.calls(POINT_CALLS) == 0  # every point from the pulled archive
        assert server.calls(PULLS) == pages_alone  # each page once
    assert len(spread) == len(wallets) * 90
    assert _shown(spread) == _shown(alone)
    assert all(r.answer is not None and r.answer.provenance.archived for r in spread)
    _check_truth(world, spread)


def test_a_series_is_partitioned_by_provider_batch() -> None:
    tokens_of = series_tokens(WALLETS, ["USDC"])
    pull = Pull(provider="allium", chain="solana", wallets=tuple(WALLETS[:2]))
    plan = Plan(questions=0, distinct=0, archived=0, pulls=(pull,))
    times = [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=d) for d in range(10)]
    parts = series_parts(plan, WALLETS, tokens_of, len(times))
    assert parts[0] == SeriesPart(pairs=tuple((w, USDC) for w in WALLETS[:2]), pull=pull)
    tasks = distributed.partition_series(parts, times, batch=3)
    assert tasks[0].pull == pull
    assert [len(t.pairs) for t in tasks] == [2, 3, 1]
    pairs = [p for t in tasks for p in t.pairs]
    assert pairs == [(w, USDC) for w in WALLETS]  # each pair in exactly one task
    # the indexes of the one-process series: pair by pair, each pair's points in turn
    assert [t.first for t in tasks] == [0, 20, 50]
    with pytest.raises(ValueError, match="batch must be positive"):
        distributed.partition_series(parts, times, batch=0)


def test_a_worker_killed_mid_series_loses_nothing(
        tmp_path: Path, pg_server: PostgresServer, dask_client: Any) -> None:
    world = busy_world(WALLETS, every_days=11)
    env = credentials_of("helius")
    alone, asked = _walked_alone(tmp_path, world, 0.05)
    paid_alone = sum(asked.values())
    database = pg_server.database()
    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.05)) as server:
        path = _config(tmp_path / "many", server, _postgres(database), store=database)
        deployment = distributed.Deployment(config=str(path), env=env)
        stream = distributed.series(dask_client, WALLETS, "USDC", **SPAN,
                                    deployment=deployment, batch=1)
        results = [next(stream)]  # the job is running
        kill_a_busy_worker(dask_client)
        results.extend(stream)
        paid = server.calls(POINT_CALLS)
        assert server.refused == 0
    # nothing lost, nothing twice, the same answers (those the killed worker had stored
    # come back from the archive, and say so)
    assert {i: shown[:5] for i, shown in _shown(results).items()} == \
        {i: shown[:5] for i, shown in _shown(alone).items()}
    _check_truth(world, results)
    # the killed task (one pair) was redone on another worker, which read what it had
    # stored from the archive: at most the question in flight was asked again
    assert paid_alone <= paid <= paid_alone + 1


def test_the_command_line_series_on_local_workers_writes_what_one_process_writes(
        tmp_path: Path, pg_server: PostgresServer) -> None:
    from click.testing import CliRunner

    from asof.cli.app import cli
    from asof.cli.common import CliState

    wallets = WALLETS[:4]
    world = busy_world(wallets, every_days=13)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("wallet,token\n" + "".join(f"{w},USDC\n" for w in wallets),
                     encoding="utf-8")
    job = ["series", "--input", str(pairs), "--from", "2025-01-01", "--to", "2025-03-01",
           "--sync", "--format", "csv"]
    env = credentials_of("helius")

    def asof(path: Path, *extra: str) -> Any:
        return CliRunner().invoke(cli, ["--config", str(path), *job, *extra],
                                  obj=CliState(), env=env)

    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.02)) as server:
        alone = asof(_config(tmp_path / "one", server, _sqlite(tmp_path)))
        assert alone.exit_code == 0, alone.output
        paid_alone = _each_once(server)
    database = pg_server.database()
    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.02)) as server:
        path = _config(tmp_path / "many", server, _postgres(database), store=database)
        planned = asof(path, "--plan", "--workers", "2")
        assert planned.exit_code == 0, planned.output
        assert "walk helius solana" in planned.stdout
        assert server.calls() == 0  # --plan spent nothing, and started no job
        spread = asof(path, "--workers", "2")
        assert spread.exit_code == 0, spread.output
        assert server.refused == 0
        assert _each_once(server) == paid_alone
    assert spread.stdout == alone.stdout  # the same rows, in the same order
    rows = spread.stdout.splitlines()[1:]
    assert len(rows) == len(wallets) * 59
    for line in rows:
        wallet, _, moment, _, _, raw, *_ = line.split(",")
        assert int(raw) == world.truth(Wallet.parse(wallet), USDC,
                                       datetime.fromisoformat(moment).replace(tzinfo=UTC))
    refused = CliRunner().invoke(cli, ["--config", str(path), *job[:-3], "--workers", "2"],
                                 obj=CliState(), env=env)
    assert refused.exit_code == 2
    assert "add --sync" in refused.output
