"""Balance series: grid rules, and a property test against a naive recomputation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asof.archive import Archive, grid, parse_every
from asof.derive import balance_from_changes
from asof.errors import InvalidRange
from asof.records import HistoryScope, Point

from .helpers import USDC, WALLET, answer, at, change, clock, covered

BASE = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(("text", "seconds"), [
    ("1d", 86400), ("1h", 3600), ("15m", 900), ("30s", 30), ("2w", 1209600),
    ("3600", 3600), (90, 90), (timedelta(minutes=5), 300),
])
def test_steps(text: str | int | timedelta, seconds: int) -> None:
    assert parse_every(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1y", "0", "1.5h", "-1h", timedelta(milliseconds=5)])
def test_bad_steps(text: str | timedelta) -> None:
    with pytest.raises(InvalidRange):
        parse_every(text)


def test_grid_is_start_inclusive_end_exclusive_on_boundaries() -> None:
    assert grid(at(1), at(4), "1d") == [at(1), at(2), at(3)]
    assert grid(at(1, 6), at(4), "1d") == [at(2), at(3)]  # snapped to midnights inside
    assert grid(at(1), at(1, 3, 30), "1h") == [at(1), at(1, 1), at(1, 2), at(1, 3)]
    assert grid(at(1, 0, 7), at(1, 0, 40), "15m") == [at(1, 0, 15), at(1, 0, 30)]
    assert grid(at(1, 0, 10), at(1, 0, 14), "1h") == []


def test_a_year_hourly_has_8760_points() -> None:
    points = grid(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "1h")
    assert len(points) == 8760
    assert points[-1] == datetime(2025, 12, 31, 23, tzinfo=UTC)


def test_grid_limits() -> None:
    with pytest.raises(InvalidRange, match="not after"):
        grid(at(2), at(1), "1d")
    with pytest.raises(InvalidRange, match="points"):
        grid(datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC), "1s")


def test_series_forward_fills_and_leaves_unknown_points_empty(archive: Archive) -> None:
    archive.add([covered(at(2), at(8)), change(at(3, 12), 5), change(at(5), 9)])
    points = archive.series(WALLET, "USDC", start=at(1), end=at(10), every="1d")
    assert [p.time for p in points] == [at(d) for d in range(1, 10)]
    # Opening balances declared at the 2nd (none): zero until the first change.
    assert [None if p.amount is None else p.amount.raw for p in points] == [
        None, 0, 0, 5, 9, 9, 9, None, None]
    known = points[4]
    assert known.provider == "hist"
    assert known.as_of is not None
    assert known.as_of.timestamp == at(5)
    assert known.amount is not None
    assert known.amount.value is not None


def test_series_of_an_unknown_token_is_all_unknown(archive: Archive) -> None:
    points = archive.series(WALLET, "USDT", start=at(1), end=at(3))
    assert [p.amount for p in points] == [None, None]


def test_series_uses_a_stored_answer_before_the_first_change(archive: Archive) -> None:
    archive.add([covered(at(1), at(20), history_scope=HistoryScope()), change(at(10), 7)])
    archive.record_balance(answer(at(3), 4, at(1, month=2)), exact=True)
    archive.record_balance(answer(at(15), 7, at(10)), exact=True)
    points = archive.series(WALLET, USDC, start=at(1), end=at(12), every="1d")
    # Before the window's first change: the exact answer of the 3rd; from the 10th the
    # answer of the 15th (last change on the 10th) vouches.
    assert [None if p.amount is None else p.amount.raw for p in points] == [
        4, 4, 4, 4, 4, 4, 4, 4, 4, 7, 7]
    assert points[0].provider == "direct"


def test_series_first_provider_by_name_answers(archive: Archive) -> None:
    archive.add([covered(at(1), at(5), provider="b"), change(at(1), 2, provider="b"),
                 covered(at(3), at(9), provider="a"), change(at(3), 1, provider="a")])
    points = archive.series(WALLET, USDC, start=at(1), end=at(9))
    assert [(p.provider, p.amount.raw if p.amount else None) for p in points] == [
        ("b", 2), ("b", 2), ("a", 1), ("a", 1), ("a", 1), ("a", 1), ("a", 1), ("a", 1)]


HOUR = 3600
_changes = st.lists(
    st.tuples(st.integers(0, 72).map(lambda h: h * 1800),  # many on grid boundaries
              st.sampled_from(["A" * 32, "B" * 32, "C" * 32]),
              st.integers(0, 10**24),
              st.integers(0, 3)),  # slot jitter inside a second
    max_size=25,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=_changes,
    start=st.one_of(st.none(), st.integers(0, 30).map(lambda h: h * HOUR)),
    length=st.integers(1, 48).map(lambda h: h * HOUR),
    grid_start=st.integers(-5 * HOUR, 30 * HOUR),
    grid_length=st.integers(1, 60 * HOUR),
    every=st.sampled_from(["1h", "15m", "30m", "2h", "5400"]),
)
def test_series_equals_a_naive_recomputation(
    changes: list[tuple[int, str, int, int]],
    start: int | None,
    length: int,
    grid_start: int,
    grid_length: int,
    every: str,
) -> None:
    records = [
        change(BASE + timedelta(seconds=offset), raw, account=account,
               slot=10_000 + offset * 4 + jitter, index=n)
        for n, (offset, account, raw, jitter) in enumerate(changes)
    ]
    cov_start = None if start is None else BASE + timedelta(seconds=start)
    cov_end = BASE + timedelta(seconds=(start or 0) + length)
    first = BASE + timedelta(seconds=grid_start)
    last = first + timedelta(seconds=grid_length)
    with Archive(":memory:", clock=clock()) as archive:
        archive.add([covered(cov_start, cov_end), *records])
        points = archive.series(WALLET, USDC, start=first, end=last, every=every)

    assert [p.time for p in points] == grid(first, last, every)
    for point in points:
        # The rule for a range with opening balances: an account with records before the
        # range start must have changed inside it by the point, else it is unknown.
        inside = (cov_start is None or cov_start <= point.time) and point.time < cov_end
        window = [c for c in records
                  if cov_start is None or c.block.timestamp >= cov_start]  # type: ignore[operator]
        amount, as_of = balance_from_changes(window, Point(time=point.time), decimals=6)
        earlier = {c.token_account for c in records if c not in window}
        seen = {c.token_account for c in window
                if c.block.timestamp <= point.time}  # type: ignore[operator]
        unknown = not inside or bool(earlier - seen)
        expected = None if unknown else amount.raw
        assert (None if point.amount is None else point.amount.raw) == expected, point
        if expected is not None:
            assert (point.as_of is None) == (as_of is None)
            if as_of is not None and point.as_of is not None:
                assert (point.as_of.number, point.as_of.index) == (as_of.number, as_of.index)


@settings(max_examples=60, deadline=None)
@given(changes=_changes, moment=st.integers(-HOUR, 40 * HOUR),
       start=st.one_of(st.none(), st.integers(0, 20).map(lambda h: h * HOUR)))
def test_balance_at_agrees_with_the_series(
    changes: list[tuple[int, str, int, int]], moment: int, start: int | None,
) -> None:
    """One point asked alone (SQL path) equals the same point of a series (sweep)."""
    records = [
        change(BASE + timedelta(seconds=offset), raw, account=account,
               slot=10_000 + offset * 4 + jitter, index=n)
        for n, (offset, account, raw, jitter) in enumerate(changes)
    ]
    point = BASE + timedelta(seconds=moment)
    with Archive(":memory:", clock=clock()) as archive:
        archive.add([covered(None if start is None else BASE + timedelta(seconds=start),
                             BASE + timedelta(hours=36)), *records])
        alone = archive.balance_at(WALLET, USDC, point)
        (in_series,) = archive.series(WALLET, USDC, start=point,
                                      end=point + timedelta(seconds=1), every="1s")
    assert (None if alone is None else alone.amount.raw) == (
        None if in_series.amount is None else in_series.amount.raw)
    if alone is not None:
        assert alone.as_of == in_series.as_of
