"""Allium balance history, holdings history, derived balances and chain discovery through
the whole stack, replayed from cassettes.

Each test replays ``cassettes/allium/<test name>.yaml`` through a real
:class:`asof.AsyncClient` holding only the Allium plugin (pytest-recording, record mode
``none``: nothing reaches the network). The cassettes were built from the provider
documents (``allium-balances-history.md``, ``allium-holdings-history.md`` and
``NOTES.md``: request and answer shapes, the documented examples), not recorded, and
say so at their top. Where the documents say a page holds up to 800 records, the
cassettes cut pages smaller so that several pages stay readable; each says so.

Re-recording with a real key (a maintainer's job)::

    ASOF_ALLIUM_API_KEY=... .venv/bin/pytest tests/plugins/allium/test_cassettes.py \\
        --record-mode=rewrite -k "documented_example or breakdown or pages"

The key is read from ``ASOF_ALLIUM_API_KEY`` (or ``ALLIUM_API_KEY``) only when
``--record-mode`` is given; the ``X-API-KEY`` header is written as ``<redacted>`` and the
key's value is scrubbed from bodies. Before recording, move the clocks in ``data.py``
(``BALANCES_NOW``, ``HOLDINGS_NOW``) and the ranges below to recent dates (15s data is
kept 7 days only, and a future end is clamped), then update the expected values to what
was recorded: real wallets carry real balances and Allium cuts its own pages.
``test_error_401`` re-records with a deliberately wrong key; 429 and 503 cannot be
provoked on demand, so those cassettes stay built from the documents. Keep the comment at
the top of any cassette that was not recorded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import asof_allium
from asof.errors import (
    AuthenticationError,
    ProviderError,
    ProviderRequestError,
    RateLimited,
    UpstreamError,
)
from asof.queries import HistoryQuery
from asof.records import (
    NATIVE_SOL_MINT,
    BalanceChange,
    BlockRef,
    Capability,
    HoldingsPoint,
    Page,
    SupportStatus,
    TokenHolding,
    Wallet,
)
from asof.testing.client import FAKE_SECRET
from asof_allium.info import BALANCES_PATH, HOLDINGS_PATH
from tests.plugins.allium.data import (
    BALANCES_END,
    BALANCES_NOW,
    BALANCES_START,
    BONK,
    EMPTY_SOL_WALLET,
    ETH_WALLET,
    ETH_WALLET_2,
    ETH_WALLETS_17,
    HOLDINGS_NOW,
    SHIB,
    SOL_WALLET,
    SOL_WALLETS_17,
    USDC_ACCOUNT_1,
    USDC_ACCOUNT_2,
    USDC_ETH,
    USDC_SOL,
    WETH,
)

pytestmark = [pytest.mark.anyio, pytest.mark.vcr]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def sol(address: str) -> Wallet:
    return Wallet(chain="solana", address=address)


def eth(address: str) -> Wallet:
    return Wallet(chain="ethereum", address=address)


def holdings_query(wallets: list[Wallet], start: datetime, end: datetime, granularity: str,
                   **extra: Any) -> HistoryQuery:
    return HistoryQuery(capability=Capability.HOLDINGS_HISTORY, wallets=tuple(wallets),
                        start=start, end=end, granularity=granularity, **extra)


async def all_pages(client: Any, query: HistoryQuery) -> list[Page[Any]]:
    return [page async for _, page in client.pages(query)]


def sent(cassette: Any) -> list[dict[str, Any]]:
    """The JSON bodies of the cassette's requests, in order."""
    return [json.loads(request.body) for request in cassette.requests]


# ---------------------------------------------------------------------------- balances


