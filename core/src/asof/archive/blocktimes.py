"""A provider's settled block times kept in the archive (:class:`asof.blocktimes.BlockTimes`
over any storage backend).

What is stored: per provider and chain, a block's number, timestamp and hash, only when
the block's timestamp is final by the archive's finality horizon of the chain
(:mod:`asof.archive.finality`) and the provider took it as settled. The cache only
saves requests: a failing archive (a read-only role, a closed database) is logged and
the provider reads the node as if nothing were stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from asof.archive.backend import Storage
from asof.archive.finality import Finality
from asof.blocktimes import BlockTime, final_blocks
from asof.errors import ArchiveError

__all__ = ["ArchiveBlockTimes"]

log = logging.getLogger("asof.archive")


class ArchiveBlockTimes:
    """The block times of ``provider`` in ``storage``; ``now`` is the archive's clock."""

    def __init__(self, storage: Storage, provider: str, *, finality: Finality,
                 now: Callable[[], datetime]) -> None:
        self.storage = storage
        self.provider = provider
        self.finality = finality
        self._now = now

    def around(self, chain: str, second: int) -> tuple[BlockTime | None, BlockTime | None]:
        """See :meth:`asof.blocktimes.BlockTimes.around`."""
        try:
            with self.storage.read() as reader:
                return reader.block_times_around(self.provider, chain, second)
        except ArchiveError as exc:
            log.warning("block times not read from the archive: %s", exc)
            return None, None

    def record(self, chain: str, blocks: Iterable[BlockTime]) -> int:
        """See :meth:`asof.blocktimes.BlockTimes.record` (one write transaction)."""
        now = self._now()
        final = final_blocks(chain, blocks, self.finality, now)
        if not final:
            return 0
        try:
            with self.storage.write(now) as writer:
                for block in final:
                    writer.block_time(self.provider, chain, block)
                return writer.stored
        except ArchiveError as exc:
            log.warning("block times not stored in the archive: %s", exc)
            return 0
