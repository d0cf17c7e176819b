"""Finality: only data older than the chain's horizon is archived; coverage stops there."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from asof.archive import DEFAULT_HORIZON, Archive, Finality
from asof.errors import ConfigError
from asof.records import BalanceAt, BlockRef, Page, Point, Wallet

from .helpers import (
    FULL,
    NOW,
    USDC,
    answer,
    balance_query,
    change,
    clock,
    covered,
    history_query,
)


def test_default_horizons() -> None:
    finality = Finality()
    assert finality.horizon("solana") == timedelta(minutes=1)
    assert finality.horizon("eth") == timedelta(minutes=15)
    assert finality.horizon("base") == timedelta(hours=1)
    assert finality.horizon("pacifica") == timedelta(hours=1)
    assert finality.horizon("anvil") == timedelta(0)
    assert finality.horizon("bitcoin") == timedelta(seconds=DEFAULT_HORIZON)


def test_configured_horizons_by_alias_and_default() -> None:
    finality = Finality.from_mapping({"sol": 5, "default": 7200, "base": 1.5})
    assert finality.horizon("solana") == timedelta(seconds=5)
    assert finality.horizon("base") == timedelta(seconds=1.5)
    assert finality.horizon("bitcoin") == timedelta(hours=2)
    assert finality.horizon("ethereum") == timedelta(minutes=15)  # built-in beats default


@pytest.mark.parametrize("table", [{"nochain": 5}, {"solana": -1}, {"solana": "soon"},
                                   {"solana": True}])
def test_bad_horizons_are_config_errors(table: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        Finality.from_mapping(table)


def test_fresh_answer_passes_through_final_one_is_kept(archive: Archive) -> None:
    fresh = answer(NOW - timedelta(seconds=30), 5, NOW - timedelta(seconds=40))
    final = answer(NOW - timedelta(seconds=61), 6, NOW - timedelta(seconds=70))
    archive.record_balance(fresh)
    archive.record_balance(final)
    assert archive.lookup_balance(balance_query(fresh.requested.time)) is None  # type: ignore[arg-type]
    kept = archive.lookup_balance(balance_query(final.requested.time))  # type: ignore[arg-type]
    assert kept is not None
    assert kept.amount.raw == 6


def test_answer_in_the_future_is_not_kept(archive: Archive) -> None:
    archive.record_balance(answer(NOW + timedelta(days=1), 5, NOW - timedelta(days=1)))
    assert archive.info().counts["answers"] == 0


def test_answer_read_from_the_archive_is_not_stored_again(archive: Archive) -> None:
    archive.record_balance(answer(NOW - timedelta(days=2), 5, None))
    found = archive.lookup_balance(balance_query(NOW - timedelta(days=2)))
    assert found is not None
    archive.record_balance(found)
    assert archive.info().counts["answers"] == 1


def test_slot_answer_kept_only_when_the_slot_is_placed_and_final(archive: Archive) -> None:
    def slot_answer(slot: int, as_of: BlockRef) -> BalanceAt:
        base = answer(NOW, 5, None)
        return BalanceAt(wallet=base.wallet, token=base.token, amount=base.amount,
                         requested=Point(block=slot), as_of=as_of, provenance=base.provenance)

    yesterday = NOW - timedelta(days=1)
    archive.record_balance(slot_answer(500, BlockRef(number=400, timestamp=yesterday)))
    archive.record_balance(slot_answer(600, BlockRef(number=600, timestamp=NOW)))
    assert archive.info().counts["answers"] == 0
    archive.record_balance(slot_answer(700, BlockRef(number=700,
                                                     timestamp=NOW - timedelta(days=1))))
    assert archive.info().counts["answers"] == 1
    assert archive.lookup_balance(balance_query(700)) is not None


def test_fresh_items_of_a_page_are_not_stored_and_coverage_stops_at_the_horizon(
    archive: Archive,
) -> None:
    query = history_query(NOW - timedelta(days=1), NOW + timedelta(days=1))
    old = change(NOW - timedelta(hours=1), 10)
    fresh = change(NOW - timedelta(seconds=10), 20)
    archive.record_page(query, "hist", Page(items=(old, fresh)), None, scope=FULL)
    archive.complete_history(query, "hist")
    assert archive.info().counts["changes"] == 1
    (cov,) = archive.coverage()
    assert cov.end == NOW - timedelta(minutes=1)
    found = archive.lookup_balance(balance_query(NOW - timedelta(minutes=1, microseconds=1)))
    assert found is not None
    assert found.amount.raw == 10
    assert archive.lookup_balance(balance_query(NOW - timedelta(seconds=5))) is None


def test_coverage_uses_the_horizon_of_the_first_page(tmp_path: Path) -> None:
    """A sync spread over time must not cover what its early pages left out as fresh."""
    moments = iter([NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=2)])
    current = [NOW]

    def ticking() -> object:
        return current[0]

    with Archive(tmp_path / "a.sqlite", clock=lambda: current[0]) as archive:
        query = history_query(NOW - timedelta(days=1), None)
        current[0] = next(moments)
        archive.record_page(query, "hist", Page(items=(), cursor="2"), None)
        current[0] = next(moments)
        archive.record_page(query, "hist", Page(items=(), cursor=None), "2")
        current[0] = next(moments)
        archive.complete_history(query, "hist")
        (cov,) = archive.coverage()
        assert cov.end == NOW - timedelta(minutes=1)
    assert ticking() == current[0]


def test_imported_coverage_is_clipped_at_the_horizon(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.sqlite", clock=clock(NOW),
                 finality={"solana": 3600}) as archive:
        archive.add([covered(NOW - timedelta(days=3), NOW + timedelta(days=3))])
        (cov,) = archive.coverage()
        assert cov.end == NOW - timedelta(hours=1)
        archive.add([covered(NOW - timedelta(minutes=30), NOW + timedelta(days=3),
                             wallet=Wallet(chain="solana", address=USDC.address))])
        assert len(archive.coverage()) == 1  # entirely fresh: nothing to cover
