"""``balance_at``: a wallet's balance of the native coin or an ERC-20 token at a block.

A point given as a time is first turned into the last block stamped at or before it
(``block/getblocknobytime``, ``closest=before``); then the balance is read at that block
with ``account/balancehistory`` (the native coin) or ``account/tokenbalancehistory``
(an ERC-20 token). Both are PRO endpoints: a free key is refused with an
authentication error that says so.
"""

from __future__ import annotations

from asof.blocks import floor_seconds
from asof.context import ProviderContext
from asof.queries import BalanceQuery
from asof.records import Amount, BalanceAt, BlockRef, Provenance
from asof_etherscan.info import NAME
from asof_etherscan.request import block_at_or_before, call, raw_int

__all__ = ["balance_at"]


async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt:
    """The balance as of ``query.point``: the state after the block at or before it."""
    wallet, token, point = query.wallet, query.token, query.point
    block = point.block
    caveats: tuple[str, ...] = ()
    if block is None:
        assert point.time is not None
        block = await block_at_or_before(ctx, wallet.chain, floor_seconds(point.time))
        caveats = ("block resolved from the time with getblocknobytime (closest=before)",)
    if block is None:
        # No block is stamped at or before the time: nothing can have happened yet.
        return BalanceAt(
            wallet=wallet, token=token, amount=Amount(raw=0, decimals=token.decimals),
            requested=point, as_of=None,
            provenance=Provenance(provider=NAME, source="GET /v2/api block/getblocknobytime",
                                  fetched_at=ctx.now(), caveats=caveats),
        )
    if token.is_native:
        action = "balancehistory"
        result = await call(ctx, wallet.chain, "account", action,
                            address=wallet.address, blockno=block)
    else:
        action = "tokenbalancehistory"
        result = await call(ctx, wallet.chain, "account", action,
                            contractaddress=token.address, address=wallet.address,
                            blockno=block)
    raw = raw_int(result, "result")
    return BalanceAt(
        wallet=wallet, token=token, amount=Amount(raw=raw, decimals=token.decimals),
        requested=point, as_of=BlockRef(number=block),
        provenance=Provenance(provider=NAME, source=f"GET /v2/api account/{action}",
                              fetched_at=ctx.now(), echo={"blockno": block},
                              caveats=caveats),
    )
