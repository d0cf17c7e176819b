"""Parameter types for the arguments every ``asof`` command shares.

:data:`WALLET` (``CHAIN:ADDRESS``), :data:`TIME`, :data:`POINT`, :data:`CHAIN`,
:data:`CAPABILITY`, and :func:`time_range_options` for ``--from`` / ``--to``. A value
that cannot be read is a click usage error (exit 2) with asof's own message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from asof.chains import resolve_chain
from asof.errors import AsofError
from asof.points import parse_point, parse_time
from asof.records import Capability, Point, Wallet

__all__ = [
    "CAPABILITY",
    "CHAIN",
    "POINT",
    "TIME",
    "WALLET",
    "CapabilityType",
    "ChainType",
    "PointType",
    "TimeType",
    "WalletType",
    "time_range_options",
]

F = TypeVar("F", bound=Callable[..., Any])

class WalletType(click.ParamType[Wallet]):
    """``CHAIN:ADDRESS`` (or CAIP-10) read into a :class:`~asof.records.Wallet`.

    With ``default_chain`` a bare address is accepted too.
    """

    name = "CHAIN:WALLET"

    def __init__(self, default_chain: str | None = None) -> None:
        self.default_chain = default_chain

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Wallet:
        if isinstance(value, Wallet):
            return value
        text = str(value).strip()
        try:
            if self.default_chain is not None and ":" not in text:
                return Wallet(chain=self.default_chain, address=text)
            return Wallet.parse(text)
        except AsofError as exc:
            self.fail(_strip_field(exc), param, ctx)


class TimeType(click.ParamType[datetime]):
    """A time in any form :func:`asof.points.parse_time` reads, as aware UTC."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return parse_time(value)
        try:
            return parse_time(str(value), field=_param_name(param, "time"))
        except AsofError as exc:
            self.fail(_strip_field(exc), param, ctx)


class PointType(click.ParamType[Point]):
    """A time, or ``slot:N`` / ``block:N``, read by :func:`asof.points.parse_point`."""

    name = "POINT"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Point:
        if isinstance(value, Point):
            return value
        try:
            return parse_point(str(value), field=_param_name(param, "at"))
        except AsofError as exc:
            self.fail(_strip_field(exc), param, ctx)


class ChainType(click.ParamType[str]):
    """A chain name, alias or CAIP-2 id, converted to the canonical name."""

    name = "CHAIN"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        try:
            return resolve_chain(str(value)).name
        except AsofError as exc:
            self.fail(str(exc), param, ctx)


class CapabilityType(click.ParamType[Capability]):
    """A capability (``balance_at``, ``balance-history``, ...)."""

    name = "CAPABILITY"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Capability:
        if isinstance(value, Capability):
            return value
        text = str(value).strip().lower().replace("-", "_")
        try:
            return Capability(text)
        except ValueError:
            names = ", ".join(c.value for c in Capability)
            self.fail(f"unknown capability {value!r}; use one of {names}", param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(c.value) for c in Capability if c.value.startswith(incomplete)]


def _param_name(param: click.Parameter | None, default: str) -> str:
    return (param.name or default) if param is not None else default


def _strip_field(exc: AsofError) -> str:
    """The message without the ``field: `` prefix click already shows."""
    text = str(exc)
    field = getattr(exc, "field", None)
    if field and text.startswith(f"{field}: "):
        return text[len(field) + 2:]
    return text


#: ``CHAIN:ADDRESS`` -> :class:`~asof.records.Wallet`.
WALLET = WalletType()
#: A time -> aware UTC :class:`~datetime.datetime`.
TIME = TimeType()
#: A time or ``slot:N`` / ``block:N`` -> :class:`~asof.records.Point`.
POINT = PointType()
#: A chain spelling -> its canonical name.
CHAIN = ChainType()
#: A capability name -> :class:`~asof.records.Capability`.
CAPABILITY = CapabilityType()


def time_range_options(
    *, required: bool = False, start_help: str | None = None, end_help: str | None = None
) -> Callable[[F], F]:
    """Add ``--from`` and ``--to`` (passed as ``start`` and ``end``, aware UTC datetimes
    or ``None``). The range is start-inclusive, end-exclusive."""

    def decorator(func: F) -> F:
        func = click.option(
            "--to", "end", type=TIME, required=required,
            help=end_help or "End of the range (exclusive): a time or date, UTC unless an "
            "offset is given.",
        )(func)
        return click.option(
            "--from", "start", type=TIME, required=required,
            help=start_help or "Start of the range (inclusive): a time or date, UTC unless "
            "an offset is given.",
        )(func)

    return decorator
