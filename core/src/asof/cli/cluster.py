"""``--cluster ADDRESS`` and ``--workers N``: a bulk command's job on a dask.distributed
cluster (:mod:`asof.distributed`; install ``asof[dask]``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

__all__ = ["cluster_options", "dask_client"]

F = TypeVar("F", bound=Callable[..., Any])


def cluster_options(func: F) -> F:
    """Add ``--cluster ADDRESS`` and ``--workers N``."""
    func = click.option(
        "--workers", type=click.IntRange(min=1, max=64), metavar="N",
        help="Run the job on a local Dask cluster of N worker processes (they share the "
        "archive and the rate budget the configuration names).")(func)
    return click.option(
        "--cluster", metavar="ADDRESS",
        help="Run the job on the Dask scheduler at ADDRESS (tcp://HOST:PORT); its workers "
        "need the same configuration, archive and rate-limit store.")(func)


@contextmanager
def dask_client(cluster: str | None, workers: int | None) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``cluster``, or of a new local
    cluster of ``workers`` processes (one thread each), closed on leaving."""
    if cluster is not None and workers is not None:
        raise click.UsageError("give --cluster or --workers, not both")
    try:
        import distributed
    except ImportError:
        raise click.UsageError("--cluster and --workers need Dask: install "
                               "'asof[dask]'") from None
    dask: Any = distributed  # untyped
    if cluster is not None:
        client = dask.Client(cluster, timeout=30)
        try:
            yield client
        finally:
            client.close()
        return
    import logging

    local = dask.LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=True,
                         dashboard_address=":0", silence_logs=logging.ERROR)
    client = dask.Client(local)
    try:
        yield client
    finally:
        client.close()
        local.close()
