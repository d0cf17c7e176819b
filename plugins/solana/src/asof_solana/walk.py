"""The as-of walk: each address's last transaction at or before a point, and what it left.

A Solana node keeps, per address, the signatures of the transactions in which that
address is an account key (``getSignaturesForAddress``, newest first, at most 1,000 per
call, paged with ``before``). Walking that list back from the newest finds the last slot
at or before the point; when that slot holds several of the address's transactions,
``getBlock`` (signatures only) gives their order in the block, and the one with the
highest transaction index is the last. ``getTransaction`` of that one gives the state
after it: ``meta.postBalances`` (lamports, by account key position) and
``meta.postTokenBalances`` (token amounts, by ``accountIndex``).

Several addresses are walked together: each round asks the next page of every address
still walking in one JSON-RPC batch, and the transactions are fetched in one batch at
the end (the node may refuse batches; the core helper then asks singly).
:class:`Walker` holds one answer's reads and caches what two addresses share.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from asof.context import ProviderContext
from asof.errors import InvalidPoint, NotFoundError, ResponseError
from asof.jsonrpc import Call
from asof.records import BlockRef, Point
from asof_solana.parse import (
    NAME,
    BlockSignatures,
    SignatureInfo,
    Transaction,
    parse_block_signatures,
    parse_block_time,
    parse_signatures,
    parse_slot,
    parse_transaction,
)
from asof_solana.rpc import COMMITMENT, PAGE_LIMIT, Node

__all__ = ["Last", "Walker"]

_TRANSACTION_CONFIG = {"encoding": "json", "commitment": COMMITMENT,
                       "maxSupportedTransactionVersion": 0}


@attrs.frozen(kw_only=True)
class Last:
    """An address's last transaction at or before the point; ``index`` is its position
    in the block when it had to be found (a tie inside the slot), else ``None``."""

    address: str
    signature: str
    slot: int
    index: int | None
    block_time: datetime | None

    def block(self, index: int | None = None) -> BlockRef:
        """Where the state was read, for ``as_of``."""
        return BlockRef(number=self.slot, timestamp=self.block_time,
                        transaction=self.signature,
                        index=self.index if index is None else index)


@attrs.define
class _Walk:
    """One address's progress through its signature pages."""

    address: str
    before: str | None = None
    previous: SignatureInfo | None = None
    chosen: list[SignatureInfo] = attrs.field(factory=list)
    done: bool = False


