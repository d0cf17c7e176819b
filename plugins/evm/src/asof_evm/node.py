"""One chain's node, as the plugin sees it through a session: the chain check, block
headers, the block of a moment, and state reads at a block.

A :class:`Node` is kept per session (the core builds one session per provider and
chain for a client), so the ``eth_chainId`` check runs once per session. The headers
read by time searches are kept in the core's block times
(:attr:`ProviderContext.block_times <asof.plugin.ProviderContext>`: in the archive where
it is enabled, so a later session reuses them, else in memory for the client's
lifetime). Only headers at least :data:`SETTLED_DEPTH` blocks below the latest are
passed on (a shallower block may still be replaced by a reorganisation), and the core
stores only those final by the archive's finality horizon. A later search starts from
the two stored blocks nearest to its moment; when they are adjacent, they answer it.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from asof.plugin import (
    BlockTime,
    BlockTimes,
    Call,
    ConfigError,
    InvalidPoint,
    JsonRpc,
    ProviderContext,
    ProviderError,
    ProviderHTTP,
    ResponseError,
    Token,
    floor_seconds,
    last_block_at_or_before,
    resolve_chain,
)
from asof_evm.abi import DECIMALS, balance_of_data, data_bytes, quantity, to_quantity, uint256
from asof_evm.errors import PrunedState, is_pruned
from asof_evm.info import DEFAULT_CHAIN, NAME

__all__ = ["SETTLED_DEPTH", "Header", "Node", "check_block", "node_for", "read_decimals",
           "with_decimals"]

#: Blocks below the latest after which a header is taken as settled and kept.
SETTLED_DEPTH = 64

_NODES: weakref.WeakKeyDictionary[Any, Node] = weakref.WeakKeyDictionary()


@attrs.frozen(kw_only=True)
class Header:
    """A block's number, hash and timestamp (epoch seconds)."""

    number: int
    hash: str | None
    timestamp: int

    @property
    def time(self) -> datetime:
        """The timestamp as a UTC datetime."""
        return datetime.fromtimestamp(self.timestamp, UTC)


def node_for(ctx: ProviderContext, chain: str) -> Node | None:
    """The node configured for ``chain``, or ``None`` when there is none."""
    http: ProviderHTTP | None = ctx.chain_http.get(chain)
    if http is None and chain == DEFAULT_CHAIN:
        http = ctx.http
    if http is None:
        return None
    node = _NODES.get(http)
    if node is None:
        node = Node(http, chain, ctx.block_times, batch=bool(ctx.options.get("batch", True)))
        _NODES[http] = node
    return node


