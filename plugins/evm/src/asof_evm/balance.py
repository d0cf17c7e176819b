"""``balance_at``: a wallet's native or ERC-20 balance read from the node's state.

At ``block:N`` one batch reads the block's header and the balance (``eth_getBalance``,
or ``eth_call`` of ``balanceOf`` at that block, with ``decimals()`` when the token's
decimals are not known). At a time, the block is the last one stamped at or before the
moment (see :meth:`asof_evm.node.Node.block_at`), then the same read.
"""

from __future__ import annotations

from typing import Any

from asof.plugin import (
    Amount,
    BalanceAt,
    BalanceQuery,
    BlockRef,
    Point,
    Provenance,
    ProviderContext,
    ProviderError,
    Token,
)
from asof_evm.abi import quantity
from asof_evm.info import NAME
from asof_evm.node import Header, Node, check_block, node_for, read_decimals, with_decimals

__all__ = ["balance_at"]


async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
    """The balance as of ``query.point``; ``None`` when no node is configured for the
    chain."""
    node = node_for(ctx, query.chain)
    if node is None:
        ctx.log.info("no evm node configured for %s", query.chain)
        return None
    await node.check_chain()
    point = query.point
    token = query.token
    echo: dict[str, Any] = {"point": point.describe()}
    caveats: list[str] = []
    if point.block is not None:
        number = point.block
        settled = await node.rpc.batch_settled(
            [node.header_call(number), *_reads(node, query, number)])
        head = settled[0]
        if isinstance(head, ProviderError):
            raise head
        header = check_block(number, node.header_of(head, f"block {number}"))
        extra = settled[2:]
        results = node.settle(settled[1:2], number)
    else:
        assert point.time is not None
        latest = await node.latest()
        found = await node.block_at(point.time, latest)
        if found is None:
            return _zero(ctx, query, echo, "the chain had no block at or before the moment",
                         source="eth_getBlockByNumber")
        header = found
        if header.number == latest.number and point.time > header.time:
            caveats.append(f"the moment is after the node's latest block {latest.number}; "
                           "a later block may still be stamped at or before it")
        settled = await node.rpc.batch_settled(_reads(node, query, header.number))
        extra = settled[1:]
        results = node.settle(settled[:1], header.number)
    if token.is_native:
        raw = quantity(NAME, results[0], "eth_getBalance")
        source = "eth_getBalance"
        decimals = token.decimals
    else:
        source = "eth_call balanceOf"
        found_raw = await node.token_balance(results[0], token.address, header.number,
                                             "balanceOf")
        decimals = token.decimals
        if decimals is None:
            decimals = await _decimals(node, token, extra)
        if found_raw is None:
            return _zero(ctx, query, echo, f"the token contract did not exist at block "
                         f"{header.number}", source=source, decimals=decimals)
        raw = found_raw
    return BalanceAt(
        wallet=query.wallet,
        token=with_decimals(token, decimals),
        amount=Amount(raw=raw, decimals=decimals),
        requested=point,
        as_of=None,
        provenance=Provenance(
            provider=NAME, source=f"{source} at block {header.number}", fetched_at=ctx.now(),
            echo=echo, caveats=tuple(caveats), read_at=_ref(header),
            resolved=None if point.block is not None else Point(block=header.number),
        ),
    )


def _reads(node: Node, query: BalanceQuery, block: int) -> list[Any]:
    if query.token.is_native:
        return [node.balance_call(query.wallet.address, block)]
    calls = [node.balance_of_call(query.token.address, query.wallet.address, block)]
    if query.token.decimals is None:
        calls.append(node.decimals_call(query.token.address))
    return calls


async def _decimals(node: Node, token: Token, extra: list[Any]) -> int | None:
    """The token's decimals from the ``decimals()`` answer read with the balance."""
    if not extra:
        return await node.decimals(token.address)
    return read_decimals(extra[0])


def _ref(header: Header) -> BlockRef:
    return BlockRef(number=header.number, hash=header.hash, timestamp=header.time)


def _zero(
    ctx: ProviderContext, query: BalanceQuery, echo: dict[str, Any], why: str, *,
    source: str, decimals: int | None = None,
) -> BalanceAt:
    decimals = query.token.decimals if decimals is None else decimals
    return BalanceAt(
        wallet=query.wallet,
        token=with_decimals(query.token, decimals),
        amount=Amount(raw=0, decimals=decimals),
        requested=query.point,
        as_of=None,
        provenance=Provenance(provider=NAME, source=source, fetched_at=ctx.now(), echo=echo,
                              caveats=(why,)),
    )

