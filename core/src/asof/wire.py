"""asof's own wire formats for canonical records: JSON, JSONL and CSV.

One cattrs converter, built once, holds every rule; the records stay free of them.

- Decimals are strings (``"1.5"``); raw amounts are strings of digits so that any size
  survives every JSON reader; datetimes are ISO 8601 with ``Z``.
- A wallet is ``"chain:address"``.
- A JSONL line is one record with a ``kind`` key (:data:`KINDS`); this is the format
  ``asof history --format jsonl`` writes and ``asof import`` reads.
- Reading is strict: unknown keys, floats, naive datetimes and truncating conversions
  are refused with :class:`~asof.errors.InputError` naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from asof.errors import AsofError, InputError
from asof.exact import to_decimal, to_int
from asof.records import (
    Amount,
    BalanceAt,
    BalanceChange,
    ChainSupport,
    HoldingsPoint,
    LedgerEntry,
    Point,
    Wallet,
)

__all__ = [
    "KINDS",
    "converter",
    "dumps_line",
    "flatten",
    "from_data",
    "kind_of",
    "loads_line",
    "to_data",
]

R = TypeVar("R")

#: The record kinds of a JSONL line, by their ``kind`` key.
KINDS: dict[str, type[Any]] = {
    "balance_change": BalanceChange,
    "holdings_point": HoldingsPoint,
    "ledger_entry": LedgerEntry,
    "balance_at": BalanceAt,
}
_KIND_OF = {cls: name for name, cls in KINDS.items()}


def _time_out(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _time_in(value: Any, _: Any) -> datetime:
    if not isinstance(value, str):
        raise InputError(f"expected an ISO 8601 time, got {value!r}", value=value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(f"expected an ISO 8601 time, got {value!r}", value=value) from None
    if parsed.tzinfo is None:
        raise InputError(f"time {value!r} has no offset; write it with Z", value=value)
    return parsed.astimezone(UTC)


def _decimal_out(value: Decimal) -> str:
    return format(value, "f")


def _build() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(Decimal, _decimal_out)
    conv.register_structure_hook(Decimal, lambda v, _: to_decimal(v, field="value"))
    conv.register_structure_hook(int, lambda v, _: to_int(v, field="value"))
    conv.register_structure_hook(bool, _bool_in)
    conv.register_structure_hook(str, _str_in)
    conv.register_unstructure_hook(datetime, _time_out)
    conv.register_structure_hook(datetime, _time_in)
    conv.register_unstructure_hook(Enum, lambda e: e.value)
    conv.register_unstructure_hook(Wallet, str)
    conv.register_structure_hook(Wallet, lambda v, _: Wallet.parse(_str_in(v, str)))
    conv.register_unstructure_hook(
        Amount, lambda a: {"raw": str(a.raw), "decimals": a.decimals,
                           **({"value": _decimal_out(a.value)} if a.value is not None else {})}
    )
    amount_in = make_dict_structure_fn(Amount, conv)

    def _amount_in(value: Any, cls: type[Amount]) -> Amount:
        if isinstance(value, Mapping) and "value" in value:
            value = {k: v for k, v in value.items() if k != "value"}
        return amount_in(value, cls)

    conv.register_structure_hook(Amount, _amount_in)
    conv.register_unstructure_hook(
        Point, lambda p: {"time": _time_out(p.time)} if p.time else {"block": p.block}
    )
    conv.register_structure_hook_func(
        lambda t: getattr(t, "__origin__", None) is Mapping, _mapping_in
    )
    return conv


def _bool_in(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise InputError(f"expected true or false, got {value!r}", value=value)


def _str_in(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected text, got {value!r}", value=value)
    return value


def _mapping_in(value: Any, _: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(f"expected an object, got {value!r}", value=value)
    return dict(value)


#: The converter behind every function here.
converter = _build()


def to_data(record: Any) -> Any:
    """A record (or list of records) as JSON-ready data."""
    return converter.unstructure(record)


def from_data(cls: type[R], data: Any) -> R:
    """A record of type ``cls`` from JSON data, strictly.

    Raises :class:`~asof.errors.InputError` whose ``field`` is the dotted path of the
    first offending field and whose message keeps the reason.
    """
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, AsofError, ValueError, TypeError, KeyError) as exc:
        field, reason = _first_error(exc)
        raise InputError(reason, field=field or None) from None


def _first_error(exc: BaseException, path: str = "") -> tuple[str, str]:
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        notes = getattr(exc, "exceptions", [])
        for sub in notes:
            note = next(iter(getattr(sub, "__notes__", []) or []), "")
            name = getattr(note, "name", None) or getattr(note, "index", None)
            if name is None and isinstance(note, str):
                name = note.rsplit(" ", 1)[-1] if note else None
            sub_path = f"{path}.{name}" if path and name is not None else str(name or path)
            return _first_error(sub, sub_path)
        return path, str(exc)
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return path, f"unknown field(s): {', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, KeyError):
        return path, f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    if isinstance(exc, InputError):
        inner = exc.field if exc.field and exc.field not in ("value",) else None
        message = str(exc)
        if exc.field and message.startswith(f"{exc.field}: "):
            message = message[len(exc.field) + 2:]
        if path and inner and path.rsplit(".", 1)[-1] != inner:
            return f"{path}.{inner}", message
        return path or (inner or ""), message
    return path, str(exc)


def kind_of(record: Any) -> str:
    """The JSONL ``kind`` of a record."""
    try:
        return _KIND_OF[type(record)]
    except KeyError:
        raise InputError(f"{type(record).__name__} has no JSONL form", field="kind") from None


def dumps_line(record: Any) -> str:
    """One JSONL line (no newline) for a record, ``kind`` first."""
    data = {"kind": kind_of(record), **to_data(record)}
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def loads_line(text: str) -> Any:
    """A record from one JSONL line; errors name the field (the caller adds the line)."""
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object")
    kind = data.pop("kind", None)
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}",
                         field="kind", value=kind)
    return from_data(KINDS[kind], data)


def flatten(record: Any) -> dict[str, Any]:
    """A record as one flat row of dotted column names, for CSV and tables."""
    data = to_data(record)
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else key, sub)
        elif isinstance(value, list):
            out[prefix] = json.dumps(value, separators=(",", ":"))
        else:
            out[prefix] = value

    walk("", data)
    return out


# Records with a JSONL kind must round-trip; ChainSupport is output-only but structured
# the same way.
assert attrs.has(ChainSupport)