async def test_balance_history_pages(asof_client_factory, vcr):
    query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(sol(SOL_WALLET),),
                         start=BALANCES_START, end=BALANCES_END, page_size=3)
    async with asof_client_factory(asof_allium, clock=lambda: BALANCES_NOW) as client:
        pages = await all_pages(client, query)

    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert all(p.cursor for p in pages[:-1])
    assert pages[-1].cursor is None
    assert vcr.all_played
    changes: list[BalanceChange] = [c for p in pages for c in p.items]
    # Allium's order is kept: newest first in this cassette.
    assert [c.block.timestamp for c in changes] == sorted(
        (c.block.timestamp for c in changes), reverse=True)
    first = changes[0]
    assert first.wallet == sol(SOL_WALLET)
    assert first.token.address == USDC_SOL
    assert first.token.standard == "spl"
    assert first.token.decimals == 6
    assert first.token.symbol == "USDC"
    assert first.token_account == USDC_ACCOUNT_1
    assert first.balance.raw == 0
    # block_timestamp "2025-04-01T12:59:59" has no offset: it is UTC.
    assert first.block.timestamp == utc(2025, 4, 1, 12, 59, 59)
    assert first.block.number == 331008250
    assert first.block.index == 9
    assert first.block.hash
    assert first.block.transaction
    assert first.provenance.provider == "allium"
    assert first.provenance.source == f"POST {BALANCES_PATH}"
    assert not first.provenance.derived

    bonk = next(c for c in changes if c.token.address == BONK)
    assert bonk.balance.raw == 2**128 - 1  # a bare JSON number, exact
    assert type(bonk.balance.raw) is int
    assert bonk.token.decimals is None  # Allium did not say
    natives = [c for c in changes if c.token.is_native]
    assert [c.balance.raw for c in natives] == [2_499_995_000, 2_500_000_000]
    assert all(c.token.address == NATIVE_SOL_MINT and c.token.decimals == 9 for c in natives)
    assert natives[0].balance.value == Decimal("2.499995")
    # the two changes in one second are told apart by transaction index
    moment = utc(2025, 4, 1, 12, 20, 30)
    same_second = [c.block.index for c in changes if c.block.timestamp == moment]
    assert same_second == [12, 7]
    assert {c.token_account for c in changes if c.token.address == USDC_SOL} == {
        USDC_ACCOUNT_1, USDC_ACCOUNT_2}
    # the limit and cursor travel as query parameters
    uris = [r.uri for r in vcr.requests]
    assert all("limit=3" in u for u in uris)
    assert "cursor=" not in uris[0]
    assert all("cursor=" in u for u in uris[1:])


async def test_balance_history_many_wallets(asof_client_factory, vcr):
    wallets = tuple(sol(w) for w in SOL_WALLETS_17)
    query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=wallets,
                         start=utc(2025, 4, 1), end=BALANCES_NOW, page_size=4)
    async with asof_client_factory(asof_allium, clock=lambda: BALANCES_NOW) as client:
        pages = await all_pages(client, query)

    changes = [c for p in pages for c in p.items]
    keys = [(c.wallet.address, c.block.transaction) for c in changes]
    assert len(changes) == 17 * 3
    assert len(set(keys)) == len(keys), "a change was repeated"
    for wallet in wallets:
        assert sum(1 for c in changes if c.wallet == wallet) == 3, f"{wallet} lost a change"
    order = [(c.block.timestamp, c.block.number, c.block.index) for c in changes]
    assert order == sorted(order, reverse=True), "not merged newest first"
    batches = [len(body["addresses"]) for body in sent(vcr)]
    assert set(batches) == {15, 2}
    assert {a["address"] for body in sent(vcr) for a in body["addresses"]} == set(SOL_WALLETS_17)
    assert vcr.all_played
    assert all(p.cursor is not None for p in pages[:-1])
    assert pages[-1].cursor is None


async def test_balance_at_derived(asof_client_factory, vcr):
    wallet = f"solana:{SOL_WALLET}"
    async with asof_client_factory(asof_allium, clock=lambda: BALANCES_NOW) as client:
        before = await client.balance_at(wallet, "USDC", "2025-04-01T12:20:29Z")
        on = await client.balance_at(wallet, "USDC", "2025-04-01T12:20:30Z")
        nothing = await client.balance_at(wallet, "USDC", "2025-03-01")

    # token account 1 (5 USDC at 12:05:10) plus token account 2 (2.5 USDC since March)
    assert before.amount.raw == 7_500_000
    assert before.as_of is not None
    assert before.as_of.timestamp == utc(2025, 4, 1, 12, 5, 10)
    # the change at 12:20:30 counts at 12:20:30: account 1 now holds 7.25 USDC
    assert on.amount.value == Decimal("9.75")
    assert on.as_of == BlockRef(number=331002400, hash=on.as_of.hash,
                                timestamp=utc(2025, 4, 1, 12, 20, 30),
                                transaction=on.as_of.transaction, index=7)
    assert nothing.amount.raw == 0
    assert nothing.as_of is None
    for answer in (before, on, nothing):
        assert answer.provenance.provider == "allium"
        assert answer.provenance.derived
        assert answer.provenance.source == f"POST {BALANCES_PATH}"
        assert answer.token.address == USDC_SOL
        assert answer.amount.decimals == 6
    bodies = sent(vcr)
    assert [b["end_timestamp"] for b in bodies] == [
        "2025-04-01T12:20:30Z", "2025-04-01T12:20:31Z", "2025-03-01T00:00:01Z"]
    assert all(b["start_timestamp"] == "2009-01-03T00:00:00Z" for b in bodies)


# ---------------------------------------------------------------------------- holdings


