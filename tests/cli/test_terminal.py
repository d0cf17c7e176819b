"""The real ``asof`` in a pseudo-terminal and in pipes, against a local fake Allium.

A progress bar draws on the terminal (stderr) while records stream to stdout, which the
shell has redirected to a file: every record must reach the file, none the screen. A
reader that closes the pipe early (``| head -1``) ends asof with 141, as the shell
reports a SIGPIPE death, so ``set -o pipefail`` scripts see why.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli.fake_allium import WALLET, FakeAllium, serve
from tests.cli.terminal import asof_env, run_in_pty, run_piped

pytestmark = pytest.mark.integration

RANGE = ["--from", "2025-03-01", "--to", "2025-03-02"]


def _env(tmp_path: Path, fake: FakeAllium) -> dict[str, str]:
    return asof_env(tmp_path, ASOF_ALLIUM_BASE_URL=fake.url, ASOF_ALLIUM_API_KEY="test-key",
                    ASOF_ALLIUM_RATE_LIMIT="off", ASOF_ALLOW="allium")


def _records(path: Path, fmt: str) -> list[dict[str, str]]:
    text = path.read_text()
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return list(csv.DictReader(text.splitlines()))


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("command", ["history", "holdings"])
def test_records_reach_the_redirected_file_while_the_bar_draws(
    tmp_path: Path, command: str, fmt: str
) -> None:
    fake = FakeAllium(pages=3, per_page=5, delay=0.12)
    extra = ["-g", "1h"] if command == "holdings" else []
    out = tmp_path / f"out.{fmt}"
    with serve(fake):
        code, shown = run_in_pty(
            [command, f"solana:{WALLET}", *RANGE, *extra, "--format", fmt],
            _env(tmp_path, fake), stdout=out)
    assert code == 0, shown
    assert len(fake.log) == fake.pages  # one request per page, from the server's log
    rows = _records(out, fmt)
    assert len(rows) == fake.total
    assert "fetching" in shown or "page" in shown  # the bar did draw on the terminal
    assert WALLET not in shown  # and no record went to the screen


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_ledger_records_reach_the_redirected_file_while_the_bar_draws(
    tmp_path: Path, fmt: str
) -> None:
    fake = FakeAllium(pages=3, per_page=4, delay=0.12)
    out = tmp_path / f"ledger.{fmt}"
    with serve(fake):
        env = asof_env(tmp_path, ASOF_PACIFICA_BASE_URL=fake.url + "/api/v1",
                       ASOF_PACIFICA_RATE_LIMIT="off", ASOF_ALLOW="pacifica")
        code, shown = run_in_pty(["ledger", f"pacifica:{WALLET}", "--format", fmt], env,
                                 stdout=out)
    assert code == 0, shown
    assert len(fake.log) == fake.pages
    rows = _records(out, fmt)
    assert len(rows) == fake.total
    assert "ledger" in shown  # the bar did draw on the terminal
    assert "deposit" not in shown  # and no record went to the screen


def test_table_in_the_terminal_shows_every_row(tmp_path: Path) -> None:
    fake = FakeAllium(pages=2, per_page=3)
    with serve(fake):
        code, shown = run_in_pty(["history", f"solana:{WALLET}", *RANGE],
                                 _env(tmp_path, fake))
    assert code == 0, shown
    assert shown.count("USDC") >= fake.total


def test_jsonl_streamed_to_the_terminal_draws_no_bar_over_it(tmp_path: Path) -> None:
    fake = FakeAllium(pages=3, per_page=2, delay=0.1)
    with serve(fake):
        code, shown = run_in_pty(
            ["history", f"solana:{WALLET}", *RANGE, "--format", "jsonl"], _env(tmp_path, fake))
    assert code == 0, shown
    assert shown.count('"kind"') == fake.total
    assert "fetching" not in shown


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_closed_pipe_exits_141(tmp_path: Path, fmt: str) -> None:
    fake = FakeAllium(pages=40, per_page=200)
    with serve(fake):
        done = run_piped(f'"$ASOF" history solana:{WALLET} {" ".join(RANGE)} --format {fmt} '
                         "| head -1", _env(tmp_path, fake))
    assert done.returncode == 141, done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert "error" not in done.stderr
    assert "Traceback" not in done.stderr
    assert len(fake.log) < fake.pages  # asof stopped instead of reading every page


def test_export_into_a_closed_pipe_exits_141(tmp_path: Path) -> None:
    env = asof_env(tmp_path, ASOF_ARCHIVE_ENABLED="true",
                   ASOF_ARCHIVE_PATH=str(tmp_path / "archive.sqlite"))
    lines = tmp_path / "seed.jsonl"
    fake = FakeAllium(pages=1, per_page=3000)
    with serve(fake):
        fetched = run_piped(
            f'"$ASOF" history solana:{WALLET} {" ".join(RANGE)} --format jsonl > {lines}',
            {**_env(tmp_path, fake), "ASOF_ARCHIVE_ENABLED": "false"})
    assert fetched.returncode == 0, fetched.stderr
    imported = run_piped(f'"$ASOF" import {lines}', env)
    assert imported.returncode == 0, imported.stderr
    done = run_piped('"$ASOF" export | head -1', env)
    assert done.returncode == 141, done.stderr
    assert "error" not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_before_or_after_the_command_shows_the_debug_log(
    tmp_path: Path, where: str
) -> None:
    fake = FakeAllium(pages=1, per_page=2)
    args = f"history solana:{WALLET} {' '.join(RANGE)} --format jsonl"
    line = f'"$ASOF" -v {args}' if where == "before" else f'"$ASOF" {args} -v'
    with serve(fake):
        done = run_piped(line, _env(tmp_path, fake))
    assert done.returncode == 0, done.stderr
    assert "DEBUG asof.http: allium POST" in done.stderr
    assert len(done.stdout.splitlines()) == 2


def test_python_dash_m_asof_runs_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "asof", "--version"], capture_output=True,
                          text=True, timeout=60, check=False, env=asof_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("asof, version ")
    usage = subprocess.run([sys.executable, "-m", "asof", "nosuch"], capture_output=True,
                           text=True, timeout=60, check=False, env=asof_env(tmp_path))
    assert usage.returncode == 2
    assert "Usage: asof" in usage.stderr or "asof: error" in usage.stderr


def test_shell_completion_as_documented(tmp_path: Path) -> None:
    env = asof_env(tmp_path, _ASOF_COMPLETE="bash_source")
    done = run_piped('"$ASOF"', env)
    assert done.returncode == 0, done.stderr
    assert "_asof_completion" in done.stdout
    words = run_piped('"$ASOF"', {**asof_env(tmp_path), "_ASOF_COMPLETE": "bash_complete",
                                  "COMP_WORDS": "asof arch", "COMP_CWORD": "1"})
    assert "archive" in words.stdout


@pytest.mark.parametrize(("typed", "code", "left"), [(b"n\r", 1, 3), (b"y\r", 0, 0)])
def test_archive_clear_asks_in_a_terminal(tmp_path: Path, typed: bytes, code: int,
                                          left: int) -> None:
    env = asof_env(tmp_path, ASOF_ARCHIVE_ENABLED="true",
                   ASOF_ARCHIVE_PATH=str(tmp_path / "archive.sqlite"))
    lines = tmp_path / "seed.jsonl"
    fake = FakeAllium(pages=1, per_page=3)
    with serve(fake):
        fetched = run_piped(
            f'"$ASOF" history solana:{WALLET} {" ".join(RANGE)} --format jsonl > {lines}',
            {**_env(tmp_path, fake), "ASOF_ARCHIVE_ENABLED": "false"})
    assert fetched.returncode == 0, fetched.stderr
    assert run_piped(f'"$ASOF" import {lines}', env).returncode == 0
    exit_code, shown = run_in_pty(["archive", "clear"], env, answer=typed)
    assert exit_code == code, shown
    assert "Delete everything in the archive" in shown
    assert ("nothing deleted" in shown) == (code == 1)
    info = run_piped('"$ASOF" archive info --format json', env)
    assert json.loads(info.stdout)["changes"] == left
