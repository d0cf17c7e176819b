"""``balance_at``: a wallet's balance of the native coin or an ERC-20 token at a block.

A point given as a time is first turned into the last block stamped at or before it
(``block/getblocknobytime``, ``closest=before``); then the balance is read at that block
with ``account/balancehistory`` (the native coin) or ``account/tokenbalancehistory``
(an ERC-20 token). Both are PRO endpoints: unless the deployment says its key has
them (``[providers.etherscan] pro = true`` or ``ASOF_ETHERSCAN_PRO=true``), the hook
declines without a call and the router asks the next provider; a key without them is
refused by Etherscan with an authentication error that says so.

Etherscan reads the state at a block; it does not say when the balance last changed.
The answer therefore leaves ``as_of`` empty and names the block in
``provenance.read_at``, and a time resolved to a block in ``provenance.resolved``.
"""

from __future__ import annotations

from asof.plugin import (
    Amount,
    BalanceAt,
    BalanceQuery,
    BlockRef,
    Point,
    Provenance,
    ProviderContext,
    ResponseError,
    to_epoch,
)
from asof_etherscan.info import NAME
from asof_etherscan.request import block_at_or_before, call

__all__ = ["balance_at"]


async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
    """The balance as of ``query.point``: the state after the block at or before it;
    ``None`` (declined, no call spent) unless the ``pro`` option is on."""
    if not ctx.options.get("pro"):
        ctx.log.info("declining balance_at: the pro option is off (PRO endpoints needed)")
        return None
    wallet, token, point = query.wallet, query.token, query.point
    block = point.block
    resolved: Point | None = None
    if block is None:
        assert point.time is not None
        # Block times are whole seconds: at or before t is at or before floor(t).
        block = await block_at_or_before(ctx, wallet.chain, to_epoch(point.time))
        if block is None:
            # No block is stamped at or before the time: nothing can have happened yet.
            return BalanceAt(
                wallet=wallet, token=token, amount=Amount(raw=0, decimals=token.decimals),
                requested=point, as_of=None,
                provenance=Provenance(provider=NAME, fetched_at=ctx.now(),
                                      source="GET /v2/api block/getblocknobytime"),
            )
        resolved = Point(block=block)
    if token.is_native:
        action = "balancehistory"
        result = await call(ctx, wallet.chain, "account", action,
                            address=wallet.address, blockno=block)
    else:
        action = "tokenbalancehistory"
        result = await call(ctx, wallet.chain, "account", action,
                            contractaddress=token.address, address=wallet.address,
                            blockno=block)
    if result is None:
        raise ResponseError(NAME, f"account/{action} answered that nothing was found",
                            field="result")
    raw = result.as_int()
    if raw < 0:
        raise result.fail(f"a balance cannot be negative: {raw}")
    return BalanceAt(
        wallet=wallet, token=token, amount=Amount(raw=raw, decimals=token.decimals),
        requested=point, as_of=None,
        provenance=Provenance(provider=NAME, source=f"GET /v2/api account/{action}",
                              fetched_at=ctx.now(), read_at=BlockRef(number=block),
                              resolved=resolved),
    )
