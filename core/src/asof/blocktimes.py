"""Block times: settled facts "block N of a chain was stamped T (hash H)", kept for a
provider across its time searches.

A provider that turns moments into blocks (:func:`asof.blocks.last_block_at_or_before`)
reads block timestamps. Once a block is final its timestamp never changes, so the core
keeps what the provider read and hands it back: :attr:`ProviderContext.block_times
<asof.context.ProviderContext.block_times>` is a :class:`BlockTimes`, backed by the
archive where the archive is enabled (so a later session starts from what an earlier
one learnt) and by memory otherwise (for the client's lifetime).

Only final blocks are kept. The provider passes the blocks it takes as settled (an EVM
node: at least 64 blocks below the latest); the core also applies the archive's
finality horizon of the chain (:mod:`asof.archive.finality`) to the block's timestamp,
so a block that a reorganisation may still replace is never stored. Facts are kept per
provider and chain, never shared between providers.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import attrs

if TYPE_CHECKING:
    from asof.archive.finality import Finality

__all__ = ["BlockTime", "BlockTimes", "MemoryBlockTimes", "final_blocks"]


@attrs.frozen(kw_only=True)
class BlockTime:
    """One block's number, timestamp (whole epoch seconds) and hash (when known)."""

    number: int
    timestamp: int
    hash: str | None = None

    @property
    def time(self) -> datetime:
        """The timestamp as a UTC datetime."""
        return datetime.fromtimestamp(self.timestamp, UTC)


class BlockTimes(Protocol):
    """The settled block times a provider learnt, per chain (see the module docstring).

    Block timestamps never decrease along a chain, so the two blocks :meth:`around`
    returns bound a time search: no stored block lies between them, and when their
    numbers are adjacent the lower one *is* the last block at or before the moment.
    """

    def around(self, chain: str, second: int) -> tuple[BlockTime | None, BlockTime | None]:
        """The stored blocks nearest to epoch second ``second``: the last stamped at or
        before it (the highest number among equal timestamps) and the first stamped
        after it; ``None`` where none is stored."""
        ...

    def record(self, chain: str, blocks: Iterable[BlockTime]) -> int:
        """Keep the blocks that are final on ``chain`` (the caller passes only blocks it
        takes as settled; the finality horizon drops fresher ones); return how many
        were new. A block already stored keeps its first record."""
        ...


def final_blocks(chain: str, blocks: Iterable[BlockTime], finality: Finality,
                 now: datetime) -> list[BlockTime]:
    """The blocks whose timestamps are final on ``chain`` at ``now``."""
    cut = finality.cut(chain, now)
    return [b for b in blocks if b.number >= 0 and b.timestamp >= 0 and b.time <= cut]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MemoryBlockTimes:
    """:class:`BlockTimes` in memory, for as long as this object lives (the core gives
    each provider one per client when no archive is enabled). ``finality`` defaults to
    the archive's default horizons; ``clock`` returns the current UTC time."""

    def __init__(self, *, finality: Finality | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        if finality is None:
            from asof.archive.finality import Finality

            finality = Finality()
        self.finality = finality
        self._clock = clock or _utcnow
        self._chains: dict[str, dict[int, BlockTime]] = {}
        #: per chain, (timestamp, number) of every block kept, sorted
        self._order: dict[str, list[tuple[int, int]]] = {}

    def around(self, chain: str, second: int) -> tuple[BlockTime | None, BlockTime | None]:
        """See :meth:`BlockTimes.around`."""
        order = self._order.get(chain, [])
        known = self._chains.get(chain, {})
        at = bisect.bisect_left(order, (second + 1, -1))  # numbers are never negative
        below = known[order[at - 1][1]] if at > 0 else None
        above = known[order[at][1]] if at < len(order) else None
        return below, above

    def record(self, chain: str, blocks: Iterable[BlockTime]) -> int:
        """See :meth:`BlockTimes.record`."""
        known = self._chains.setdefault(chain, {})
        order = self._order.setdefault(chain, [])
        kept = 0
        for block in final_blocks(chain, blocks, self.finality, self._clock()):
            if block.number not in known:
                known[block.number] = block
                bisect.insort(order, (block.timestamp, block.number))
                kept += 1
        return kept