async def test_holdings_documented_example(asof_client_factory, vcr):
    async with asof_client_factory(asof_allium, clock=lambda: HOLDINGS_NOW) as client:
        points = [p async for p in client.holdings(
            [f"ethereum:{ETH_WALLET}"], start="2026-04-10", end="2026-04-13", granularity="1d")]

    assert [(p.timestamp, p.usd) for p in points] == [
        (utc(2026, 4, 12), Decimal("297231.67")),
        (utc(2026, 4, 11), Decimal("305582.84")),
        (utc(2026, 4, 10), Decimal("310573.28")),
    ]
    assert all(isinstance(p, HoldingsPoint) and p.wallet == eth(ETH_WALLET) for p in points)
    assert all(p.breakdown is None for p in points)
    assert points[0].provenance.source == f"POST {HOLDINGS_PATH}"
    assert points[0].provenance.fetched_at == HOLDINGS_NOW
    (body,) = sent(vcr)
    assert body == {
        "addresses": [{"chain": "ethereum", "address": ETH_WALLET}],
        "start_timestamp": "2026-04-10T00:00:00Z",
        "end_timestamp": "2026-04-13T00:00:00Z",
        "granularity": "1d",
        "include_token_breakdown": False,
    }


async def test_holdings_breakdown_with_liquidity(asof_client_factory, vcr):
    async with asof_client_factory(asof_allium, clock=lambda: HOLDINGS_NOW) as client:
        points = [p async for p in client.holdings(
            [f"ethereum:{ETH_WALLET}"], start="2026-04-11", end="2026-04-13", granularity="1d",
            breakdown=True, min_liquidity=1000)]

    assert "min_liquidity=1000" in vcr.requests[0].uri
    newest = points[0]
    assert newest.usd == Decimal("297231.67")
    assert newest.breakdown == (
        TokenHolding(token=USDC_ETH, usd=Decimal("79905.56"), liquidity_usd=None,
                     liquidity_detail="LIQUIDITY_TOO_HIGH"),
        TokenHolding(token=SHIB, usd=Decimal("622.15"), liquidity_usd=Decimal("2427432.99")),
        TokenHolding(token=WETH, usd=Decimal("216703.96")),
    )
    assert points[1].breakdown is not None
    assert points[1].breakdown[1].usd == Decimal("640.90")


async def test_holdings_pages(asof_client_factory, vcr):
    query = holdings_query([eth(ETH_WALLET), eth(ETH_WALLET_2)], utc(2026, 4, 10),
                           utc(2026, 4, 11), "1h")
    async with asof_client_factory(asof_allium, clock=lambda: HOLDINGS_NOW) as client:
        pages = await all_pages(client, query)

    assert [len(p.items) for p in pages] == [20, 20, 8]
    points = [p for page in pages for p in page.items]
    assert len({(p.wallet, p.timestamp) for p in points}) == 48
    times = [p.timestamp for p in points]
    assert times == sorted(times, reverse=True)
    assert times[0] == utc(2026, 4, 10, 23)
    assert times[-1] == utc(2026, 4, 10)
    assert vcr.all_played
    assert len(vcr.requests) == 3


async def test_holdings_many_wallets(asof_client_factory, vcr):
    wallets = [eth(w) for w in ETH_WALLETS_17]
    query = holdings_query(wallets, utc(2026, 4, 1), utc(2026, 4, 13), "1d")
    async with asof_client_factory(asof_allium, clock=lambda: HOLDINGS_NOW) as client:
        pages = await all_pages(client, query)

    points = [p for page in pages for p in page.items]
    pairs = [(p.wallet, p.timestamp) for p in points]
    assert len(pairs) == 17 * 12
    assert len(set(pairs)) == len(pairs), "a point was repeated"
    assert set(pairs) == {(w, utc(2026, 4, day)) for w in wallets for day in range(1, 13)}
    times = [p.timestamp for p in points]
    assert times == sorted(times, reverse=True), "not merged newest first"
    assert {len(body["addresses"]) for body in sent(vcr)} == {15, 2}
    assert vcr.all_played


async def test_holdings_empty_wallet_is_zero(asof_client_factory, vcr):
    async with asof_client_factory(asof_allium, clock=lambda: HOLDINGS_NOW) as client:
        points = [p async for p in client.holdings(
            [f"solana:{EMPTY_SOL_WALLET}"], start="2026-04-12T00:00:00Z",
            end="2026-04-12T06:00:00Z", granularity="1h")]

    assert [p.timestamp.hour for p in points] == [5, 4, 3, 2, 1, 0]
    assert all(p.usd == 0 and isinstance(p.usd, Decimal) for p in points)
    assert all(p.wallet == sol(EMPTY_SOL_WALLET) for p in points)


async def _first_page(factory: Any, granularity: str, start: datetime, end: datetime) -> Page[Any]:
    async with factory(asof_allium, clock=lambda: HOLDINGS_NOW) as client:
        _, page = await client.fetch_page(
            holdings_query([eth(ETH_WALLET)], start, end, granularity))
    return page


