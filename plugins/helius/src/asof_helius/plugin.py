"""The Helius provider's declarations and its ``balance_at`` hook.

Helius answers one question here: a Solana wallet's balance of one mint (or native SOL)
as of a time or a slot, through ``GET /v1/wallet/{wallet}/balance-at``. The core sends
the API key in the ``X-Api-Key`` header, retries and rate-limits; this module checks the
query, builds the request and hands the body to :mod:`asof_helius.parse`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from asof.plugin import (
    NATIVE_SOL_MINT,
    BalanceAt,
    BalanceQuery,
    Capability,
    ChainSupport,
    Cost,
    Credential,
    InputError,
    ProviderContext,
    ProviderInfo,
    SupportStatus,
    hookimpl,
    to_epoch,
)
from asof_helius.parse import CAVEATS, NAME, SOURCE, parse_balance_at

__all__ = ["BASE_URL", "NAME", "SOURCE", "balance_at", "provider_info", "supported_chains"]

#: Helius's production server.
BASE_URL = "https://api.helius.xyz"

_COST = Cost(amount=Decimal(100), unit="credits", per="call")
#: Helius documents no fixed request rate: it depends on the plan.
CAVEAT_RATE_LIMIT = (
    "Helius publishes no fixed rate limit (it depends on the plan), so asof applies none; "
    "a 429 is retried after the wait Helius asks for"
)


@hookimpl
def provider_info() -> ProviderInfo:
    """Declare Helius: base URL, the API key sent as ``X-Api-Key``, cost and caveats."""
    return ProviderInfo(
        name=NAME,
        title="Helius Wallet API",
        base_url=BASE_URL,
        credentials=(
            Credential(
                header="X-Api-Key",
                name="api_key",
                env=("HELIUS_API_KEY",),
                required=True,
                description="Helius API key (dashboard.helius.dev)",
            ),
        ),
        cost=_COST,
        caveats=(*CAVEATS, CAVEAT_RATE_LIMIT),
        docs_url="https://www.helius.dev/docs",
    )


@hookimpl
def supported_chains() -> Iterable[ChainSupport]:
    """Helius serves ``balance_at`` on Solana; its Wallet API is marked beta."""
    return [
        ChainSupport(
            provider=NAME,
            chain="solana",
            capabilities=(Capability.BALANCE_AT,),
            status=SupportStatus.BETA,
            cost=_COST,
            note="Helius marks its Wallet API as beta: endpoints and response formats "
            "may change",
        )
    ]


@hookimpl
async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt:
    """Read a Solana wallet's balance of one mint (or native SOL) as of a time or a slot.

    The wallet and mint are checked before any call is spent. A time point is sent as
    whole epoch seconds (``time``), a slot point as ``slot``; Helius's ``datetime``
    form is never needed because asof parses every time itself.
    """
    wallet, mint = check_query(query)
    params: dict[str, Any] = {"mint": mint}
    if query.point.block is not None:
        params["slot"] = query.point.block
    else:
        assert query.point.time is not None
        params["time"] = to_epoch(query.point.time)
    body = await ctx.http.get(f"/v1/wallet/{wallet}/balance-at", params=params)
    return parse_balance_at(body, query, sent=params, fetched_at=ctx.now())


def check_query(query: BalanceQuery) -> tuple[str, str]:
    """The wallet address and mint to send, or an :class:`~asof.errors.InputError`.

    Helius reads Solana only: a wallet or token on any other chain (EVM, a venue) is
    refused. On ``solana`` the :class:`~asof.records.Wallet` and
    :class:`~asof.records.Token` records have already checked both addresses (base58,
    32 to 44 characters).
    """
    if query.chain != "solana":
        raise InputError(f"Helius serves solana only, not {query.chain}", field="chain",
                         value=query.chain)
    wallet, mint = query.wallet.address, query.token.address
    if query.token.is_native and mint != NATIVE_SOL_MINT:
        raise InputError(
            f"native SOL is the pseudo-mint {NATIVE_SOL_MINT}, not {mint}", field="token",
            value=mint,
        )
    return wallet, mint
