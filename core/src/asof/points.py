"""The one parser for moments: every entry point (Python API, CLI, config) uses it.

Accepted times:

- epoch seconds: ``1736536800`` (an ``int`` or a string of ASCII digits; other scripts'
  digits, such as Arabic-Indic or full-width ones, are refused);
- a date alone: ``2025-01-10`` (UTC midnight);
- a date and time: ``2025-01-10 19:20``, ``2025-01-10 19:20:00``, ``2025-01-10T19:20:00``,
  optionally with fractional seconds; UTC unless an offset is given;
- an explicit offset: ``...Z``, ``...+02:00``, ``...-0500``, honoured;
- a :class:`datetime.datetime` (naive means UTC) or :class:`datetime.date` (UTC midnight).

Points add block heights: ``slot:313000000`` or ``block:21000000`` (or a
:class:`~asof.records.Point`). Impossible dates (``2025-02-30``) are errors that say so.
Everything returned is timezone-aware UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from asof.errors import InvalidPoint
from asof.records import Point

__all__ = ["PointLike", "TimeLike", "format_time", "parse_point", "parse_time", "to_epoch"]

TimeLike = str | int | datetime | date
PointLike = TimeLike | Point

_TIME_RE = re.compile(
    r"""^(?P<date>\d{4}-\d{2}-\d{2})
        (?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d{1,9}))?)?
           (?P<tz>Z|z|[+-]\d{2}:?\d{2})?)?$""",
    re.VERBOSE | re.ASCII,
)
_BLOCK_RE = re.compile(r"^(?P<unit>slot|block|height)\s*[:=]\s*(?P<n>-?\d+)$",
                       re.IGNORECASE | re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_MAX_DIGITS = 20  # more digits than any epoch second or block number asof reads
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z


def parse_time(value: TimeLike, *, field: str = "time") -> datetime:
    """Read a moment in time; return it as an aware UTC datetime.

    Raises :class:`~asof.errors.InvalidPoint` naming ``field`` when it cannot be read.
    """
    if isinstance(value, bool):
        raise InvalidPoint("expected a time, got a boolean", field=field, value=value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int):
        return _from_epoch(value, field)
    if not isinstance(value, str):
        raise InvalidPoint(
            f"expected a time, got {type(value).__name__}", field=field, value=value
        )
    text = value.strip()
    if _DIGITS.fullmatch(text):
        if len(text.lstrip("0")) > _MAX_DIGITS:
            raise InvalidPoint(f"epoch seconds {_short(text)} are out of range", field=field,
                               value=_short(text))
        return _from_epoch(int(text), field)
    if text.lower() == "now":
        return datetime.now(UTC).replace(microsecond=0)
    match = _TIME_RE.match(text)
    if not match:
        raise InvalidPoint(
            f"cannot read {_short(value)!r} as a time; use epoch seconds, YYYY-MM-DD, "
            "YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS] with an optional Z or ±HH:MM",
            field=field,
            value=_short(value),
        )
    try:
        day = date.fromisoformat(match["date"])
    except ValueError:
        raise InvalidPoint(f"{match['date']!r} is not a real date", field=field,
                           value=value) from None
    hour = int(match["h"] or 0)
    minute = int(match["m"] or 0)
    second = int(match["s"] or 0)
    frac = (match["frac"] or "").ljust(6, "0")[:6]
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidPoint(f"{text!r} is not a real time of day", field=field, value=value)
    tz = _offset(match["tz"], field, value)
    moment = datetime(day.year, day.month, day.day, hour, minute, second, int(frac or 0),
                      tzinfo=tz)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidPoint(f"{text!r} falls outside the years 1 to 9999 in UTC", field=field,
                           value=value) from None


def parse_point(value: PointLike, *, field: str = "at") -> Point:
    """Read a point: a time in any form :func:`parse_time` accepts, or ``slot:N`` /
    ``block:N`` (also ``height:N``)."""
    if isinstance(value, Point):
        return value
    if isinstance(value, str):
        match = _BLOCK_RE.match(value.strip())
        if match:
            if len(match["n"].lstrip("-0")) > _MAX_DIGITS:
                raise InvalidPoint("the slot or block number is too large", field=field,
                                   value=_short(value))
            number = int(match["n"])
            if number < 0:
                raise InvalidPoint("a slot or block number cannot be negative", field=field,
                                   value=value)
            return Point(block=number)
    return Point(time=parse_time(value, field=field))


def format_time(moment: datetime) -> str:
    """An aware datetime as ISO 8601 in UTC with ``Z`` (``2025-01-10T17:20:00Z``)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_epoch(moment: datetime) -> int:
    """Whole epoch seconds of an aware datetime (fractions are dropped, never rounded up)."""
    return int(moment.timestamp() // 1)


def _short(value: object) -> object:
    """``value``, cut to a readable length when it is long text."""
    if isinstance(value, str) and len(value) > 80:
        return value[:60] + "…"
    return value


def _from_epoch(seconds: int, field: str) -> datetime:
    if seconds < 0 or seconds > _MAX_EPOCH:
        shown = _short(str(seconds)) if seconds.bit_length() < 256 else "with too many digits"
        raise InvalidPoint(f"epoch seconds {shown} are out of range", field=field,
                           value=shown)
    return datetime.fromtimestamp(seconds, UTC)


def _offset(text: str | None, field: str, value: object) -> timezone:
    if not text or text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise InvalidPoint(f"{text!r} is not a valid UTC offset", field=field, value=value)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
