"""What the Pacifica plugin declares: the provider, its venue, its event types, its token.

Pacifica is a perpetual-futures exchange settled on Solana. An account is its owner's
Solana address; reading an account's balance history needs no signature. asof routes it
as the venue ``pacifica``.
"""

from __future__ import annotations

from decimal import Decimal

from asof.plugin import (
    Capability,
    ChainSupport,
    Cost,
    Credential,
    Option,
    ProviderInfo,
    RateLimit,
    Token,
)

__all__ = [
    "CHAIN",
    "DOCUMENTED_TYPES",
    "HISTORY_PATH",
    "HISTORY_SOURCE",
    "LISTED_WITHOUT_TRADES",
    "MAINNET",
    "NAME",
    "TESTNET",
    "USDC",
    "USDC_DECIMALS",
    "chain_support",
    "info",
]

NAME = "pacifica"
CHAIN = "pacifica"
MAINNET = "https://api.pacifica.fi/api/v1"
TESTNET = "https://test-api.pacifica.fi/api/v1"

#: The balance history endpoint, relative to the base URL (which ends in ``/api/v1``).
HISTORY_PATH = "account/balance/history"
#: How provenance names the endpoint.
HISTORY_SOURCE = "GET /api/v1/account/balance/history"

#: The event types the provider documents, with its descriptions.
DOCUMENTED_TYPES: dict[str, str] = {
    "deposit": "deposit of funds to the account",
    "deposit_release": "release of a previously pending deposit",
    "withdraw": "withdrawal of funds from the account",
    "trade": "trading activity (fees, realized PnL)",
    "market_liquidation": "liquidation by market orders",
    "backstop_liquidation": "liquidation by the backstop liquidator",
    "adl_liquidation": "liquidation by auto-deleveraging",
    "subaccount_transfer": "transfer between subaccounts",
    "funding": "funding payment",
    "payout": "payout (for example from the affiliate program)",
}

#: The types the newer revision lists when it is not asked for trades
#: (``include_trades`` false); every other type needs ``include_trades=true``.
LISTED_WITHOUT_TRADES = frozenset({"deposit", "withdraw", "subaccount_transfer", "payout"})

USDC_DECIMALS = 6
#: The account balance's token. Pacifica keeps an account's balance in USDC deposited
#: from Solana, so asof names it by Solana's USDC mint, on the venue ``pacifica``.
USDC = Token(
    chain=CHAIN,
    address="EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
    standard="spl",
    decimals=USDC_DECIMALS,
    symbol="USDC",
)

_CAVEATS = (
    "The balance history has no time filter: a range is read from the newest event "
    "backwards until past its start, so an old range costs every page after it.",
    "Without include_trades the newer revision lists only deposits, withdrawals, "
    "subaccount transfers and payouts, and the ledger does not reconcile.",
    "balance_at is derived from the ledger (the balance after the last event at or "
    "before the moment); it is placed in time only, never at a slot.",
)


def info() -> ProviderInfo:
    """The provider's declaration (see ``docs/providers/pacifica.md``)."""
    return ProviderInfo(
        name=NAME,
        title="Pacifica (perpetuals exchange on Solana)",
        base_url=MAINNET,
        networks={"mainnet": MAINNET, "testnet": TESTNET},
        credentials=(
            Credential(
                header="PF-API-KEY",
                name="api_key",
                env=("PACIFICA_API_KEY",),
                required=False,
                description="optional API config key; raises the rate limit",
            ),
        ),
        rate_limit=RateLimit(
            requests=30,
            per_seconds=60.0,
            note="the provider counts credits in a rolling 60 s window: 100-125 per IP "
            "without a key, 300 with PF-API-KEY; a heavy GET spends 3-12 credits without "
            "a key and 1-4 with one; a 429 is retried after the wait the provider asks for",
        ),
        cost=Cost(amount=Decimal(1), unit="request"),
        caveats=_CAVEATS,
        docs_url=(
            "https://docs.pacifica.fi/api-documentation/api/rest-api/account/"
            "get-account-balance-history"
        ),
        options=(
            Option(
                name="include_trades",
                default=True,
                description="ask the newer revision for trade, funding and liquidation "
                "events too, so the ledger is complete and reconciles (the older "
                "revision always lists them)",
            ),
            Option(
                name="page_size",
                default=100,
                description="entries asked for per request (the provider's `limit`)",
            ),
        ),
    )


def chain_support() -> list[ChainSupport]:
    """The venue ``pacifica``: the ledger directly, ``balance_at`` derived from it."""
    return [
        ChainSupport(
            provider=NAME,
            chain=CHAIN,
            capabilities=(Capability.ACCOUNT_LEDGER, Capability.BALANCE_AT),
            derived=(Capability.BALANCE_AT,),
            note="account balance in USDC; balance_at read off the ledger",
        )
    ]
