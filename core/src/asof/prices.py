"""Prices at a moment and the values they give, by the rule *amount at T times price at T*.

A :class:`Price` is one token's USD price as a price provider states it for a moment:
its own time (``time``, which may differ from the moment asked), its source and its
confidence when the provider gives one. :func:`valuation` turns an amount and a price
into a :class:`Valuation`; a price whose own time is further from the moment than the
tolerance is refused, and the valuation then has no value and says why. Today's price
never stands in for a past one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from asof.errors import InputError
from asof.exact import multiply
from asof.points import format_time
from asof.records import Amount, Provenance, Token

__all__ = ["DEFAULT_TOLERANCE", "Price", "Valuation", "refused_price", "valuation"]

#: How far a price's own time may be from the moment valued (either side), by default.
DEFAULT_TOLERANCE = timedelta(hours=1)


@attrs.frozen(kw_only=True)
class Price:
    """A token's price in USD as a provider states it for a moment.

    ``time`` is the price's own time (the provider's nearest data point), ``requested``
    the moment asked for; ``confidence`` the provider's own score, when it gives one.
    """

    token: Token
    usd: Decimal
    time: datetime
    requested: datetime
    provenance: Provenance
    confidence: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.usd, Decimal) or not self.usd.is_finite() or self.usd < 0:
            raise InputError("must be a finite non-negative Decimal", field="usd",
                             value=self.usd)

    @property
    def distance(self) -> timedelta:
        """How far the price's own time is from the moment asked."""
        return abs(self.time - self.requested)


@attrs.frozen(kw_only=True)
class Valuation:
    """The value of an amount at a moment: ``amount × price``, or no value and why.

    ``value`` is ``None`` when no price could be used; ``note`` then says why (no price
    at that moment, a price too far from it, decimals unknown). ``price`` is the price
    used, or the one refused.
    """

    currency: str
    value: Decimal | None
    price: Price | None
    note: str | None = None


def refused_price(price: Price, tolerance: timedelta) -> str | None:
    """Why ``price`` cannot value its moment (its time is further than ``tolerance``),
    or ``None`` when it can."""
    if price.distance > tolerance:
        return (f"the price of {price.token} from {price.provenance.provider} is from "
                f"{format_time(price.time)}, {price.distance} away from "
                f"{format_time(price.requested)}, beyond the tolerance of {tolerance}")
    return None


def valuation(amount: Amount, price: Price | None, tolerance: timedelta = DEFAULT_TOLERANCE,
              *, missing: str = "no price at that moment") -> Valuation:
    """The USD value of ``amount`` at the price's requested moment.

    Exact: the amount's human value (a Decimal) times the price, never rounded. No
    value when ``price`` is ``None`` (``missing`` says why), when its time is beyond
    ``tolerance`` or when the amount's decimals are unknown.
    """
    if price is None:
        return Valuation(currency="usd", value=None, price=None, note=missing)
    refused = refused_price(price, tolerance)
    if refused is not None:
        return Valuation(currency="usd", value=None, price=price, note=refused)
    human = amount.value
    if human is None:
        return Valuation(currency="usd", value=None, price=price,
                         note="the token's decimals are unknown, so the amount has no "
                         "human value to price")
    return Valuation(currency="usd", value=multiply(human, price.usd), price=price)
