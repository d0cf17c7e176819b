"""Turning a ``balance-at`` body into a :class:`~asof.records.BalanceAt`.

The body is read strictly, every field the OpenAPI marks required is checked, and a
body that breaks the documented shape raises :class:`~asof.errors.ResponseError` naming
the field. ``balance`` and ``balanceRaw`` are strings in the answer: ``balanceRaw``
becomes an exact ``int`` and ``balance`` must equal it scaled by ``decimals``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs

from asof.plugin import (
    NATIVE_SOL_MINT,
    Amount,
    BalanceAt,
    BalanceQuery,
    BlockRef,
    InputError,
    Provenance,
    ResponseError,
    at_or_before,
    scale,
    to_decimal,
    to_int,
)

__all__ = [
    "CAVEATS",
    "CAVEAT_BLOCK_TIME",
    "CAVEAT_MULTI_ACCOUNT",
    "CAVEAT_SOL_PRECISION",
    "NAME",
    "SOURCE",
    "parse_balance_at",
]

CAVEAT_MULTI_ACCOUNT = (
    "a token balance is read from the latest transaction that touched the wallet and "
    "mint; a wallet holding the mint in several token accounts may be undercounted"
)
CAVEAT_BLOCK_TIME = (
    "time points resolve through validator-reported block times, which can drift a few "
    "seconds; slot points are exact"
)
CAVEAT_SOL_PRECISION = (
    "native SOL balances above 2**53 lamports (about 9,007,199 SOL) may lose precision "
    "upstream"
)
#: Every caveat Helius documents for ``balance-at``.
CAVEATS = (CAVEAT_MULTI_ACCOUNT, CAVEAT_BLOCK_TIME, CAVEAT_SOL_PRECISION)

#: The provider's name, equal to the entry-point name.
NAME = "helius"
#: The endpoint every answer comes from, as provenance names it.
SOURCE = "GET /v1/wallet/{wallet}/balance-at"
_FLOAT_SAFE = 2**53


def parse_balance_at(
    body: Any, query: BalanceQuery, *, sent: Mapping[str, Any], fetched_at: datetime
) -> BalanceAt:
    """Map a ``balance-at`` answer to a :class:`~asof.records.BalanceAt` for ``query``.

    ``sent`` holds the query parameters that were sent (``mint`` and ``time`` or
    ``slot``); the answer's echoes are checked against them and against the as-of rule.
    """
    if not isinstance(body, Mapping):
        raise _bad("body", f"expected a JSON object, got {type(body).__name__}")
    _expect_echo(body, "wallet", query.wallet.address)
    _expect_echo(body, "mint", sent["mint"])
    is_native = _field(body, "isNative", bool)
    if is_native != (sent["mint"] == NATIVE_SOL_MINT):
        raise _bad("isNative", f"is {is_native} for mint {sent['mint']}")

    decimals = _int(body, "decimals")
    if not 0 <= decimals <= 255:
        raise _bad("decimals", f"{decimals} is not from 0 to 255")
    raw = _int(body, "balanceRaw")
    if raw < 0:
        raise _bad("balanceRaw", f"{raw} is negative")
    balance = _decimal(body, "balance")
    if balance != scale(raw, decimals):
        raise _bad(
            "balance",
            f"{body['balance']!r} does not equal balanceRaw {raw} with {decimals} decimals",
        )

    requested = _requested(body, sent)
    as_of = _as_of(body, query)
    if as_of is None and raw != 0:
        raise _bad("asOf", f"is null but balanceRaw is {raw}; null means no balance")

    token = attrs.evolve(
        query.token,
        standard="native" if is_native else query.token.standard,
        decimals=decimals,
        symbol=query.token.symbol or ("SOL" if is_native else None),
    )
    caveats: list[str] = []
    if not is_native:
        caveats.append(CAVEAT_MULTI_ACCOUNT)
    if query.point.time is not None:
        caveats.append(CAVEAT_BLOCK_TIME)
    if is_native and raw > _FLOAT_SAFE:
        caveats.append(CAVEAT_SOL_PRECISION)
    return BalanceAt(
        wallet=query.wallet,
        token=token,
        amount=Amount(raw=raw, decimals=decimals),
        requested=query.point,
        as_of=as_of,
        provenance=Provenance(
            provider=NAME,
            source=SOURCE,
            fetched_at=fetched_at,
            echo=requested,
            caveats=tuple(caveats),
        ),
    )


def _bad(field: str, message: str) -> ResponseError:
    return ResponseError(NAME, f"malformed balance-at answer: {field} {message}",
                         field=field)


def _field(body: Mapping[str, Any], key: str, kind: type, *, where: str = "") -> Any:
    name = f"{where}{key}"
    if key not in body:
        raise _bad(name, "is missing")
    value = body[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _bad(name, f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
    return value


def _int(body: Mapping[str, Any], key: str, *, where: str = "") -> int:
    name = f"{where}{key}"
    if key not in body:
        raise _bad(name, "is missing")
    try:
        return to_int(body[key], field=name)
    except InputError as exc:
        raise _bad(name, f"expected an integer, got {body[key]!r}") from exc


def _decimal(body: Mapping[str, Any], key: str) -> Decimal:
    if key not in body:
        raise _bad(key, "is missing")
    value = body[key]
    if not isinstance(value, str):
        raise _bad(key, f"expected a decimal string, got {type(value).__name__} {value!r}")
    try:
        return to_decimal(value, field=key)
    except InputError as exc:
        raise _bad(key, f"expected a decimal string, got {value!r}") from exc


def _expect_echo(body: Mapping[str, Any], key: str, asked: str) -> None:
    echoed = _field(body, key, str)
    if echoed != asked:
        raise _bad(key, f"answers for {echoed!r}, but {asked!r} was asked")


def _requested(body: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    echo = _field(body, "requested", Mapping)
    for key in ("time", "slot"):
        value = echo.get(key)
        if value is None:
            continue
        number = _int(echo, key, where="requested.")
        if key in sent and number != sent[key]:
            raise _bad(f"requested.{key}", f"echoes {number}, but {sent[key]} was sent")
    return dict(echo)


def _as_of(body: Mapping[str, Any], query: BalanceQuery) -> BlockRef | None:
    if "asOf" not in body:
        raise _bad("asOf", "is missing")
    found = body["asOf"]
    if found is None:
        return None
    if not isinstance(found, Mapping):
        raise _bad("asOf", f"expected an object or null, got {type(found).__name__}")
    slot = _int(found, "slot", where="asOf.")
    if slot < 0:
        raise _bad("asOf.slot", f"{slot} is negative")
    signature = _field(found, "signature", str, where="asOf.")
    timestamp = None
    if found.get("blockTime") is not None:
        seconds = _int(found, "blockTime", where="asOf.")
        try:
            timestamp = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise _bad("asOf.blockTime", f"{seconds} is not a time") from exc
    block = BlockRef(number=slot, timestamp=timestamp, transaction=signature)
    point = query.point
    if (point.time is None or timestamp is not None) and not at_or_before(block, point):
        raise _bad("asOf", f"was read at {_where(block, point.time is None)}, after the "
                   f"requested point {point.describe('slot')}")
    return block


def _where(block: BlockRef, by_slot: bool) -> str:
    if by_slot or block.timestamp is None:
        return f"slot {block.number}"
    return block.timestamp.isoformat().replace("+00:00", "Z")
