"""Fixtures for the archive tests: every test that takes ``archive`` (or ``backend``)
runs once per storage backend, SQLite and PostgreSQL (a real server the tests start)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from asof.archive import Archive, SQLiteStorage, Storage

from .helpers import clock
from .pgserver import PostgresServer

#: Opens a fresh storage of the backend under test.
StorageFactory = Callable[[], Storage]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (it fails, never skips, without
    PostgreSQL)."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> StorageFactory:
    """A factory of fresh storages of one backend (SQLite files, PostgreSQL
    databases)."""
    if request.param == "sqlite":
        names = iter(range(1_000_000))
        return lambda: SQLiteStorage(tmp_path / (f"archive-{n}.sqlite" if (n := next(names))
                                                 else "archive.sqlite"))
    from asof.archive.postgres import PostgresStorage

    server: PostgresServer = request.getfixturevalue("pg_server")
    return lambda: PostgresStorage(server.database(), pool_size=4)


@pytest.fixture
def archive(backend: StorageFactory) -> Iterator[Archive]:
    """A fresh archive whose clock says 2025-06-01, on each backend."""
    with Archive(storage=backend(), clock=clock()) as opened:
        yield opened


def open_with(backend: StorageFactory, now: Callable[[], datetime]) -> Archive:
    """An archive on a fresh storage of ``backend`` with the clock ``now``."""
    return Archive(storage=backend(), clock=now)
