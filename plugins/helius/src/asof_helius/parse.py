"""Turning a ``balance-at`` body into a :class:`~asof.records.BalanceAt`.

The body is read with the core's strict reader (:func:`asof.plugin.strict`), every
field the OpenAPI marks required is checked, and a body that breaks the documented shape
raises :class:`~asof.errors.ResponseError` naming the field. ``balance`` and
``balanceRaw`` are strings in the answer: ``balanceRaw`` becomes an exact ``int`` and
``balance`` must equal it scaled by ``decimals``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from asof.plugin import (
    NATIVE_SOL_MINT,
    Amount,
    BalanceAt,
    BalanceQuery,
    BlockRef,
    Field,
    Provenance,
    at_or_before,
    scale,
    strict,
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
    answer = strict(NAME, body, "balance-at answer")
    answer.mapping()
    _expect_echo(answer["wallet"], query.wallet.address)
    _expect_echo(answer["mint"], sent["mint"])
    native = answer["isNative"]
    is_native = native.as_bool()
    if is_native != (sent["mint"] == NATIVE_SOL_MINT):
        raise native.fail(f"is {is_native} for mint {sent['mint']}")

    decimals_field = answer["decimals"]
    decimals = decimals_field.as_int()
    if not 0 <= decimals <= 255:
        raise decimals_field.fail(f"{decimals} is not from 0 to 255")
    raw_field = answer["balanceRaw"]
    raw = raw_field.as_int()
    if raw < 0:
        raise raw_field.fail(f"{raw} is negative")
    balance_field = answer["balance"]
    if balance_field.as_decimal(text=True) != scale(raw, decimals):
        raise balance_field.fail(
            f"{balance_field.value!r} does not equal balanceRaw {raw} with {decimals} decimals"
        )

    requested = _requested(answer["requested"], sent)
    as_of = _as_of(answer["asOf"], query)
    if as_of is None and raw != 0:
        raise answer["asOf"].fail(f"is null but balanceRaw is {raw}; null means no balance")

    asked = query.token
    standard = "native" if is_native else asked.standard
    symbol = asked.symbol or ("SOL" if is_native else None)
    token = asked if (asked.standard, asked.decimals, asked.symbol) == (
        standard, decimals, symbol) else attrs.evolve(
        asked, standard=standard, decimals=decimals, symbol=symbol)
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


def _expect_echo(echoed: Field, asked: str) -> None:
    if echoed.as_str() != asked:
        raise echoed.fail(f"answers for {echoed.value!r}, but {asked!r} was asked")


def _requested(echo: Field, sent: Mapping[str, Any]) -> dict[str, Any]:
    for key in ("time", "slot"):
        value = echo.get(key)
        if value is None:
            continue
        number = value.as_int()
        if key in sent and number != sent[key]:
            raise value.fail(f"echoes {number}, but {sent[key]} was sent")
    return dict(echo.mapping())


def _as_of(found: Field, query: BalanceQuery) -> BlockRef | None:
    if found.is_null:
        return None
    found.mapping()
    slot_field = found["slot"]
    slot = slot_field.as_int()
    if slot < 0:
        raise slot_field.fail(f"{slot} is negative")
    signature = found["signature"].as_str()
    timestamp = None
    block_time = found.get("blockTime")
    if block_time is not None:
        seconds = block_time.as_int()
        try:
            timestamp = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise block_time.fail(f"{seconds} is not a time") from None
    block = BlockRef(number=slot, timestamp=timestamp, transaction=signature)
    point = query.point
    if (point.time is None or timestamp is not None) and not at_or_before(block, point):
        raise found.fail(f"was read at {_where(block, point.time is None)}, after the "
                         f"requested point {point.describe('slot')}")
    return block


def _where(block: BlockRef, by_slot: bool) -> str:
    if by_slot or block.timestamp is None:
        return f"slot {block.number}"
    return block.timestamp.isoformat().replace("+00:00", "Z")
