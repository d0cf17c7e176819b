"""Results as tables: Arrow, pandas and polars conversions that keep every number exact.

Behind the ``asof[dataframe]`` extra (pyarrow, pandas, polars). Records are flattened
by :func:`asof.wire.flatten` (``amount.raw``, ``token.address``, ...), with these types:

- raw amounts (``*.raw``) and other integers: ``int64`` when every value fits, else
  text (an amount such as ``2**128 - 1`` is never truncated nor turned into a float);
- Decimals (USD values, prices, human amounts): ``decimal128`` at the column's largest
  scale and precision when it fits in 38 digits, ``decimal256`` up to 76, else text;
- times: UTC timestamps (microseconds);
- anything else: text (JSON for nested lists and mappings).

A portfolio becomes one row per holding, with the portfolio's wallet and point.
:class:`Results` is a tuple of records with ``to_arrow()``, ``to_pandas()``,
``to_polars()`` and an HTML table for notebooks; :class:`Stream` and
:class:`AsyncStream` wrap the client's iterators with the same conversions.
"""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar

import attrs

from asof import wire

__all__ = ["AsyncStream", "Results", "Stream", "rows", "to_arrow", "to_pandas", "to_polars"]

T = TypeVar("T")
_INT64 = (-(2**63), 2**63 - 1)
_EXTRA = "install the dataframe extra: pip install 'asof[dataframe]'"


def rows(records: Iterable[Any]) -> list[dict[str, Any]]:
    """Flat rows of ``records`` (a portfolio gives one row per holding)."""
    from asof.portfolio.records import Portfolio

    found: list[dict[str, Any]] = []
    for record in records:
        if isinstance(record, Portfolio):
            head = {"wallet": str(record.wallet), "requested": record.requested.time,
                    "requested_block": record.requested.block}
            for holding in record.holdings:
                row = dict(head)
                row.update(_flat(attrs.evolve(holding, wallet=record.wallet)))
                row.pop("wallet.chain", None)
                row.pop("wallet.address", None)
                found.append(row)
        elif attrs.has(type(record)):
            found.append(_flat(record))
        else:
            found.append(dict(record))
    return found


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _names(kind: type) -> tuple[str, ...] | None:
    """The field names of an attrs class (cached), ``None`` for anything else."""
    if kind not in _FIELDS:
        _FIELDS[kind] = (tuple(f.name for f in attrs.fields(kind)) if attrs.has(kind)
                         else None)
    return _FIELDS[kind]


def _flat(record: Any) -> dict[str, Any]:
    """Like :func:`asof.wire.flatten` but keeping Python values (ints, Decimals, times)."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        names = _names(type(value))
        if names is not None:
            for name in names:
                walk(f"{prefix}{name}.", getattr(value, name))
            return
        key = prefix[:-1]
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, list | tuple | dict) or (
                value is not None and not isinstance(value, int | str | Decimal | datetime)):
            value = json.dumps(wire.to_data(value) if not isinstance(value, dict)
                               else value, default=str) if value != () else None
        out[key] = value

    walk("", record)
    return out


def _column(values: list[Any]) -> Any:
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if all(_INT64[0] <= v <= _INT64[1] for v in present):
            return pa.array(values, type=pa.int64())
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
    if present and all(isinstance(v, Decimal) for v in present):
        return _decimals(values, present)
    if present and all(isinstance(v, datetime) for v in present):
        return pa.array(values, type=pa.timestamp("us", tz="UTC"))
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _decimals(values: list[Any], present: list[Decimal]) -> Any:
    import pyarrow as pa

    scale = max(max(-v.as_tuple().exponent, 0) for v in present)  # type: ignore[operator]
    whole = max(len(v.as_tuple().digits) + v.as_tuple().exponent  # type: ignore[operator]
                for v in present)
    precision = max(whole, 1) + scale
    if precision <= 38:
        kind = pa.decimal128(precision, scale)
    elif precision <= 76:
        kind = pa.decimal256(precision, scale)
    else:
        return pa.array([None if v is None else format(v, "f") for v in values],
                        type=pa.string())
    return pa.array(values, type=kind)


def to_arrow(records: Iterable[Any]) -> Any:
    """A ``pyarrow.Table`` of ``records``, exact (see the module docstring)."""
    try:
        import pyarrow as pa
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(_EXTRA) from exc
    found = rows(records)
    names: dict[str, None] = {}
    for row in found:
        names.update(dict.fromkeys(row))
    return pa.table({name: _column([row.get(name) for row in found]) for name in names})


def to_pandas(records: Iterable[Any]) -> Any:
    """A pandas DataFrame of ``records`` through Arrow (decimals stay Decimal objects,
    integers stay int64 or text)."""
    return to_arrow(records).to_pandas()


def to_polars(records: Iterable[Any]) -> Any:
    """A polars DataFrame of ``records`` through Arrow (decimals as ``pl.Decimal``)."""
    try:
        import polars as pl
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(_EXTRA) from exc
    return pl.from_arrow(to_arrow(records))


def html_table(records: Iterable[Any]) -> str:
    """An HTML table of ``records`` (what a notebook shows), values as exact text."""
    found = rows(records)
    names: dict[str, None] = {}
    for row in found:
        names.update(dict.fromkeys(row))

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        return str(value)

    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell(r.get(n)))}</td>" for n in names)
                   + "</tr>" for r in found)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Results(tuple[T, ...]):
    """A tuple of result records that converts to tables."""

    __slots__ = ()

    def to_arrow(self) -> Any:
        """See :func:`to_arrow`."""
        return to_arrow(self)

    def to_pandas(self) -> Any:
        """See :func:`to_pandas`."""
        return to_pandas(self)

    def to_polars(self) -> Any:
        """See :func:`to_polars`."""
        return to_polars(self)

    def _repr_html_(self) -> str:
        return html_table(self)


class Stream(Generic[T]):
    """An iterator of result records; ``to_pandas()`` and friends read it to the end."""

    def __init__(self, items: Iterator[T]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[T]:
        return self._items

    def __next__(self) -> T:
        return next(self._items)

    def collect(self) -> Results[T]:
        """Every remaining record."""
        return Results(self._items)

    def to_arrow(self) -> Any:
        """See :func:`to_arrow`."""
        return to_arrow(self._items)

    def to_pandas(self) -> Any:
        """See :func:`to_pandas`."""
        return to_pandas(self._items)

    def to_polars(self) -> Any:
        """See :func:`to_polars`."""
        return to_polars(self._items)


class AsyncStream(Generic[T]):
    """An async iterator of result records; ``await stream.to_pandas()`` reads it to
    the end."""

    def __init__(self, items: AsyncIterator[T]) -> None:
        self._items = items

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items

    async def __anext__(self) -> T:
        return await self._items.__anext__()

    async def aclose(self) -> None:
        """Close the underlying iterator."""
        close = getattr(self._items, "aclose", None)
        if close is not None:
            await close()

    async def collect(self) -> Results[T]:
        """Every remaining record."""
        return Results([item async for item in self._items])

    async def to_arrow(self) -> Any:
        """See :func:`to_arrow`."""
        return to_arrow(await self.collect())

    async def to_pandas(self) -> Any:
        """See :func:`to_pandas`."""
        return to_pandas(await self.collect())

    async def to_polars(self) -> Any:
        """See :func:`to_polars`."""
        return to_polars(await self.collect())
