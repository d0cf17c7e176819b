"""The Pacifica plugin against cassettes of the balance history endpoint.

The cassettes in ``cassettes/pacifica/`` were built by hand from the provider's
documents (the older revision with ``offset`` in ``reference/pacifica-balance-history.md``,
the newer one with ``cursor`` / ``next_cursor`` / ``has_more`` in ``NOTES.md``); no
machine that builds asof reaches the provider. Each says so in its top comment.

Re-recording: GET requests to Pacifica are not signed, so anyone can record against
mainnet (or testnet, with ``network = "testnet"`` in the test's configuration) using any
account address; an API config key is optional (``PACIFICA_API_KEY``, sent as
``PF-API-KEY`` and filtered out of cassettes). Replace the account constants below with
an address that has the history a test needs, delete the cassette and run, for example::

    .venv/bin/pytest tests/plugins/pacifica/test_ledger.py -k cursor --record-mode=once

A recorded cassette holds that account's real events, so the expected values in the
test (counts, balances, times) must then be updated from it; the shape checks stay.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import stamina

import asof_pacifica
from asof.errors import (
    AuthenticationError,
    NotFoundError,
    ProviderRequestError,
    RateLimited,
    UpstreamError,
)
from asof.reconcile import reconcile
from asof.records import LedgerEntry
from asof.testing.client import FIXED_NOW
from asof_pacifica import ledger as ledger_module
from asof_pacifica.info import DOCUMENTED_TYPES, HISTORY_SOURCE, USDC

pytestmark = pytest.mark.anyio

ALL_TYPES = "pacifica:42trU9A5Hs7WcKnJ3mRtYpXvQz8LbEdGfN2aPuVwCx6M"
CURSORED = "pacifica:7Ymq3HxWpTc9RkFvB2sNaJdLgE5uZoQ4tKhVwC8nPb6A"
UNKNOWN = "pacifica:5uNkWq8rTzY3vBmC9pXhJsLd2fGa7eRcQ6tVwK4nMbHi"
EMPTY = "pacifica:Dq3mVx8KpR2tWn5YbJhCfL9sGzA4eTu7NcQoP6vBwXkE"
FAILING = "pacifica:E7rTq2WmX9pKvN4bYcJ8hLsD3fGzA5uRtQ6nVwB2xCkP"
RANGED = "pacifica:F9kLm2QwR7tYb4XcVn8JhP3sDfGz5aEuTq6WvN2xBcKr"

T0 = datetime(2024, 5, 20, 10, 13, 20, tzinfo=UTC)  # created_at 1716200000000


def client(factory: Any, *, page_size: int | None = None, attempts: int = 1) -> Any:
    text = f"[providers.pacifica]\npage_size = {page_size}\n" if page_size else ""
    return factory(asof_pacifica, config_text=text, attempts=attempts)


async def read(factory: Any, account: str, *, page_size: int | None = None,
               **query: Any) -> list[LedgerEntry]:
    async with client(factory, page_size=page_size) as c:
        return [entry async for entry in c.ledger(account, **query)]


# -- paging ------------------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.default_cassette("offset_all_types.yaml")
async def test_offset_paging_reads_to_the_end(asof_client_factory: Any, vcr: Any) -> None:
    entries = await read(asof_client_factory, ALL_TYPES, page_size=4)
    assert vcr.play_count == 3  # pages of 4, 4 and 3: the short page ends the listing
    assert vcr.all_played
    assert len(entries) == 11
    times = [e.time for e in entries]
    assert times == sorted(times, reverse=True)  # the provider's order: newest first
    newest, oldest = entries[0], entries[-1]
    assert newest.time == T0 + timedelta(seconds=25200)
    assert (newest.event_type, newest.amount, newest.balance) == (
        "withdraw", Decimal("-99.837655"), Decimal("1000.000000"))
    assert (oldest.event_type, oldest.amount, oldest.pending_balance) == (
        "deposit", Decimal("1000.000000"), Decimal("250.000000"))
    assert all(type(e.amount) is Decimal and type(e.balance) is Decimal for e in entries)
    assert str(newest.account) == ALL_TYPES
    assert newest.provenance.provider == "pacifica"
    assert newest.provenance.source == HISTORY_SOURCE
    assert newest.provenance.fetched_at == FIXED_NOW
    assert reconcile(entries) == []


@pytest.mark.vcr
@pytest.mark.default_cassette("offset_all_types.yaml")
async def test_events_in_one_millisecond_keep_their_order_across_pages(
    asof_client_factory: Any,
) -> None:
    entries = await read(asof_client_factory, ALL_TYPES, page_size=4)
    tied = [e for e in entries if e.time == T0 + timedelta(seconds=120)]
    # the later trade ends page 2, the earlier one starts page 3
    assert [(e.amount, e.sequence) for e in tied] == [
        (Decimal("12.300000"), 0), (Decimal("-0.450000"), -1)]
    assert all(e.sequence == 0 for e in entries if e not in tied)


@pytest.mark.vcr
@pytest.mark.default_cassette("offset_all_types.yaml")
async def test_every_documented_event_type(asof_client_factory: Any) -> None:
    entries = await read(asof_client_factory, ALL_TYPES, page_size=4)
    assert {e.event_type for e in entries} == set(DOCUMENTED_TYPES)
    assert all(e.known_type for e in entries)


@pytest.mark.vcr
@pytest.mark.default_cassette("cursor_pages.yaml")
async def test_cursor_paging_follows_next_cursor_until_has_more_is_false(
    asof_client_factory: Any, vcr: Any
) -> None:
    entries = await read(asof_client_factory, CURSORED, page_size=4)
    # the second page is full, but has_more is false: no third request
    assert vcr.play_count == 2
    assert vcr.all_played
    assert len(entries) == 8
    assert entries[0].event_type == "withdraw"
    assert entries[-1].event_type == "deposit"
    assert reconcile(entries) == []


# -- what the answer holds -------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.default_cassette("unknown_type.yaml")
async def test_an_unknown_type_is_kept_and_reported(
    asof_client_factory: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_module, "_WARNED", set())
    with caplog.at_level(logging.WARNING, logger="asof.provider"):
        entries = await read(asof_client_factory, UNKNOWN)
    assert [(e.event_type, e.known_type) for e in entries] == [
        ("trade", True), ("rebate", False), ("deposit", True)]
    assert entries[1].amount == Decimal("0.750000")
    warnings = [r for r in caplog.records if "rebate" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert reconcile(entries) == []


@pytest.mark.vcr
@pytest.mark.default_cassette("empty_account.yaml")
async def test_an_empty_account_has_an_empty_ledger(asof_client_factory: Any, vcr: Any) -> None:
    assert await read(asof_client_factory, EMPTY) == []
    assert vcr.play_count == 1


@pytest.mark.vcr
@pytest.mark.default_cassette("empty_account.yaml")
async def test_an_empty_account_has_a_zero_balance(asof_client_factory: Any) -> None:
    async with client(asof_client_factory) as c:
        answer = await c.balance_at(EMPTY, "USDC", "2025-01-01")
    assert answer.amount.raw == 0
    assert answer.amount.decimals == 6
    assert answer.as_of is None
    assert answer.derived


# -- errors ------------------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.default_cassette("success_false.yaml")
async def test_success_false_is_a_typed_error_with_the_providers_message(
    asof_client_factory: Any,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await read(asof_client_factory, FAILING)
    error = caught.value
    assert error.provider == "pacifica"
    assert error.provider_message == f"Account not found: {FAILING.split(':')[1]}"
    assert error.details == {"code": 1}
    assert "success: false" in str(error)
    assert "Account not found" in str(error)


def _status(status: int, error_class: type[Exception], message: str) -> Any:
    return pytest.param(status, error_class, message,
                        marks=pytest.mark.default_cassette(f"status_{status}.yaml"))


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("status", "error_class", "message"),
    [
        _status(400, ProviderRequestError, "Invalid account address"),
        _status(401, AuthenticationError, "Invalid API config key"),
        _status(429, RateLimited, "Rate limit exceeded"),
        _status(500, UpstreamError, "Internal server error"),
    ],
)
async def test_error_statuses(
    asof_client_factory: Any, vcr: Any, status: int, error_class: type[Exception], message: str
) -> None:
    with pytest.raises(error_class) as caught:
        await read(asof_client_factory, FAILING)
    assert vcr.play_count == 1  # attempts = 1 here: no retry
    error = caught.value
    assert getattr(error, "status", None) == status
    assert getattr(error, "provider", None) == "pacifica"
    assert message in str(error)
    if status == 429:
        assert getattr(error, "retry_after", None) == 2.0


@pytest.mark.vcr
@pytest.mark.default_cassette("status_429_then_ok.yaml")
async def test_429_is_retried_after_the_wait_asked_for(
    asof_client_factory: Any, vcr: Any
) -> None:
    stamina.set_testing(True, attempts=2)  # no real sleeping in tests
    try:
        async with client(asof_client_factory, attempts=2) as c:
            entries = [e async for e in c.ledger(FAILING)]
    finally:
        stamina.set_testing(False)
    assert vcr.play_count == 2
    assert [(e.event_type, e.balance) for e in entries] == [("deposit", Decimal("42.000000"))]


# -- ranges: no time filter upstream, so paging stops as soon as it passes the start ------


HOUR = timedelta(hours=1)


@pytest.mark.vcr
@pytest.mark.default_cassette("range_pages.yaml")
async def test_a_range_stops_at_the_page_that_passes_its_start(
    asof_client_factory: Any, vcr: Any
) -> None:
    entries = await read(asof_client_factory, RANGED, page_size=3,
                         start=T0 + 4 * HOUR, end=T0 + 7 * HOUR)
    assert vcr.play_count == 2  # the third page is never fetched
    assert not vcr.all_played
    assert [e.time for e in entries] == [T0 + 6 * HOUR, T0 + 5 * HOUR, T0 + 4 * HOUR]
    assert [e.event_type for e in entries] == ["withdraw", "trade", "funding"]


@pytest.mark.vcr
@pytest.mark.default_cassette("range_pages.yaml")
async def test_a_start_equal_to_a_pages_oldest_event_reads_one_page_more(
    asof_client_factory: Any, vcr: Any
) -> None:
    # page 2 ends exactly at the start: an older page may still hold events at that time
    entries = await read(asof_client_factory, RANGED, page_size=3, start=T0 + 3 * HOUR)
    assert vcr.play_count == 3
    assert len(entries) == 6
    assert entries[-1].time == T0 + 3 * HOUR


@pytest.mark.vcr
@pytest.mark.default_cassette("range_pages.yaml")
async def test_event_types_filter(asof_client_factory: Any) -> None:
    entries = await read(asof_client_factory, RANGED, page_size=3,
                         event_types=["funding", "withdraw"])
    assert [e.event_type for e in entries] == ["funding", "withdraw", "funding", "funding"]


# -- balance_at, derived from the ledger --------------------------------------------------


@pytest.mark.vcr
@pytest.mark.default_cassette("range_pages.yaml")
@pytest.mark.parametrize(
    ("at", "requests", "balance", "as_of"),
    [
        (T0 + 7 * HOUR + timedelta(minutes=30), 1, "251.900000", T0 + 7 * HOUR),
        (T0 + 4 * HOUR, 2, "303.900000", T0 + 4 * HOUR),  # an event exactly at the moment
        (T0 + 30 * HOUR, 1, "251.950000", T0 + 8 * HOUR),
    ],
)
async def test_balance_at_is_the_balance_after_the_last_event_at_or_before(
    asof_client_factory: Any, vcr: Any,
    at: datetime, requests: int, balance: str, as_of: datetime,
) -> None:
    async with client(asof_client_factory, page_size=3) as c:
        answer = await c.balance_at(RANGED, "USDC", at)
    assert vcr.play_count == requests
    assert answer.token == USDC
    assert answer.amount.value == Decimal(balance)
    assert answer.amount.raw == int(Decimal(balance).scaleb(6))
    assert answer.amount.decimals == 6
    assert answer.as_of is not None
    assert answer.as_of.timestamp == as_of
    assert answer.derived
    assert answer.provenance.provider == "pacifica"
    assert answer.provenance.source == HISTORY_SOURCE


@pytest.mark.vcr
@pytest.mark.default_cassette("range_pages.yaml")
async def test_balance_before_the_first_event_is_zero(asof_client_factory: Any, vcr: Any) -> None:
    async with client(asof_client_factory, page_size=3) as c:
        answer = await c.balance_at(RANGED, "USDC", T0 - timedelta(seconds=1))
    assert vcr.play_count == 4  # the whole ledger, to its empty last page, had to be read
    assert answer.amount.raw == 0
    assert answer.as_of is None
    assert answer.derived


@pytest.mark.vcr
@pytest.mark.default_cassette("offset_all_types.yaml")
async def test_balance_at_a_millisecond_with_two_events_takes_the_later(
    asof_client_factory: Any,
) -> None:
    async with client(asof_client_factory, page_size=4) as c:
        answer = await c.balance_at(ALL_TYPES, "USDC", T0 + timedelta(seconds=120))
    assert answer.amount.value == Decimal("1261.850000")
