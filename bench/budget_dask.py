"""Throughput of one bulk job (``balance_at_many`` through ``asof.distributed``) on 1, 2
and 4 Dask workers that share one provider key, against a local server with 50 ms
latency and a per-key limit (429 beyond it).

The server is :class:`asof.testing.ratelimited.RateLimitedServer` speaking Helius's
balance-at (the body of ``bench/server.py``: each answer vouches for its own moment
only, so every question is a request). The job is ``--total`` distinct questions; the
cluster is a ``LocalCluster`` of worker processes with one thread each, each task with
``--concurrency`` questions in flight (default 1, so one worker stays well under the
limit); every worker draws from one rate budget in a PostgreSQL store (a throw-away
server, as the tests start). Below the limit the throughput grows with the workers; at
the limit it stays flat near it, with no 429 (one attempt each: a 429 would be a
failed row, not a retry). The archive is off, so only the budget and the cluster are
measured. req/s counts answered questions over the job's wall time, from the moment
the warmed-up cluster is given the job (planning, task start-up and each task's client
included).

Run: ``uv run --all-packages python bench/budget_dask.py`` (about six minutes).
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import START, WALLET
from budget import arguments, print_head, print_row
from server import answer

from asof import distributed
from asof.testing.postgres import PostgresServer
from asof.testing.ratelimited import RateLimitedServer


def _warm() -> None:
    """Import what a task needs, on a worker, before the job is timed."""
    import psycopg  # noqa: F401

    import asof.client
    import asof_helius  # noqa: F401

    asof.client.AsyncClient  # noqa: B018


def _config(folder: Path, url: str, store: str, requests: int, per_seconds: float) -> Path:
    path = folder / "asof.toml"
    path.write_text(f'[asof]\nattempts = 1\nrate_limit_store = "{store}"\n\n'
                    "[archive]\nenabled = false\n\n"
                    f'[providers.helius]\nbase_url = "{url}"\n'
                    f'rate_limit = "{requests}/{per_seconds:g}s"\n', encoding="utf-8")
    return path


def run(workers: int, url: str, store: str, args: object) -> tuple[float, int]:
    """One job on a new local cluster of ``workers``: its wall time and answered rows."""
    from distributed import Client, LocalCluster

    a: dict[str, int | float] = vars(args)
    questions = [(str(WALLET), "USDC", START + timedelta(minutes=n))
                 for n in range(int(a["total"]))]
    env = {"ASOF_HELIUS_API_KEY": "the-shared-key", "ASOF_ALLOW": "helius"}
    with tempfile.TemporaryDirectory() as tmp, \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                         dashboard_address=":0", silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster) as dask:
        dask.run(_warm)
        config = _config(Path(tmp), url, store, int(a["requests"]), float(a["per_seconds"]))
        deployment = distributed.Deployment(config=str(config), env=env,
                                            concurrency=int(a["concurrency"]))
        began = time.perf_counter()
        ok = sum(r.ok for r in distributed.balance_at_many(
            dask, questions, deployment=deployment, batch=int(a["batch"])))
        return time.perf_counter() - began, ok


def main() -> None:
    parser = arguments(__doc__ or "", total=3000, concurrency=1)
    parser.add_argument("--batch", type=int, default=20, help="questions per task")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    args = parser.parse_args()
    limit = args.requests / args.per_seconds
    print_head(f"balance_at_many questions in tasks of {args.batch}", args, count="workers")
    pg = PostgresServer().start()
    try:
        for workers in (int(w) for w in args.workers.split(",")):
            with RateLimitedServer(requests=args.requests, per_seconds=args.per_seconds,
                                   latency=args.latency, header="X-Api-Key",
                                   answer=answer) as server:
                seconds, ok = run(workers, server.url, pg.database(), args)
            print_row(workers, "shared", seconds, ok, server, limit)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
