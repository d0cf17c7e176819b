"""DefiLlama ``price_at`` through the whole stack, replayed from cassettes.

Each test replays ``cassettes/defillama/<test name>.yaml`` through a real
:class:`asof.AsyncClient` holding only the DefiLlama plugin (record mode ``none``:
nothing reaches the network). The cassettes were built by hand from DefiLlama's public
API documentation, not recorded, and say so at their top.

Re-recording (the API is public and free; no key)::

    .venv/bin/pytest tests/plugins/defillama/test_cassettes.py --record-mode=rewrite

Real answers carry real prices and data-point times: update the expected prices and
timestamps below to what was recorded (the coins and moments stay), and drop the
comment at the top of each re-recorded cassette.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import asof_defillama
from asof.errors import ResponseError
from asof.prices import valuation
from asof.records import Amount, Token
from asof.testing.client import FIXED_NOW
from asof.tokens import native_token, resolve_token

pytestmark = [pytest.mark.anyio, pytest.mark.vcr]

AT = datetime(2025, 3, 1, tzinfo=UTC)  # 1740787200


async def test_erc20_price_at_a_time(asof_client_factory):
    async with asof_client_factory(asof_defillama) as client:
        price = await client.price_at("USDC", AT, chain="ethereum")
    assert price is not None
    assert price.usd == Decimal("0.999912")
    assert isinstance(price.usd, Decimal)
    assert price.time == datetime.fromtimestamp(1740787143, UTC)
    assert price.requested == AT
    assert price.confidence == Decimal("0.99")
    assert price.provenance.provider == "defillama"
    assert price.provenance.source == "GET /prices/historical/{timestamp}/{coins}"
    assert price.provenance.fetched_at == FIXED_NOW
    assert price.provenance.echo == {
        "coin": "ethereum:0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48",
        "searchWidth": "1h", "symbol": "USDC"}


async def test_native_coin_by_its_coingecko_id(asof_client_factory):
    async with asof_client_factory(asof_defillama) as client:
        price = await client.price_at(native_token("solana"), "2025-03-01")
    assert price is not None
    # More digits than a float holds: parsed as a Decimal, kept exactly.
    assert price.usd == Decimal("142.37118734567891234")
    held = Amount(raw=2_500_000_001, decimals=9)
    # 2.500000001 × 142.37118734567891234, from integers: 30 digits, not rounded to 28
    assert valuation(held, price).value == Decimal(f"{2500000001 * 14237118734567891234}E-26")


async def test_no_price_near_the_moment_is_none(asof_client_factory):
    bonk = Token(chain="solana", address="DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263",
                 standard="spl", decimals=5)
    async with asof_client_factory(asof_defillama) as client:
        assert await client.price_at(bonk, AT) is None


async def test_a_price_far_from_the_moment_gives_no_value(asof_client_factory):
    async with asof_client_factory(asof_defillama,
                                   config_text="[providers.defillama]\n"
                                   'search_width = "1d"\n') as client:
        price = await client.price_at(native_token("ethereum"), AT)
    assert price is not None
    assert price.distance == timedelta(hours=4)
    found = valuation(Amount(raw=10**18, decimals=18), price)  # tolerance: one hour
    assert found.value is None
    assert found.price == price
    assert found.note is not None
    assert "beyond the tolerance of 1:00:00" in found.note
    assert valuation(Amount(raw=10**18, decimals=18), price,
                     timedelta(hours=6)).value == Decimal("2217.52")


async def test_a_malformed_price_names_the_field(asof_client_factory):
    async with asof_client_factory(asof_defillama) as client:
        with pytest.raises(ResponseError, match=r"coins\.coingecko:solana\.price"):
            await client.price_at(resolve_token("solana", "SOL"), AT)
