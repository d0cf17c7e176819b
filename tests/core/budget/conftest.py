"""Fixtures for the shared rate budget's tests: a real PostgreSQL server (the archive
tests' session server, :mod:`tests.core.archive.conftest`) and a real Redis server,
both started by the tests on 127.0.0.1 and stopped at the end of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from asof.testing.redisserver import RedisServer
from tests.core.archive.conftest import _stop_postgres, pg_server  # noqa: F401 (fixtures)

STORES = ("postgresql", "redis")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis server for the session."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    """The URL of an empty shared store of each kind (a new PostgreSQL database; the
    Redis server's database 0, flushed)."""
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        return str(server.database())
    import redis

    server = request.getfixturevalue("redis_server")
    client = redis.Redis.from_url(server.url)
    try:
        client.flushdb()
    finally:
        client.close()
    return str(server.url)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
