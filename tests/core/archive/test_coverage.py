"""Coverage rules: when the archive answers a balance, and when the query goes remote.

A history with the balance after each change says nothing about the balance before its
first change in the range: a point there goes remote (``lookup_balance`` returns
``None``), never zero, unless the range starts at the beginning or a stored answer
anchors it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from asof.archive import Archive, Coverage
from asof.errors import InvalidRange
from asof.records import Capability, HistoryScope, Page

from .helpers import (
    ACCOUNT_A,
    ACCOUNT_B,
    FULL,
    OTHER,
    SOL,
    USDC,
    WALLET,
    answer,
    at,
    balance_query,
    change,
    covered,
    history_query,
)

US = timedelta(microseconds=1)


@pytest.fixture
def stocked(archive: Archive) -> Archive:
    """Covered 2025-03-01 to 2025-03-31; USDC changes on the 5th, 10th and 20th."""
    archive.add([
        covered(at(1), at(31)),
        change(at(5, 12), 100),
        change(at(10, 8), 250),
        change(at(20), 40),
    ])
    return archive


def raw(archive: Archive, moment: object) -> int | None:
    found = archive.lookup_balance(balance_query(moment))  # type: ignore[arg-type]
    return None if found is None else found.amount.raw


def test_just_before_at_and_after_a_change(stocked: Archive) -> None:
    assert raw(stocked, at(10, 8) - US) == 100
    assert raw(stocked, at(10, 8)) == 250
    assert raw(stocked, at(10, 8) + US) == 250


def test_before_the_first_change_in_range_goes_remote(archive: Archive) -> None:
    # A window without opening balances: before its first change the balance is unknown.
    archive.add([covered(at(1), at(31), history_scope=HistoryScope()),
                 change(at(5, 12), 100)])
    assert raw(archive, at(1)) is None  # the covered range starts here: balance unknown
    assert raw(archive, at(5, 12) - US) is None


def test_opening_balances_prove_the_stretch_before_the_first_change(stocked: Archive) -> None:
    assert raw(stocked, at(1)) == 0  # declared opening balances: none at the start
    assert raw(stocked, at(5, 12) - US) == 0
    assert raw(stocked, at(5, 12)) == 100


def test_each_end_of_the_covered_range(stocked: Archive) -> None:
    assert raw(stocked, at(31) - US) == 40  # last covered moment
    assert raw(stocked, at(31)) is None  # end is exclusive
    assert raw(stocked, at(1) - US) is None  # before the start


def test_outside_any_range_goes_remote_even_with_changes(archive: Archive) -> None:
    archive.add([change(at(5), 100)])  # a change, but no coverage
    assert raw(archive, at(6)) is None


def test_range_from_the_beginning_answers_zero_before_first_change(archive: Archive) -> None:
    archive.add([covered(None, at(31)), change(at(5), 100)])
    found = archive.lookup_balance(balance_query(at(2)))
    assert found is not None
    assert found.amount.raw == 0
    assert found.as_of is None
    assert raw(archive, at(5)) == 100


def test_answer_names_the_original_provider(stocked: Archive) -> None:
    found = stocked.lookup_balance(balance_query(at(12)))
    assert found is not None
    assert found.provenance.provider == "hist"
    assert found.provenance.archived
    assert found.provenance.derived
    assert found.as_of is not None
    assert found.as_of.timestamp == at(10, 8)
    assert found.token.decimals == 6


def test_token_accounts_are_summed(archive: Archive) -> None:
    archive.add([
        covered(at(1), at(31)),
        change(at(3), 10, account=ACCOUNT_A),
        change(at(4), 5, account=ACCOUNT_B),
        change(at(6), 0, account=ACCOUNT_A),
    ])
    assert raw(archive, at(3, 12)) == 10
    assert raw(archive, at(4, 12)) == 15
    assert raw(archive, at(7)) == 5


def test_ties_in_one_second_follow_slot_then_index(archive: Archive) -> None:
    archive.add([
        covered(at(1), at(31)),
        change(at(3), 10, slot=500, index=4),
        change(at(3), 20, slot=500, index=9),
        change(at(3), 30, slot=499, index=99),
    ])
    found = archive.lookup_balance(balance_query(at(3)))
    assert found is not None
    assert found.amount.raw == 20
    assert found.as_of is not None
    assert (found.as_of.number, found.as_of.index) == (500, 9)


def test_coverage_of_one_token_does_not_cover_another(archive: Archive) -> None:
    archive.add([covered(at(1), at(31), scope=USDC.address), change(at(3), 10),
                 change(at(3), 99, token=SOL, account=None)])
    assert raw(archive, at(4)) == 10
    assert archive.lookup_balance(balance_query(at(4), token=SOL)) is None


def test_coverage_scope_may_be_a_symbol(archive: Archive) -> None:
    archive.add([covered(at(1), at(31), scope="USDC"), change(at(3), 10)])
    assert [c.scope for c in archive.coverage()] == [USDC.address]


def test_coverage_of_one_wallet_does_not_cover_another(stocked: Archive) -> None:
    assert stocked.lookup_balance(balance_query(at(12), wallet=OTHER)) is None


def test_a_gap_between_ranges_resets_what_is_known(archive: Archive) -> None:
    archive.add([covered(at(1), at(10)), covered(at(15), at(31)), change(at(3), 10)])
    assert raw(archive, at(9)) == 10
    assert raw(archive, at(12)) is None  # in the gap
    assert raw(archive, at(16)) is None  # second range: no change in it yet


def test_touching_ranges_merge(archive: Archive) -> None:
    archive.add([covered(at(1), at(10)), covered(at(10), at(20)), change(at(3), 10)])
    assert [(c.start, c.end) for c in archive.coverage()] == [(at(1), at(20))]
    assert raw(archive, at(15)) == 10


def test_ranges_of_different_providers_do_not_mix(archive: Archive) -> None:
    archive.add([covered(at(1), at(31), provider="one", history_scope=None),
                 change(at(3), 10, provider="two")])
    assert raw(archive, at(4)) is None


def test_a_stored_answer_anchors_the_stretch_before_the_first_change(archive: Archive) -> None:
    archive.add([covered(at(1), at(31), history_scope=HistoryScope()), change(at(10), 250)])
    archive.record_balance(answer(at(2), 77, at(1) - timedelta(days=40)), exact=True)
    assert raw(archive, at(1)) == 77  # answer at the 2nd, no change until the 10th
    assert raw(archive, at(9)) == 77
    found = archive.lookup_balance(balance_query(at(9)))
    assert found is not None
    assert found.provenance.provider == "direct"
    assert found.provenance.derived
    # After the first change a second account that never changed could exist: unknown.
    assert raw(archive, at(10)) is None


def test_an_answer_after_the_first_change_does_not_anchor_before_it(archive: Archive) -> None:
    archive.add([covered(at(1), at(31), history_scope=HistoryScope()), change(at(10), 250)])
    archive.record_balance(answer(at(12), 250, at(10)), exact=True)
    assert raw(archive, at(5)) is None


def test_stored_answer_covers_its_quiet_stretch(archive: Archive) -> None:
    # The answer at the 20th says the last change was on the 10th: nothing moved between.
    archive.add([answer(at(20), 42, at(10))])
    assert raw(archive, at(20)) == 42
    assert raw(archive, at(10)) == 42
    assert raw(archive, at(15)) == 42
    assert raw(archive, at(10) - US) is None
    assert raw(archive, at(20) + US) is None
    exact = archive.lookup_balance(balance_query(at(20)))
    assert exact is not None
    assert not exact.provenance.derived
    assert exact.provenance.archived
    inside = archive.lookup_balance(balance_query(at(15)))
    assert inside is not None
    assert inside.provenance.derived


def test_stored_zero_without_activity_covers_everything_before(archive: Archive) -> None:
    archive.add([answer(at(20), 0, None)])
    assert raw(archive, at(1, month=1)) == 0
    assert raw(archive, at(21)) is None


def test_slot_point_inside_slot_coverage(archive: Archive) -> None:
    archive.add([
        Coverage(capability=Capability.BALANCE_HISTORY, provider="hist", wallet=WALLET,
                 start_block=100, end_block=200, history_scope=FULL),
        change(at(3), 10, slot=120), change(at(4), 20, slot=150),
    ])
    assert raw(archive, 99) is None
    assert raw(archive, 119) == 0  # declared opening balances: none at slot 100
    assert raw(archive, 120) == 10
    assert raw(archive, 149) == 10
    assert raw(archive, 150) == 20
    assert raw(archive, 199) == 20
    assert raw(archive, 200) is None


def test_slot_point_placed_in_time_by_neighbouring_changes(archive: Archive) -> None:
    archive.add([covered(at(1), at(31)),
                 change(at(3), 10, slot=120), change(at(4), 20, slot=150),
                 change(at(6), 5, slot=170, token=SOL, account=None)])
    assert raw(archive, 119) is None  # before the token's first change in range
    assert raw(archive, 130) == 10
    assert raw(archive, 160) == 20  # the SOL change at 170 places slot 160 in range
    assert raw(archive, 171) is None  # after every stored change: cannot be placed


def test_coverage_needs_one_axis() -> None:
    with pytest.raises(InvalidRange):
        Coverage(capability=Capability.BALANCE_HISTORY, provider="p", wallet=WALLET)
    with pytest.raises(InvalidRange):
        Coverage(capability=Capability.BALANCE_HISTORY, provider="p", wallet=WALLET, start=at(2),
                 end=at(1))


def test_lookup_history_only_when_the_whole_range_is_covered(stocked: Archive) -> None:
    found = stocked.lookup_history(history_query(at(2), at(15)))
    assert found is not None
    assert [item.balance.raw for item in found] == [100, 250]  # type: ignore[union-attr]
    assert all(item.provenance.archived for item in found)
    assert stocked.lookup_history(history_query(at(2), at(31))) is not None
    assert stocked.lookup_history(history_query(at(2), at(31) + US)) is None
    assert stocked.lookup_history(history_query(at(1) - US, at(15))) is None
    assert stocked.lookup_history(history_query(None, at(15))) is None
    assert stocked.lookup_history(history_query(at(2), None)) is None


def test_lookup_history_filters_tokens(archive: Archive) -> None:
    archive.add([covered(at(1), at(31)), change(at(3), 10),
                 change(at(4), 9, token=SOL, account=None)])
    only = archive.lookup_history(history_query(at(1), at(31), tokens=(SOL,)))
    assert only is not None
    assert [c.token for c in only] == [SOL]  # type: ignore[union-attr]


def test_lookup_history_needs_every_wallet_covered(stocked: Archive) -> None:
    assert stocked.lookup_history(history_query(at(2), at(15), wallets=(WALLET, OTHER))) is None
    stocked.add([covered(at(1), at(31), wallet=OTHER), change(at(7), 3, wallet=OTHER)])
    both = stocked.lookup_history(history_query(at(2), at(15), wallets=(WALLET, OTHER)))
    assert both is not None
    assert [c.wallet for c in both] == [WALLET, OTHER, WALLET]  # type: ignore[union-attr]


def test_record_page_then_complete_history_covers_the_query(archive: Archive) -> None:
    query = history_query(at(1), at(31))
    archive.record_page(query, "hist", Page(items=(change(at(5), 100),), cursor="2"), None,
                        scope=FULL)
    assert archive.lookup_balance(balance_query(at(6))) is None  # not complete yet
    archive.record_page(query, "hist", Page(items=(change(at(9), 7),), cursor=None), "2",
                        scope=FULL)
    archive.complete_history(query, "hist")
    assert raw(archive, at(6)) == 100
    assert raw(archive, at(30)) == 7
    again = archive.lookup_history(query)
    assert again is not None
    assert len(again) == 2
