"""The Etherscan plugin through the whole stack, replayed from cassettes.

Each test replays ``cassettes/etherscan/<test name>.yaml`` through a real
:class:`asof.AsyncClient` holding only this plugin (record mode ``none``: nothing
reaches the network). The cassettes were written from Etherscan's public API V2
documentation by ``cassettes/build.py``, not recorded, and say so at their top; the
amounts asserted here are the documented ones where the documentation gives one.

Re-recording with a real key (a maintainer's job; balances at a block need a PRO key)::

    ETHERSCAN_API_KEY=... pytest tests/test_cassettes.py --record-mode=rewrite

The key travels as the ``apikey`` query parameter; the kit's cassette filters write it
as ``<redacted>``. Real answers carry real values: update the expected amounts and
blocks below to what was recorded (the wallets, tokens and points stay).
``test_invalid_key`` re-records with a deliberately wrong key, and
``test_rate_limit_then_an_answer`` cannot be provoked on demand, so it stays as built.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import asof_etherscan
from asof.plugin import AuthenticationError, BlockRef, Capability, HistoryQuery, Point, Wallet

pytestmark = [pytest.mark.anyio, pytest.mark.vcr]

WALLET = "ethereum:0xe04f27eb70e025b78871a2ad7eabe85e61212761"
TOKEN = "0x57d90b64a1a57749b0f932f1a3395792e12e7055"


async def test_token_balance_at_a_block(asof_client_factory):
    async with asof_client_factory(asof_etherscan) as client:
        answer = await client.balance_at(WALLET, TOKEN, "block:8000000")
    assert answer.amount.raw == 135499
    assert answer.read_at == BlockRef(number=8000000)
    assert answer.provenance.source == "GET /v2/api account/tokenbalancehistory"


async def test_native_balance_at_a_time(asof_client_factory):
    async with asof_client_factory(asof_etherscan) as client:
        answer = await client.balance_at(
            "eth:0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae", "ETH", 1578638524)
    assert answer.provenance.resolved == Point(block=9251482)
    assert answer.read_at == BlockRef(number=9251482)
    assert answer.amount.raw == 2_500_000_000_000_000_000
    assert str(answer.amount.value) == "2.500000000000000000"


async def test_rate_limit_then_an_answer(asof_client_factory):
    async with asof_client_factory(asof_etherscan, attempts=2) as client:
        answer = await client.balance_at(WALLET, TOKEN, "block:8000000")
    assert answer.amount.raw == 135499


async def test_invalid_key(asof_client_factory):
    async with asof_client_factory(asof_etherscan, attempts=3) as client:
        with pytest.raises(AuthenticationError, match="Invalid API Key"):
            await client.balance_at(WALLET, TOKEN, "block:8000000")


async def test_history_of_a_month(asof_client_factory):
    query = HistoryQuery(capability=Capability.BALANCE_HISTORY,
                         wallets=(Wallet.parse(WALLET),),
                         start=datetime(2024, 1, 1, tzinfo=UTC),
                         end=datetime(2024, 2, 1, tzinfo=UTC))
    records = []
    async with asof_client_factory(asof_etherscan) as client:
        async for _, page in client.pages(query):
            records.extend(page.items)
    assert [(r.block.number, r.block.transaction, r.balance.raw) for r in records] == [
        (18908894, None, 250_000_000),
        (18950000, "0x" + "b2" * 32, 150_000_000),
        (19000000, "0x" + "c3" * 32, 155_500_000),
    ]
    opening = records[0]
    assert opening.block.timestamp == datetime(2024, 1, 1, tzinfo=UTC)
    assert opening.provenance.derived
    assert {r.token.symbol for r in records} == {"USDC"}
