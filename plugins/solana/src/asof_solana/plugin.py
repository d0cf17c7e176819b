"""The Solana node provider's declarations and its ``balance_at`` hook.

Any Solana JSON-RPC endpoint serves: the public mainnet endpoint by default, a node or a
node vendor's URL through ``ASOF_SOLANA_BASE_URL`` (or ``base_url`` in the
configuration). The core builds the HTTP session, retries and rate-limits; this module
checks the query and hands it to :mod:`asof_solana.balance`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from asof.plugin import (
    NATIVE_SOL_MINT,
    BalanceAt,
    BalanceQuery,
    Capability,
    ChainSupport,
    Cost,
    InputError,
    InvalidPoint,
    Portfolio,
    PortfolioQuery,
    ProviderContext,
    ProviderInfo,
    RateLimit,
    SupportStatus,
    hookimpl,
)
from asof_solana.balance import CAVEATS, native_balance, token_balance
from asof_solana.parse import NAME

__all__ = ["BASE_URL", "COST", "NAME", "balance_at", "portfolio_at", "provider_info",
           "supported_chains"]

#: The public mainnet-beta endpoint, used when no other is configured.
BASE_URL = "https://api.mainnet-beta.solana.com"
#: HTTP requests per answer in the common case, as the tests measure it: a mint held in
#: any number of token accounts, each with fewer than 1,000 signatures after the point
#: (getTokenAccountsByOwner, one batch of first signature pages, one batch of
#: transactions). Native SOL takes 2; each further 1,000 later signatures one more page
#: round; a slot holding several of an account's transactions one getBlock.
COST = Cost(amount=Decimal(3), unit="requests", per="answer")


@hookimpl
def provider_info() -> ProviderInfo:
    """Declare the Solana node provider: base URL and networks, the public endpoint's
    rate limit, the measured cost per answer and the known limits."""
    return ProviderInfo(
        name=NAME,
        title="Solana JSON-RPC node",
        base_url=BASE_URL,
        networks={
            "mainnet": BASE_URL,
            "devnet": "https://api.devnet.solana.com",
            "testnet": "https://api.testnet.solana.com",
        },
        rate_limit=RateLimit(requests=100, per_seconds=10,
                             note="the public endpoints' limit per IP; a node of your own "
                             "or a vendor's has its own"),
        cost=COST,
        caveats=CAVEATS,
        docs_url="https://solana.com/docs/rpc",
    )


@hookimpl
def supported_chains() -> Iterable[ChainSupport]:
    """The node answers ``balance_at`` on Solana, at slots and at times."""
    return [
        ChainSupport(
            provider=NAME,
            chain="solana",
            capabilities=(Capability.BALANCE_AT, Capability.PORTFOLIO_AT),
            status=SupportStatus.SUPPORTED,
            cost=COST,
            note="every token account of the wallet for the mint is summed; token "
            "accounts closed before today are not found",
        )
    ]


@hookimpl
async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt:
    """A Solana wallet's balance of one mint (or native SOL) as of a slot or a time,
    read from the node's transaction records (see ``docs/providers/solana.md``)."""
    if query.chain != "solana":
        raise InputError(f"the Solana node serves solana only, not {query.chain}",
                         field="chain", value=query.chain)
    if query.point.time is not None and query.point.time > ctx.now():
        raise InvalidPoint("is in the future: a balance there is not known yet", field="at",
                           value=query.point.describe())
    if query.token.is_native:
        if query.token.address != NATIVE_SOL_MINT:
            raise InputError(f"native SOL is the pseudo-mint {NATIVE_SOL_MINT}, not "
                             f"{query.token.address}", field="token",
                             value=query.token.address)
        return await native_balance(ctx, query)
    return await token_balance(ctx, query)


@hookimpl
async def portfolio_at(ctx: ProviderContext, query: PortfolioQuery) -> Portfolio:
    """Every token of a Solana wallet as of a slot or a time: native SOL and each mint of
    its token accounts today, each read as ``balance_at`` reads it (see
    :mod:`asof_solana.portfolio`)."""
    from asof_solana.portfolio import portfolio_at as answer

    return await answer(ctx, query, lambda q: balance_at(ctx, q))
