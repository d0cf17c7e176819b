"""Transfers to balance changes, page cuts, and time-to-block windows, against naive
models: balances recomputed from scratch after every transaction, and block sets
filtered one by one by timestamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.blocks import (
    BlockWindow,
    block_window,
    ceil_seconds,
    floor_seconds,
    last_block_at_or_before,
)
from asof.errors import InputError, InvalidPoint, ResponseError
from asof.records import BalanceChange, BlockRef, Provenance, Token, Wallet
from asof.transfers import RunningBalances, Transfer, cut_at_block

ME = "0x" + "11" * 20
OTHERS = ["0x" + "22" * 20, "0x" + "33" * 20, "0x" + "00" * 20]
TOKENS = [Token(chain="ethereum", address="0x" + c * 40, standard="erc20", decimals=6)
          for c in "ab"]
WALLET = Wallet(chain="ethereum", address=ME)
PROV = Provenance(provider="test")
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@st.composite
def transfer_lists(draw: st.DrawFn) -> list[Transfer]:
    count = draw(st.integers(0, 30))
    out: list[Transfer] = []
    log_index: dict[int, int] = {}
    for _ in range(count):
        block = draw(st.integers(1, 8))
        index = draw(st.integers(0, 2))
        parties = [ME, *OTHERS]
        sender = draw(st.sampled_from(parties))
        recipient = draw(st.sampled_from(parties))
        log_index[block] = log_index.get(block, -1) + 1
        out.append(Transfer(
            token=draw(st.sampled_from(TOKENS)), block=block, index=index,
            log_index=log_index[block], transaction=f"0x{block:02x}{index:02x}",
            sender=sender, recipient=recipient, value=draw(st.integers(0, 10**6)),
            timestamp=T0 + timedelta(seconds=12 * block),
        ))
    return out


OPENING = 10**30


def naive(transfers: list[Transfer]) -> list[tuple[str, int, int, int]]:
    """(token, block, index, balance after) per transaction that changed a balance,
    each balance recomputed from all transfers up to that transaction."""
    keys = sorted({(t.block, t.index, t.token.address) for t in transfers},
                  key=lambda k: (k[0], k[1], min(t.log_index for t in transfers
                                                 if (t.block, t.index, t.token.address) == k)))
    out = []
    for block, index, token in keys:
        def total(upto: tuple[int, int], token: str = token) -> int:
            value = OPENING
            for t in transfers:
                if t.token.address == token and (t.block, t.index) <= upto:
                    value += (t.value if t.recipient == ME else 0)
                    value -= (t.value if t.sender == ME else 0)
            return value
        before = total((block, index - 1))
        after = total((block, index))
        if after != before:
            out.append((token, block, index, after))
    return out


def summary(records: list[BalanceChange]) -> list[tuple[str, int, int, int]]:
    return [(r.token.address, r.block.number or 0, r.block.index or 0, r.balance.raw)
            for r in records]


def fresh() -> RunningBalances:
    running = RunningBalances(WALLET, "test")
    running.opening([(t, OPENING) for t in TOKENS], before=0, start=T0, provenance=PROV)
    return running


@given(transfer_lists())
@settings(max_examples=150, deadline=None)
def test_changes_match_the_naive_model(transfers: list[Transfer]) -> None:
    assert summary(fresh().apply(transfers, provenance=PROV)) == naive(transfers)


@given(transfer_lists(), st.integers(0, 9))
@settings(max_examples=150, deadline=None)
def test_state_through_a_cursor_continues_exactly(transfers: list[Transfer], cut: int) -> None:
    whole = fresh().apply(transfers, provenance=PROV)
    first = fresh()
    part1 = first.apply([t for t in transfers if t.block < cut], provenance=PROV)
    state = first.state()
    assert all(isinstance(v, str) for v in state.values())
    second = RunningBalances.from_state(WALLET, "test", state)
    part2 = second.apply([t for t in transfers if t.block >= cut], provenance=PROV)
    assert part1 + part2 == whole


@given(transfer_lists(), st.integers(1, 6))
@settings(max_examples=150, deadline=None)
def test_pages_never_split_a_block(transfers: list[Transfer], size: int) -> None:
    records = fresh().apply(transfers, provenance=PROV)
    pages = []
    rest = records
    while rest:
        page, rest = cut_at_block(rest, size)
        assert page, "an empty page before the end"
        if rest:
            assert page[-1].block.number != rest[0].block.number
            blocks_in_page = {r.block.number for r in page}
            assert len(page) <= size or len(blocks_in_page) == 1
        pages.append(page)
    assert [r for p in pages for r in p] == records


def test_opening_records_only_for_held_tokens() -> None:
    running = RunningBalances(WALLET, "test")
    start = T0 + timedelta(hours=1)
    records = running.opening([(TOKENS[0], 5), (TOKENS[1], 0)], before=41, start=start,
                              provenance=PROV)
    assert len(records) == 1
    assert records[0].balance.raw == 5
    assert records[0].block == BlockRef(number=41, timestamp=start)
    assert running.state() == {TOKENS[0].address: "5", TOKENS[1].address: "0"}


def test_a_balance_below_zero_is_a_response_error() -> None:
    running = RunningBalances(WALLET, "src")
    spend = Transfer(token=TOKENS[0], block=3, index=0, log_index=0, transaction="0xabc",
                     sender=ME, recipient=OTHERS[0], value=1)
    with pytest.raises(ResponseError, match="below zero in transaction 0xabc"):
        running.apply([spend], provenance=PROV)


@pytest.mark.parametrize("state", [[], {"a": 1}, {"a": "-1"}, {"a": "1.5"}, "x"])
def test_bad_cursor_state_is_refused(state: object) -> None:
    with pytest.raises(InputError, match="cursor"):
        RunningBalances.from_state(WALLET, "test", state)


def test_transfer_value_must_be_a_non_negative_integer() -> None:
    with pytest.raises(InputError, match="value"):
        Transfer(token=TOKENS[0], block=1, index=0, log_index=0, transaction="0x1",
                 sender=ME, recipient=ME, value=-1)


# --------------------------------------------------------------------------- blocks

timestamps = st.lists(st.integers(0, 4), min_size=1, max_size=40).map(
    lambda steps: [1_700_000_000 + sum(steps[: i + 1]) for i in range(len(steps))]
)


def lookup(stamps: list[int], calls: list[int]):  # type: ignore[no-untyped-def]
    async def timestamp_of(n: int) -> int:
        calls.append(n)
        return stamps[n]
    return timestamp_of


@given(timestamps, st.integers(1_699_999_990, 1_700_000_200))
@settings(max_examples=300, deadline=None)
def test_last_block_at_or_before_matches_a_scan(stamps: list[int], second: int) -> None:
    expected = max((n for n, ts in enumerate(stamps) if ts <= second), default=None)
    calls: list[int] = []
    found = anyio.run(lambda: last_block_at_or_before(
        second, lookup(stamps, calls), latest=len(stamps) - 1))
    assert found == expected
    assert len(calls) <= (len(stamps)).bit_length() + 2


@given(timestamps, st.integers(-20, 200), st.integers(0, 200), st.integers(0, 999_999),
       st.booleans(), st.booleans())
@settings(max_examples=300, deadline=None)
def test_block_window_matches_a_filter(
    stamps: list[int], offset: int, length: int, micros: int, open_start: bool,
    open_end: bool,
) -> None:
    start = datetime.fromtimestamp(1_700_000_000 + offset, UTC) + timedelta(microseconds=micros)
    end = start + timedelta(seconds=length, microseconds=micros // 3)
    latest = len(stamps) - 1

    async def last_at(second: int) -> int | None:
        return await last_block_at_or_before(second, lookup(stamps, []), latest=latest)

    window = anyio.run(lambda: block_window(None if open_start else start,
                                            None if open_end else end, last_at, latest=latest))
    inside = [n for n, ts in enumerate(stamps)
              if (open_start or datetime.fromtimestamp(ts, UTC) >= start)
              and (open_end or datetime.fromtimestamp(ts, UTC) < end)]
    assert list(range(window.first, window.last + 1)) == inside
    before = [n for n, ts in enumerate(stamps)
              if not open_start and datetime.fromtimestamp(ts, UTC) < start]
    assert window.before == (max(before) if before else -1)
    assert window.empty == (not inside)


def test_window_parts() -> None:
    assert BlockWindow(before=4, first=5, last=4).empty
    assert not BlockWindow(before=-1, first=0, last=0).empty


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC)))
def test_second_rounding(moment: datetime) -> None:
    whole = int(moment.replace(microsecond=0).timestamp())
    assert floor_seconds(moment) == whole
    assert ceil_seconds(moment) == whole + (1 if moment.microsecond else 0)


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidPoint):
        ceil_seconds(datetime(2025, 1, 1))
    with pytest.raises(InvalidPoint):
        floor_seconds(datetime(2025, 1, 1))
