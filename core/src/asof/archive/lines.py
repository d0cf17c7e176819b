"""Balance changes by the million: the fixed-shape JSONL line of a balance change read
straight into storage form, and written straight from a stored row.

``asof import`` and ``asof export`` move balance changes in one canonical shape (the
line :func:`asof.wire.dumps_line` writes). :class:`ChangeLines` decodes that shape with
msgspec into a :class:`~asof.archive.backend.ChangeRow` (what the storage writes), with
the checks of the generic converter: integers are exact (no float reaches an amount),
times carry an offset, wallets and tokens are validated by their own classes (once per
distinct value). Any other shape, and any value it is not sure of, gives ``None``: the
caller then reads the line the generic way (:func:`asof.wire.loads_line`), which also
words the error. :class:`ChangeLineEncoder` writes the same line from a stored row
without building the record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from json.encoder import encode_basestring
from typing import Any, Literal, TypeVar

import msgspec

from asof.archive.backend import ChangeRow
from asof.archive.coverage import to_us
from asof.errors import AsofError
from asof.records import Provenance, Token, Wallet

__all__ = ["ChangeLineEncoder", "ChangeLines", "format_us", "row_of"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
_BIG = 14_000  # bits: Python reads no longer integer text (4,300 digits) either
_CACHED = 10_000
R = TypeVar("R")


class _Token(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    chain: str
    address: str
    standard: str
    decimals: int | None
    symbol: str | None


class _Amount(msgspec.Struct, forbid_unknown_fields=True):
    raw: int | str
    decimals: int | None
    value: str | None = None  # written for people; the generic reader ignores it too


class _Block(msgspec.Struct, forbid_unknown_fields=True):
    number: int | None
    hash: str | None
    timestamp: str | None
    transaction: str | None
    index: int | None


class _Provenance(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    provider: str
    derived: bool
    archived: bool
    source: str | None
    fetched_at: str | None
    echo: None
    caveats: tuple[str, ...]
    read_at: None
    resolved: None


class _Change(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["balance_change"]
    wallet: str
    token: _Token
    token_account: str | None
    balance: _Amount
    block: _Block
    provenance: _Provenance


def _time_us(text: str) -> int:
    """Microseconds of an ISO 8601 time with an offset, read as the generic reader
    reads it (:func:`asof.wire._time_in`)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    return to_us(parsed.astimezone(UTC))


def _raw(value: int | str) -> int:
    if type(value) is int:
        if value.bit_length() > _BIG:
            raise ValueError("too long")
        return value
    text = str(value)
    digits = text[1:] if text[:1] in ("-", "+") else text
    if not (digits.isascii() and digits.isdigit()) or len(text) > 4000:
        raise ValueError("not plain digits")
    return int(text)


