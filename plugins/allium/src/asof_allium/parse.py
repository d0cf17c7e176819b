"""Turning Allium's answers into asof's canonical records.

Every number arrives already parsed with ``Decimal`` for non-integers (the transport's
rule), so a ``raw_balance`` of any size is an exact ``int`` here; it is still checked to
be integral. Times without an offset are UTC, as Allium documents. Anything that breaks
the documented shape raises :class:`~asof.errors.ResponseError` saying where.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from asof.plugin import (
    Amount,
    AsofError,
    BalanceChange,
    BlockRef,
    HoldingsPoint,
    InputError,
    Provenance,
    ResponseError,
    Token,
    TokenHolding,
    Wallet,
    native_token,
    to_decimal,
    to_int,
)
from asof_allium.chains import asof_chain
from asof_allium.info import NAME

__all__ = [
    "parse_balance_page",
    "parse_holdings_page",
    "parse_time",
    "token_standard",
]

_STANDARDS = {
    "native": "native",
    "evm_native": "native",
    "sol_native": "native",
    "evm_erc20": "erc20",
    "evm_erc721": "erc721",
    "evm_erc1155": "erc1155",
    "sol_spl": "spl",
    "sol_spl_2022": "token-2022",
    "sol_token_2022": "token-2022",
    "sol_spl_token_2022": "token-2022",
}


class _ShapeError(Exception):
    """A field that breaks the documented shape (turned into a ResponseError)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def token_standard(kind: object) -> str:
    """asof's token standard for Allium's token ``type`` (``evm_erc20`` -> ``erc20``,
    ``sol_spl`` -> ``spl``, ``native`` -> ``native``); ``unknown`` when absent."""
    if not isinstance(kind, str) or not kind.strip():
        return "unknown"
    key = kind.strip().lower()
    if key in _STANDARDS:
        return _STANDARDS[key]
    for prefix in ("evm_", "sol_"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    return key.replace("_", "-")


def parse_time(value: object, field: str = "timestamp") -> datetime:
    """An ISO 8601 time from Allium; no offset means UTC."""
    if not isinstance(value, str):
        raise _ShapeError(field, f"expected an ISO 8601 time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _ShapeError(field, f"expected an ISO 8601 time, got {value!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _envelope(data: Any, what: str) -> tuple[Sequence[Any], str | None]:
    if not isinstance(data, Mapping) or not isinstance(data.get("items"), list):
        raise ResponseError(NAME, f"{what} answer has no list of items")
    cursor = data.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ResponseError(NAME, f"{what} answer has a cursor that is not text: {cursor!r}")
    return data["items"], (cursor or None)


def _int(value: object, field: str) -> int:
    try:
        return to_int(value, field=field)
    except InputError as exc:
        raise _ShapeError(field, f"expected an integer, got {value!r}") from exc


def _opt_int(value: object, field: str) -> int | None:
    return None if value is None else _int(value, field)


def _decimal(value: object, field: str) -> Decimal:
    try:
        return to_decimal(value, field=field)
    except InputError as exc:
        raise _ShapeError(field, f"expected a number, got {value!r}") from exc


def _opt_str(value: object, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _ShapeError(field, f"expected text, got {value!r}")
    return value


def _chain(value: object, default: str, field: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise _ShapeError(field, f"expected a chain id, got {value!r}")
    chain = asof_chain(value)
    if chain is None:
        raise _ShapeError(field, f"chain {value!r} is not one asof knows")
    return chain


def _wallet(item: Mapping[str, Any], chain: str, batch: Sequence[Wallet]) -> Wallet:
    address = item.get("address")
    if (address is None or address == "") and len(batch) == 1:
        return batch[0]
    if not isinstance(address, str):
        raise _ShapeError("address", f"expected a wallet address, got {address!r}")
    return Wallet(chain=_chain(item.get("chain"), chain, "chain"), address=address)


def _token(raw: object, chain: str) -> Token:
    if not isinstance(raw, Mapping):
        raise _ShapeError("token", f"expected an object, got {raw!r}")
    token_chain = _chain(raw.get("chain"), chain, "token.chain")
    standard = token_standard(raw.get("type", raw.get("type_")))
    decimals = _opt_int(raw.get("decimals"), "token.decimals")
    info = raw.get("info")
    symbol = info.get("symbol") if isinstance(info, Mapping) else None
    symbol = symbol if isinstance(symbol, str) and symbol else None
    if standard == "native":
        native = native_token(token_chain)
        return Token(
            chain=token_chain,
            address=native.address,
            standard="native",
            decimals=decimals if decimals is not None else native.decimals,
            symbol=symbol or native.symbol,
        )
    address = raw.get("address")
    if not isinstance(address, str):
        raise _ShapeError("token.address", f"expected a token address, got {address!r}")
    return Token(
        chain=token_chain, address=address, standard=standard, decimals=decimals, symbol=symbol
    )


def _fail(what: str, position: int, exc: Exception) -> ResponseError:
    field = getattr(exc, "field", None)
    where = f"{what} item {position}" + (f", field {field}" if field else "")
    message = str(exc)
    if field and message.startswith(f"{field}: "):
        message = message[len(field) + 2 :]
    return ResponseError(NAME, f"{where}: {message}", field=field)


def parse_balance_page(
    data: Any, *, chain: str, batch: Sequence[Wallet], provenance: Provenance
) -> tuple[list[BalanceChange], str | None]:
    """Balance changes and the next cursor from one balances-history answer."""
    items, cursor = _envelope(data, "balances history")
    changes: list[BalanceChange] = []
    for position, item in enumerate(items):
        try:
            if not isinstance(item, Mapping):
                raise _ShapeError("item", f"expected an object, got {item!r}")
            wallet = _wallet(item, chain, batch)
            token = _token(item.get("token"), wallet.chain)
            raw = _int(item.get("raw_balance"), "raw_balance")
            number = item.get("block_slot", item.get("block_number"))
            block = BlockRef(
                number=_opt_int(number, "block_slot"),
                hash=_opt_str(item.get("block_hash"), "block_hash"),
                timestamp=parse_time(item.get("block_timestamp"), "block_timestamp"),
                transaction=_opt_str(item.get("txn_id"), "txn_id"),
                index=_opt_int(item.get("txn_index"), "txn_index"),
            )
            changes.append(
                BalanceChange(
                    wallet=wallet,
                    token=token,
                    token_account=_opt_str(item.get("token_account"), "token_account"),
                    balance=Amount(raw=raw, decimals=token.decimals),
                    block=block,
                    provenance=provenance,
                )
            )
        except (_ShapeError, AsofError) as exc:
            raise _fail("balances history", position, exc) from None
    return changes, cursor


def _usd(raw: object, field: str) -> Decimal:
    if not isinstance(raw, Mapping):
        raise _ShapeError(field, f"expected an amount object, got {raw!r}")
    currency = raw.get("currency", "USD")
    if currency != "USD":
        raise _ShapeError(f"{field}.currency", f"expected USD, got {currency!r}")
    return _decimal(raw.get("amount"), f"{field}.amount")


def _holding(raw: object, position: int) -> TokenHolding:
    field = f"token_breakdown[{position}]"
    if not isinstance(raw, Mapping):
        raise _ShapeError(field, f"expected an object, got {raw!r}")
    token = raw.get("token_address")
    if not isinstance(token, str) or not token:
        raise _ShapeError(f"{field}.token_address", f"expected a token address, got {token!r}")
    liquidity = raw.get("liquidity")
    amount: Decimal | None = None
    detail: str | None = None
    if isinstance(liquidity, Mapping):
        if liquidity.get("amount") is not None:
            amount = _decimal(liquidity["amount"], f"{field}.liquidity.amount")
        detail = _opt_str(liquidity.get("details"), f"{field}.liquidity.details")
    elif liquidity is not None:
        raise _ShapeError(f"{field}.liquidity", f"expected an object, got {liquidity!r}")
    return TokenHolding(
        token=token,
        usd=_usd(raw.get("amount"), f"{field}.amount"),
        liquidity_usd=amount,
        liquidity_detail=detail,
    )


def parse_holdings_page(
    data: Any,
    *,
    chain: str,
    batch: Sequence[Wallet],
    breakdown: bool,
    provenance: Provenance,
) -> tuple[list[HoldingsPoint], str | None]:
    """Holdings points and the next cursor from one holdings-history answer.

    ``breakdown`` says whether a per-token breakdown was asked for: then every point has
    one (empty when Allium sent none); otherwise points carry ``None``.
    """
    items, cursor = _envelope(data, "holdings history")
    points: list[HoldingsPoint] = []
    for position, item in enumerate(items):
        try:
            if not isinstance(item, Mapping):
                raise _ShapeError("item", f"expected an object, got {item!r}")
            parts: tuple[TokenHolding, ...] | None = None
            if breakdown:
                raw_parts = item.get("token_breakdown") or []
                if not isinstance(raw_parts, list):
                    raise _ShapeError("token_breakdown", f"expected a list, got {raw_parts!r}")
                parts = tuple(_holding(p, i) for i, p in enumerate(raw_parts))
            points.append(
                HoldingsPoint(
                    wallet=_wallet(item, chain, batch),
                    timestamp=parse_time(item.get("timestamp")),
                    usd=_usd(item.get("amount"), "amount"),
                    breakdown=parts,
                    provenance=provenance,
                )
            )
        except (_ShapeError, AsofError) as exc:
            raise _fail("holdings history", position, exc) from None
    return points, cursor
