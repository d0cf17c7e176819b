"""The Pacifica plugin's requests, answers and edge cases, with canned replies.

Replies follow the provider's documented answer shape (``MockHTTP``, no cassette): there
is nothing to re-record here. The cassette-backed tests are in ``test_ledger.py``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import asof_pacifica
from asof.client import AsyncClient
from asof.context import ProviderContext
from asof.errors import (
    InputError,
    ProviderRequestError,
    RateLimited,
    ResponseError,
)
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import Capability, Point, Token, Wallet
from asof.testing.client import FAKE_SECRET
from asof.testing.mock import MockHTTP, Reply
from asof_pacifica import cursor
from asof_pacifica import ledger as ledger_module
from asof_pacifica.balance import usdc_amount
from asof_pacifica.info import LISTED_WITHOUT_TRADES, USDC

pytestmark = pytest.mark.anyio

PATH = "/api/v1/account/balance/history"
ADDRESS = "42trU9A5Hs7WcKnJ3mRtYpXvQz8LbEdGfN2aPuVwCx6M"
OTHER = "7Ymq3HxWpTc9RkFvB2sNaJdLgE5uZoQ4tKhVwC8nPb6A"
ACCOUNT = f"pacifica:{ADDRESS}"
T0_MS = 1716200000000
T0 = datetime(2024, 5, 20, 10, 13, 20, tzinfo=UTC)


def event(seconds: int, kind: str = "trade", amount: str = "1.000000",
          balance: str = "1.000000", pending: str | None = "0.000000") -> dict[str, Any]:
    return {"amount": amount, "balance": balance, "pending_balance": pending,
            "event_type": kind, "created_at": T0_MS + seconds * 1000}


def ok(*events: dict[str, Any], **more: Any) -> Reply:
    return Reply(json={"success": True, "data": list(events), **more})


def make(factory: Any, mock: MockHTTP, config: str = "") -> AsyncClient:
    text = f"[providers.pacifica]\n{config}\n" if config else ""
    client: AsyncClient = factory(asof_pacifica, http_transport=mock.transport, config_text=text)
    return client


async def entries_of(client: AsyncClient, account: str = ACCOUNT, **query: Any) -> list[Any]:
    async with client:
        return [entry async for entry in client.ledger(account, **query)]


# -- requests ------------------------------------------------------------------------------


async def test_mainnet_by_default_with_the_documented_parameters(
    asof_client_factory: Any, mock_http: MockHTTP
) -> None:
    mock_http.get(PATH, ok(event(0)))
    await entries_of(make(asof_client_factory, mock_http))
    sent = mock_http.last
    assert sent.url.host == "api.pacifica.fi"
    assert sent.url.path == PATH
    assert dict(sent.url.params) == {"account": ADDRESS, "limit": "100", "include_trades": "true"}
    assert sent.headers["PF-API-KEY"] == FAKE_SECRET
    assert FAKE_SECRET not in str(sent.url)


async def test_testnet_is_chosen_by_configuration(
    asof_client_factory: Any, mock_http: MockHTTP
) -> None:
    mock_http.get(PATH, ok())
    await entries_of(make(asof_client_factory, mock_http, 'network = "testnet"'))
    assert mock_http.last.url.host == "test-api.pacifica.fi"
    assert mock_http.last.url.path == PATH


async def test_the_api_key_is_optional(tmp_path: Path, mock_http: MockHTTP) -> None:
    config = tmp_path / "asof.toml"
    config.write_text("[asof]\nattempts = 1\n", encoding="utf-8")
    mock_http.get(PATH, ok(event(0)))
    client = AsyncClient(config, http_transport=mock_http.transport,
                         plugins={"pacifica": asof_pacifica}, env={}, archive=False)
    assert [s.provider for s in client.route("pacifica", "account_ledger").usable] == ["pacifica"]
    assert len(await entries_of(client)) == 1
    assert "PF-API-KEY" not in mock_http.last.headers


async def test_page_size_option_and_query_hint_set_the_limit(
    asof_client_factory: Any, mock_http: MockHTTP
) -> None:
    mock_http.get(PATH, ok())
    client = make(asof_client_factory, mock_http, "page_size = 25")
    async with client:
        await client.fetch_page(HistoryQuery(capability=Capability.ACCOUNT_LEDGER,
                                             wallets=(Wallet.parse(ACCOUNT),)))
        assert mock_http.last.url.params["limit"] == "25"
        await client.fetch_page(HistoryQuery(capability=Capability.ACCOUNT_LEDGER,
                                             wallets=(Wallet.parse(ACCOUNT),), page_size=7))
        assert mock_http.last.url.params["limit"] == "7"


@pytest.mark.parametrize(
    ("config", "types", "asked"),
    [
        ("", (), True),
        ("include_trades = false", (), False),
        ("", ("deposit", "withdraw"), False),  # listed without trades anyway: fewer pages
        ("include_trades = false", ("funding",), True),  # asked for: trades needed
        ("", ("something_new",), True),
    ],
)
async def test_include_trades(
    asof_client_factory: Any, mock_http: MockHTTP, config: str, types: tuple[str, ...],
    asked: bool,
) -> None:
    mock_http.get(PATH, ok(event(0, "deposit")))
    found = await entries_of(make(asof_client_factory, mock_http, config), event_types=types)
    assert ("include_trades" in mock_http.last.url.params) is asked
    if asked:
        assert mock_http.last.url.params["include_trades"] == "true"
    caveats = found[0].provenance.caveats if found else ()
    assert bool(caveats) is (not asked and bool(found))


def test_types_listed_without_trades_are_documented_ones() -> None:
    from asof_pacifica.info import DOCUMENTED_TYPES

    assert set(DOCUMENTED_TYPES) >= LISTED_WITHOUT_TRADES


# -- paging edge cases -------------------------------------------------------------------


async def test_offset_paging_sends_the_offset_read_so_far(
    asof_client_factory: Any, mock_http: MockHTTP
) -> None:
    mock_http.get(PATH, ok(event(30), event(20)), ok(event(10)))
    found = await entries_of(make(asof_client_factory, mock_http, "page_size = 2"))
    assert len(found) == 3
    assert [r.url.params.get("offset") for r in mock_http.requests] == [None, "2"]


async def test_an_entry_shifted_onto_the_next_page_is_not_read_twice(
    asof_client_factory: Any, mock_http: MockHTTP
) -> None:
    # a new event arrives between the two requests: the second page starts with the last
    # entry of the first one again
    mock_http.get(PATH, ok(event(30), event(20)), ok(event(30), event(10)), ok())
    found = await entries_of(make(asof_client_factory, mock_http, "page_size = 2"))
    assert [e.time for e in found] == [T0 + timedelta(seconds=s) for s in (30, 20, 10)]


async def test_cursor_paging_sends_the_providers_cursor(
    asof_client_factory: Any, mock_http: MockHTTP
) -> None:
    mock_http.get(PATH, ok(event(30), next_cursor="1115hVka", has_more=True),
                  ok(event(20), next_cursor=None, has_more=False))
    found = await entries_of(make(asof_client_factory, mock_http, "page_size = 1"))
    assert len(found) == 2
    assert mock_http.requests[1].url.params["cursor"] == "1115hVka"
    assert "offset" not in mock_http.requests[1].url.params


async def test_several_accounts_are_read_one_after_the_other(
    asof_client_factory: Any, mock_http: MockHTTP
) -> None:
    mock_http.get(PATH, ok(event(30)), ok(event(20)))
    query = HistoryQuery(capability=Capability.ACCOUNT_LEDGER,
                         wallets=(Wallet.parse(ACCOUNT), Wallet(chain="pacifica",
                                                                 address=OTHER)))
    async with make(asof_client_factory, mock_http) as client:
        pages = [page async for _, page in client.pages(query)]
    assert [r.url.params["account"] for r in mock_http.requests] == [ADDRESS, OTHER]
    assert [str(p.items[0].account) for p in pages] == [ACCOUNT, f"pacifica:{OTHER}"]
    assert pages[-1].cursor is None


def test_the_cursor_is_opaque_and_checked() -> None:
    state = cursor.State(wallet=1, token="11114Lz77", last_ms=T0_MS, tie=2)
    assert cursor.decode(cursor.encode(state)) == state
    assert cursor.decode(cursor.encode(cursor.State(offset=300))) == cursor.State(offset=300)
    for foreign in ("", "offset=3", "pf1.!!!", "pf1." + "e30", cursor.encode(state)[:-3]):
        with pytest.raises(InputError, match="not a cursor"):
            cursor.decode(foreign)


# -- answers ------------------------------------------------------------------------------


async def test_an_unknown_type_warns_once_per_type(
    asof_client_factory: Any, mock_http: MockHTTP, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ledger_module, "_WARNED", set())
    mock_http.get(PATH, ok(event(20, "bonus"), event(10, "bonus"), event(5, "other_new")))
    with caplog.at_level(logging.WARNING, logger="asof.provider"):
        found = await entries_of(make(asof_client_factory, mock_http))
        found += await entries_of(make(asof_client_factory, mock_http))
    assert len(found) == 6
    assert not any(e.known_type for e in found)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 2
    assert any("'bonus'" in m for m in messages)
    assert any("'other_new'" in m for m in messages)


async def test_a_missing_pending_balance_is_none(
    asof_client_factory: Any, mock_http: MockHTTP
) -> None:
    mock_http.get(PATH, ok(event(0, pending=None)))
    (entry,) = await entries_of(make(asof_client_factory, mock_http))
    assert entry.pending_balance is None


async def test_null_data_is_an_empty_page(asof_client_factory: Any, mock_http: MockHTTP) -> None:
    mock_http.get(PATH, Reply(json={"success": True, "data": None}))
    assert await entries_of(make(asof_client_factory, mock_http)) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"success": True, "data": {"amount": "1"}}, "data"),
        ({"success": True, "data": [event(0) | {"amount": "1.2.3"}]}, "data[0].amount"),
        ({"success": True, "data": [event(0) | {"created_at": "yesterday"}]},
         "data[0].created_at"),
        ({"success": True, "data": [{k: v for k, v in event(0).items() if k != "balance"}]},
         "data[0].balance"),
        ({"success": True, "data": [event(0) | {"event_type": 7}]}, "data[0].event_type"),
        ({"success": True, "data": [event(0), event(10)]}, "data[1].created_at"),
        ({"success": True, "data": [event(0)], "has_more": True}, "next_cursor"),
        ({"success": True, "data": [event(0)], "has_more": "yes", "next_cursor": "x"},
         "has_more"),
    ],
)
async def test_an_answer_off_the_documented_shape_is_a_response_error(
    asof_client_factory: Any, mock_http: MockHTTP, body: Any, field: str
) -> None:
    mock_http.get(PATH, Reply(json=body))
    with pytest.raises(ResponseError) as caught:
        await entries_of(make(asof_client_factory, mock_http))
    assert caught.value.field == field
    assert caught.value.provider == "pacifica"


@pytest.mark.parametrize(
    ("body", "error_class", "words"),
    [
        ({"success": False, "data": None, "error": "Invalid limit", "code": None},
         ProviderRequestError, "Invalid limit"),
        ({"success": False, "error": "slow down", "code": 429}, RateLimited, "slow down"),
        ({"success": False}, ProviderRequestError, "without a message"),
    ],
)
async def test_success_false_in_a_success_status(
    asof_client_factory: Any, mock_http: MockHTTP, body: Any, error_class: type[Exception],
    words: str,
) -> None:
    mock_http.get(PATH, Reply(json=body))
    with pytest.raises(error_class) as caught:
        await entries_of(make(asof_client_factory, mock_http))
    assert words in str(caught.value)
    assert "success: false" in str(caught.value)


# -- balance_at -------------------------------------------------------------------------


def test_usdc_amounts_are_exact() -> None:
    assert usdc_amount(Decimal("1200.000000")).raw == 1_200_000_000
    assert usdc_amount(Decimal("-0.000001")).raw == -1
    assert usdc_amount(Decimal("5E+2")).raw == 500_000_000
    assert usdc_amount(Decimal("123456789012345678901234567890.5")).raw == (
        123456789012345678901234567890_500000)
    with pytest.raises(ResponseError, match="more than 6 decimal places"):
        usdc_amount(Decimal("0.0000001"))


async def test_a_balance_finer_than_usdc_is_refused(
    asof_client_factory: Any, mock_http: MockHTTP
) -> None:
    mock_http.get(PATH, ok(event(0, balance="1.0000001")))
    async with make(asof_client_factory, mock_http) as client:
        with pytest.raises(ResponseError, match="more than 6 decimal places"):
            await client.balance_at(ACCOUNT, "USDC", T0 + timedelta(hours=1))


async def test_balance_at_refuses_a_slot_or_another_token_before_any_request(
    asof_client_factory: Any, mock_http: MockHTTP
) -> None:
    async with make(asof_client_factory, mock_http) as client:
        with pytest.raises(InputError, match="placed in time only"):
            await client.balance_at(ACCOUNT, "USDC", "slot:313000000")
        other = Token(chain="pacifica", address=OTHER)
        with pytest.raises(InputError, match="USDC"):
            await client.balance_at(ACCOUNT, other, T0)
    assert mock_http.requests == []


class _NoHTTP:
    async def get(self, path: str, *, params: Any = None) -> Any:
        raise AssertionError("no request expected")

    async def post(self, path: str, *, json: Any = None, params: Any = None) -> Any:
        raise AssertionError("no request expected")


async def test_hooks_decline_other_chains_and_capabilities() -> None:
    ctx = ProviderContext(provider="pacifica", http=_NoHTTP())
    solana = Wallet(chain="solana", address=ADDRESS)
    history = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(solana,))
    assert await asof_pacifica.history_page(ctx=ctx, query=history, cursor=None) is None
    other_chain = HistoryQuery(capability=Capability.ACCOUNT_LEDGER, wallets=(solana,))
    assert await asof_pacifica.history_page(ctx=ctx, query=other_chain, cursor=None) is None
    query = BalanceQuery(wallet=solana,
                         token=Token(chain="solana", address=USDC.address),
                         point=Point(time=T0))
    assert await asof_pacifica.balance_at(ctx=ctx, query=query) is None
