"""Allium's rules checked before a call is spent, the batch merge and its cursor, and the
answer parsing edge cases, with no HTTP at all or with canned answers (MockHTTP)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asof_allium
from asof.errors import InputError, InvalidRange, ResponseError
from asof.queries import HistoryQuery
from asof.records import Capability, Provenance, SupportStatus, Wallet
from asof.testing.mock import Reply
from asof_allium.chains import (
    FALLBACK_CHAINS,
    allium_chain,
    asof_chain,
    fallback_support,
    parse_listing,
)
from asof_allium.granularity import check_granularity, finest_allowed
from asof_allium.paging import BatchState, Fetched, MergeCursor, fingerprint, merge_page
from asof_allium.parse import parse_balance_page, parse_holdings_page, token_standard
from asof_allium.request import batches, holdings_request, window_for
from tests.plugins.allium.data import ETH_WALLET, ETH_WALLETS_17, HOLDINGS_NOW, SOL_WALLET

NOW = datetime(2026, 4, 13, 6, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def eth(address: str = ETH_WALLET) -> Wallet:
    return Wallet(chain="ethereum", address=address)


def holdings(start: datetime | None, end: datetime | None, granularity: str | None = "1d",
             wallets: Sequence[Wallet] = (), **extra: Any) -> HistoryQuery:
    return HistoryQuery(capability=Capability.HOLDINGS_HISTORY,
                        wallets=tuple(wallets) or (eth(),), start=start, end=end,
                        granularity=granularity, **extra)


# ---------------------------------------------------------------------------- granularity


@pytest.mark.parametrize(
    ("span", "finest"),
    [
        (timedelta(minutes=2), "15s"),
        (timedelta(hours=24), "15s"),
        (timedelta(hours=24, seconds=1), "5m"),
        (timedelta(days=7), "5m"),
        (timedelta(days=7, seconds=1), "1h"),
        (timedelta(days=365), "1h"),
        (timedelta(days=365, seconds=1), "1d"),
        (timedelta(days=3000), "1d"),
    ],
)
def test_finest_granularity_by_range(span: timedelta, finest: str) -> None:
    end = NOW - timedelta(hours=1)
    assert finest_allowed(end - span, end, NOW) == finest
    assert check_granularity(finest, end - span, end, NOW) == finest
    assert check_granularity("1d", end - span, end, NOW) == "1d"


@pytest.mark.parametrize(
    ("granularity", "span", "message"),
    [
        ("15s", timedelta(days=2), "15s is too fine for a range of 2 days; Allium allows 5m "
                                   "or coarser for ranges of 24 hours to 7 days"),
        ("1m", timedelta(days=3), "1m is too fine for a range of 3 days; Allium allows 5m "
                                  "or coarser for ranges of 24 hours to 7 days"),
        ("5m", timedelta(days=10), "5m is too fine for a range of 10 days; Allium allows 1h "
                                   "or coarser for ranges of 7 days to 1 year"),
        ("1h", timedelta(days=400), "1h is too fine for a range of 400 days; Allium allows "
                                    "1d or coarser for ranges over 1 year"),
    ],
)
def test_too_fine_for_the_range_names_the_finest(granularity: str, span: timedelta,
                                                 message: str) -> None:
    with pytest.raises(InvalidRange) as caught:
        check_granularity(granularity, NOW - span, NOW, NOW)
    assert str(caught.value) == f"granularity: {message}"
    assert caught.value.field == "granularity"


def test_15s_is_kept_seven_days_only() -> None:
    start = NOW - timedelta(days=8)
    with pytest.raises(InvalidRange) as caught:
        check_granularity("15s", start, start + timedelta(hours=1), NOW)
    assert str(caught.value) == (
        "granularity: 15s data is kept for 7 days only and the start is 8 days ago; the "
        "finest granularity allowed here is 1m")
    assert check_granularity("1m", start, start + timedelta(hours=1), NOW) == "1m"
    recent = NOW - timedelta(days=6, hours=23)
    assert check_granularity("15s", recent, recent + timedelta(hours=1), NOW) == "15s"


@pytest.mark.parametrize("value", [None, "2m", "daily", ""])
def test_unknown_granularity(value: str | None) -> None:
    with pytest.raises(InputError, match="15s, 1m, 5m, 1h, 1d"):
        check_granularity(value, NOW - timedelta(days=1), NOW, NOW)


def test_granularity_is_case_insensitive() -> None:
    assert check_granularity(" 1D ", NOW - timedelta(days=30), NOW, NOW) == "1d"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("granularity", "start", "end", "finest"),
    [
        ("15s", utc(2026, 4, 10), utc(2026, 4, 12), "5m"),
        ("1m", utc(2026, 4, 10), utc(2026, 4, 13), "5m"),
        ("5m", utc(2026, 4, 1), utc(2026, 4, 11), "1h"),
        ("1h", utc(2025, 1, 1), utc(2026, 4, 1), "1d"),
        ("15s", utc(2026, 4, 5), utc(2026, 4, 5, 1), "1m"),  # 15s retention
    ],
)
async def test_refused_granularity_spends_no_call(
    asof_client_factory: Any, mock_http: Any, granularity: str, start: datetime,
    end: datetime, finest: str,
) -> None:
    async with asof_client_factory(asof_allium, http_transport=mock_http.transport,
                                   clock=lambda: HOLDINGS_NOW) as client:
        with pytest.raises(InvalidRange) as caught:
            await client.fetch_page(holdings(start, end, granularity))
    expected = (f"allowed here is {finest}" if finest == "1m"
                else f"Allium allows {finest} or coarser")
    assert expected in str(caught.value)
    assert mock_http.requests == []


# ---------------------------------------------------------------------------- windows


def test_future_end_is_clamped_to_now() -> None:
    window = window_for(holdings(utc(2026, 4, 1), utc(2026, 5, 1)), NOW, open_start=None)
    assert window.end == NOW
    assert window.clamped
    kept = window_for(holdings(utc(2026, 4, 1), utc(2026, 4, 2)), NOW, open_start=None)
    assert kept.end == utc(2026, 4, 2)
    assert not kept.clamped


def test_start_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidRange, match="is not before the current time"):
        window_for(holdings(utc(2026, 5, 1), utc(2026, 6, 1)), NOW, open_start=None)


def test_end_before_start_is_refused() -> None:
    with pytest.raises(InvalidRange, match="is not after start"):
        holdings(utc(2026, 4, 2), utc(2026, 4, 1))


def test_holdings_need_a_start_balance_history_does_not() -> None:
    with pytest.raises(InputError, match="needs a start"):
        window_for(holdings(None, utc(2026, 4, 1)), NOW, open_start=None)
    open_start = utc(2009, 1, 3)
    window = window_for(holdings(None, None), NOW, open_start=open_start)
    assert (window.start, window.end) == (open_start, NOW)


def test_clamped_end_is_kept_on_later_pages() -> None:
    query = holdings(utc(2026, 4, 1), utc(2026, 5, 1))
    cursor = MergeCursor(fingerprint=fingerprint(query), end=NOW,
                         batches=(BatchState("abc", 3),)).encode()
    decoded = MergeCursor.decode(cursor, fingerprint=fingerprint(query), batches=1)
    assert decoded.end == NOW
    assert decoded.batches == (BatchState("abc", 3),)


def test_cursor_of_another_query_is_refused() -> None:
    query = holdings(utc(2026, 4, 1), utc(2026, 4, 10))
    other = holdings(utc(2026, 4, 2), utc(2026, 4, 10))
    cursor = MergeCursor(fingerprint=fingerprint(query), end=NOW,
                         batches=(BatchState(None, 1),)).encode()
    with pytest.raises(InputError, match="belongs to another query"):
        MergeCursor.decode(cursor, fingerprint=fingerprint(other), batches=1)
    with pytest.raises(InputError, match="not a cursor"):
        MergeCursor.decode("not-base64!", fingerprint=fingerprint(query), batches=1)


def test_requests_carry_min_liquidity_exactly() -> None:
    window = window_for(holdings(utc(2026, 4, 1), utc(2026, 4, 10)), NOW, open_start=None)
    body, params = holdings_request([eth()], window, granularity="1h", breakdown=True,
                                    min_liquidity=Decimal("1000.50"), cursor="c2")
    assert params == {"min_liquidity": "1000.50", "cursor": "c2"}
    assert body["include_token_breakdown"] is True
    with pytest.raises(InputError, match="negative"):
        holdings_request([eth()], window, granularity="1h", breakdown=False,
                         min_liquidity=Decimal(-1), cursor=None)


def test_batches_of_fifteen_without_repeats() -> None:
    wallets = [eth(a) for a in ETH_WALLETS_17] + [eth(ETH_WALLETS_17[0])]
    groups = batches(wallets)
    assert [len(g) for g in groups] == [15, 2]
    assert [w for g in groups for w in g] == [eth(a) for a in ETH_WALLETS_17]


# ---------------------------------------------------------------------------- merge


def streams_strategy() -> Any:
    item = st.integers(min_value=0, max_value=50)
    stream = st.lists(item, max_size=25).map(lambda xs: sorted(xs, reverse=True))
    return st.tuples(st.lists(stream, min_size=1, max_size=4),
                     st.integers(min_value=1, max_value=6))


@settings(max_examples=150, deadline=None)
@given(streams_strategy())
def test_merge_loses_and_repeats_nothing(data: tuple[list[list[int]], int]) -> None:
    streams, page_size = data
    tagged = [[(value, b, i) for i, value in enumerate(s)] for b, s in enumerate(streams)]
    fetches: list[tuple[int, str | None]] = []

    async def fetch(index: int, cursor: str | None) -> Fetched[tuple[int, int, int]]:
        fetches.append((index, cursor))
        start = 0 if cursor is None else int(cursor)
        items = tagged[index][start:start + page_size]
        more = start + page_size < len(tagged[index])
        return Fetched(items, str(start + page_size) if more else None)

    async def run() -> list[list[tuple[int, int, int]]]:
        states: list[BatchState | None] = [BatchState(None) for _ in streams]
        pages = []
        for _ in range(1000):
            items, states = await merge_page(states, fetch, lambda t: t[0])
            pages.append(items)
            if all(s is None for s in states):
                return pages
        raise AssertionError("the merge never ended")

    pages = anyio.run(run)
    emitted = [item for page in pages for item in page]
    assert sorted(emitted) == sorted(item for s in tagged for item in s)
    assert len(set(emitted)) == len(emitted)
    assert [v for v, _, _ in emitted] == sorted((v for v, _, _ in emitted), reverse=True)
    if len(streams) == 1:  # one batch: every provider page is fetched exactly once
        assert len(fetches) == len(set(fetches))


def test_merge_refuses_a_provider_that_repeats_its_cursor() -> None:
    async def fetch(index: int, cursor: str | None) -> Fetched[int]:
        return Fetched([1], "same")

    async def run() -> None:
        await merge_page([BatchState("same")], fetch, lambda v: v)

    with pytest.raises(ResponseError, match="returned the cursor"):
        anyio.run(run)


def test_merge_notices_a_page_that_shrank() -> None:
    async def fetch(index: int, cursor: str | None) -> Fetched[int]:
        return Fetched([3, 2], None)

    async def run() -> None:
        await merge_page([BatchState(None, 5)], fetch, lambda v: v)

    with pytest.raises(ResponseError, match="restart the history"):
        anyio.run(run)


# ---------------------------------------------------------------------------- parsing

PROVENANCE = Provenance(provider="allium")
SOL = Wallet(chain="solana", address=SOL_WALLET)


@pytest.mark.parametrize(
    ("kind", "standard"),
    [("evm_erc20", "erc20"), ("sol_spl", "spl"), ("native", "native"),
     ("evm_erc1155", "erc1155"), ("evm_erc721", "erc721"), ("sol_token_2022", "token-2022"),
     ("evm_some_new_kind", "some-new-kind"), (None, "unknown"), ("", "unknown")],
)
def test_token_standard(kind: str | None, standard: str) -> None:
    assert token_standard(kind) == standard


def change(**over: Any) -> dict[str, Any]:
    item = {
        "address": SOL_WALLET, "chain": "solana", "block_slot": 5,
        "block_timestamp": "2025-04-01T12:00:00", "block_hash": "h", "txn_id": "t",
        "txn_index": 0, "raw_balance": 10, "token_account": None,
        "token": {"address": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "chain": "solana",
                  "type_": "sol_spl"},
    }
    item.update(over)
    return item


def test_balance_parsing_accepts_the_sdk_spelling_and_integral_decimals() -> None:
    changes, cursor = parse_balance_page(
        {"items": [change(raw_balance=Decimal("1E+30"))], "cursor": ""},
        chain="solana", batch=[SOL], provenance=PROVENANCE)
    assert changes[0].token.standard == "spl"
    assert changes[0].balance.raw == 10**30
    assert cursor is None


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"raw_balance": Decimal("1.5")}, "raw_balance"),
        ({"raw_balance": None}, "raw_balance"),
        ({"block_timestamp": "yesterday"}, "block_timestamp"),
        ({"chain": "nowhere"}, "chain"),
        ({"address": "not a wallet"}, "address"),
        ({"token": "USDC"}, "token"),
        ({"txn_index": "first"}, "txn_index"),
    ],
)
def test_balance_parsing_names_the_bad_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(ResponseError) as caught:
        parse_balance_page({"items": [change(), change(**over)]}, chain="solana",
                           batch=[SOL], provenance=PROVENANCE)
    assert caught.value.field == f"items[1].{field}"
    assert f"balances history answer does not match the provider's documents: items[1].{field}:" \
        in str(caught.value)


def test_answers_without_items_are_refused() -> None:
    with pytest.raises(ResponseError, match=r"items: is missing"):
        parse_balance_page({"data": []}, chain="solana", batch=[SOL], provenance=PROVENANCE)
    with pytest.raises(ResponseError, match="cursor: expected text"):
        parse_holdings_page({"items": [], "cursor": 5}, chain="ethereum", batch=[eth()],
                            breakdown=False, provenance=PROVENANCE)


def point(**over: Any) -> dict[str, Any]:
    item = {"address": ETH_WALLET, "chain": "ethereum", "timestamp": "2026-04-12T00:00:00Z",
            "amount": {"amount": Decimal("1.50"), "currency": "USD"}}
    item.update(over)
    return item


def test_holdings_parsing() -> None:
    points, _ = parse_holdings_page(
        {"items": [point(address="", chain=""), point(token_breakdown=None)]},
        chain="ethereum", batch=[eth()], breakdown=True, provenance=PROVENANCE)
    assert points[0].wallet == eth()  # a lone wallet fills in a missing address
    assert points[1].breakdown == ()
    assert points[0].usd == Decimal("1.50")
    with pytest.raises(ResponseError, match=r"amount\.currency: expected USD"):
        parse_holdings_page({"items": [point(amount={"amount": 1, "currency": "EUR"})]},
                            chain="ethereum", batch=[eth()], breakdown=False,
                            provenance=PROVENANCE)
    with pytest.raises(ResponseError,
                       match=r"items\[0\]\.amount\.amount: expected a decimal number"):
        parse_holdings_page({"items": [point(amount={"amount": "lots", "currency": "USD"})]},
                            chain="ethereum", batch=[eth()], breakdown=False,
                            provenance=PROVENANCE)


# ---------------------------------------------------------------------------- chains


def test_fallback_declares_history_and_derived_balances() -> None:
    records = fallback_support()
    assert [r.chain for r in records] == list(FALLBACK_CHAINS)
    for record in records:
        assert record.provider == "allium"
        assert set(record.capabilities) == {Capability.BALANCE_HISTORY,
                                            Capability.HOLDINGS_HISTORY,
                                            Capability.BALANCE_AT}
        assert record.derived == (Capability.BALANCE_AT,)
        assert record.status is SupportStatus.SUPPORTED


def test_listing_skips_unknown_chains_and_reads_beta() -> None:
    records = parse_listing([
        {"id": "solana", "label": "Solana", "endpoints": {
            "holdings_history": {"availability": "beta"}, "balances_history": {}}},
        {"id": "nowhere", "label": "?", "endpoints": {"holdings_history": {}}},
        {"id": "base", "label": "Base", "endpoints": {"holdings_history": None}},
    ])
    assert [(r.chain, r.status) for r in records] == [("solana", SupportStatus.BETA)]
    with pytest.raises(ResponseError, match="not a list"):
        parse_listing({"chains": []})
    with pytest.raises(ResponseError, match="entry 0 lacks an id"):
        parse_listing([{"label": "x"}])


def test_chain_ids() -> None:
    assert allium_chain("eth") == "ethereum"
    assert asof_chain("Solana") == "solana"
    assert asof_chain("megachain") is None


# ---------------------------------------------------------------------------- hooks


@pytest.mark.anyio
async def test_block_points_are_declined(asof_client_factory: Any, mock_http: Any) -> None:
    async with asof_client_factory(asof_allium, http_transport=mock_http.transport) as client:
        with pytest.raises(Exception, match="declined this query") as caught:
            await client.balance_at(f"solana:{SOL_WALLET}", "USDC", "slot:330000000")
    assert type(caught.value).__name__ == "NoRoute"
    assert mock_http.requests == []


@pytest.mark.anyio
async def test_token_filter(asof_client_factory: Any, mock_http: Any) -> None:
    native = change(token={"address": "So11111111111111111111111111111111111111111",
                           "chain": "solana", "type": "native"}, block_slot=6)
    mock_http.queue(Reply(json={"items": [change(), native], "cursor": None}))
    async with asof_client_factory(asof_allium, http_transport=mock_http.transport) as client:
        only_sol = [c async for c in client.history(
            f"solana:{SOL_WALLET}", start="2025-04-01", end="2025-04-02", tokens=["SOL"])]
    assert [c.block.number for c in only_sol] == [6]
    assert only_sol[0].token.symbol == "SOL"
