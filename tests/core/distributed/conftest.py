"""Fixtures for the Dask tests: one small LocalCluster per test module (it takes seconds
to start; closed explicitly), and the archive tests' PostgreSQL server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.core.archive.conftest import _stop_postgres, pg_server  # noqa: F401 (fixtures)


@contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A client of a LocalCluster of ``workers`` processes, one thread each, closed on
    leaving."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A client of a LocalCluster of 2 worker processes, one thread each."""
    with local_cluster(2) as client:
        yield client


def kill_a_busy_worker(dask: Any) -> None:
    """SIGKILL one worker process that is running a task (mid-task)."""
    import os
    import signal

    busy = [w for w, keys in dask.processing().items() if keys]
    assert busy, "no worker is running a task"
    pids = dask.run(os.getpid, workers=busy[:1])
    os.kill(next(iter(pids.values())), signal.SIGKILL)
