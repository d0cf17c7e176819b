"""Benchmark: many questions, few paid calls (bulk answers, series, sync, rate limits).

Four figures, each beside its baseline, against a local server of a made-up world
(``tests/cli/world_server.py``) that speaks Allium's balances history and Helius's
balance-at as documented, logs every request and, where said, enforces a rate limit:

1. ``series``: paid calls for a daily series of 50 wallets x 365 days, through
   ``AsyncClient.series`` and through ``asof series --input --sync`` (a fresh archive
   each), beside one ``balance_at`` per point (18,250 calls);
2. ``rate``: ``balance_at_many`` of ``--size`` distinct questions (default 3,000;
   ``--size 10000`` for the issue's figure) to Helius behind a server with 50 ms
   latency and a 50 requests/s sliding-window limit, configured as ``rate_limit =
   "50/1s"`` and nothing else; requests per second and 429s from the server's log;
3. ``derived``: 100 points of one wallet through Allium's derived ``balance_at``,
   beside the pages of that wallet's history;
4. ``memory``: peak resident memory of a process answering 10,000 and 100,000
   questions through ``balance_at_many`` (fresh process each; the archive off and an
   in-process transport, so only the engine is measured).

Run from the repository root: ``.venv/bin/python bench/bulk.py [--only series,rate]
[--size 10000]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import header, peak_mib  # noqa: E402

from asof.client import AsyncClient  # noqa: E402
from asof.testing.client import credential_env, load_plugin, plugin_info  # noqa: E402
from asof.transport import MockTransport  # noqa: E402
from tests.cli.world_server import WorldServer, busy_world, made_up_wallets, serve  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)


def _config(folder: Path, url: str, providers: tuple[str, ...], *, limit: str | None = None,
            archive: bool = True) -> Path:
    path = folder / "asof.toml"
    text = (f'[archive]\npath = "{folder / "archive.sqlite"}"\n\n' if archive
            else "[archive]\nenabled = false\n\n")
    for name in providers:
        text += f'[providers.{name}]\nbase_url = "{url}"\n'
        if limit is not None and name == "helius":
            text += f'rate_limit = "{limit}"\n'
        text += "\n"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def _env(providers: tuple[str, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name in providers:
        env.update(credential_env(plugin_info(load_plugin(name))))
    return env


def _client(config: Path, providers: tuple[str, ...], **kw: object) -> AsyncClient:
    return AsyncClient(config, plugins={n: load_plugin(n) for n in providers},
                       env=_env(providers), **kw)  # type: ignore[arg-type]


def series_figure() -> None:
    header("paid calls: daily series, 50 wallets x 365 days")
    wallets = made_up_wallets(50)
    providers = ("allium", "helius")
    with serve(WorldServer(busy_world(wallets))) as server, \
            tempfile.TemporaryDirectory() as tmp:
        python_dir, cli_dir = Path(tmp) / "python", Path(tmp) / "cli"
        python_dir.mkdir()
        cli_dir.mkdir()

        async def run() -> int:
            async with _client(_config(python_dir, server.url, providers),
                               providers) as client:
                count = 0
                async for result in client.series(wallets, "USDC", start=START, end=END):
                    count += result.ok
                return count

        answered = anyio.run(run)
        python_calls = server.calls()
        pairs = cli_dir / "pairs.csv"
        pairs.write_text("wallet,token\n" + "".join(f"{w},USDC\n" for w in wallets),
                         encoding="utf-8")
        env = {**os.environ, **_env(providers),
               "ASOF_CONFIG": str(_config(cli_dir, server.url, providers))}
        done = subprocess.run(
            [sys.executable, "-m", "asof", "series", "--input", str(pairs), "--from",
             "2025-01-01", "--to", "2026-01-01", "--sync", "--format", "csv"],
            env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"asof series failed: {done.stderr}")
        cli_rows = len(done.stdout.splitlines()) - 1
        cli_calls = server.calls() - python_calls
    points = 50 * 365
    print(f"points                      {points:,} ({answered:,} answered in Python, "
          f"{cli_rows:,} rows from the CLI)")
    print(f"baseline: balance_at/point  {points:,} calls")
    print(f"asof series (Python)        {python_calls} calls   "
          f"{points / max(python_calls, 1):,.0f}x fewer")
    print(f"asof series --input (CLI)   {cli_calls} calls   "
          f"{points / max(cli_calls, 1):,.0f}x fewer")
    print(f"429 responses               {server.refused}")
    print()


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    return err.strip().splitlines()[-1] if err.strip() else ""


def rate_figure(size: int, log: str | None = None, *, archive: bool = True) -> None:
    header(f"rate: {size:,} distinct balance_at_many questions, limit 50/s, latency 50 ms")
    server = subprocess.Popen(
        # every wallet changes daily and each is asked every 1.8 days, so no answer
        # proves another question (a walk saves nothing): each question is a paid call
        [sys.executable, "-m", "tests.cli.world_server", "--wallets", "50", "--limit", "50",
         "--every-days", "1", "--latency", "0.05", *(["--log", log] if log else [])],
        cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    wallets = made_up_wallets(50)
    per = -(-size // len(wallets))
    step = (END - START) / per

    def questions() -> Iterator[tuple[str, str, datetime]]:
        for n in range(size):
            wallet = wallets[n % len(wallets)]
            yield str(wallet), "USDC", START + step * (n // len(wallets)) + timedelta(
                seconds=n % 977)

    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = _config(Path(tmp), url, ("helius",), limit="50/1s", archive=archive)

            async def run() -> tuple[int, float]:
                async with _client(config, ("helius",)) as client:
                    began = time.perf_counter()
                    ok = 0
                    async for result in client.balance_at_many(questions()):
                        ok += result.ok
                    return ok, time.perf_counter() - began

            ok, seconds = anyio.run(run)
    finally:
        summary = _stop(server)
    calls, refused, served = _parse_summary(summary)
    print("baseline: the limit         50.00 requests/s")
    print(f"asof (server's log)         {served:.2f} requests/s   "
          f"{served / 50:.1%} of the limit")
    print(f"answered                    {ok:,} of {size:,} in {seconds:,.1f} s "
          f"({calls:,} calls)")
    print(f"429 responses               {refused}")
    print()


def _parse_summary(text: str) -> tuple[int, int, float]:
    # "N call(s), R refused, X/s"
    parts = [p.strip() for p in text.split(",")]
    return int(parts[0].split()[0]), int(parts[1].split()[0]), float(parts[2].rstrip("/s"))


def derived_figure() -> None:
    header("derived balance_at: 100 points of one wallet through Allium")
    wallet = made_up_wallets(1)
    world = busy_world(wallet, every_days=1)
    for n in range(1500):  # a busier wallet: intraday changes too
        world.add(wallet[0], world.txs[0].token, "TokenAccountB111111111111111111111111111111",
                  START + timedelta(hours=5 * n + 1), 7 * n)
    world.page_limit = 500
    changes = len(world.txs)
    pages = -(-changes // world.page_limit)
    with serve(WorldServer(world)) as server, tempfile.TemporaryDirectory() as tmp:
        config = _config(Path(tmp), server.url, ("allium",))

        async def run() -> int:
            async with _client(config, ("allium",)) as client:
                moments = [START + timedelta(days=3 * d, hours=7) for d in range(100)]
                ok = 0
                async for result in client.balance_at_many(
                        (str(wallet[0]), "USDC", m) for m in moments):
                    ok += result.ok
                return ok

        answered = anyio.run(run)
        calls = server.calls()
    print(f"history                     {changes:,} changes, {pages} pages")
    print(f"baseline: one history pull  {pages} calls")
    print(f"asof, 100 points            {calls} calls ({answered} answered)   "
          f"{calls / pages:.2f}x the pull")
    print()


def memory_child(count: int) -> None:
    """Answer ``count`` questions and print the peak resident memory in MB."""
    wallet = made_up_wallets(1)
    world = busy_world(wallet)
    providers = ("helius",)
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(Path(tmp), "https://api.helius.xyz", providers, archive=False)

        async def run() -> int:
            async with AsyncClient(
                    config, plugins={"helius": load_plugin("helius")}, env={
                        **_env(providers), "ASOF_HELIUS_RATE_LIMIT": "off"},
                    http_transport=MockTransport(world.handler), archive=False) as client:
                ok = 0
                questions = ((str(wallet[0]), "USDC", START + timedelta(minutes=n))
                             for n in range(count))
                async for result in client.balance_at_many(questions):
                    ok += result.ok
                return ok

        ok = anyio.run(run)
    peak = peak_mib()
    print(f"{count} {ok} {peak:.1f}")


def memory_figure() -> None:
    header("peak memory: balance_at_many, one process per size")
    rows = []
    for count in (10_000, 100_000):
        done = subprocess.run([sys.executable, __file__, "--memory-child", str(count)],
                              cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"memory run failed: {done.stderr[-2000:]}")
        count_s, ok, peak = done.stdout.split()[-3:]
        rows.append((int(count_s), int(ok), float(peak)))
    for count, ok, peak in rows:
        print(f"{count:>7,} questions           peak {peak:6.1f} MB ({ok:,} answered)")
    print(f"growth 10k -> 100k          {rows[1][2] - rows[0][2]:+.1f} MB (target: flat, "
          "under 150 MB)")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="series,rate,derived,memory")
    parser.add_argument("--size", type=int, default=3_000,
                        help="questions for the rate figure (the issue's: 10000)")
    parser.add_argument("--no-archive", action="store_true",
                        help="the rate figure without the archive (no writes per answer)")
    parser.add_argument("--log", help="the rate figure's server log (one line a request)")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    wanted = set(args.only.split(","))
    if "series" in wanted:
        series_figure()
    if "rate" in wanted:
        rate_figure(args.size, args.log, archive=not args.no_archive)
    if "derived" in wanted:
        derived_figure()
    if "memory" in wanted:
        memory_figure()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
