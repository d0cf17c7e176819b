"""A balance read at a block (provenance.read_at) and a resolved time-to-block point
(provenance.resolved): valid records, kept by every wire format, stored and returned by
the archive for exactly the point they answer and never for an earlier one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asof.archive import Archive
from asof.queries import BalanceQuery
from asof.records import Amount, BalanceAt, BlockRef, Point, Provenance, Token, Wallet
from asof.testing.conformance import check_balance_answer
from asof.wire import dumps_line, from_csv_row, from_data, loads_line, to_csv_row, to_data

NOW = datetime(2025, 6, 1, tzinfo=UTC)
ASKED = datetime(2025, 3, 1, 12, tzinfo=UTC)
BLOCK = BlockRef(number=21_900_000, timestamp=ASKED - timedelta(seconds=7))
WALLET = Wallet(chain="ethereum", address="0x" + "ab" * 20)
ETH = Token(chain="ethereum", address="0x" + "ee" * 20, standard="native", decimals=18,
            symbol="ETH")


ASKED_POINT = Point(time=ASKED)


def read_at_block(point: Point = ASKED_POINT, raw: int = 5 * 10**18) -> BalanceAt:
    """What a balance-at-block provider answers: the state at the resolved block."""
    return BalanceAt(
        wallet=WALLET, token=ETH, amount=Amount(raw=raw, decimals=18), requested=point,
        as_of=None,
        provenance=Provenance(provider="scan", source="GET ?module=account&action=balance",
                              fetched_at=NOW - timedelta(days=1), read_at=BLOCK,
                              resolved=Point(block=BLOCK.number)),
    )


def test_read_at_is_the_provenance_block() -> None:
    answer = read_at_block()
    assert answer.read_at == BLOCK
    assert answer.as_of is None
    assert answer.provenance.resolved == Point(block=21_900_000)


def test_the_kit_accepts_an_amount_read_at_a_block_and_checks_the_as_of_rule() -> None:
    query = BalanceQuery(wallet=WALLET, token=ETH, point=Point(time=ASKED))
    check_balance_answer(read_at_block(), query, "scan")
    no_block = read_at_block()
    bare = BalanceAt(wallet=WALLET, token=ETH, amount=no_block.amount,
                     requested=no_block.requested, as_of=None,
                     provenance=Provenance(provider="scan"))
    with pytest.raises(AssertionError, match=r"provenance\.read_at"):
        check_balance_answer(bare, query, "scan")
    early = BalanceQuery(wallet=WALLET, token=ETH, point=Point(time=BLOCK.timestamp
                                                               - timedelta(seconds=1)))
    late = read_at_block(point=early.point)
    with pytest.raises(AssertionError, match="as-of rule"):
        check_balance_answer(late, early, "scan")


def test_every_wire_format_keeps_them() -> None:
    answer = read_at_block()
    assert from_data(BalanceAt, to_data(answer)) == answer
    assert loads_line(dumps_line(answer)) == answer
    row = to_csv_row(answer)
    assert row["provenance.read_at.number"] == "21900000"
    assert row["provenance.resolved.block"] == "21900000"
    assert from_csv_row(BalanceAt, row) == answer
    data = to_data(answer)
    assert data["provenance"]["read_at"]["number"] == 21_900_000
    assert data["provenance"]["resolved"]["block"] == 21_900_000


def test_the_archive_returns_it_for_its_point_only(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.sqlite", clock=lambda: NOW) as archive:
        archive.record_balance(read_at_block())
        same = archive.lookup_balance(BalanceQuery(wallet=WALLET, token=ETH,
                                                   point=Point(time=ASKED)))
        assert same is not None
        assert same.amount.raw == 5 * 10**18
        assert same.as_of is None
        assert same.read_at == BLOCK
        assert same.provenance.resolved == Point(block=21_900_000)
        assert same.provenance.archived
        # The last change is unknown: an earlier point is not vouched for (it is not a
        # zero balance, and not this amount either), so a provider must be asked.
        earlier = BalanceQuery(wallet=WALLET, token=ETH,
                               point=Point(time=ASKED - timedelta(hours=1)))
        assert archive.lookup_balance(earlier) is None


def test_the_archive_keeps_a_block_point_read_at_that_block(tmp_path: Path) -> None:
    point = Point(block=BLOCK.number)
    with Archive(tmp_path / "a.sqlite", clock=lambda: NOW) as archive:
        archive.record_balance(read_at_block(point=point, raw=3))
        found = archive.lookup_balance(BalanceQuery(wallet=WALLET, token=ETH, point=point))
        assert found is not None
        assert found.amount.raw == 3
        assert found.read_at == BLOCK
        before = BalanceQuery(wallet=WALLET, token=ETH, point=Point(block=BLOCK.number - 1))
        assert archive.lookup_balance(before) is None


def test_the_cli_view_says_the_state_was_read_at_a_block_not_zero() -> None:
    from asof.cli.core_cmds import balance_view

    view = balance_view(read_at_block())
    assert view["as of"].startswith("state read at block 21900000")
    assert "last change is not known" in view["as of"]
    assert "zero" not in view["as of"]
    assert view["resolved to"] == "block:21900000"
    assert view["raw"] == str(5 * 10**18)