class Node:
    """A node of ``chain`` behind ``http``."""

    def __init__(self, http: ProviderHTTP, chain: str, times: BlockTimes, *,
                 batch: bool = True) -> None:
        self.rpc = JsonRpc(http, NAME, batch=batch)
        self.chain = chain
        self.times = times
        self.checked = False

    # -- the chain check

    async def check_chain(self) -> None:
        """Compare the node's ``eth_chainId`` with the chain's, once."""
        if self.checked:
            return
        expected = resolve_chain(self.chain).caip2 or ""
        answered = quantity(NAME, await self.rpc.call("eth_chainId"), "eth_chainId")
        if expected != f"eip155:{answered}":
            raise ConfigError(
                f"the evm node configured for {self.chain} answers chain id {answered}, "
                f"but {self.chain} is {expected}: point it at a node of that chain"
            )
        self.checked = True

    # -- headers

    def header_of(self, block: Any, field: str) -> Header | None:
        """A header from an ``eth_getBlockByNumber`` answer (``None`` for null)."""
        if block is None:
            return None
        if not isinstance(block, Mapping):
            raise ResponseError(NAME, f"expected a block object, got {block!r}", field=field)
        found = block.get("hash")
        return Header(
            number=quantity(NAME, block.get("number"), f"{field}.number"),
            hash=found if isinstance(found, str) else None,
            timestamp=quantity(NAME, block.get("timestamp"), f"{field}.timestamp"),
        )

    @staticmethod
    def header_call(block: int | str) -> Call:
        """The call that reads one header (without transactions)."""
        tag = to_quantity(block) if isinstance(block, int) else block
        return ("eth_getBlockByNumber", [tag, False])

    async def latest(self) -> Header:
        """The latest block's header."""
        header = self.header_of(await self.rpc.call(*self.header_call("latest")), "latest")
        if header is None:
            raise ResponseError(NAME, "the node has no latest block", field="latest")
        return header

    async def header(self, number: int) -> Header | None:
        """Block ``number``'s header; ``None`` when the node has no such block."""
        return self.header_of(await self.rpc.call(*self.header_call(number)),
                              f"block {number}")

    # -- time to block

    async def block_at(self, moment: datetime, latest: Header) -> Header | None:
        """The last block whose timestamp is at or before ``moment`` (the last of equal
        timestamps); ``None`` when the chain starts after it."""
        second = floor_seconds(moment)
        return await self.block_at_second(second, latest)

    async def block_at_second(self, second: int, latest: Header) -> Header | None:
        """:meth:`block_at` for a whole epoch second.

        The search starts from the settled block times kept so far (the two nearest to
        the moment bound it; adjacent ones answer it without a request) and keeps the
        settled headers it reads."""
        if latest.timestamp <= second:
            return latest
        seen: dict[int, Header] = {latest.number: latest}
        read: list[Header] = []
        low, high = self._bounds(second, latest, seen)
        if low is not None and high.number == low.number + 1:
            return low

        async def timestamp_of(number: int) -> int:
            if number not in seen:
                found = await self.header(number)
                if found is None:
                    raise ResponseError(NAME, f"the node has no block {number} below its "
                                        f"latest {latest.number}", field="block")
                seen[number] = found
                read.append(found)
            return seen[number].timestamp

        try:
            number = await last_block_at_or_before(
                second, timestamp_of, latest=high.number, latest_timestamp=high.timestamp,
                low=0 if low is None else low.number,
            )
        finally:
            self.times.record(self.chain, [
                BlockTime(number=h.number, timestamp=h.timestamp, hash=h.hash)
                for h in read if h.number <= latest.number - SETTLED_DEPTH])
        return None if number is None else seen[number]

    def _bounds(self, second: int, latest: Header,
                seen: dict[int, Header]) -> tuple[Header | None, Header]:
        """The blocks bounding the search: the stored block at or before ``second``
        (``None``: search from genesis) and the stored block after it (else the
        latest). Stored blocks above the node's latest are not used."""
        below, above = self.times.around(self.chain, second)
        low: Header | None = None
        high = latest
        if below is not None and below.number < latest.number and below.timestamp <= second:
            low = seen[below.number] = _header(below)
        floor = -1 if low is None else low.number
        if above is not None and floor < above.number < latest.number \
                and above.timestamp > second:
            high = seen[above.number] = _header(above)
        return low, high

    async def last_at_or_before(self, second: int, latest: Header) -> int | None:
        """The block number of :meth:`block_at_second` (for :func:`asof.blocks.block_window`)."""
        found = await self.block_at_second(second, latest)
        return None if found is None else found.number

    # -- state reads

    async def read(self, calls: Sequence[Call], block: int) -> list[Any]:
        """The results of ``calls`` (state reads at ``block``), in one batch where the
        node takes batches; pruned state raises :class:`PrunedState`."""
        return self.settle(await self.rpc.batch_settled(calls), block)

    @staticmethod
    def settle(settled: Sequence[Any], block: int) -> list[Any]:
        """Results of state reads at ``block``; the first error raises, pruned state as
        :class:`PrunedState`."""
        for item in settled:
            if isinstance(item, ProviderError):
                if is_pruned(item):
                    raise PrunedState(NAME, block, item)
                raise item
        return list(settled)

    @staticmethod
    def balance_call(address: str, block: int) -> Call:
        """``eth_getBalance`` of ``address`` at ``block``."""
        return ("eth_getBalance", [address, to_quantity(block)])

    @staticmethod
    def balance_of_call(token: str, owner: str, block: int | str) -> Call:
        """``eth_call`` of ``balanceOf(owner)`` on ``token`` at ``block``."""
        tag = to_quantity(block) if isinstance(block, int) else block
        return ("eth_call", [{"to": token, "data": balance_of_data(owner)}, tag])

    @staticmethod
    def decimals_call(token: str) -> Call:
        """``eth_call`` of ``decimals()`` on ``token`` at the latest block."""
        return ("eth_call", [{"to": token, "data": DECIMALS}, "latest"])

    @staticmethod
    def code_call(address: str, block: int) -> Call:
        """``eth_getCode`` of ``address`` at ``block``."""
        return ("eth_getCode", [address, to_quantity(block)])

    async def token_balance(self, answer: Any, token: str, block: int, field: str) -> int | None:
        """A ``balanceOf`` answer as an integer; ``None`` when the contract did not exist
        at ``block`` (an empty answer and no code there)."""
        data = data_bytes(NAME, answer, field)
        if data:
            return uint256(NAME, data, field)
        (code,) = await self.read([self.code_call(token, block)], block)
        if data_bytes(NAME, code, "eth_getCode"):
            raise ResponseError(
                NAME, f"{token} answered balanceOf with no data at block {block}: it is "
                "not an ERC-20 token", field=field,
            )
        return None

    async def decimals(self, token: str) -> int | None:
        """The token's ``decimals()``, or ``None`` when it does not say."""
        (settled,) = await self.rpc.batch_settled([self.decimals_call(token)])
        return read_decimals(settled)


def read_decimals(settled: Any) -> int | None:
    """A ``decimals()`` answer (or the error it got) as decimals; ``None`` when the token
    does not say."""
    if isinstance(settled, ProviderError):
        return None
    data = data_bytes(NAME, settled, "decimals")
    if len(data) < 32:
        return None
    value = uint256(NAME, data, "decimals")
    return value if value <= 255 else None


def with_decimals(token: Token, decimals: int | None) -> Token:
    """``token`` with the decimals read from the node when it did not carry them."""
    if token.decimals is not None or decimals is None:
        return token
    standard = token.standard if token.standard != "unknown" else "erc20"
    return Token(chain=token.chain, address=token.address, standard=standard,
                 decimals=decimals, symbol=token.symbol)


def _header(block: BlockTime) -> Header:
    return Header(number=block.number, hash=block.hash, timestamp=block.timestamp)


def check_block(number: int, header: Header | None) -> Header:
    """The header of a block the user named, or :class:`~asof.errors.InvalidPoint`."""
    if header is None:
        raise InvalidPoint(f"the node has no block {number} yet", field="point.block",
                           value=number)
    return header
