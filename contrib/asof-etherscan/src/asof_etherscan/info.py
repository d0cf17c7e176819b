"""What the Etherscan plugin declares: the provider, its key, its limits and its chains.

Etherscan's API V2 is one endpoint, ``GET https://api.etherscan.io/v2/api``, for every
chain it indexes: ``chainid`` picks the chain, ``module`` and ``action`` the question,
and the key travels as the ``apikey`` query parameter (Etherscan documents no header).
"""

from __future__ import annotations

from decimal import Decimal

from asof.plugin import (
    Capability,
    ChainSupport,
    Cost,
    Credential,
    HistoryScope,
    Option,
    ProviderInfo,
    RateLimit,
    SupportStatus,
    hookimpl,
)
from asof_etherscan.envelope import check_body

__all__ = ["BASE_URL", "CHAIN_IDS", "NAME", "PATH", "provider_info", "supported_chains"]

NAME = "etherscan"
BASE_URL = "https://api.etherscan.io"
#: The one path of API V2; ``module`` and ``action`` say what is asked.
PATH = "/v2/api"

#: asof's chain name -> Etherscan's ``chainid``, for the chains Etherscan lists in
#: "Supported Chains" that asof knows.
CHAIN_IDS: dict[str, int] = {
    "ethereum": 1,
    "sepolia": 11155111,
    "polygon": 137,
    "arbitrum": 42161,
    "linea": 59144,
    "blast": 81457,
    "celo": 42220,
    "gnosis": 100,
    "scroll": 534352,
    "mantle": 5000,
    "sonic": 146,
    "berachain": 80094,
    "abstract": 2741,
    "hyperevm": 999,
    "base": 8453,
    "bsc": 56,
    "optimism": 10,
    "avalanche": 43114,
}
#: Chains Etherscan's "Supported Chains" page marks "Not Available" on the free tier.
PAID_ONLY = frozenset({"base", "bsc", "optimism", "avalanche"})

#: Every call counts once against the plan's daily allowance.
COST = Cost(amount=Decimal(1), unit="call of the daily allowance")

CAVEATS = (
    "Balances at a block (balancehistory, tokenbalancehistory) are PRO endpoints: "
    "Etherscan serves them on the Standard plan and above, throttled to 2 calls/s; "
    "balance_at is used only when the pro option says the key has them.",
    "The free tier allows 3 calls/s and 100,000 calls a day on selected chains only; "
    "paid plans allow 5 to 30 calls/s (set rate_limit for yours).",
    "Balance histories are built from ERC-20 transfer lists: the native coin is not "
    "included, and tokens whose balance changes without a Transfer event (rebasing "
    "tokens) are not followed exactly.",
    "A balance read at a block says what the wallet held at that block, not when it "
    "last changed.",
)

#: Whether the key's plan has Etherscan's PRO endpoints, which ``balance_at`` needs.
PRO = Option(
    name="pro",
    default=False,
    description="the key's plan includes PRO endpoints (Standard plan and above); "
    "without them balance_at declines every query without a call, so the router asks "
    "the next provider",
)

#: What a balance history covers: ERC-20 only, with an opening balance for every token
#: held at the window start (the transfer list is read from genesis).
SCOPE = HistoryScope(native=False, standards=("erc20",), token_accounts="all",
                     opening_balances=True)


@hookimpl
def provider_info() -> ProviderInfo:
    """Declare Etherscan: the API V2 base URL, the ``apikey`` query credential, the
    free tier's rate limit, the in-band error check and the envelope's message fields."""
    return ProviderInfo(
        name=NAME,
        title="Etherscan API V2",
        base_url=BASE_URL,
        credentials=(
            Credential(
                query="apikey",
                name="api_key",
                env=("ETHERSCAN_API_KEY",),
                description="Etherscan API key (etherscan.io/myapikey); one key serves "
                "every chain",
            ),
        ),
        rate_limit=RateLimit(requests=3, per_seconds=1, note="free tier"),
        cost=COST,
        caveats=CAVEATS,
        docs_url="https://docs.etherscan.io",
        message_fields=("message", "result"),
        check_body=check_body,
        options=(PRO,),
    )


@hookimpl
def supported_chains() -> list[ChainSupport]:
    """Every chain of :data:`CHAIN_IDS`: ``balance_at`` and ERC-20 ``balance_history``."""
    return [
        ChainSupport(
            provider=NAME,
            chain=chain,
            capabilities=(Capability.BALANCE_AT, Capability.BALANCE_HISTORY),
            status=SupportStatus.BETA if chain in PAID_ONLY else SupportStatus.SUPPORTED,
            note="not available on Etherscan's free tier" if chain in PAID_ONLY else None,
            history_scope=SCOPE,
        )
        for chain in CHAIN_IDS
    ]