class Walker:
    """The node reads of one answer (see the module docstring)."""

    def __init__(self, ctx: ProviderContext) -> None:
        self.node = Node(ctx)
        self._blocks: dict[int, BlockSignatures] = {}
        self._block_times: dict[int, datetime | None] = {}
        #: the node's latest finalized slot, once known
        self.finalized: int | None = None
        # whether a listed (finalized) transaction lies after the point: then the point
        # is final whatever the tip
        self._seen_after = False

    # -- signatures ---------------------------------------------------------------

    async def last_at_or_before(
        self, addresses: Sequence[str], point: Point, *, ask_finalized: bool = False
    ) -> dict[str, Last | None]:
        """Each address's last transaction at or before ``point`` (``None``: the node
        lists none for it).

        With ``ask_finalized``, the node's latest finalized slot (``getSlot``) travels in
        the first round's batch and lands in :attr:`finalized`, for :meth:`ensure_final`.
        """
        walks = [_Walk(address) for address in dict.fromkeys(addresses)]
        ask = ask_finalized
        while pending := [walk for walk in walks if not walk.done]:
            calls: list[Call] = [
                ("getSignaturesForAddress", [walk.address, _page_config(walk.before)])
                for walk in pending
            ]
            if ask:
                calls.append(("getSlot", [{"commitment": COMMITMENT}]))
            pages = await self.node.batch(calls)
            if ask:
                self.finalized = parse_slot(pages.pop())
                ask = False
            for walk, result in zip(pending, pages, strict=True):
                await self._advance(walk, parse_signatures(result), point)
        return {walk.address: await self._last_in_slot(walk) for walk in walks}

    async def _advance(self, walk: _Walk, page: Sequence[SignatureInfo], point: Point) -> None:
        _check_page(page, walk.previous, walk.before)
        for info in page:
            if walk.chosen:
                if info.slot != walk.chosen[0].slot:
                    walk.done = True
                    return
                walk.chosen.append(info)
            elif await self._placed(info, point):
                walk.chosen.append(info)
        if len(page) < PAGE_LIMIT:
            walk.done = True
            return
        walk.previous, walk.before = page[-1], page[-1].signature

    async def _placed(self, info: SignatureInfo, point: Point) -> bool:
        if point.block is not None:
            placed = info.slot <= point.block
        else:
            assert point.time is not None
            moment = info.block_time or await self.block_time(info.slot)
            if moment is None:
                raise ResponseError(
                    NAME, f"the node knows no block time for slot {info.slot}, so a time "
                    "point cannot be placed against it; ask at slot:N instead",
                    field="blockTime")
            placed = moment <= point.time
        self._seen_after = self._seen_after or not placed
        return placed

    async def ensure_final(self, point: Point) -> None:
        """Refuse a point whose state is not final on the node yet.

        A slot point must be at or before the latest finalized slot. A time point is
        final when a listed (finalized) transaction lies after it, or else when the
        finalized slot's block time is after it (one ``getBlockTime``).
        """
        assert self.finalized is not None, "the finalized slot was not read"
        if point.block is not None:
            if point.block > self.finalized:
                raise InvalidPoint(
                    f"slot {point.block} is after the node's latest finalized slot "
                    f"{self.finalized}: its balance is not final yet", field="at",
                    value=point.describe("slot"))
            return
        assert point.time is not None
        if self._seen_after:
            return
        moment = await self.block_time(self.finalized)
        if moment is None or moment <= point.time:
            when = "an unknown time" if moment is None else moment.isoformat().replace(
                "+00:00", "Z")
            raise InvalidPoint(
                f"{point.describe()} is not before the node's latest finalized block (slot "
                f"{self.finalized}, {when}): its balance is not final yet", field="at",
                value=point.describe())

    async def _last_in_slot(self, walk: _Walk) -> Last | None:
        infos = walk.chosen
        if not infos:
            return None
        first = infos[0]
        signatures = [info.signature for info in infos]
        if len(set(signatures)) != len(signatures):
            raise ResponseError(NAME, f"getSignaturesForAddress lists a signature of "
                                f"{walk.address} twice in slot {first.slot}", field="signature")
        if len(infos) == 1:
            return Last(address=walk.address, signature=first.signature, slot=first.slot,
                        index=None, block_time=first.block_time)
        positions = await self.positions(first.slot, signatures)
        best = max(infos, key=lambda info: positions[info.signature])
        return Last(address=walk.address, signature=best.signature, slot=best.slot,
                    index=positions[best.signature], block_time=best.block_time)

    # -- blocks and transactions ------------------------------------------------------

    async def positions(self, slot: int, signatures: Sequence[str]) -> dict[str, int]:
        """The transaction index of each of ``signatures`` in the block at ``slot``."""
        block = self._blocks.get(slot)
        if block is None:
            config = {"encoding": "json", "transactionDetails": "signatures", "rewards": False,
                      "commitment": COMMITMENT, "maxSupportedTransactionVersion": 0}
            block = parse_block_signatures(await self.node.call("getBlock", [slot, config]),
                                           slot=slot)
            self._blocks[slot] = block
            self._block_times.setdefault(slot, block.block_time)
        order = {signature: n for n, signature in enumerate(block.signatures)}
        missing = [s for s in signatures if s not in order]
        if missing:
            raise ResponseError(NAME, f"getBlock of slot {slot} does not hold transaction "
                                f"{missing[0]}, which getSignaturesForAddress placed there",
                                field="signatures")
        return {s: order[s] for s in signatures}

    async def block_time(self, slot: int) -> datetime | None:
        """``getBlockTime`` of ``slot`` (cached)."""
        if slot not in self._block_times:
            self._block_times[slot] = parse_block_time(
                await self.node.call("getBlockTime", [slot]), slot=slot)
        return self._block_times[slot]

    async def transactions(self, lasts: Sequence[Last]) -> dict[str, Transaction]:
        """``getTransaction`` of each of ``lasts`` (each signature once, in one batch),
        checked against the listing: same slot, the address among the account keys."""
        signatures = list(dict.fromkeys(last.signature for last in lasts))
        if not signatures:
            return {}
        results = await self.node.batch([
            ("getTransaction", [signature, _TRANSACTION_CONFIG]) for signature in signatures
        ])
        found: dict[str, Transaction] = {}
        for signature, result in zip(signatures, results, strict=True):
            transaction = parse_transaction(result, signature=signature)
            if transaction is not None:
                found[signature] = transaction
        for last in lasts:
            _check_transaction(found.get(last.signature), last)
        return found


def _page_config(before: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {"limit": PAGE_LIMIT, "commitment": COMMITMENT}
    if before is not None:
        config["before"] = before
    return config


def _check_page(page: Sequence[SignatureInfo], previous: SignatureInfo | None,
                before: str | None) -> None:
    if len(page) > PAGE_LIMIT:
        raise ResponseError(NAME, f"getSignaturesForAddress returned {len(page)} signatures, "
                            f"more than the limit {PAGE_LIMIT}", field="result")
    if previous is not None and page and (
        page[0].signature == before or page[0].slot > previous.slot
    ):
        raise ResponseError(NAME, f"getSignaturesForAddress with before={before} did not "
                            "continue past it", field="result")


def _check_transaction(transaction: Transaction | None, last: Last) -> None:
    if transaction is None:
        raise NotFoundError(
            NAME, f"the node has no record of transaction {last.signature} (slot "
            f"{last.slot}), which it lists for {last.address}; it may not keep the full "
            "ledger history: ask an archival endpoint")
    if transaction.slot != last.slot:
        raise ResponseError(NAME, f"getTransaction puts {last.signature} in slot "
                            f"{transaction.slot}, getSignaturesForAddress in slot {last.slot}",
                            field="slot")
    if transaction.index_of(last.address) is None:
        raise ResponseError(NAME, f"transaction {last.signature} is listed for "
                            f"{last.address} but does not hold it among its account keys",
                            field="accountKeys")
