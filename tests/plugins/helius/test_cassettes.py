"""Helius ``balance-at`` through the whole stack, replayed from cassettes.

Each test replays ``cassettes/helius/<test name>.yaml`` through a real
:class:`asof.AsyncClient` holding only the Helius plugin (pytest-recording, record mode
``none``: nothing reaches the network). The cassettes were built by hand from the
provider documents (``helius-balance-at-guide.md`` and ``helius-balance-at-openapi.md``),
not recorded, and say so at their top.

Re-recording with a real key (a maintainer's job; it spends 100 credits per request)::

    ASOF_HELIUS_API_KEY=... .venv/bin/pytest tests/plugins/helius/test_cassettes.py \\
        --record-mode=rewrite -k "token_at or native_sol or no_activity or above_2_64"

The key is read from ``ASOF_HELIUS_API_KEY`` (or ``HELIUS_API_KEY``) only when
``--record-mode`` is given; the ``X-Api-Key`` header is written as ``<redacted>`` and
the key's value is scrubbed from bodies. Real answers carry real balances, so update
the expected amounts, slots and signatures below to what was recorded (the wallets,
mints and points stay). ``test_error_401`` re-records with a deliberately wrong key
(``ASOF_HELIUS_API_KEY=wrong``); 429, 500 and 502 cannot be provoked on demand, so
those cassettes stay built from the documents. Keep the comment at the top of any
cassette that was not recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import stamina

import asof_helius
from asof.errors import (
    AuthenticationError,
    NotFoundError,
    ProviderRequestError,
    RateLimited,
    UpstreamError,
)
from asof.records import NATIVE_SOL_MINT, BlockRef, Point
from asof.testing.client import FIXED_NOW
from asof_helius.parse import CAVEAT_BLOCK_TIME, CAVEAT_MULTI_ACCOUNT, CAVEAT_SOL_PRECISION

pytestmark = [pytest.mark.anyio, pytest.mark.vcr]

W1 = "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
W2 = "solana:5tzFkiKscXHK5ZXCGbXZxdw7gTjjD1mBwuoFbhUvuAi9"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
AT = 1736536800  # 2025-01-10T19:20:00Z


async def test_token_at_time(asof_client_factory):
    async with asof_client_factory(asof_helius) as client:
        answer = await client.balance_at(W1, "USDC", AT)
    assert answer.amount.raw == 284961463392936
    assert answer.amount.decimals == 6
    assert answer.amount.value == Decimal("284961463.392936")
    assert answer.token.address == USDC
    assert answer.token.standard == "spl"
    assert answer.requested == Point(time=datetime(2025, 1, 10, 19, 20, tzinfo=UTC))
    assert answer.as_of == BlockRef(
        number=313000000,
        timestamp=datetime.fromtimestamp(1736536794, UTC),
        transaction="5Cyy7Mh9nVgFq3T8wJp2sKxR4dE6bA1uZoNcLrXmYqUpon",
    )
    provenance = answer.provenance
    assert provenance.provider == "helius"
    assert provenance.source == "GET /v1/wallet/{wallet}/balance-at"
    assert provenance.fetched_at == FIXED_NOW
    assert provenance.echo == {"time": AT, "slot": None, "datetime": None}
    assert provenance.caveats == (CAVEAT_MULTI_ACCOUNT, CAVEAT_BLOCK_TIME)
    assert not provenance.derived
    assert not provenance.archived


async def test_token_at_datetime_with_offset(asof_client_factory):
    # 21:20 at +02:00 is 19:20 UTC: the cassette only answers time=1736536800.
    async with asof_client_factory(asof_helius) as client:
        answer = await client.balance_at(W2, USDC, "2025-01-10T21:20:00+02:00")
    assert answer.requested.time == datetime(2025, 1, 10, 19, 20, tzinfo=UTC)
    assert answer.amount.raw == 1500000
    assert answer.amount.value == Decimal("1.5")
    assert answer.as_of is not None
    assert answer.as_of.timestamp == datetime.fromtimestamp(1736536011, UTC)
    assert answer.provenance.echo == {"time": AT, "slot": None, "datetime": None}


async def test_native_sol_at_slot(asof_client_factory):
    async with asof_client_factory(asof_helius) as client:
        answer = await client.balance_at(W1, "SOL", "slot:313000000")
    assert answer.token.address == NATIVE_SOL_MINT
    assert len(answer.token.address) == 43
    assert answer.token.is_native
    assert answer.token.decimals == 9
    assert answer.amount.raw == 12345678901
    assert answer.amount.value == Decimal("12.345678901")
    assert answer.requested == Point(block=313000000)
    assert answer.as_of is not None
    assert answer.as_of.number == 312999870
    assert answer.provenance.echo == {"time": None, "slot": 313000000, "datetime": None}
    # a slot is exact and native SOL is not spread over token accounts: no caveat applies
    assert answer.provenance.caveats == ()


async def test_no_activity_is_zero(asof_client_factory):
    async with asof_client_factory(asof_helius) as client:
        answer = await client.balance_at(W2, "USDC", "2020-01-01")
    assert answer.as_of is None
    assert answer.amount.raw == 0
    assert answer.amount.value == Decimal(0)
    assert answer.token.decimals == 6


async def test_balance_above_2_64(asof_client_factory):
    mint = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"
    async with asof_client_factory(asof_helius) as client:
        answer = await client.balance_at(W1, mint, "slot:313000000")
    raw = 123456789012345678901234567890
    assert raw > 2**64
    assert answer.amount.raw == raw
    assert type(answer.amount.raw) is int
    assert answer.amount.value == Decimal("123456789012345678901.23456789")
    assert answer.token.decimals == 9
    assert answer.token.standard == "unknown"  # Helius does not say SPL or Token-2022
    assert CAVEAT_SOL_PRECISION not in answer.provenance.caveats


async def test_error_400_keeps_the_provider_message(asof_client_factory):
    async with asof_client_factory(asof_helius) as client:
        with pytest.raises(ProviderRequestError) as caught:
            await client.balance_at(W1, "11111111111111111111111111111111", AT)
    error = caught.value
    assert error.provider == "helius"
    assert error.status == 400
    assert "Invalid mint" in error.provider_message
    assert "is not a token mint" in str(error)
    assert isinstance(error, ValueError)
    assert not error.retryable


async def test_error_401(asof_client_factory):
    async with asof_client_factory(asof_helius) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.balance_at(W1, "USDC", AT)
    assert caught.value.status == 401
    assert "API key required" in str(caught.value)
    assert "asof-test-key" not in str(caught.value)


async def test_error_404_invalid_wallet(asof_client_factory):
    # 44 base58 characters pass the local check but are not a 32-byte address.
    async with asof_client_factory(asof_helius) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.balance_at("solana:" + "z" * 44, "USDC", AT)
    assert caught.value.status == 404
    assert "Invalid wallet address" in str(caught.value)
    assert isinstance(caught.value, LookupError)


async def test_error_429_retry_after(asof_client_factory):
    async with asof_client_factory(asof_helius) as client:
        with pytest.raises(RateLimited) as caught:
            await client.balance_at(W1, "USDC", AT)
    assert caught.value.retry_after == 2.0
    assert caught.value.retryable
    assert "RATE_LIMIT_EXCEEDED" in str(caught.value)


async def test_error_500_is_retryable(asof_client_factory):
    async with asof_client_factory(asof_helius) as client:
        with pytest.raises(UpstreamError) as caught:
            await client.balance_at(W1, "USDC", AT)
    assert caught.value.status == 500
    assert caught.value.retryable
    assert "INTERNAL_ERROR" in str(caught.value)


async def test_error_502_is_retryable(asof_client_factory):
    async with asof_client_factory(asof_helius) as client:
        with pytest.raises(UpstreamError) as caught:
            await client.balance_at(W1, "USDC", AT)
    assert caught.value.status == 502
    assert caught.value.retryable
    assert "Upstream RPC request failed" in str(caught.value)


async def test_error_502_then_an_answer(asof_client_factory):
    # Two attempts, no backoff wait: the transport retries the 502 and gets the answer.
    with stamina.set_testing(True, attempts=2):
        async with asof_client_factory(asof_helius, attempts=2) as client:
            answer = await client.balance_at(W1, "USDC", AT)
    assert answer.amount.raw == 284961463392936
