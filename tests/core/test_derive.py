"""The as-of rule applied to histories."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from asof.derive import balance_from_changes, balance_from_ledger
from asof.errors import InputError
from asof.records import (
    Amount,
    BalanceChange,
    BlockRef,
    LedgerEntry,
    Point,
    Provenance,
    Wallet,
)
from asof.tokens import resolve_token

WALLET = Wallet(chain="solana", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz")
USDC = resolve_token("solana", "USDC")
T0 = datetime(2025, 1, 1, tzinfo=UTC)
PROV = Provenance(provider="test")


def change(raw: int, second: int, slot: int, index: int = 0, account: str = "A") -> BalanceChange:
    return BalanceChange(
        wallet=WALLET, token=USDC, token_account=account, balance=Amount(raw=raw, decimals=6),
        block=BlockRef(number=slot, timestamp=T0 + timedelta(seconds=second), index=index,
                       transaction=f"tx{slot}-{index}"),
        provenance=PROV,
    )


def at(second: int) -> Point:
    return Point(time=T0 + timedelta(seconds=second))


def test_before_at_and_after_a_change() -> None:
    changes = [change(100, 10, 1000), change(250, 20, 1010)]
    assert balance_from_changes(changes, at(9)) == (Amount(raw=0, decimals=None), None)
    amount, block = balance_from_changes(changes, at(10))
    assert amount.raw == 100
    assert block is not None
    assert block.number == 1000
    assert balance_from_changes(changes, at(19))[0].raw == 100
    assert balance_from_changes(changes, at(20))[0].raw == 250
    assert balance_from_changes(list(reversed(changes)), at(99))[0].raw == 250


def test_ties_inside_a_second_follow_slot_then_index() -> None:
    changes = [change(5, 10, 1001, 3), change(7, 10, 1001, 1), change(9, 10, 1000, 9)]
    amount, block = balance_from_changes(changes, at(10))
    assert amount.raw == 5
    assert block is not None
    assert block.index == 3


def test_block_points_and_several_token_accounts() -> None:
    changes = [change(100, 10, 1000, account="A"), change(40, 11, 1001, account="B"),
               change(60, 12, 1002, account="A")]
    assert balance_from_changes(changes, Point(block=1001))[0].raw == 140
    assert balance_from_changes(changes, Point(block=1002))[0].raw == 100
    assert balance_from_changes(changes, Point(block=999))[0].raw == 0


def test_change_without_timestamp_cannot_be_placed_in_time() -> None:
    bad = BalanceChange(wallet=WALLET, token=USDC, token_account=None,
                        balance=Amount(raw=1, decimals=6), block=BlockRef(number=5),
                        provenance=PROV)
    with pytest.raises(InputError):
        balance_from_changes([bad], at(0))


def test_ledger_balance() -> None:
    account = Wallet(chain="pacifica", address=WALLET.address)
    entries = [
        LedgerEntry(account=account, time=T0 + timedelta(seconds=s), event_type="deposit",
                    amount=Decimal(a), balance=Decimal(b), pending_balance=Decimal(0),
                    known_type=True, provenance=PROV, sequence=i)
        for i, (s, a, b) in enumerate([(10, "100", "100"), (20, "-30.5", "69.5")])
    ]
    assert balance_from_ledger(entries, at(5)) == (Decimal(0), None)
    assert balance_from_ledger(entries, at(10))[0] == Decimal("100")
    assert balance_from_ledger(entries, at(25))[0] == Decimal("69.5")
    with pytest.raises(InputError):
        balance_from_ledger(entries, Point(block=1))
