"""Reconciling an exchange account's ledger.

Each :class:`~asof.records.LedgerEntry` says how much the event changed the balance
(``amount``) and what the balance was after it (``balance``). From one event to the
next, the balance must change by exactly the later event's ``amount``; a pair where it
does not is a :class:`Break`: an event is missing between them (for example trades a
provider was not asked for), or the provider's figures disagree with themselves.

Entries are checked per account, in chronological order (time, then ``sequence``, as
:func:`asof.derive.ledger_order` sorts them); the order they are given in does not
matter, except between entries of one account that share a time and carry no
``sequence``, which keep their given order. The comparison is exact (``Decimal``).
The first entry of each account has no event before it and is not checked, so a ledger
read over a range is reconciled within that range. ``pending_balance`` is not checked.
Nothing here fetches anything: any exchange plugin's ledger can be checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from itertools import pairwise

import attrs

from asof.derive import ledger_order
from asof.records import LedgerEntry, Wallet

__all__ = ["Break", "reconcile"]


@attrs.frozen(kw_only=True)
class Break:
    """Two consecutive events of one account whose balances do not differ by the later
    event's amount."""

    before: LedgerEntry
    after: LedgerEntry

    @property
    def expected(self) -> Decimal:
        """The balance the later event should have left: the earlier balance plus its
        amount."""
        return self.before.balance + self.after.amount

    @property
    def difference(self) -> Decimal:
        """What the later balance has beyond the expected one (negative when short)."""
        return self.after.balance - self.expected

    def describe(self) -> str:
        """One line: where the break is and by how much."""
        return (
            f"{self.after.account}: {_moment(self.before)} {self.before.event_type} "
            f"left {self.before.balance}; {_moment(self.after)} {self.after.event_type} "
            f"of {self.after.amount} left {self.after.balance}, expected {self.expected} "
            f"(off by {self.difference})"
        )


def _moment(entry: LedgerEntry) -> str:
    return entry.time.isoformat().replace("+00:00", "Z")


def reconcile(entries: Iterable[LedgerEntry]) -> list[Break]:
    """Every break in ``entries``: per account (in the order accounts first appear),
    chronologically. An empty list means the ledger reconciles."""
    accounts: dict[Wallet, list[LedgerEntry]] = {}
    for entry in entries:
        accounts.setdefault(entry.account, []).append(entry)
    breaks: list[Break] = []
    for ledger in accounts.values():
        ledger.sort(key=ledger_order)
        breaks.extend(
            Break(before=before, after=after)
            for before, after in pairwise(ledger)
            if after.balance - before.balance != after.amount
        )
    return breaks
