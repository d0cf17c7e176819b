"""A damaged archive file is reported as damaged (where it is, how to move it aside),
never as a disabled archive; ``asof archive check`` runs SQLite's integrity check; and
``asof archive clear`` without a terminal asks for ``--yes`` instead of "interrupted"."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from asof.archive import Archive, open_archive
from asof.archive.integrity import check_integrity
from asof.cli.app import cli
from asof.cli.common import EXIT_FAILURE, EXIT_USAGE, CliState
from asof.config import load_config
from asof.errors import ArchiveError

from .helpers import at, change, lines_of
from .test_cli import _clean_env  # noqa: F401  (the same clean environment, autouse)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=CliState())


def default_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "asof" / "archive.sqlite"


def filled(path: Path, tmp_path: Path) -> Path:
    """An archive at ``path`` holding enough records to span many pages."""
    source = tmp_path / "in.jsonl"
    source.write_text(lines_of(*(change(at(1) + timedelta(minutes=i), i + 1)
                                 for i in range(400))))
    path.parent.mkdir(parents=True, exist_ok=True)
    result = invoke("--config", str(_config(tmp_path, path)), "import", str(source))
    assert result.exit_code == 0, result.output
    return path


def _config(tmp_path: Path, path: Path) -> Path:
    config = tmp_path / "asof.toml"
    config.write_text(f'[archive]\npath = "{path}"\n')
    return config


def test_a_file_that_is_not_a_database_at_the_default_path_is_damaged(tmp_path: Path) -> None:
    path = default_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not an SQLite file" * 100)
    with pytest.raises(ArchiveError, match="is damaged") as caught:
        open_archive(load_config(env={"XDG_DATA_HOME": str(tmp_path / "data")}))
    assert str(path) in str(caught.value)
    assert f"mv '{path}' '{path}.damaged'" in str(caught.value)
    wallet = "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
    for args in (["archive", "info"], ["export"], ["sync", wallet]):
        result = invoke(*args)
        assert result.exit_code == EXIT_FAILURE, result.output
        assert "is damaged" in result.stderr
        assert "disabled" not in result.stderr


def _damage_pages(path: Path) -> None:
    """Overwrite the middle of the file (table and index pages) with garbage."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    for start in range(2 * page, len(data) - page, 3 * page):
        data[start + 100:start + 900] = b"\xa5" * 800
    path.write_bytes(bytes(data))


def test_damage_inside_pages_fails_info_and_check(tmp_path: Path) -> None:
    path = filled(tmp_path / "archive.sqlite", tmp_path)
    config = str(_config(tmp_path, path))
    assert invoke("--config", config, "archive", "check").exit_code == 0
    _damage_pages(path)
    assert check_integrity(path)  # SQLite itself sees the damage
    info = invoke("--config", config, "archive", "info")
    assert info.exit_code == EXIT_FAILURE, info.output
    assert "is damaged" in info.stderr
    checked = invoke("--config", config, "archive", "check")
    assert checked.exit_code == EXIT_FAILURE
    assert "damaged:" in checked.stderr
    assert f"mv '{path}'" in checked.stderr


def test_check_of_a_sound_archive_passes(tmp_path: Path) -> None:
    path = filled(tmp_path / "archive.sqlite", tmp_path)
    result = invoke("--config", str(_config(tmp_path, path)), "archive", "check")
    assert result.exit_code == 0, result.output
    assert "found no damage" in result.stderr
    with Archive(path) as store:  # the check opened it read-only: still the same archive
        assert store.info().counts["changes"] == 400


def test_clear_without_a_terminal_asks_for_yes(tmp_path: Path) -> None:
    path = filled(tmp_path / "archive.sqlite", tmp_path)
    config = str(_config(tmp_path, path))
    refused = invoke("--config", config, "archive", "clear")
    assert refused.exit_code == EXIT_USAGE, refused.output
    assert "pass --yes" in refused.stderr
    assert "interrupted" not in refused.stderr
    with Archive(path) as store:
        assert store.info().counts["changes"] == 400  # nothing deleted
    assert invoke("--config", config, "archive", "clear", "--yes").exit_code == 0
