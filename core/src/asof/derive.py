"""Balances derived from histories, by the as-of rule.

The balance as of a point is the state after the last block/slot at or before it; ties
inside a second are ordered by (slot or block, transaction index). A wallet may hold
one mint in several token accounts: its balance is the sum, over its token accounts, of
each account's balance after that account's last change at or before the point.

These functions serve every plugin that answers ``balance_at`` from a history and the
archive alike; they never fetch anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from asof.errors import InputError
from asof.records import Amount, BalanceChange, BlockRef, LedgerEntry, Point

__all__ = [
    "at_or_before",
    "balance_from_changes",
    "balance_from_ledger",
    "change_order",
    "ledger_order",
]


def change_order(change: BalanceChange) -> tuple[float, int, int]:
    """Sort key of a balance change: time, then slot or block, then transaction index."""
    block = change.block
    return (
        block.timestamp.timestamp() if block.timestamp is not None else float("-inf"),
        -1 if block.number is None else block.number,
        -1 if block.index is None else block.index,
    )


def at_or_before(block: BlockRef, point: Point) -> bool:
    """Whether a change recorded at ``block`` happened at or before ``point``.

    A time point compares the block's timestamp; a block/slot point compares its number.
    A block without the needed field cannot be placed and raises ``InputError``.
    """
    if point.time is not None:
        if block.timestamp is None:
            raise InputError("a change without a timestamp cannot be placed in time",
                             field="block.timestamp")
        return block.timestamp <= point.time
    if block.number is None:
        raise InputError("a change without a block or slot number cannot be placed at a "
                         "block point", field="block.number")
    assert point.block is not None
    return block.number <= point.block


def balance_from_changes(
    changes: Iterable[BalanceChange], point: Point, *, decimals: int | None = None
) -> tuple[Amount, BlockRef | None]:
    """The balance as of ``point`` from one wallet's changes of one token.

    ``changes`` may come in any order and from several token accounts. Returns the
    summed amount and the block of the latest change used; ``(0, None)`` when no change
    is at or before the point. ``decimals`` fills in when the changes do not carry them.
    """
    latest: dict[str | None, BalanceChange] = {}
    for change in changes:
        if not at_or_before(change.block, point):
            continue
        key = change.token_account
        held = latest.get(key)
        if held is None or change_order(change) >= change_order(held):
            latest[key] = change
    if not latest:
        return Amount(raw=0, decimals=decimals), None
    chosen = max(latest.values(), key=change_order)
    total = sum(c.balance.raw for c in latest.values())
    found = next((c.balance.decimals for c in latest.values() if c.balance.decimals is not None),
                 None)
    return Amount(raw=total, decimals=found if found is not None else decimals), chosen.block


def ledger_order(entry: LedgerEntry) -> tuple[float, int]:
    """Sort key of a ledger entry: time, then ``sequence`` (a missing one counts as -1)."""
    return (entry.time.timestamp(), -1 if entry.sequence is None else entry.sequence)


def balance_from_ledger(
    entries: Iterable[LedgerEntry], point: Point
) -> tuple[Decimal, LedgerEntry | None]:
    """An exchange account's balance as of a time ``point`` from its ledger: the
    ``balance`` after the last event at or before it; ``(0, None)`` before the first."""
    if point.time is None:
        raise InputError("an exchange ledger is placed in time only; give a time, not a "
                         "block", field="at")
    last: LedgerEntry | None = None
    for entry in entries:
        if entry.time <= point.time and (last is None or ledger_order(entry) >= ledger_order(last)):
            last = entry
    if last is None:
        return Decimal(0), None
    return last.balance, last