def _decimals(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 255:
        raise ValueError("decimals")
    return value


def row_of(change: Any, provider: str | None = None) -> ChangeRow:
    """The storage form of a :class:`~asof.records.BalanceChange`."""
    block, balance = change.block, change.balance
    return ChangeRow(  # positional: the fields in their order
        provider or change.provenance.provider, change.wallet, change.token,
        change.token_account, None if block.timestamp is None else to_us(block.timestamp),
        block.number, block.index, block.transaction, block.hash, balance.raw,
        balance.decimals, change.provenance)


def _token(t: _Token) -> Token:
    return Token(chain=t.chain, address=t.address, standard=t.standard,
                 decimals=t.decimals, symbol=t.symbol)


def _provenance(p: _Provenance) -> Provenance:
    return Provenance(provider=p.provider, derived=p.derived, archived=p.archived,
                      source=p.source,
                      fetched_at=None if p.fetched_at is None
                      else _EPOCH + timedelta(microseconds=_time_us(p.fetched_at)),
                      caveats=p.caveats)


def _keep(cache: dict[Any, Any], key: Any, value: R) -> R:
    """``value``, kept in ``cache`` under ``key`` while the cache is under its bound."""
    if len(cache) < _CACHED:
        cache[key] = value
    return value


class ChangeLines:
    """Decodes canonical balance-change lines into :class:`ChangeRow` (``None`` for
    any other line). One per import: it keeps the wallets, tokens and provenance it has
    validated (bounded), so that each distinct one is built once."""

    def __init__(self) -> None:
        self._decoder = msgspec.json.Decoder(_Change)
        self._wallets: dict[str, Wallet] = {}
        self._tokens: dict[_Token, Token] = {}
        self._provenance: dict[_Provenance, Provenance] = {}

    def row(self, text: str | bytes) -> ChangeRow | None:
        """The row of one line, or ``None`` when the line is not a canonical balance
        change this decoder vouches for."""
        try:
            found = self._decoder.decode(text)
            return self._row(found)
        except (msgspec.DecodeError, AsofError, ValueError, TypeError, OverflowError):
            return None

    def _row(self, found: _Change) -> ChangeRow:
        wallet = self._wallets.get(found.wallet) or _keep(
            self._wallets, found.wallet, Wallet.parse(found.wallet))
        token = self._tokens.get(found.token) or _keep(
            self._tokens, found.token, _token(found.token))
        prov = self._provenance.get(found.provenance) or _keep(
            self._provenance, found.provenance, _provenance(found.provenance))
        balance, block = found.balance, found.block
        decimals = _decimals(balance.decimals)
        if decimals is None:  # as BalanceChange does: the token's decimals
            decimals = token.decimals
        stamp = block.timestamp
        return ChangeRow(  # positional: the fields in their order
            prov.provider, wallet, token, found.token_account,
            None if stamp is None else _time_us(stamp), block.number, block.index,
            block.transaction, block.hash, _raw(balance.raw), decimals, prov)


def format_us(us: int, days: dict[int, str] | None = None) -> str:
    """Microseconds since the epoch as :func:`asof.points.format_time` writes the
    moment (``2025-01-10T17:20:00Z``, with ``.ffffff`` when there is a fraction);
    ``days`` caches the date part."""
    seconds, micro = divmod(us, 1_000_000)
    day, second = divmod(seconds, 86_400)
    text = None if days is None else days.get(day)
    if text is None:
        text = (_EPOCH_DAY + timedelta(days=day)).isoformat()
        if days is not None and len(days) < _CACHED:
            days[day] = text
    hour, rest = divmod(second, 3600)
    minute, sec = divmod(rest, 60)
    if micro:
        return f"{text}T{hour:02d}:{minute:02d}:{sec:02d}.{micro:06d}Z"
    return f"{text}T{hour:02d}:{minute:02d}:{sec:02d}Z"


def _value(raw: int, decimals: int) -> str:
    """``format(scale(raw, decimals), "f")`` without the Decimal."""
    if decimals == 0:
        return str(raw)
    digits = str(abs(raw)).rjust(decimals + 1, "0")
    sign = "-" if raw < 0 else ""
    return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}"


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _number(value: Any) -> str:
    return "null" if value is None else str(int(value))


class ChangeLineEncoder:
    """Writes the JSONL line of a stored balance change (what :func:`asof.wire.dumps_line`
    writes for the record the row holds) from its columns: the parts shared by a
    stream (wallet, token, token account) and a provenance are encoded once."""

    def __init__(self) -> None:
        self._heads: dict[tuple[Any, ...], str] = {}
        self._provenance: dict[int, str] = {}
        self._days: dict[int, str] = {}

    @staticmethod
    def fragment(data: Any) -> str:
        """Compact JSON of ``data``, as the line writes it."""
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    def head(self, key: tuple[Any, ...], wallet: str, token: Callable[[], Any],
             account: str | None) -> str:
        """The line up to the raw amount, for one stream (kept under ``key``;
        ``token`` gives the token's JSON data, called only when it is not kept)."""
        found = self._heads.get(key)
        if found is None:
            found = (f'{{"kind":"balance_change","wallet":{encode_basestring(wallet)},'
                     f'"token":{self.fragment(token())},"token_account":{_text(account)},'
                     '"balance":{"raw":"')
            if len(self._heads) < _CACHED:
                self._heads[key] = found
        return found

    def provenance(self, provenance_id: int, data: Callable[[int], Any]) -> str:
        """The provenance part for a stored provenance id (``data`` gives its JSON data
        from the id, called once per id)."""
        found = self._provenance.get(provenance_id)
        if found is None:
            found = self.fragment(data(provenance_id))
            if len(self._provenance) < _CACHED:
                self._provenance[provenance_id] = found
        return found

    def line(self, head: str, raw: int, decimals: int | None, block: Any,
             block_hash: str | None, time_us: Any, transaction: str | None, index: Any,
             provenance: str) -> str:
        """One line (no newline)."""
        if decimals is None:
            amount = f'{raw}","decimals":null}}'
        else:
            amount = f'{raw}","decimals":{decimals},"value":"{_value(raw, decimals)}"}}'
        when = "null" if time_us is None else f'"{format_us(int(time_us), self._days)}"'
        return (f'{head}{amount},"block":{{"number":{_number(block)},"hash":'
                f'{_text(block_hash)},"timestamp":{when},"transaction":{_text(transaction)},'
                f'"index":{_number(index)}}},"provenance":{provenance}}}')
