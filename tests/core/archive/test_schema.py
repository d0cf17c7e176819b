"""The database file: owner-only mode, WAL, versioned schema and migrations."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from asof.archive import SCHEMA_VERSION, Archive, schema
from asof.errors import ArchiveError

from .helpers import at, change, clock


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_file_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "archive.sqlite"
    with Archive(path, clock=clock()) as archive:
        archive.add([change(at(3), 5)])
        assert mode(path) == 0o600
        wal = path.with_name(path.name + "-wal")
        assert wal.exists()
        assert mode(wal) == 0o600
    assert mode(path.parent) == 0o700


def test_wal_mode_and_version(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    Archive(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_reopening_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with Archive(path, clock=clock()) as archive:
        archive.add([change(at(3), 5)])
    with Archive(path, clock=clock()) as archive:
        assert archive.info().counts["changes"] == 1


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    Archive(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ArchiveError, match="newer asof"):
        Archive(path)


def test_migrations_run_in_order_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.sqlite"
    with Archive(path, clock=clock()) as archive:
        archive.add([change(at(3), 5)])
    extra = ["ALTER TABLE changes ADD COLUMN note TEXT",
             "UPDATE changes SET note = 'migrated'"]
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, extra])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    conn = schema.connect(str(path))
    try:
        assert schema.migrate(conn) == SCHEMA_VERSION
        assert schema.schema_version(conn) == SCHEMA_VERSION + 1
        assert conn.execute("SELECT note FROM changes").fetchall() == [("migrated",)]
        assert schema.migrate(conn) == SCHEMA_VERSION + 1  # nothing left to do
    finally:
        conn.close()


def test_a_failed_migration_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.sqlite"
    Archive(path).close()
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS,
                                               ["CREATE TABLE extra (x)", "NOT SQL AT ALL"]])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    conn = schema.connect(str(path))
    try:
        with pytest.raises(sqlite3.Error):
            schema.migrate(conn)
        assert schema.schema_version(conn) == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "extra" not in tables
    finally:
        conn.close()


def test_an_empty_version_zero_file_is_built(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    sqlite3.connect(path).close()  # an empty database at version 0
    with Archive(path, clock=clock()) as archive:
        assert archive.info().schema_version == SCHEMA_VERSION


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    path.write_text("this is not sqlite, just text that is long enough to have a header\n" * 20)
    with pytest.raises(ArchiveError, match="cannot open archive"):
        Archive(path)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="directory"):
        Archive(tmp_path)


def test_closed_archive_says_so(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.sqlite")
    archive.close()
    with pytest.raises(ArchiveError, match="closed"):
        archive.info()


def test_memory_archive(tmp_path: Path) -> None:
    with Archive(":memory:", clock=clock()) as archive:
        archive.add([change(at(3), 5)])
        info = archive.info()
        assert info.size is None
        assert info.path == ":memory:"
        assert info.counts["changes"] == 1
    assert list(tmp_path.iterdir()) == []
