"""asof-defillama: token prices at a moment from DefiLlama's public coins API.

One question: ``price_at`` (a token's USD price at a time), through
``GET https://coins.llama.fi/prices/historical/{timestamp}/{coins}`` with
``searchWidth`` (how far either side DefiLlama looks for a data point). No key is
needed. The price's own time comes back with it; the core refuses one further from the
moment than its tolerance (``[portfolio] price_tolerance``, one hour by default).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from asof.plugin import (
    Capability,
    ChainSupport,
    Cost,
    Option,
    Point,
    Price,
    ProviderContext,
    ProviderInfo,
    RateLimit,
    Token,
    hookimpl,
    to_epoch,
)
from asof_defillama.coins import CHAINS, coin_id
from asof_defillama.parse import NAME, SOURCE, parse_price

__all__ = ["BASE_URL", "NAME", "SOURCE", "price_at", "provider_info", "supported_chains"]

#: DefiLlama's public coins API.
BASE_URL = "https://coins.llama.fi"


@hookimpl
def provider_info() -> ProviderInfo:
    """Declare DefiLlama: the public coins API, no credentials, ``search_width``."""
    return ProviderInfo(
        name=NAME,
        title="DefiLlama coin prices",
        base_url=BASE_URL,
        rate_limit=RateLimit(requests=5, per_seconds=1.0,
                             note="not documented; a conservative default"),
        caveats=("prices are DefiLlama's own aggregate; the price's time is the nearest "
                 "data point within search_width, stated with each price",),
        cost=Cost(amount=Decimal(1), unit="request", per="price"),
        docs_url="https://defillama.com/docs/api",
        options=(Option(name="search_width", default="1h",
                        description="how far either side of the moment DefiLlama looks "
                        "for a price (searchWidth: 30m, 1h, 6h, 1d)"),),
    )


@hookimpl
def supported_chains() -> Iterable[ChainSupport]:
    """``price_at`` on every chain DefiLlama names."""
    return [ChainSupport(provider=NAME, chain=chain, capabilities=(Capability.PRICE_AT,))
            for chain in CHAINS]


@hookimpl
async def price_at(ctx: ProviderContext, token: Token, point: Point) -> Price | None:
    """The token's USD price at the point's time; ``None`` when DefiLlama has none."""
    coin = coin_id(token)
    if coin is None or point.time is None:
        return None
    width = str(ctx.options.get("search_width") or "1h")
    body = await ctx.http.get(f"/prices/historical/{to_epoch(point.time)}/{coin}",
                              params={"searchWidth": width})
    return parse_price(body, token, coin, point.time, fetched_at=ctx.now(),
                       search_width=width)
