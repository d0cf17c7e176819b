"""asof.reconcile: every break between consecutive ledger events, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from asof.derive import ledger_order
from asof.reconcile import Break, reconcile
from asof.records import LedgerEntry, Provenance, Wallet

ACCOUNT = Wallet(chain="pacifica", address="42trU9A5VKFzSHnZ5nB3vZ3YwD6m1cVfVNtdNGPQvS8b")
OTHER = Wallet(chain="pacifica", address="9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM")
T0 = datetime(2024, 5, 20, 10, 0, tzinfo=UTC)


def entry(
    seconds: int,
    kind: str,
    amount: str,
    balance: str,
    *,
    account: Wallet = ACCOUNT,
    sequence: int | None = 0,
) -> LedgerEntry:
    return LedgerEntry(
        account=account,
        time=T0 + timedelta(seconds=seconds),
        event_type=kind,
        amount=Decimal(amount),
        balance=Decimal(balance),
        pending_balance=Decimal(0),
        known_type=True,
        provenance=Provenance(provider="test"),
        sequence=sequence,
    )


CLEAN = [
    entry(0, "deposit", "100.000000", "100.000000"),
    entry(60, "trade", "-0.250000", "99.750000"),
    entry(120, "funding", "0.013000", "99.763000"),
    entry(180, "withdraw", "-50.000000", "49.763000"),
]


def test_a_clean_ledger_has_no_break() -> None:
    assert reconcile(CLEAN) == []


def test_order_given_does_not_matter() -> None:
    assert reconcile(list(reversed(CLEAN))) == []


def test_a_planted_break_is_found_with_the_events_around_it() -> None:
    # the funding event claims more than the balance moved by
    broken = [*CLEAN[:2], entry(120, "funding", "0.014000", "99.763000"), CLEAN[3]]
    breaks = reconcile(broken)
    assert breaks == [Break(before=broken[1], after=broken[2])]
    found = breaks[0]
    assert found.expected == Decimal("99.764000")
    assert found.difference == Decimal("-0.001000")
    text = found.describe()
    assert "2024-05-20T10:01:00Z trade left 99.750000" in text
    assert "expected 99.764000 (off by -0.001000)" in text


def test_a_wrong_balance_breaks_both_pairs_around_it() -> None:
    wrong = [*CLEAN[:2], entry(120, "funding", "0.013000", "99.764000"), CLEAN[3]]
    assert [(b.before, b.after) for b in reconcile(wrong)] == [
        (wrong[1], wrong[2]),
        (wrong[2], wrong[3]),
    ]


def test_a_missing_event_breaks_and_every_break_is_listed() -> None:
    # drop the trade: the funding entry no longer follows from the deposit
    gaps = [CLEAN[0], CLEAN[2], entry(240, "payout", "1", "60")]
    breaks = reconcile(gaps)
    assert [(b.before.event_type, b.after.event_type) for b in breaks] == [
        ("deposit", "funding"),
        ("funding", "payout"),
    ]
    assert breaks[0].difference == Decimal("-0.250000")


def test_comparison_is_exact_not_rounded() -> None:
    ledger = [entry(0, "deposit", "1", "1"), entry(1, "trade", "0.000001", "1.000002")]
    assert len(reconcile(ledger)) == 1
    assert reconcile([ledger[0], entry(1, "trade", "0.000001", "1.000001")]) == []


def test_ties_in_one_millisecond_follow_sequence() -> None:
    # two events in the same moment: sequence says which came first (larger is later)
    first = entry(0, "deposit", "10", "10", sequence=-1)
    second = entry(0, "trade", "-1", "9", sequence=0)
    assert reconcile([second, first]) == []
    assert sorted([second, first], key=ledger_order) == [first, second]


def test_accounts_are_reconciled_separately() -> None:
    mixed = [
        entry(0, "deposit", "5", "5"),
        entry(1, "deposit", "7", "7", account=OTHER),
        entry(2, "trade", "-1", "4"),
        entry(3, "trade", "1", "8", account=OTHER),
    ]
    assert reconcile(mixed) == []


def test_the_first_event_and_an_empty_ledger_are_not_breaks() -> None:
    assert reconcile([]) == []
    assert reconcile([entry(0, "trade", "-3", "997")]) == []
