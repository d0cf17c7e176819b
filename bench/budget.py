"""Throughput of one job of requests shared by 1, 2 and 4 processes that use one provider
key, against a local server with 50 ms latency and a per-key limit (429 beyond it).

Every process draws from one rate budget in a PostgreSQL store (a throw-away server,
as the tests start) and sends its share of the job with ``--concurrency`` requests in
flight (default 1: 20 requests per second per process at 50 ms). Below the limit the
throughput grows with the processes; at the limit it stays flat, at 95% or more of it,
with no 429. As a baseline, the same job runs in the same processes each with its own
in-process limiter (no shared store): together they pass the limit and the server
refuses with 429 (those requests fail: one attempt each).

Run: ``uv run --all-packages python bench/budget.py`` (about four minutes).
``bench/budget_dask.py`` measures the same budget under one job on Dask workers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from asof.testing.postgres import PostgresServer
from asof.testing.ratelimited import RateLimitedServer


def run(url: str, store: str, processes: int, total: int, concurrency: int,
        requests: int, per_seconds: float) -> tuple[float, int, int]:
    """Run one job of ``total`` requests split over ``processes``; its wall time (from
    the moment every process is ready) and the ok and refused counts."""
    shares = [total // processes + (1 if p < total % processes else 0)
              for p in range(processes)]
    jobs = [subprocess.Popen(
        [sys.executable, "-m", "asof.testing.ratelimited", url, store, str(share),
         str(concurrency), str(requests), str(per_seconds)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for share in shares]
    for job in jobs:
        assert job.stdout is not None
        if job.stdout.readline() != "ready\n":
            raise SystemExit("a benchmark process failed to start")
    started = time.perf_counter()
    for job in jobs:
        assert job.stdin is not None
        job.stdin.close()
    ok = limited = 0
    for job in jobs:
        assert job.stdout is not None
        found = json.loads(job.stdout.readline())
        job.wait(timeout=300)
        ok, limited = ok + found["ok"], limited + found["limited"]
    return time.perf_counter() - started, ok, limited


def print_head(what: str, args: argparse.Namespace, *, count: str) -> None:
    """The title, the column names (``count``: processes or workers) and the note."""
    limit = args.requests / args.per_seconds
    print(f"job: {args.total} {what}; per-key limit {args.requests} per "
          f"{args.per_seconds:g} s ({limit:g}/s); server latency {args.latency * 1000:g} ms; "
          f"{args.concurrency} in flight per {count.removesuffix('s').removesuffix('e')}")
    print(f"{count:>9}  {'store':<10} {'seconds':>8} {'req/s':>7} {'of limit':>9} "
          f"{'ok':>5} {'429':>5} {'busiest':>8}")
    print(f"(busiest: the most requests let through in any {args.per_seconds:g} s window, "
          f"of {args.requests} allowed)")


def print_row(count: int, store_name: str, seconds: float, ok: int,
              server: RateLimitedServer, limit: float) -> None:
    """One line of figures; the 429s and the busiest window from ``server``'s log."""
    rate = ok / seconds
    refused = server.statuses().get(429, 0)
    print(f"{count:>9}  {store_name:<10} {seconds:>8.2f} {rate:>7.1f} "
          f"{rate / limit:>8.0%} {ok:>5} {refused:>5} {server.busiest_window():>8}",
          flush=True)


def arguments(doc: str, *, total: int, concurrency: int, requests: int = 500,
              per_seconds: float = 10.0) -> argparse.ArgumentParser:
    """The options both budget benchmarks take (default limit: 50/s counted over 10 s
    windows, over which the budget's widening is its 3%; over windows shorter than
    3.4 s its 100 ms floor widens more, e.g. 5% at 2 s, 10% at 1 s)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--requests", type=int, default=requests,
                        help="the per-key limit ...")
    parser.add_argument("--per-seconds", type=float, default=per_seconds,
                        help="... per this window")
    parser.add_argument("--total", type=int, default=total, help="requests in the job")
    parser.add_argument("--concurrency", type=int, default=concurrency,
                        help="requests in flight per process")
    parser.add_argument("--latency", type=float, default=0.05, help="server latency (s)")
    return parser


def main() -> None:
    args = arguments(__doc__ or "", total=2000, concurrency=2).parse_args()
    limit = args.requests / args.per_seconds
    print_head("requests", args, count="processes")
    pg = PostgresServer().start()
    try:
        for store_name, counts in (("shared", (1, 2, 4)), ("none", (4,))):
            for processes in counts:
                store = pg.database() if store_name == "shared" else ""
                with RateLimitedServer(requests=args.requests, per_seconds=args.per_seconds,
                                       latency=args.latency) as server:
                    seconds, ok, _ = run(server.url, store, processes, args.total,
                                         args.concurrency, args.requests,
                                         args.per_seconds)
                print_row(processes, store_name, seconds, ok, server, limit)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
