"""Fixtures for the archive tests.

The archive's tests are written against the storage protocol
(:mod:`asof.archive.backend`): the ``archive`` fixture builds an
:class:`~asof.archive.Archive` over each backend in :data:`BACKENDS`, so a new backend
(PostgreSQL) runs the same tests by adding one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from asof.archive import Archive, SQLiteStorage, Storage

from .helpers import clock

#: Every storage backend the archive's tests run on: name -> factory(temporary folder).
BACKENDS: dict[str, Callable[[Path], Storage]] = {
    "sqlite": lambda folder: SQLiteStorage(folder / "archive.sqlite"),
    "sqlite-memory": lambda folder: SQLiteStorage(":memory:"),
}


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
