"""The bulk commands as a user runs them, in a pseudo-terminal and in pipes, against the
rate-limited local server of a model world (calls and 429s from its log).

``balance-at --input``, ``sync WALLET...`` / ``--input``, ``series --input --sync``,
``--plan`` and ``--budget``.
"""

from __future__ import annotations

import csv
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.terminal import ASOF, asof_env, run_in_pty
from tests.cli.world_server import WorldServer, busy_world, made_up_wallets, serve
from tests.core.archive.world import USDC

pytestmark = pytest.mark.integration

WALLETS = made_up_wallets(17)


def _env(tmp_path: Path, server: WorldServer, *, archive: bool = True) -> dict[str, str]:
    extra = {"ASOF_ALLIUM_BASE_URL": server.url, "ASOF_ALLIUM_API_KEY": "test-key",
             "ASOF_HELIUS_BASE_URL": server.url, "ASOF_HELIUS_API_KEY": "test-key",
             "ASOF_HELIUS_RATE_LIMIT": "20/1s", "ASOF_ALLOW": "allium,helius"}
    if archive:
        extra.update(ASOF_ARCHIVE_ENABLED="true",
                     ASOF_ARCHIVE_PATH=str(tmp_path / "archive.sqlite"))
    return asof_env(tmp_path, **extra)


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ASOF, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_balance_at_input_in_a_terminal_keeps_rows_and_marks_failures(
        tmp_path: Path) -> None:
    world = busy_world(WALLETS[:3])
    questions = tmp_path / "questions.csv"
    rows = [f"{w},USDC,2025-0{n + 2}-10,row{n}" for n, w in enumerate(WALLETS[:3])]
    questions.write_text("wallet,token,at,note\n" + "\n".join(rows)
                         + "\nsolana:nope,USDC,2025-01-01,bad\n", encoding="utf-8")
    out = tmp_path / "answers.csv"
    with serve(WorldServer(world, limit=20, latency=0.05)) as server:
        env = _env(tmp_path, server, archive=False)
        env["ASOF_ALLOW"] = "helius"
        code, shown = run_in_pty(["balance-at", "--input", str(questions), "--format", "csv"],
                                 env, stdout=out)
        assert server.calls("/v1/wallet/") == 3  # the bad row cost nothing
        assert server.refused == 0
    assert code == 1, shown  # a row failed
    assert "1 row(s) failed" in shown
    found = list(csv.DictReader(out.read_text().splitlines()))
    assert [r["note"] for r in found] == ["row0", "row1", "row2", "bad"]  # input order
    assert list(found[0])[:4] == ["wallet", "token", "at", "note"]  # input columns first
    for row, wallet in zip(found[:3], WALLETS[:3], strict=True):
        moment = datetime.fromisoformat(row["at"]).replace(tzinfo=UTC)
        assert int(row["raw"]) == world.truth(wallet, USDC, moment)
        assert row["error"] == ""
    assert "not a Solana address" in found[3]["error"]


def test_series_input_sync_plans_pulls_and_the_plan_spends_nothing(tmp_path: Path) -> None:
    wallets = WALLETS
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(f'{{"wallet": "{w}", "token": "USDC"}}\n' for w in wallets),
                     encoding="utf-8")
    span = ["--from", "2025-01-01", "--to", "2025-04-01", "--sync"]
    with serve(WorldServer(busy_world(wallets), limit=20)) as server:
        env = _env(tmp_path, server)
        shown = _run(["series", "--input", str(pairs), *span, "--plan"], env)
        assert shown.returncode == 0, shown.stderr
        assert "15 wallet(s)" in shown.stdout
        assert "2 wallet(s)" in shown.stdout
        assert server.calls() == 0  # --plan spent nothing
        refused = _run(["series", "--input", str(pairs), *span, "--budget", "1"], env)
        assert refused.returncode == 1
        assert "more than --budget 1" in refused.stderr
        assert server.calls() == 0
        done = _run(["series", "--input", str(pairs), *span, "--format", "csv"], env)
        assert done.returncode == 0, done.stderr
        assert server.calls() == 2  # one page per batch of 15
        assert server.refused == 0
        again = _run(["series", "--input", str(pairs), *span[:-1], "--format", "csv"], env)
        assert server.calls() == 2  # the archive answers now
    rows = list(csv.DictReader(done.stdout.splitlines()))
    assert len(rows) == len(wallets) * 90
    assert rows == list(csv.DictReader(again.stdout.splitlines()))


def test_sync_many_wallets_is_one_job_and_the_hint_proves_the_points(tmp_path: Path) -> None:
    wallets = WALLETS[:3]
    listing = tmp_path / "wallets.csv"
    listing.write_text("wallet\n" + "".join(f"{w}\n" for w in wallets), encoding="utf-8")
    span = ["--from", "2025-01-01", "--to", "2025-02-01"]
    with serve(WorldServer(busy_world(wallets), limit=20)) as server:
        env = _env(tmp_path, server)
        before = _run(["series", str(wallets[0]), "USDC", *span], env)
        assert "add --sync" in before.stderr
        assert f"asof sync {wallets[0]}`" in before.stderr
        done = _run(["sync", "--input", str(listing)], env)
        assert done.returncode == 0, done.stderr
        assert "synced 3 solana wallet(s) from allium" in done.stderr
        assert server.calls() == 1
        after = _run(["series", str(wallets[0]), "USDC", *span, "--format", "csv"], env)
    assert "not proven" not in after.stderr
    assert all(r["raw"] for r in csv.DictReader(after.stdout.splitlines()))
