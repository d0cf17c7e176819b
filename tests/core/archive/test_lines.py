"""The bulk line paths agree with the generic ones.

- :class:`~asof.archive.lines.ChangeLines` reads a canonical balance-change line into
  the same storage row as the generic converter's record gives, and steps aside
  (``None``) wherever the generic path refuses the line or reads it differently.
- :class:`~asof.archive.lines.ChangeLineEncoder` (through ``export_change_lines``)
  writes what :func:`asof.wire.dumps_line` writes for the record the row holds.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from asof import wire
from asof.archive import Archive, SQLiteStorage
from asof.archive.backend import Filters
from asof.archive.coverage import from_us
from asof.archive.lines import ChangeLines, _value, format_us, row_of
from asof.exact import scale
from asof.points import format_time
from asof.records import Amount, BalanceChange, BlockRef, Provenance, Token, Wallet
from asof.tokens import resolve_token
from tests.core.test_wire_fast import CHANGE, _paths

from .helpers import clock

BASE: dict[str, Any] = json.loads(wire.dumps_line(CHANGE))  # with its "kind"


LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**20), st.text(max_size=4),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.sampled_from(["2024-01-01T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01",
                     "2024-01-01T00:00:00.5+02:00", "12", "-7", "007", "1e3", " 5", "٣",
                     "true", [], {}, ["a"], {"a": 1}, "native", "unknown", "erc20"]),
)


def _generic(text: str) -> BalanceChange | None:
    """The generic converter's record of a line (no fixed-shape path), or ``None``."""
    data = json.loads(text, parse_float=Decimal)
    if not isinstance(data, dict) or data.pop("kind", None) != "balance_change":
        return None
    try:
        return wire.from_data(BalanceChange, data)
    except Exception:
        return None


def _agree(text: str) -> None:
    fast = ChangeLines().row(text)
    slow = _generic(text)
    if slow is None:
        assert fast is None
    elif fast is not None:
        assert fast == row_of(slow)
        assert type(fast.raw) is int
        assert fast.time_us is None or type(fast.time_us) is int


def test_the_canonical_line_is_read_the_fast_way() -> None:
    line = wire.dumps_line(CHANGE)
    assert ChangeLines().row(line) == row_of(CHANGE)
    assert ChangeLines().row(line + "\n") == row_of(CHANGE)
    _agree(line)


def _parent(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """The object holding the field at ``path`` (the whole line for ``()``)."""
    for key in path:
        data = data[key]
    return data


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_paths(BASE)), LEAVES)
def test_a_changed_field_reads_alike_or_goes_the_generic_way(
        path: tuple[str, ...], value: Any) -> None:
    data = copy.deepcopy(BASE)
    _parent(data, path[:-1])[path[-1]] = value
    _agree(json.dumps(data, default=str))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_paths(BASE)))
def test_a_missing_field_goes_the_generic_way(path: tuple[str, ...]) -> None:
    data = copy.deepcopy(BASE)
    del _parent(data, path[:-1])[path[-1]]
    _agree(json.dumps(data))
    if path != ("balance", "value"):
        assert ChangeLines().row(json.dumps(data)) is None


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([(), ("token",), ("block",), ("provenance",), ("balance",)]),
       st.text(min_size=1, max_size=6))
def test_an_extra_key_goes_the_generic_way(where: tuple[str, ...], key: str) -> None:
    data = copy.deepcopy(BASE)
    assume(key not in _parent(data, where))
    _parent(data, where)[key] = 1
    assert ChangeLines().row(json.dumps(data)) is None


def test_floats_never_reach_an_amount() -> None:
    for field, value in (("raw", 12.0), ("decimals", 6.0)):
        data = copy.deepcopy(BASE)
        data["balance"][field] = value
        assert ChangeLines().row(json.dumps(data)) is None
    data = copy.deepcopy(BASE)
    data["balance"]["raw"] = 10**30  # a JSON integer: exact
    found = ChangeLines().row(json.dumps(data))
    assert found is not None
    assert found.raw == 10**30


def test_an_echo_goes_the_generic_way() -> None:
    data = copy.deepcopy(BASE)
    data["provenance"]["echo"] = {"limit": 1.5}
    assert ChangeLines().row(json.dumps(data)) is None
    _agree(json.dumps(data))


@given(st.integers(-62_135_596_800_000_000, 253_402_300_799_999_999))
def test_format_us_writes_what_format_time_writes(us: int) -> None:
    days: dict[int, str] = {}
    assert format_us(us, days) == format_time(from_us(us))
    assert format_us(us, days) == format_us(us)


@given(st.integers(-(10**40), 10**40), st.integers(0, 255))
def test_the_value_is_the_exact_decimal(raw: int, decimals: int) -> None:
    assert _value(raw, decimals) == format(scale(raw, decimals), "f")


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
CHANGES = st.builds(
    lambda token, account, raw, decimals, number, block_hash, us, txn, index, prov:
    BalanceChange(
        wallet=Wallet(chain="solana",
                      address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"),
        token=token, token_account=account, balance=Amount(raw=raw, decimals=decimals),
        block=BlockRef(number=number, hash=block_hash,
                       timestamp=None if us is None else from_us(us),
                       transaction=txn, index=index),
        provenance=prov),
    st.sampled_from([resolve_token("solana", "USDC"),
                     Token(chain="solana", address="So11111111111111111111111111111111111111112",
                           standard="spl", decimals=None, symbol=None)]),
    st.one_of(st.none(), TEXT.filter(bool)), st.integers(-(10**30), 10**30),
    st.one_of(st.none(), st.integers(0, 30)), st.one_of(st.none(), st.integers(0, 10**12)),
    st.one_of(st.none(), TEXT), st.one_of(st.none(), st.integers(0, 4 * 10**15)),
    st.one_of(st.none(), TEXT), st.one_of(st.none(), st.integers(0, 10**6)),
    st.builds(lambda src, fetched, caveats, echo: Provenance(
        provider="allium", source=src,
        fetched_at=None if fetched is None else datetime(2025, 1, 1, tzinfo=UTC)
        + timedelta(microseconds=fetched),
        caveats=tuple(caveats), echo=echo),
        st.one_of(st.none(), TEXT), st.one_of(st.none(), st.integers(0, 10**12)),
        st.lists(TEXT, max_size=2),
        st.one_of(st.none(), st.just({"page": 2, "q": "\u00e9\n"}))),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CHANGES, min_size=1, max_size=6))
def test_exported_lines_are_what_dumps_line_writes(found: list[BalanceChange]) -> None:
    with Archive(storage=SQLiteStorage(":memory:"), clock=clock()) as archive:
        archive.add(found)
        with archive.storage.read() as r:
            records = list(r.export_changes(Filters()))
            lines = list(r.export_change_lines(Filters()))
    assert lines == [wire.dumps_line(record) for record in records]
    for line in lines:  # and each reads back, the fast way or the generic way, alike
        _agree(line)
