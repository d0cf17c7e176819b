"""Fixtures for the archive tests.

The archive's tests are written against the storage protocol
(:mod:`asof.archive.backend`): the ``archive`` fixture builds an
:class:`~asof.archive.Archive` over each backend in :data:`BACKENDS`, so a new backend
(PostgreSQL) runs the same tests by adding one entry here. The PostgreSQL entry starts
one real server for the session on first use (see :mod:`asof.testing.postgres`; without PostgreSQL
installed its tests fail) and gives each test a new database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from asof.archive import Archive, SQLiteStorage, Storage
from asof.testing.postgres import PostgresServer

from .helpers import clock

_SERVERS: list[PostgresServer] = []


def postgres_database() -> str:
    """The URL of a new database on the session's PostgreSQL server (started now if
    it is not running yet)."""
    if not _SERVERS:
        _SERVERS.append(PostgresServer().start())
    return _SERVERS[0].database()


def _postgres(folder: Path) -> Storage:
    from asof.archive.postgres import PostgresStorage

    return PostgresStorage(postgres_database(), pool_size=4)

#: Every storage backend the archive's tests run on: name -> factory(temporary folder).
BACKENDS: dict[str, Callable[[Path], Storage]] = {
    "sqlite": lambda folder: SQLiteStorage(folder / "archive.sqlite"),
    "sqlite-memory": lambda folder: SQLiteStorage(":memory:"),
    "postgres": _postgres,
}


@pytest.fixture(scope="session", autouse=True)
def _stop_postgres() -> Iterator[None]:
    yield
    while _SERVERS:
        _SERVERS.pop().stop()


@pytest.fixture(scope="session")
def pg_server() -> PostgresServer:
    """The session's PostgreSQL server (started on first use)."""
    postgres_database()
    return _SERVERS[0]


@pytest.fixture(params=sorted(BACKENDS))
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """A fresh, empty storage of each backend."""
    opened = BACKENDS[request.param](tmp_path)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def archive(storage: Storage) -> Iterator[Archive]:
    """A fresh archive over each backend, whose clock says 2025-06-01."""
    with Archive(storage=storage, clock=clock()) as opened:
        yield opened
