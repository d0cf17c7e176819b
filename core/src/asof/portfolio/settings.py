"""The ``[portfolio]`` table: the spam policy and the price tolerance.

::

    [portfolio]
    allow = ["solana:EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"]  # only these
    deny = ["solana:Spam1111111111111111111111111111111111111"]
    min_value_usd = "1.00"        # hides holdings valued below it (valued ones only)
    price_tolerance = "1h"        # a price further than this from the moment is refused

Every key is optional; with none, no spam policy applies and the tolerance is one hour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import attrs

from asof.errors import ConfigError, InputError
from asof.exact import to_decimal
from asof.portfolio.spam import SpamPolicy
from asof.prices import DEFAULT_TOLERANCE

__all__ = ["PortfolioSettings", "parse_duration", "portfolio_settings"]

_KEYS = ("allow", "deny", "min_value_usd", "price_tolerance")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$", re.IGNORECASE)
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@attrs.frozen
class PortfolioSettings:
    """The spam policy and price tolerance a deployment configured."""

    spam: SpamPolicy = attrs.field(factory=SpamPolicy)
    tolerance: timedelta = DEFAULT_TOLERANCE


def parse_duration(text: object, where: str = "price_tolerance") -> timedelta:
    """``90s``, ``30m``, ``1h`` or ``2d`` as a timedelta (positive)."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ConfigError(f"{where}: expected a positive duration such as 30m, 1h or 2d, "
                          f"got {text!r}")
    return timedelta(**{_UNIT[match.group(2).lower()]: int(match.group(1))})


def _list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of token addresses")
    return list(value)


def portfolio_settings(table: Mapping[str, Any], source: str = "configuration"
                       ) -> PortfolioSettings:
    """Read the ``[portfolio]`` table; unknown keys and bad values are errors."""
    for key in table:
        if key not in _KEYS:
            raise ConfigError(f"{source}: [portfolio] unknown key {key!r} "
                              f"(known: {', '.join(_KEYS)})")
    allow = (_list(table["allow"], f"{source}: [portfolio] allow")
             if "allow" in table else None)
    deny = _list(table.get("deny", []), f"{source}: [portfolio] deny")
    minimum = None
    if "min_value_usd" in table:
        try:
            minimum = to_decimal(table["min_value_usd"], field="min_value_usd")
        except InputError as exc:
            raise ConfigError(f"{source}: [portfolio] min_value_usd: {exc}") from exc
    tolerance = DEFAULT_TOLERANCE
    if "price_tolerance" in table:
        tolerance = parse_duration(table["price_tolerance"],
                                   f"{source}: [portfolio] price_tolerance")
    return PortfolioSettings(spam=SpamPolicy.of(allow=allow, deny=deny,
                                                min_value_usd=minimum),
                             tolerance=tolerance)