async def test_holdings_granularity_15s_up_to_24_hours(asof_client_factory, vcr):
    page = await _first_page(asof_client_factory, "15s", utc(2026, 4, 13, 5),
                             utc(2026, 4, 13, 5, 2))
    assert [p.timestamp.second for p in page.items] == [45, 30, 15, 0]
    assert page.cursor is not None
    assert sent(vcr)[0]["granularity"] == "15s"


async def test_holdings_granularity_5m_up_to_7_days(asof_client_factory, vcr):
    page = await _first_page(asof_client_factory, "5m", utc(2026, 4, 10), utc(2026, 4, 13))
    assert page.items[0].timestamp == utc(2026, 4, 12, 23, 55)
    assert sent(vcr)[0]["granularity"] == "5m"


async def test_holdings_granularity_1h_up_to_a_year(asof_client_factory, vcr):
    page = await _first_page(asof_client_factory, "1h", utc(2026, 3, 1), utc(2026, 4, 13))
    assert page.items[0].timestamp == utc(2026, 4, 12, 23)
    assert sent(vcr)[0]["granularity"] == "1h"


async def test_holdings_granularity_1d_over_a_year(asof_client_factory, vcr):
    page = await _first_page(asof_client_factory, "1d", utc(2025, 1, 1), utc(2026, 4, 13))
    assert page.items[0].timestamp == utc(2026, 4, 12)
    assert sent(vcr)[0]["granularity"] == "1d"


# ---------------------------------------------------------------------------- errors


async def _holdings_error(factory: Any) -> BaseException:
    query = holdings_query([eth(ETH_WALLET)], utc(2026, 4, 10), utc(2026, 4, 13), "1d")
    async with factory(asof_allium, clock=lambda: HOLDINGS_NOW) as client:
        with pytest.raises(ProviderError) as caught:
            await client.fetch_page(query)
    return caught.value


async def test_error_422_names_the_field(asof_client_factory, vcr):
    error = await _holdings_error(asof_client_factory)
    assert isinstance(error, ProviderRequestError)
    assert isinstance(error, ValueError)
    assert error.status == 422
    assert error.provider == "allium"
    assert str(error) == (
        "allium: rejected the request as invalid (HTTP 422): addresses.0.address: "
        "Value error, invalid address for chain ethereum"
    )
    assert error.details == [{"loc": ["body", "addresses", 0, "address"],
                              "msg": "Value error, invalid address for chain ethereum",
                              "type": "value_error"}]


async def test_error_401(asof_client_factory, vcr):
    error = await _holdings_error(asof_client_factory)
    assert isinstance(error, AuthenticationError)
    assert str(error) == "allium: refused the credential (HTTP 401): Invalid API key"
    assert FAKE_SECRET not in str(error)
    assert FAKE_SECRET not in repr(error)


async def test_error_429_retry_after(asof_client_factory, vcr):
    error = await _holdings_error(asof_client_factory)
    assert isinstance(error, RateLimited)
    assert error.retryable
    assert error.retry_after == 1.0
    assert "Rate limit exceeded" in str(error)


async def test_error_503_is_retryable(asof_client_factory, vcr):
    error = await _holdings_error(asof_client_factory)
    assert isinstance(error, UpstreamError)
    assert error.retryable
    assert error.status == 503
    assert "Service temporarily unavailable" in str(error)


# ---------------------------------------------------------------------------- chains


async def test_discover_chains(asof_client_factory, vcr, tmp_path: Path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    async with asof_client_factory(asof_allium, env=env, clock=lambda: HOLDINGS_NOW) as client:
        outcome = await client.refresh_chains()
        declared = {s.chain: s for s in client.supported_chains()}
        route = client.route("solana", "balance_at")

    assert outcome == {"allium": "4 chain declarations cached"}
    assert set(declared) == {"ethereum", "solana", "bitcoin", "base"}
    ethereum = declared["ethereum"]
    assert ethereum.status is SupportStatus.SUPPORTED
    assert set(ethereum.capabilities) == {Capability.BALANCE_HISTORY,
                                          Capability.HOLDINGS_HISTORY, Capability.BALANCE_AT}
    assert ethereum.derived == (Capability.BALANCE_AT,)
    solana = declared["solana"]
    assert solana.status is SupportStatus.BETA
    assert solana.note == "beta: holdings_history"
    assert declared["bitcoin"].capabilities == (Capability.HOLDINGS_HISTORY,)
    assert declared["base"].status is SupportStatus.BETA
    assert set(declared["base"].capabilities) == {Capability.BALANCE_HISTORY,
                                                  Capability.BALANCE_AT}
    assert "derived from its history" in route.explain()
    assert vcr.requests[0].method == "GET"
