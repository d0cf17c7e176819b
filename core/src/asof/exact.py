"""Strict conversions for numbers that come from outside (JSON, CSV, the command line).

No float ever touches an amount: a float given here is refused, and JSON must be parsed
with ``parse_float=Decimal`` (the transport does this). Integers stay exact at any size.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation, localcontext

from asof.errors import InputError

__all__ = ["multiply", "scale", "to_decimal", "to_int", "to_raw"]

_INT_RE = re.compile(r"^[+-]?\d+$")


def to_int(value: object, *, field: str, error: type[InputError] = InputError) -> int:
    """An exact integer from an int, a string of digits or an integral Decimal.

    Booleans, floats, fractions and anything else are refused with ``error`` naming
    ``field``: the caller keeps the offending value in the message, never a truncation.
    """
    if isinstance(value, bool):
        raise error("expected an integer, got a boolean", field=field, value=value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        return int(value.strip())
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise error(f"expected an integer, got {value!r}", field=field, value=value)


def to_decimal(value: object, *, field: str, error: type[InputError] = InputError) -> Decimal:
    """An exact Decimal from a Decimal, an int or a decimal string; floats are refused."""
    if isinstance(value, bool):
        raise error("expected a decimal number, got a boolean", field=field, value=value)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise error(f"expected a decimal number, got {value!r}", field=field,
                        value=value) from None
    else:
        raise error(f"expected a decimal number, got {type(value).__name__} {value!r}",
                    field=field, value=value)
    if not result.is_finite():
        raise error(f"expected a finite number, got {value!r}", field=field, value=value)
    return result


def scale(raw: int, decimals: int) -> Decimal:
    """``raw`` base units as a human value with ``decimals`` places, exactly.

    Built from text, not with ``scaleb``, which would round to the context's 28 digits.
    """
    return Decimal(f"{raw}E{-decimals}")


def to_raw(value: Decimal, decimals: int, *, field: str = "value",
           error: type[InputError] = InputError) -> int:
    """``value`` as an integer of base units with ``decimals`` places, exactly.

    The inverse of :func:`scale`, done on the digits (never with ``scaleb``, which rounds
    to the context's precision). A value with more decimal places than ``decimals`` is
    refused with ``error`` naming ``field``, never rounded.
    """
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise error(f"{value} is not a finite number", field=field, value=value)
    whole = int("".join(map(str, digits)) or "0")
    shift = exponent + decimals
    raw: int
    if shift >= 0:
        raw = whole * int(10**shift)
    else:
        raw, rest = divmod(whole, int(10**-shift))
        if rest:
            raise error(f"{value} has more than {decimals} decimal places", field=field,
                        value=value)
    return -raw if sign else raw


def multiply(a: Decimal, b: Decimal) -> Decimal:
    """``a × b`` exactly: the context's precision (28 digits by default) never rounds it."""
    digits = len(a.as_tuple().digits) + len(b.as_tuple().digits)
    with localcontext() as ctx:
        ctx.prec = max(digits, 28)
        return a * b
