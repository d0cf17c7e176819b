"""A planned bulk job on a dask.distributed LocalCluster (2 and 4 worker processes) against a
rate-limited local server of a model world, with a real PostgreSQL archive and rate
budget shared by the workers: the answers equal one process's and the world's truth,
the server answers no 429 and is asked each question once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio

from asof import distributed
from asof.bulk import BulkResult
from asof.client import AsyncClient
from asof.queries import BalanceQuery
from asof.records import Wallet
from asof.testing.client import credential_env, load_plugin, plugin_info
from asof.testing.postgres import PostgresServer
from tests.cli.world_server import WorldServer, busy_world, made_up_wallets, serve
from tests.core.archive.world import USDC
from tests.core.distributed.conftest import kill_a_busy_worker, local_cluster

START = datetime(2025, 1, 1, tzinfo=UTC)
WALLETS: list[Wallet] = made_up_wallets(6)
MOMENTS = [START + timedelta(days=d, hours=5) for d in range(0, 300, 30)]
QUERIES = [(str(w), "USDC", m) for w in WALLETS for m in MOMENTS]


def _config(folder: Path, server: WorldServer, *, archive: str, store: str = "") -> Path:
    path = folder / "asof.toml"
    budget = f'rate_limit_store = "{store}"\n' if store else ""
    path.write_text(f"[asof]\nattempts = 2\n{budget}\n{archive}\n"
                    f'[providers.helius]\nbase_url = "{server.url}"\nrate_limit = "20/1s"\n',
                    encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    return credential_env(plugin_info(load_plugin("helius")))


def _answers(results: list[BulkResult]) -> dict[int, tuple[Any, ...]]:
    out = {}
    for r in results:
        assert r.answer is not None, r.error
        stamp = r.answer.as_of.timestamp if r.answer.as_of else None
        out[r.index] = (r.answer.amount.raw, stamp, r.answer.provenance.provider)
    return out


def test_a_bulk_job_on_two_workers_equals_one_process_and_pays_once(
        tmp_path: Path, pg_server: PostgresServer, dask_client: Any) -> None:
    _equals_one_process(tmp_path, pg_server, dask_client)


def test_the_same_job_on_four_workers_equals_one_process_and_pays_once(
        tmp_path: Path, pg_server: PostgresServer) -> None:
    with local_cluster(4) as dask:
        assert len(dask.scheduler_info()["workers"]) == 4
        _equals_one_process(tmp_path, pg_server, dask)


def _equals_one_process(tmp_path: Path, pg_server: PostgresServer, dask_client: Any) -> None:
    """One process's answers, then the same job's on the cluster: equal to them and to
    the world's truth, no 429, each question paid once."""
    world = busy_world(WALLETS, every_days=9)
    one = tmp_path / "one"
    many = tmp_path / "many"
    one.mkdir()
    many.mkdir()

    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.02)) as server:
        path = _config(one, server, archive="[archive]\nenabled = false\n")

        async def single() -> list[BulkResult]:
            async with AsyncClient(path, env=_env()) as client:
                return [r async for r in client.balance_at_many(QUERIES)]

        alone = _answers(anyio.run(single))
        assert server.refused == 0

    database = pg_server.database()
    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.02)) as server:
        path = _config(many, server, archive=f'[archive]\nurl = "{database}"\n',
                       store=database)
        deployment = distributed.Deployment(config=str(path), env=_env())
        results = list(distributed.balance_at_many(dask_client, QUERIES,
                                                   deployment=deployment, batch=10))
        asked = Counter(hit.path for hit in server.hits if hit.path.startswith("/v1/wallet/"))
        assert server.refused == 0  # the workers kept the limit together
    spread = _answers(results)
    assert sorted(spread) == list(range(len(QUERIES)))  # every question, once
    assert spread == alone  # the same answers as one process
    for index, (raw, _, _) in spread.items():  # and the world's truth
        wallet, _, moment = QUERIES[index]
        assert raw == world.truth(Wallet.parse(wallet), USDC, moment)
    assert sum(asked.values()) == len(QUERIES)  # each question paid once, none twice
    assert set(asked.values()) == {len(MOMENTS)}  # per wallet: one call per moment


def test_the_job_is_partitioned_by_provider_batch() -> None:
    queries = [BalanceQuery(wallet=w, token=_usdc(), point=_point(m))
               for w in WALLETS for m in MOMENTS[:3]]
    from asof.planner import Pull

    pulls = (Pull(provider="allium", chain="solana", wallets=tuple(WALLETS[:2])),)
    tasks = distributed.partition(pulls, queries, batch=5)
    assert tasks[0].pull == pulls[0]
    assert [q.wallet for _, q in tasks[0].questions] == [w for w in WALLETS[:2]
                                                         for _ in range(3)]
    runs = [t for t in tasks if t.pull is None]
    assert [len(t.questions) for t in runs] == [5, 5, 2]
    indexes = sorted(i for t in tasks for i, _ in t.questions)
    assert indexes == list(range(len(queries)))  # each question in exactly one task


