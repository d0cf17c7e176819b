"""The one point parser: every accepted form, every refusal."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asof.errors import InvalidPoint
from asof.points import parse_point, parse_time, to_epoch
from asof.records import Point


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1736536800", datetime(2025, 1, 10, 19, 20, tzinfo=UTC)),
        ("2025-01-10", datetime(2025, 1, 10, tzinfo=UTC)),
        ("2025-01-10 19:20", datetime(2025, 1, 10, 19, 20, tzinfo=UTC)),
        ("2025-01-10 19:20:00", datetime(2025, 1, 10, 19, 20, tzinfo=UTC)),
        ("2025-01-10T19:20:00", datetime(2025, 1, 10, 19, 20, tzinfo=UTC)),
        ("2025-01-10T19:20:00Z", datetime(2025, 1, 10, 19, 20, tzinfo=UTC)),
        ("2025-01-10T19:20:00+02:00", datetime(2025, 1, 10, 17, 20, tzinfo=UTC)),
        ("2025-01-10T19:20:00-05:00", datetime(2025, 1, 11, 0, 20, tzinfo=UTC)),
        ("2025-01-10T19:20:00-0500", datetime(2025, 1, 11, 0, 20, tzinfo=UTC)),
        ("2025-01-10T19:20:00.250Z", datetime(2025, 1, 10, 19, 20, 0, 250000, tzinfo=UTC)),
        ("  2024-02-29  ", datetime(2024, 2, 29, tzinfo=UTC)),
    ],
)
def test_accepted_time_forms(text: str, expected: datetime) -> None:
    got = parse_time(text)
    assert got == expected
    assert got.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2025-02-30", "not a real date"),
        ("2025-13-10", "not a real date"),
        ("2023-02-29", "not a real date"),
        ("01/10/2025", "cannot read"),
        ("2025-01-10 25:00", "not a real time"),
        ("2025-01-10T10:61", "not a real time"),
        ("2025-01-10T10:00+25:00", "not a valid UTC offset"),
        ("yesterday", "cannot read"),
        ("", "cannot read"),
    ],
)
def test_refused_times_say_why(text: str, fragment: str) -> None:
    with pytest.raises(InvalidPoint, match=fragment) as info:
        parse_time(text, field="at")
    assert info.value.field == "at"
    assert isinstance(info.value, ValueError)


def test_python_values() -> None:
    assert parse_time(datetime(2025, 1, 1, 12)) == datetime(2025, 1, 1, 12, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    assert parse_time(datetime(2025, 1, 1, 12, tzinfo=plus_two)) == datetime(2025, 1, 1, 10,
                                                                             tzinfo=UTC)
    assert parse_time(date(2025, 1, 1)) == datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_time(0) == datetime(1970, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidPoint):
        parse_time(True)
    with pytest.raises(InvalidPoint, match="out of range"):
        parse_time(-1)
    with pytest.raises(InvalidPoint):
        parse_time(1.5)  # type: ignore[arg-type]


def test_block_points() -> None:
    assert parse_point("slot:313000000") == Point(block=313000000)
    assert parse_point("block:21000000") == Point(block=21000000)
    assert parse_point("SLOT = 5") == Point(block=5)
    with pytest.raises(InvalidPoint, match="negative"):
        parse_point("slot:-1")
    assert parse_point("2025-01-10") == Point(time=datetime(2025, 1, 10, tzinfo=UTC))
    point = Point(block=7)
    assert parse_point(point) is point


def test_point_needs_exactly_one() -> None:
    with pytest.raises(InvalidPoint):
        Point()
    with pytest.raises(InvalidPoint):
        Point(time=datetime(2025, 1, 1, tzinfo=UTC), block=1)
    with pytest.raises(InvalidPoint, match="UTC"):
        Point(time=datetime(2025, 1, 1))


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1),
                    timezones=st.just(UTC)))
def test_iso_and_epoch_round_trip(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    assert parse_time(moment.isoformat()) == moment
    assert parse_time(str(to_epoch(moment))) == moment
