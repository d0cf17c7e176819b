"""The Etherscan plugin's own rules: what it asks, how it reads the envelope, how a
history is paged, checked against a model world whose balances are summed
independently of the plugin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from etherscan_world import (
    ETH,
    ME,
    OTHER,
    T0,
    TOKEN,
    USDC,
    WALLET,
    FakeEtherscan,
    balance_of,
    notok,
    ok,
    transfer,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asof_etherscan
from asof.plugin import (
    AuthenticationError,
    BlockRef,
    Capability,
    HistoryQuery,
    Point,
    ProviderRequestError,
    RateLimited,
    Token,
)
from asof.testing.client import FAKE_SECRET
from asof.testing.mock import MockHTTP, Reply

pytestmark = pytest.mark.anyio

DAI = "0x6b175474e89094c44da98b954eedeac495271d0f"


async def test_a_block_point_asks_balancehistory_with_the_key_as_apikey(
    asof_client_factory, mock_http
):
    mock_http.queue(ok("1000000000000000000"))
    async with asof_client_factory(asof_etherscan, http_transport=mock_http.transport) as c:
        answer = await c.balance_at(f"base:{ME}", "ETH", "block:20000000")
    params = dict(mock_http.last.url.params)
    assert mock_http.last.url.path == "/v2/api"
    assert params == {"chainid": "8453", "module": "account", "action": "balancehistory",
                      "address": ME, "blockno": "20000000", "apikey": FAKE_SECRET}
    assert answer.amount.raw == 10**18
    assert answer.amount.value == 1
    assert answer.as_of is None, "Etherscan does not say when the balance last changed"
    assert answer.read_at == BlockRef(number=20000000)
    assert answer.provenance.resolved is None


async def test_without_the_pro_option_balance_at_declines_without_a_call(
    asof_client_factory, mock_http
):
    mock_http.queue(ok("135499"))
    async with asof_client_factory(asof_etherscan, http_transport=mock_http.transport,
                                   pro=False) as c:
        with pytest.raises(LookupError, match="declined"):
            await c.balance_at(WALLET, TOKEN, "block:8000000")
    assert mock_http.requests == []


async def test_a_time_point_is_the_last_block_at_or_before_it(asof_client_factory, mock_http):
    mock_http.queue(ok("9251482"), ok("135499"))
    async with asof_client_factory(asof_etherscan, http_transport=mock_http.transport) as c:
        answer = await c.balance_at(WALLET, TOKEN, "2020-01-10T06:42:04.9Z")
    first, second = (dict(r.url.params) for r in mock_http.requests)
    assert (first["action"], first["timestamp"], first["closest"]) == (
        "getblocknobytime", "1578638524", "before")
    assert (second["action"], second["blockno"], second["contractaddress"]) == (
        "tokenbalancehistory", "9251482", TOKEN.address)
    assert answer.amount.raw == 135499
    assert answer.read_at == BlockRef(number=9251482)
    assert answer.provenance.resolved == Point(block=9251482)


async def test_a_time_before_the_first_block_is_zero_without_activity(
    asof_client_factory, mock_http
):
    mock_http.queue(notok("Error! No closest block found"))
    async with asof_client_factory(asof_etherscan, http_transport=mock_http.transport) as c:
        answer = await c.balance_at(WALLET, ETH, "2015-01-01")
    assert answer.amount.raw == 0
    assert answer.as_of is None
    assert answer.read_at is None, "before the first block there is nothing to read"
    assert len(mock_http.requests) == 1


async def test_an_in_band_rate_limit_is_retried(asof_client_factory, mock_http):
    mock_http.queue(notok("Max calls per sec rate limit reached (3/sec)"), ok("135499"))
    async with asof_client_factory(asof_etherscan, http_transport=mock_http.transport,
                                   attempts=3) as c:
        answer = await c.balance_at(WALLET, TOKEN, "block:8000000")
    assert answer.amount.raw == 135499
    assert len(mock_http.requests) == 2


async def test_an_in_band_rate_limit_past_the_attempts_is_rate_limited(
    asof_client_factory, mock_http
):
    mock_http.queue(notok("Max rate limit reached, please use API Key for higher rate limit"))
    async with asof_client_factory(asof_etherscan, http_transport=mock_http.transport) as c:
        with pytest.raises(RateLimited) as caught:
            await c.balance_at(WALLET, TOKEN, "block:8000000")
    assert "Max rate limit reached" in str(caught.value)


@pytest.mark.parametrize("text", [
    "Invalid API Key",
    f"Invalid API Key ({FAKE_SECRET})",
    "Sorry, it looks like you are trying to access an API Pro endpoint. Contact us to "
    "upgrade to API Pro.",
])
async def test_a_refused_key_is_an_authentication_error_without_the_key(
    asof_client_factory, mock_http, text
):
    mock_http.queue(notok(text))
    async with asof_client_factory(asof_etherscan, http_transport=mock_http.transport,
                                   attempts=3) as c:
        with pytest.raises(AuthenticationError) as caught:
            await c.balance_at(WALLET, TOKEN, "block:8000000")
    assert len(mock_http.requests) == 1, "an authentication error is not retried"
    assert FAKE_SECRET not in str(caught.value)
    assert FAKE_SECRET not in repr(caught.value)
    assert text[:15] in str(caught.value)


async def test_another_refusal_keeps_the_provider_words(asof_client_factory, mock_http):
    text = ("Missing or unsupported chainid parameter (required for v2 api), please see "
            "https://api.etherscan.io/v2/chainlist for the list of supported chainids")
    mock_http.queue(notok(text))
    async with asof_client_factory(asof_etherscan, http_transport=mock_http.transport) as c:
        with pytest.raises(ProviderRequestError) as caught:
            await c.balance_at(WALLET, TOKEN, "block:8000000")
    assert "Missing or unsupported chainid" in str(caught.value)


async def test_no_transactions_found_is_an_empty_history(asof_client_factory, mock_http):
    mock_http.queue(ok("19130000"),
                    Reply(json={"status": "0", "message": "No transactions found",
                                "result": []}))
    query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(WALLET,),
                         end=datetime(2024, 2, 1, tzinfo=UTC))
    async with asof_client_factory(asof_etherscan, http_transport=mock_http.transport) as c:
        name, page = await c.fetch_page(query, None, provider="etherscan")
    assert (name, page.items, page.cursor) == ("etherscan", (), None)
    assert dict(mock_http.last.url.params)["action"] == "tokentx"


# -- histories against a model world ---------------------------------------------

BLOCK_SECONDS = 12
FIRST_BLOCK = 100


def world(moves: list[tuple[int, int, bool, int, bool]]) -> FakeEtherscan:
    """Blocks ``FIRST_BLOCK..`` 12 s apart from ``T0``; each move is (block offset,
    transaction index, incoming?, value, DAI rather than USDC?)."""
    blocks = {FIRST_BLOCK + n: int(T0.timestamp()) + n * BLOCK_SECONDS for n in range(60)}
    rows = []
    for offset, index, incoming, value, dai in moves:
        block = FIRST_BLOCK + offset
        sender, recipient = (OTHER, ME) if incoming else (ME, OTHER)
        rows.append(transfer(block, blocks[block], index, sender, recipient, value,
                             f"0x{block:08x}{index:04x}", DAI if dai else USDC))
    return FakeEtherscan(blocks, rows)


def solvent(moves: list[tuple[int, int, bool, int, bool]]
            ) -> list[tuple[int, int, bool, int, bool]]:
    """The moves made valid on a real chain, where no transaction takes a balance below
    zero: an outgoing move sends at most what the wallet holds, or becomes incoming."""
    held = {False: 0, True: 0}
    valid = []
    for group in sorted({(m[0], m[1]) for m in moves}):
        for offset, index, incoming, value, dai in (m for m in moves if m[:2] == group):
            if not incoming and held[dai] == 0:
                incoming = True
            if not incoming:
                value = 1 + value % held[dai]
            held[dai] += value if incoming else -value
            valid.append((offset, index, incoming, value, dai))
    return valid


async def read_history(factory, fake, start, end, page_size):
    query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(WALLET,),
                         start=start, end=end, page_size=page_size)
    records, cursor, pages = [], None, 0
    async with factory(asof_etherscan, http_transport=fake.transport) as client:
        while True:
            _, page = await client.fetch_page(query, cursor, provider="etherscan")
            records.extend(page.items)
            pages += 1
            assert pages < 200
            if page.cursor is None:
                return records
            cursor = page.cursor


def expected(fake: FakeEtherscan, start_block: int, last_block: int):
    """Independently: the opening balance of each token held before ``start_block``,
    then the balance after every transaction in the window that changed it."""
    opening = {token: balance_of(fake.rows, ME, token, start_block - 1)
               for token in (USDC, DAI)}
    out = [("open", token, raw) for token, raw in sorted(opening.items()) if raw]
    seen = set()
    for row in fake.rows:
        block = int(row["blockNumber"])
        key = (block, row["transactionIndex"], row["contractAddress"])
        if not start_block <= block <= last_block or key in seen:
            continue
        seen.add(key)
        net = sum((int(r["value"]) if r["to"] == ME else -int(r["value"]))
                  for r in fake.rows
                  if (int(r["blockNumber"]), r["transactionIndex"], r["contractAddress"])
                  == key)
        if net:
            after = sum((int(r["value"]) if r["to"] == ME else -int(r["value"]))
                        for r in fake.rows
                        if r["contractAddress"] == row["contractAddress"]
                        and (int(r["blockNumber"]), int(r["transactionIndex"]))
                        <= (block, int(row["transactionIndex"])))
            out.append((block, row["contractAddress"], after))
    return out


MOVES = st.lists(
    st.tuples(st.integers(0, 59), st.integers(0, 3), st.booleans(),
              st.integers(1, 10**30), st.booleans()),
    max_size=25,
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=MOVES, start=st.integers(0, 60), length=st.integers(1, 61),
       page_size=st.integers(1, 5))
async def test_history_matches_the_model_world(asof_client_factory, moves, start, length,
                                               page_size):
    fake = world(solvent(moves))
    begin = T0 + timedelta(seconds=start * BLOCK_SECONDS)
    end = begin + timedelta(seconds=length * BLOCK_SECONDS)
    records = await read_history(asof_client_factory, fake, begin, end, page_size)
    last = min(FIRST_BLOCK + 59, FIRST_BLOCK + start + length - 1)
    got = [("open" if r.block.transaction is None else r.block.number, r.token.address,
            r.balance.raw) for r in records]
    assert got == expected(fake, FIRST_BLOCK + start, last)
    for record in records:
        assert begin <= record.block.timestamp < end
        assert record.balance.decimals == 6


async def test_a_block_with_more_transfers_than_a_page_is_read_whole(asof_client_factory):
    moves = [(5, i, True, 10 + i, False) for i in range(7)] + [(9, 0, False, 3, False)]
    fake = world(moves)
    records = await read_history(asof_client_factory, fake, None,
                                 T0 + timedelta(hours=1), page_size=2)
    assert [(r.block.number, r.balance.raw) for r in records] == [
        (105, 10), (105, 21), (105, 33), (105, 46), (105, 60), (105, 75), (105, 91),
        (109, 88),
    ]
    tokentx = [dict(r.url.params) for r in fake.requests
               if dict(r.url.params)["action"] == "tokentx"]
    assert [(p["startblock"], p["endblock"], p["page"]) for p in tokentx][:5] == [
        ("0", "159", "1"), ("105", "105", "1"), ("105", "105", "2"), ("105", "105", "3"),
        ("105", "105", "4"),
    ]


async def test_a_page_capped_at_1000_is_taken_as_full(asof_client_factory):
    """A free key gets at most 1,000 rows whatever offset asks: such a page is not the
    end of the range."""
    moves = [(n // 40, n % 40, True, 1, False) for n in range(1200)]

    class Capped(FakeEtherscan):
        def answer(self, params):
            if params.get("action") == "tokentx":
                params = {**params, "offset": str(min(int(params["offset"]), 1000))}
            return super().answer(params)

    fake = world(moves)
    capped = Capped(fake.blocks, fake.rows)
    records = await read_history(asof_client_factory, capped, None,
                                 T0 + timedelta(hours=1), page_size=5000)
    assert len(records) == 1200
    assert records[-1].balance.raw == 1200


async def test_one_token_is_asked_with_contractaddress(asof_client_factory):
    fake = world([(1, 0, True, 5, False), (2, 0, True, 7, True)])
    query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(WALLET,),
                         end=T0 + timedelta(hours=1),
                         tokens=(Token(chain="ethereum", address=DAI, standard="erc20"),))
    async with asof_client_factory(asof_etherscan, http_transport=fake.transport) as c:
        _, page = await c.fetch_page(query, None, provider="etherscan")
    assert [(r.token.address, r.balance.raw) for r in page.items] == [(DAI, 7)]
    asked = [dict(r.url.params) for r in fake.requests][-1]
    assert asked["contractaddress"] == DAI


async def test_a_foreign_cursor_is_refused(asof_client_factory):
    fake = world([])
    query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(WALLET,),
                         end=T0 + timedelta(hours=1))
    async with asof_client_factory(asof_etherscan, http_transport=fake.transport) as c:
        with pytest.raises(ValueError, match="cursor"):
            await c.fetch_page(query, "not-a-cursor", provider="etherscan")
    assert MockHTTP  # the fake is the kit's MockHTTP with a model world behind it