def _usdc() -> Any:
    from asof.tokens import resolve_token

    return resolve_token("solana", "USDC")


def _point(moment: datetime) -> Any:
    from asof.records import Point

    return Point(time=moment)


def test_a_worker_killed_mid_job_loses_nothing_and_its_tasks_are_redone(
        tmp_path: Path, pg_server: PostgresServer, dask_client: Any) -> None:
    world = busy_world(WALLETS, every_days=11)
    database = pg_server.database()
    batch = 5
    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.05)) as server:
        path = _config(tmp_path, server, archive=f'[archive]\nurl = "{database}"\n',
                       store=database)
        deployment = distributed.Deployment(config=str(path), env=_env())
        stream = distributed.balance_at_many(dask_client, QUERIES, deployment=deployment,
                                             batch=batch)
        results = [next(stream)]  # the job is running
        kill_a_busy_worker(dask_client)
        results.extend(stream)
        paid = server.calls("/v1/wallet/")
        assert server.refused == 0
    answers = _answers(results)
    assert sorted(answers) == list(range(len(QUERIES)))  # nothing lost, nothing twice
    for index, (raw, _, _) in answers.items():
        wallet, _, moment = QUERIES[index]
        assert raw == world.truth(Wallet.parse(wallet), USDC, moment)
    # the killed task was redone on another worker: what it had stored was read from
    # the archive, so at most its own run of questions was asked again
    assert len(QUERIES) <= paid <= len(QUERIES) + batch


def test_the_command_line_runs_an_input_job_on_local_workers(
        tmp_path: Path, pg_server: PostgresServer) -> None:
    import json

    from click.testing import CliRunner

    from asof.cli.app import cli
    from asof.cli.common import CliState

    world = busy_world(WALLETS[:3], every_days=13)
    database = pg_server.database()
    rows = [(str(w), "USDC", m.isoformat()) for w in WALLETS[:3] for m in MOMENTS[:4]]
    questions = tmp_path / "questions.csv"
    questions.write_text("wallet,token,at\n" + "".join(f"{w},{t},{m}\n" for w, t, m in rows),
                         encoding="utf-8")
    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.02)) as server:
        path = _config(tmp_path, server, archive=f'[archive]\nurl = "{database}"\n',
                       store=database)
        result = CliRunner().invoke(
            cli, ["--config", str(path), "balance-at", "--input", str(questions),
                  "--workers", "2", "--format", "jsonl"], obj=CliState(), env=_env())
        assert result.exit_code == 0, result.output
        assert server.refused == 0
        assert server.calls("/v1/wallet/") == len(rows)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["wallet"], r["at"]) for r in out] == [(w, m) for w, _, m in rows]  # in order
    for row in out:
        moment = datetime.fromisoformat(row["at"])
        assert int(row["raw"]) == world.truth(Wallet.parse(row["wallet"]), USDC, moment)


def test_the_command_line_syncs_on_local_workers(tmp_path: Path,
                                                 pg_server: PostgresServer) -> None:
    from click.testing import CliRunner

    from asof.archive.postgres import PostgresStorage
    from asof.cli.app import cli
    from asof.cli.common import CliState

    wallets = made_up_wallets(17)  # two pulls at Allium's 15
    world = busy_world(wallets, every_days=30)
    database = pg_server.database()
    env = {**_env(), **credential_env(plugin_info(load_plugin("allium")))}
    with serve(WorldServer(world, limit=20, per_seconds=1.0, latency=0.02)) as server:
        path = tmp_path / "asof.toml"
        path.write_text(f'[asof]\nattempts = 2\nrate_limit_store = "{database}"\n\n'
                        f'[archive]\nurl = "{database}"\n\n[providers.allium]\n'
                        f'base_url = "{server.url}"\nrate_limit = "20/1s"\n',
                        encoding="utf-8")
        result = CliRunner().invoke(
            cli, ["--config", str(path), "sync", *map(str, wallets), "--workers", "2"],
            obj=CliState(), env=env)
        assert result.exit_code == 0, result.output
        assert "synced 15 solana wallet(s)" in result.stderr
        assert "synced 2 solana wallet(s)" in result.stderr
        assert server.refused == 0
        pages = Counter(h.path for h in server.hits if "balances/history" in h.path)
    assert sum(pages.values()) >= 2
    storage = PostgresStorage(database)
    try:
        with storage.read() as r:
            covered = {c.wallet for c in r.coverage()}
    finally:
        storage.close()
    assert covered == set(wallets)
