"""The read path sums integers from indexed columns: each token account's last change
(:meth:`~asof.archive.backend.StorageReader.latest`) and the series seeks
(:meth:`~asof.archive.backend.StorageReader.rows_near`) come back reduced to what an
answer needs, yet every answer is what the stored records give by
:func:`asof.derive.balance_from_changes` (the independent truth here), on every
backend; and what a connection keeps between reads (proving spans, whether any answer
is stored) never outlives a change by another connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asof.archive import Archive
from asof.archive.backend import Last
from asof.archive.coverage import to_us
from asof.derive import balance_from_changes, change_order
from asof.records import BalanceChange, BlockRef, Point

from .helpers import USDC, WALLET, answer, at, balance_query, change, clock, covered

_ACCOUNTS = [f"TokenAccount{n}1111111111111111111111111111111"[:43] for n in range(4)]
_BASE = at(1)

#: (hour offset, account number, index in its block, balance): changes over ten days.
_changes = st.lists(st.tuples(st.integers(0, 240), st.integers(0, 3), st.integers(0, 3),
                              st.integers(0, 10**30)), min_size=0, max_size=12)


def _made(specs: list[tuple[int, int, int, int]]) -> list[BalanceChange]:
    made: dict[tuple[int, int, int], BalanceChange] = {}
    for hour, account, index, raw in specs:
        when = _BASE + timedelta(hours=hour)
        made[(hour, account, index)] = change(when, raw, account=_ACCOUNTS[account],
                                              index=index)
    return list(made.values())


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=_changes, hours=st.lists(st.integers(-5, 250), min_size=1, max_size=6))
def test_a_look_up_is_the_sum_balance_from_changes_gives(
        archive: Archive, specs: list[tuple[int, int, int, int]], hours: list[int]) -> None:
    archive.clear()
    stored = _made(specs)
    archive.add([covered(None, at(20)), *stored])
    for hour in hours:
        moment = _BASE + timedelta(hours=hour)
        found = archive.lookup_balance(balance_query(moment))
        amount, as_of = balance_from_changes(stored, Point(time=moment),
                                             decimals=USDC.decimals)
        assert found is not None
        assert found.amount == amount
        assert found.as_of == as_of
        assert found.provenance.derived
        assert found.provenance.archived
        assert found.provenance.provider == "hist"
        # at a slot: the same rule on the block axis
        slot = int((moment - datetime(2025, 1, 1, tzinfo=UTC)).total_seconds())
        by_slot = archive.lookup_balance(balance_query(slot))
        expected = balance_from_changes(stored, Point(block=slot), decimals=USDC.decimals)
        if by_slot is not None:
            assert (by_slot.amount, by_slot.as_of) == expected


def test_many_token_accounts_are_read_in_several_statements(tmp_path: Path) -> None:
    accounts = [f"ManyAccounts{n:04d}" for n in range(230)]  # more than one statement's
    stored = [change(at(2, n % 24), 1000 + n, account=a, index=n % 5)
              for n, a in enumerate(accounts)]
    with Archive(tmp_path / "a.sqlite", clock=clock()) as archive:
        archive.add([covered(None, at(20)), *stored])
        for moment in (at(1), at(2, 7), at(3)):
            found = archive.lookup_balance(balance_query(moment))
            assert found is not None
            assert (found.amount, found.as_of) == balance_from_changes(
                stored, Point(time=moment), decimals=USDC.decimals)


@given(seconds=st.integers(-(6 * 10**10), 2 * 10**11), micros=st.integers(0, 999_999),
       block=st.one_of(st.none(), st.integers(0, 2**40)),
       index=st.one_of(st.none(), st.integers(0, 10**4)))
def test_last_orders_and_places_a_change_as_the_change_itself(
        seconds: int, micros: int, block: int | None, index: int | None) -> None:
    when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=micros)
    ref = BlockRef(number=block, timestamp=when, transaction="t", index=index)
    last = Last("", 5, 6, to_us(when), block, index, "t", None)
    assert last.block_ref() == ref
    assert last.order == change_order(attrs.evolve(change(at(1), 5), block=ref))
    untimed = Last("", 5, 6, None, block, index, "t", None)
    assert untimed.order == change_order(attrs.evolve(
        change(at(1), 5), block=attrs.evolve(ref, timestamp=None)))


def test_a_long_sparse_series_equals_each_point_asked_alone(tmp_path: Path) -> None:
    # more points than one seek statement takes, and more changes than seeks, so the
    # series seeks per point rather than reading every change
    stored = [change(_BASE + timedelta(minutes=7 * n), 10**20 + n,
                     account=_ACCOUNTS[n % 2], index=n % 3) for n in range(6000)]
    with Archive(tmp_path / "a.sqlite", clock=clock()) as archive:
        archive.add([covered(None, at(28)), *stored])
        points = archive.series(WALLET, USDC, start=_BASE - timedelta(hours=3),
                                end=_BASE + timedelta(days=29), every="15m")
        assert len(points) > 2000
        for point in points:
            alone = archive.balance_at(WALLET, USDC, point.time)
            if point.time >= at(28):  # past the coverage: unknown, alone or in a series
                assert alone is None
                assert point.amount is None
                continue
            assert alone is not None
            assert (point.amount, point.as_of, point.provider) == (
                alone.amount, alone.as_of, alone.provenance.provider)
            assert (point.amount, point.as_of) == balance_from_changes(
                stored, Point(time=point.time), decimals=USDC.decimals)


def _kept_state_follows_writes(reader: Archive, writer: Archive) -> None:
    """A look-up first proves nothing (what the reader keeps: no proving span, no
    stored answer); each later write by ``writer`` is seen by the next look-up."""
    writer.add([change(at(5), 70)])
    query = balance_query(at(10))
    assert reader.lookup_balance(query) is None
    writer.record_balance(answer(at(10), 55, at(4)), exact=True)
    found = reader.lookup_balance(query)
    assert found is not None
    assert found.amount.raw == 55
    writer.add([covered(None, at(20))])
    found = reader.lookup_balance(query)
    assert found is not None
    assert found.amount.raw == 70  # the complete history is preferred, and says so
    assert any("disagrees with the stored answer" in c for c in found.provenance.caveats)
    writer.clear()
    assert reader.lookup_balance(query) is None


def test_coverage_and_answers_stored_by_another_connection_are_seen(
        tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with Archive(path, clock=clock()) as reader, Archive(path, clock=clock()) as writer:
        _kept_state_follows_writes(reader, writer)


def test_own_coverage_and_answers_are_seen_by_the_next_look_up(archive: Archive) -> None:
    _kept_state_follows_writes(archive, archive)


def _slot(when: datetime) -> int:
    return 1_000_000 + int((when - datetime(2025, 1, 1, tzinfo=UTC)).total_seconds())


def test_a_point_after_one_without_stored_answers_still_finds_a_new_one(
        tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with Archive(path, clock=clock()) as reader, Archive(path, clock=clock()) as writer:
        writer.record_balance(answer(at(10), 55, at(8)), exact=False)
        # none at a slot (no answer asked at a slot) says nothing of time points
        assert reader.lookup_balance(balance_query(_slot(at(25)))) is None
        assert reader.lookup_balance(balance_query(at(12))) is None  # none from day 12
        assert reader.lookup_balance(balance_query(at(13))) is None
        found = reader.lookup_balance(balance_query(at(9)))  # before: asked again
        assert found is not None
        assert found.amount.raw == 55
        writer.record_balance(answer(at(15), 66, at(11)), exact=False)
        found = reader.lookup_balance(balance_query(at(13)))
        assert found is not None
        assert found.amount.raw == 66
        assert reader.lookup_balance(balance_query(at(16))) is None
        # the block axis is its own: none at a late time says nothing of a slot
        slot = _slot(at(20))
        by_slot = attrs.evolve(answer(at(20), 77, None), requested=Point(block=slot),
                               as_of=BlockRef(number=slot, timestamp=at(20)))
        writer.record_balance(by_slot, exact=False)
        assert reader.lookup_balance(balance_query(at(21))) is None
        found = reader.lookup_balance(balance_query(slot))
        assert found is not None
        assert found.amount.raw == 77
