"""Claims on histories being pulled, so that two processes do not both pull (and pay
for) the same history at once.

Before :func:`~asof.archive.pull.pull` fetches a page it takes the claim on its query
(keyed by :func:`~asof.archive.syncstate.query_key`) from the storage; a second process
pulling the same query waits until the claim is released, then reads the sync state the
first left (usually: complete, nothing to fetch). A claim expires ``seconds`` after it
was last renewed (each stored page renews it), so a holder that died stops blocking
others; the next holder resumes from the last stored page. A holder whose claim was
taken over stops rather than pull in parallel. The SQLite backend grants every claim
(one machine's file); the PostgreSQL backend keeps them in its ``claims`` table.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio

from asof.archive.backend import Storage
from asof.archive.syncstate import query_key
from asof.errors import ArchiveError
from asof.queries import HistoryQuery

__all__ = ["DEFAULT_SECONDS", "claim_key", "holder_name", "pull_claim"]

log = logging.getLogger("asof.archive")

#: How long a claim lasts without renewal.
DEFAULT_SECONDS = 120.0


def claim_key(query: HistoryQuery) -> str:
    """The claim key of pulling ``query``."""
    return "pull:" + hashlib.sha256(query_key(query).encode()).hexdigest()


def holder_name() -> str:
    """A name for this holder, unique across machines and processes."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def pull_claim(storage: Storage, query: HistoryQuery, *,
                     seconds: float = DEFAULT_SECONDS, poll: float = 0.25,
                     on_wait: Callable[[], None] | None = None,
                     ) -> AsyncIterator[Callable[[], None]]:
    """Hold the claim on pulling ``query`` for the block (waiting for another holder
    first; ``on_wait`` is called once when it must); yields ``renew``, which extends it
    and raises :class:`~asof.errors.ArchiveError` when another holder took it over
    meanwhile."""
    key = claim_key(query)
    holder = holder_name()
    waited = False
    while not storage.claim(key, holder, seconds):
        if not waited:
            log.info("another process is pulling this history; waiting for it")
            if on_wait is not None:
                on_wait()
            waited = True
        await anyio.sleep(poll)

    def renew() -> None:
        if not storage.claim(key, holder, seconds):
            raise ArchiveError("this pull's claim expired and another process took it "
                               "over; stopping (rerun to resume from the last stored page)")

    try:
        yield renew
    finally:
        storage.release(key, holder)
