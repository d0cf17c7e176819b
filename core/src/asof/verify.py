"""A balance answer checked against a second provider (``asof balance-at --verify``).

:class:`Verification` holds the answer, the second provider's answer to the same
question (or the reason there is none), and says whether they agree: the same amount
in base units (compared as human values when the two give different decimals).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from asof.records import Amount, BalanceAt

__all__ = ["Verification"]


@attrs.frozen(kw_only=True)
class Verification:
    """``answer`` and ``check`` (the second provider's answer, or ``None`` with
    ``reason`` saying why there is none)."""

    answer: BalanceAt
    check: BalanceAt | None
    reason: str | None = None

    @property
    def agree(self) -> bool | None:
        """Whether the two amounts are equal; ``None`` when nothing was checked."""
        if self.check is None:
            return None
        return _same(self.answer.amount, self.check.amount)

    @property
    def difference(self) -> Decimal | int | None:
        """The second answer minus the first: a human value when both decimals are
        known, else base units; ``None`` when nothing was checked."""
        if self.check is None:
            return None
        first, second = self.answer.amount, self.check.amount
        if first.value is not None and second.value is not None:
            return second.value - first.value
        return second.raw - first.raw

    def describe(self) -> str:
        """One line saying what the check found."""
        if self.check is None:
            return f"not verified: {self.reason or 'no second provider answered'}"
        other = self.check.provider
        if self.agree:
            return f"agrees with {other} ({self.check.amount})"
        difference = self.difference
        shown = format(difference, "f") if isinstance(difference, Decimal) else str(difference)
        return (f"differs from {other}: {other} says {self.check.amount} "
                f"({self.check.amount.raw} base units), a difference of {shown}")


def _same(first: Amount, second: Amount) -> bool:
    if first.decimals is None or second.decimals is None or first.decimals == second.decimals:
        return first.raw == second.raw
    return first.value == second.value
