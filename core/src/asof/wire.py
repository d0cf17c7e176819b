"""asof's own wire formats for canonical records: JSON, JSONL and CSV.

One cattrs converter, built once, holds every rule; the records stay free of them.

- Decimals are strings (``"1.5"``); raw amounts are strings of digits so that any size
  survives every JSON reader; datetimes are ISO 8601 with ``Z``.
- A wallet is ``"chain:address"``.
- A JSONL line is one record with a ``kind`` key (:data:`KINDS`); this is the format
  ``asof history --format jsonl`` writes and ``asof import`` reads.
- A CSV row (:func:`to_csv_row`, :func:`loads_csv_row`) spreads nested records over
  dotted columns and keeps collections as JSON text; ``asof import`` reads it too.
- Reading is strict: unknown keys, floats, naive datetimes and truncating conversions
  are refused with :class:`~asof.errors.InputError` naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from asof.errors import AsofError, InputError
from asof.exact import to_decimal, to_int
from asof.points import format_time
from asof.records import (
    Amount,
    BalanceAt,
    BalanceChange,
    BlockRef,
    ChainSupport,
    HoldingsPoint,
    LedgerEntry,
    Point,
    Provenance,
    Token,
    Wallet,
)

__all__ = [
    "KINDS",
    "converter",
    "csv_columns",
    "dumps_line",
    "flatten",
    "from_csv_row",
    "from_data",
    "kind_of",
    "loads_csv_row",
    "loads_line",
    "to_csv_row",
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
    conv.register_unstructure_hook(datetime, format_time)
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
        Point, lambda p: {"time": format_time(p.time)} if p.time else {"block": p.block}
    )
    conv.register_structure_hook_func(
        lambda t: getattr(t, "__origin__", None) is Mapping, _mapping_in
    )
    return conv


def _bool_in(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
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
    except RecursionError:
        raise InputError("not JSON asof reads: nested too deeply") from None
    except ValueError as exc:  # an integer longer than Python reads (4,300 digits)
        raise InputError(f"not JSON asof reads: {exc}") from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object")
    kind = data.pop("kind", None)
    if not isinstance(kind, str) or kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}",
                         field="kind", value=kind)
    if kind == "balance_change":
        found = _fast.change(data)
        if found is not None:
            return found
    return from_data(KINDS[kind], data)


_CHANGE_KEYS = frozenset(("wallet", "token", "token_account", "balance", "block",
                          "provenance"))
_TOKEN_KEYS = frozenset(("chain", "address", "standard", "decimals", "symbol"))
_BLOCK_KEYS = frozenset(("number", "hash", "timestamp", "transaction", "index"))
_PROVENANCE_KEYS = frozenset(("provider", "derived", "archived", "source", "fetched_at",
                              "echo", "caveats", "read_at", "resolved"))


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str_in(value, str)


def _opt_int(value: Any, field: str) -> int | None:
    return None if value is None else to_int(value, field=field)


class _FastDecoder:
    """A fixed-shape decoder for the canonical form of a balance change (the form
    :func:`dumps_line` writes and ``asof export`` / ``asof import`` move by the
    million), with the same checks as the generic converter: the same hooks for
    text, integers (:func:`~asof.exact.to_int`: no float, no truncation), booleans
    and times. It answers only when every key set is exactly the canonical one and
    ``read_at``/``resolved`` are null; anything else returns ``None`` and goes the
    generic way (which also words the errors). Wallets, tokens and provenance seen
    before are reused (records are frozen)."""

    def __init__(self) -> None:
        self._wallets: dict[str, Wallet] = {}
        self._tokens: dict[tuple[Any, ...], Token] = {}
        self._provenance: dict[tuple[Any, ...], Provenance] = {}

    def change(self, data: dict[str, Any]) -> BalanceChange | None:
        try:
            return self._change(data)
        except (AsofError, ValueError, TypeError, KeyError, AttributeError):
            return None  # the generic path says what is wrong, naming the field

    def _change(self, data: dict[str, Any]) -> BalanceChange | None:
        if data.keys() != _CHANGE_KEYS:
            return None
        token, balance, block, prov = (data["token"], data["balance"], data["block"],
                                       data["provenance"])
        if not (type(token) is dict and token.keys() == _TOKEN_KEYS and
                type(balance) is dict and type(block) is dict and
                block.keys() == _BLOCK_KEYS and type(prov) is dict and
                prov.keys() == _PROVENANCE_KEYS and prov["read_at"] is None and
                prov["resolved"] is None):
            return None
        if not ({"raw", "decimals"} <= balance.keys() <= {"raw", "decimals", "value"}):
            return None
        text = _str_in(data["wallet"], str)
        wallet = self._wallets.get(text)
        if wallet is None:
            wallet = self._wallets[text] = Wallet.parse(text)
        return BalanceChange(
            wallet=wallet, token=self._token(token),
            token_account=_opt_str(data["token_account"]),
            balance=Amount(raw=to_int(balance["raw"], field="value"),
                           decimals=_opt_int(balance["decimals"], "value")),
            block=BlockRef(number=_opt_int(block["number"], "value"),
                           hash=_opt_str(block["hash"]),
                           timestamp=None if block["timestamp"] is None
                           else _time_in(block["timestamp"], datetime),
                           transaction=_opt_str(block["transaction"]),
                           index=_opt_int(block["index"], "value")),
            provenance=self._prov(prov))

    def _token(self, data: dict[str, Any]) -> Token:
        key = (data["chain"], data["address"], data["standard"], data["decimals"],
               data["symbol"])
        found = self._tokens.get(key) if all(
            type(v) in (str, int, type(None)) for v in key) else None
        if found is None:
            found = Token(chain=_str_in(key[0], str), address=_str_in(key[1], str),
                          standard=_str_in(key[2], str), decimals=_opt_int(key[3], "value"),
                          symbol=_opt_str(key[4]))
            if len(self._tokens) < 10_000:
                self._tokens[key] = found
        return found

    def _prov(self, data: dict[str, Any]) -> Provenance:
        caveats = data["caveats"]
        if type(caveats) is not list:
            raise TypeError("caveats")
        echo = data["echo"]
        key = (data["provider"], data["derived"], data["archived"], data["source"],
               data["fetched_at"], *caveats) if echo is None else None
        found = None if key is None or not all(
            type(v) in (str, bool, type(None)) for v in key) else self._provenance.get(key)
        if found is None:
            found = Provenance(
                provider=_str_in(data["provider"], str),
                derived=_bool_in(data["derived"], bool),
                archived=_bool_in(data["archived"], bool),
                source=_opt_str(data["source"]),
                fetched_at=None if data["fetched_at"] is None
                else _time_in(data["fetched_at"], datetime),
                echo=None if echo is None else _mapping_in(echo, Mapping),
                caveats=tuple(_str_in(c, str) for c in caveats))
            if key is not None and len(self._provenance) < 10_000:
                self._provenance[key] = found
        return found


_fast = _FastDecoder()


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


# ---------------------------------------------------------------------------- CSV
#
# A CSV row is a record's JSON data with nested records spread over dotted columns
# (``balance.raw``, ``block.timestamp``); collections and free-form mappings (``echo``,
# ``caveats``, ``breakdown``) are JSON text in one column; ``None`` is an empty cell and
# booleans are ``true`` / ``false``. Rows written by :func:`flatten` (where ``echo`` is
# spread over ``provenance.echo.<key>`` columns) read back too.

_LEAF_RECORDS: tuple[type[Any], ...] = (Wallet,)
_EXTRA_COLUMNS: dict[type[Any], tuple[str, ...]] = {Amount: ("value",)}

# One slot per field: name, nested record class (or None), optional, JSON text, has default.
_Slot = tuple[str, "type[Any] | None", bool, bool, bool]
_PLANS: dict[type[Any], tuple[_Slot, ...]] = {}


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if get_origin(tp) in (Union, UnionType) and type(None) in get_args(tp):
        rest = [arg for arg in get_args(tp) if arg is not type(None)]
        return (rest[0] if len(rest) == 1 else tp), True
    return tp, False


def _plan(cls: type[Any]) -> tuple[_Slot, ...]:
    """How each field of a record class maps to CSV columns (computed once per class)."""
    found = _PLANS.get(cls)
    if found is not None:
        return found
    hints = get_type_hints(cls)
    slots: list[_Slot] = []
    for field in attrs.fields(cls):
        inner, optional = _unwrap_optional(hints[field.name])
        sub = inner if (isinstance(inner, type) and attrs.has(inner)
                        and not issubclass(inner, _LEAF_RECORDS)) else None
        origin = get_origin(inner) or inner
        as_json = sub is None and isinstance(origin, type) and issubclass(
            origin, tuple | list | dict | Mapping)
        slots.append((field.name, sub, optional, as_json, field.default is not attrs.NOTHING))
    _PLANS[cls] = plan = tuple(slots)
    return plan


def csv_columns(cls: type[Any], prefix: str = "") -> list[str]:
    """The CSV columns of a record class, in field order (without ``kind``)."""
    out: list[str] = []
    for name, sub, _, _, _ in _plan(cls):
        if sub is not None:
            out.extend(csv_columns(sub, f"{prefix}{name}."))
        else:
            out.append(prefix + name)
    out.extend(prefix + extra for extra in _EXTRA_COLUMNS.get(cls, ()))
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def to_csv_row(record: Any) -> dict[str, str]:
    """A record as one CSV row (column -> text), ``kind`` first when it has one."""
    out: dict[str, str] = {}
    if type(record) in _KIND_OF:
        out["kind"] = _KIND_OF[type(record)]

    def walk(cls: type[Any], data: Any, prefix: str) -> None:
        for name, sub, _, _, _ in _plan(cls):
            value = data.get(name) if isinstance(data, dict) else None
            if sub is not None and (value is None or isinstance(value, dict)):
                walk(sub, value or {}, f"{prefix}{name}.")
            else:
                out[prefix + name] = _cell(value)
        for extra in _EXTRA_COLUMNS.get(cls, ()):
            out[prefix + extra] = _cell(data.get(extra) if isinstance(data, dict) else None)

    walk(type(record), to_data(record), "")
    return out


def _spread(row: Mapping[str, str], prefix: str, used: set[str]) -> dict[str, Any] | None:
    """A mapping rebuilt from ``prefix.<key>`` columns (the form :func:`flatten` writes)."""
    found: dict[str, Any] = {}
    for column, text in row.items():
        if column.startswith(prefix) and text not in ("", None):
            used.add(column)
            node = found
            *parents, leaf = column[len(prefix):].split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = text
    return found or None


def from_csv_row(cls: type[R], row: Mapping[str, str]) -> R:
    """A record of type ``cls`` from a CSV row (a ``kind`` column is ignored).

    Raises :class:`~asof.errors.InputError` naming the column: a bad value, a missing
    value, or a column that belongs to no field of the record while holding a value.
    """
    used: set[str] = {"kind"}

    def walk(target: type[Any], prefix: str) -> dict[str, Any] | None:
        data: dict[str, Any] = {}
        seen = False
        for name, sub, optional, as_json, has_default in _plan(target):
            column = prefix + name
            if sub is not None:
                value = walk(sub, column + ".")
                if value is not None:
                    data[name] = value
                    seen = True
                elif not has_default:
                    data[name] = None if optional else {}
                continue
            if column not in row:
                if as_json:
                    spread = _spread(row, column + ".", used)
                    if spread is not None:
                        data[name] = spread
                        seen = True
                continue
            used.add(column)
            text = row[column]
            if text in ("", None):
                if not has_default:
                    data[name] = None
                continue
            seen = True
            if as_json:
                try:
                    data[name] = json.loads(text, parse_float=Decimal)
                except json.JSONDecodeError as exc:
                    raise InputError(f"not JSON: {exc.msg}", field=column) from None
                except (RecursionError, ValueError):
                    raise InputError("not JSON asof reads (nested too deeply, or an "
                                     "integer too long)", field=column) from None
            else:
                data[name] = text
        for extra in _EXTRA_COLUMNS.get(target, ()):
            used.add(prefix + extra)
        return data if seen else None

    data = walk(cls, "") or {}
    stray = sorted(c for c, v in row.items() if c not in used and c is not None and v)
    if stray:
        raise InputError(f"unknown column(s) for {cls.__name__}: {', '.join(stray)}",
                         field=stray[0])
    return from_data(cls, data)


def loads_csv_row(row: Mapping[str, str]) -> Any:
    """A record from a CSV row with a ``kind`` column; errors name the column."""
    kind = row.get("kind")
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}",
                         field="kind", value=kind)
    return from_csv_row(KINDS[kind], row)
