"""What the Allium plugin declares about its provider: endpoints, credential, limits."""

from __future__ import annotations

from decimal import Decimal

from asof.plugin import Cost, Credential, ProviderInfo, RateLimit

__all__ = [
    "BALANCES_PATH",
    "BASE_URL",
    "CHAINS_PATH",
    "DEFAULT_LIMIT",
    "HOLDINGS_PATH",
    "MAX_WALLETS",
    "NAME",
    "provider_info",
]

#: The provider's name, equal to the plugin's entry-point name.
NAME = "allium"
#: Default base URL (from Allium's OpenAPI ``servers``).
BASE_URL = "https://api.allium.so"
#: Historical fungible token balances: every balance change in a range.
BALANCES_PATH = "/api/v1/developer/wallet/balances/history"
#: Historical aggregated USD holdings on a time grid.
HOLDINGS_PATH = "/api/v1/developer/wallet/holdings/history"
#: Allium's live listing of chains per realtime product.
CHAINS_PATH = "/api/v1/supported-chains/realtime-apis"
#: Wallets per holdings request (the documented 1 to 15); balances requests use the same.
MAX_WALLETS = 15
#: Balance changes per page when the query gives no page size (Allium's default).
DEFAULT_LIMIT = 1000

CAVEATS = (
    "The rate limit of about 1 request per second on the base plan is not confirmed by "
    "Allium's own documents.",
    "balance_at is derived: it reads the wallet's whole balance history up to the point, "
    "which takes many pages for an active wallet. Direct providers are tried first.",
    "Holdings history: the finest granularity allowed depends on the range (15s up to 24 "
    "hours, 5m up to 7 days, 1h up to a year, 1d beyond) and 15s data is kept for 7 days.",
    "A future end is clamped to the current time, as Allium does; the clamped end is kept "
    "for every later page of the same history.",
    "Holdings points are newest first. Allium does not document the order of balance "
    "changes; they are passed on in the order it sends them.",
    "More than 15 wallets are split into requests of at most 15 and merged newest first; "
    "a page boundary inside a merge re-reads the page it stopped in.",
)


def provider_info() -> ProviderInfo:
    """The Allium provider declaration (no I/O)."""
    return ProviderInfo(
        name=NAME,
        title="Allium",
        base_url=BASE_URL,
        credentials=(
            Credential(
                header="X-API-KEY",
                name="api_key",
                env=("ALLIUM_API_KEY",),
                description="Allium API key (app.allium.so, settings, API keys)",
            ),
        ),
        rate_limit=RateLimit(requests=1, per_seconds=1.0, note="base plan; unverified"),
        cost=Cost(amount=Decimal(1), unit="request"),
        caveats=CAVEATS,
        docs_url="https://docs.allium.so",
    )
