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
    RateLimit,
    SupportStatus,
    hookimpl,
    to_epoch,
)
from asof_helius.parse import CAVEATS, NAME, SOURCE, parse_balance_at

__all__ = ["BASE_URL", "NAME", "SOURCE", "balance_at", "provider_info", "supported_chains"]

#: Helius's production server.
BASE_URL = "https://api.helius.xyz"

_COST = Cost(amount=Decimal(100), unit="credits", per="call")
#: Helius's documented base limit for its Enhanced APIs on the Free plan (Developer 10,
#: Business 50, Professional 100 requests/s); a deployment on another plan sets
#: ``rate_limit`` under ``[providers.helius]`` (or ``ASOF_HELIUS_RATE_LIMIT``).
RATE_LIMIT = RateLimit(requests=2, per_seconds=1.0,
                       note="Free plan, DAS & Enhanced APIs; set rate_limit for your plan")
CAVEAT_RATE_LIMIT = (
    "asof applies Helius's Free-plan limit for its Enhanced APIs (2 requests/s) unless the "
    "deployment sets its plan's (Developer 10/s, Business 50/s, Professional 100/s: "
    "rate_limit under [providers.helius]); Helius does not say which group the Wallet "
    "API's balance-at belongs to, so this is the conservative reading"
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
        rate_limit=RATE_LIMIT,
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
            # An answer is read from the last transaction at or before the point that
            # touched the wallet and mint (as_of at slot S): it holds for every point in
            # [S, T] and nothing outside it, and it may undercount a mint held in several
            # token accounts, so a proving complete history takes precedence.
            balance_at_exact=False,
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
        seconds = to_epoch(query.point.time)
        if seconds < 0:  # Helius documents time >= 0; its 400 would cost a call
            raise InputError(
                f"Helius answers times from 1970-01-01T00:00:00Z on, not {query.point}",
                field="at", value=query.point.time)
        params["time"] = seconds
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
