"""Turning Allium's answers into asof's canonical records.

Every number arrives already parsed with ``Decimal`` for non-integers (the transport's
rule), so a ``raw_balance`` of any size is an exact ``int`` here; it is still checked to
be integral. Times without an offset are UTC, as Allium documents. Answers are read with
the core's strict reader (:func:`asof.plugin.strict`): anything that breaks the
documented shape raises :class:`~asof.errors.ResponseError` naming the field's path
(``items[3].raw_balance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from asof.plugin import (
    Amount,
    BalanceChange,
    BlockRef,
    Field,
    HoldingsPoint,
    InputError,
    Provenance,
    Token,
    TokenHolding,
    Wallet,
    native_token,
    strict,
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
    """An ISO 8601 time from Allium; no offset means UTC. Raises
    :class:`~asof.errors.InputError` naming ``field`` for anything else."""
    if isinstance(value, str):
        try:  # the usual form first: "2024-12-31T22:14:35Z"
            quick = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if quick.tzinfo is UTC:
                return quick
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    raise InputError(f"expected an ISO 8601 time, got {value!r}", field=field, value=value)


def _time(field: Field) -> datetime:
    try:
        return parse_time(field.value, field.path)
    except InputError:
        raise field.fail(f"expected an ISO 8601 time, got {field.value!r}") from None


def _envelope(data: Any, what: str) -> tuple[list[Field], str | None]:
    items, cursor = _listing(data, what)
    return items.items(), cursor


def _listing(data: Any, what: str) -> tuple[Field, str | None]:
    """The ``items`` field of an answer (a list) and its next cursor."""
    answer = strict(NAME, data, f"{what} answer")
    items = answer["items"]
    if type(items.value) is not list:
        items.items()  # raises the error naming the field
    cursor = answer.get("cursor")
    return items, (None if cursor is None else cursor.optional_str())


def _chain(field: Field | None, default: str) -> str:
    if field is None or field.value == "":
        return default
    chain = asof_chain(field.as_str())
    if chain is None:
        raise field.fail(f"chain {field.value!r} is not one asof knows")
    return chain


def _wallet(item: Field, chain: str, batch: Sequence[Wallet]) -> Wallet:
    address = item.get("address")
    if (address is None or address.value == "") and len(batch) == 1:
        return batch[0]
    where = item.at("address")
    text = where.as_str()
    wallet_chain = _chain(item.get("chain"), chain)
    try:
        return Wallet(chain=wallet_chain, address=text)
    except InputError as exc:
        raise where.fail(_words(exc)) from None


def _token(raw: Field, chain: str) -> Token:
    raw.mapping()
    token_chain = _chain(raw.get("chain"), chain)
    kind = raw.get("type") or raw.get("type_")
    standard = token_standard(None if kind is None else kind.value)
    decimals_field = raw.get("decimals")
    decimals = None if decimals_field is None else decimals_field.as_int()
    info = raw.mapping().get("info")
    symbol = info.get("symbol") if isinstance(info, dict) else None
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
    address = raw.at("address")
    try:
        return Token(chain=token_chain, address=address.as_str(), standard=standard,
                     decimals=decimals, symbol=symbol)
    except InputError as exc:
        raise address.fail(_words(exc)) from None


def _words(exc: InputError) -> str:
    """An input error's message without the field name it starts with."""
    text = str(exc)
    prefix = f"{exc.field}: " if exc.field else ""
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


def _optional_int(item: Field, key: str) -> int | None:
    found = item.get(key)
    return None if found is None else found.as_int()


def _optional_str(item: Field, key: str) -> str | None:
    found = item.get(key)
    return None if found is None else found.optional_str()


def _balance_change(item: Field, chain: str, batch: Sequence[Wallet],
                    provenance: Provenance) -> BalanceChange:
    """One balances-history item, read strictly (errors name the field's path)."""
    item.mapping()
    wallet = _wallet(item, chain, batch)
    token = _token(item["token"], wallet.chain)
    raw = item["raw_balance"].as_int()
    number = item.get("block_slot") or item.get("block_number")
    block = BlockRef(
        number=None if number is None else number.as_int(),
        hash=_optional_str(item, "block_hash"),
        timestamp=_time(item["block_timestamp"]),
        transaction=_optional_str(item, "txn_id"),
        index=_optional_int(item, "txn_index"),
    )
    return BalanceChange(
        wallet=wallet,
        token=token,
        token_account=_optional_str(item, "token_account"),
        balance=Amount(raw=raw, decimals=token.decimals),
        block=block,
        provenance=provenance,
    )


def _plain_text(value: Any) -> str | None:
    """What ``_optional_str`` reads from a plain value (a ``TypeError`` for anything
    else)."""
    if value is None:
        return None
    if type(value) is not str:
        raise TypeError("not text")
    return value if value.strip() else None


def _plain_int(value: Any) -> int | None:
    if value is None or type(value) is int:
        return value
    raise TypeError("not a plain integer")


class _Page:
    """Reads the items of one page the quick way where their values are plain JSON
    (exact ints, text), with each distinct wallet and token read strictly once;
    anything else is read by :func:`_balance_change`, which gives the same record or
    the error naming the field."""

    def __init__(self, chain: str, batch: Sequence[Wallet], provenance: Provenance) -> None:
        self.chain = chain
        self.batch = batch
        self.provenance = provenance
        self.wallets: dict[tuple[Any, ...], Wallet] = {}
        self.tokens: dict[tuple[Any, ...], Token] = {}

    def changes(self, items: Field) -> list[BalanceChange]:
        """The balance change of each element of ``items`` (a list)."""
        out: list[BalanceChange] = []
        append = out.append
        quick = self._quick
        for index, value in enumerate(items.value):
            if type(value) is dict:
                try:
                    append(quick(items, index, value))
                    continue
                except (TypeError, KeyError, InputError):
                    pass  # the strict reading below says what is wrong
            append(_balance_change(items.element(index), self.chain, self.batch,
                                    self.provenance))
        return out

    def _quick(self, items: Field, index: int, value: dict[str, Any]) -> BalanceChange:
        # Cache keys are the raw values the strict readers look at. A value that reads
        # successfully equals only values that read the same (text equals text, an
        # integral Decimal its int), except a boolean, which equals 0 or 1 but is no
        # integer: decimals are checked for it. An unhashable value is a TypeError.
        get = value.get
        key = (get("address"), get("chain"))
        wallet = self.wallets.get(key)
        if wallet is None:
            wallet = self.wallets[key] = _wallet(items.element(index), self.chain,
                                                 self.batch)
        raw_token = value["token"]
        if type(raw_token) is not dict:
            raise TypeError("token")
        tget = raw_token.get
        info = tget("info")
        decimals = tget("decimals")
        if type(decimals) is bool:
            raise TypeError("decimals")
        tkey = (wallet.chain, tget("chain"), tget("type"), tget("type_"), decimals,
                tget("address"), info.get("symbol") if type(info) is dict else None)
        token = self.tokens.get(tkey)
        if token is None:
            token = self.tokens[tkey] = _token(items.element(index)["token"], wallet.chain)
        raw = value["raw_balance"]
        if type(raw) is not int:
            raise TypeError("raw_balance")
        number = get("block_slot")
        if number is None:
            number = get("block_number")
        stamp = value["block_timestamp"]
        if type(stamp) is not str:
            raise TypeError("block_timestamp")
        return BalanceChange(
            wallet=wallet,
            token=token,
            token_account=_plain_text(get("token_account")),
            balance=Amount(raw=raw, decimals=token.decimals),
            block=BlockRef(number=_plain_int(number),
                           hash=_plain_text(get("block_hash")),
                           timestamp=parse_time(stamp),
                           transaction=_plain_text(get("txn_id")),
                           index=_plain_int(get("txn_index"))),
            provenance=self.provenance,
        )


def parse_balance_page(
    data: Any, *, chain: str, batch: Sequence[Wallet], provenance: Provenance
) -> tuple[list[BalanceChange], str | None]:
    """Balance changes and the next cursor from one balances-history answer."""
    items, cursor = _listing(data, "balances history")
    return _Page(chain, batch, provenance).changes(items), cursor


def _usd(raw: Field) -> Decimal:
    raw.mapping()
    currency = raw.at("currency")
    if "currency" in raw and currency.value != "USD":
        raise currency.fail(f"expected USD, got {currency.value!r}")
    return raw["amount"].as_decimal()


def _holding(raw: Field) -> TokenHolding:
    raw.mapping()
    token = raw["token_address"].as_str()
    liquidity = raw.get("liquidity")
    amount: Decimal | None = None
    detail: str | None = None
    if liquidity is not None:
        liquidity.mapping()
        found = liquidity.get("amount")
        amount = None if found is None else found.as_decimal()
        detail = _optional_str(liquidity, "details")
    return TokenHolding(token=token, usd=_usd(raw["amount"]), liquidity_usd=amount,
                        liquidity_detail=detail)


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
    for item in items:
        item.mapping()
        parts: tuple[TokenHolding, ...] | None = None
        if breakdown:
            found = item.get("token_breakdown")
            parts = () if found is None or found.value == [] else tuple(
                _holding(part) for part in found.items())
        points.append(
            HoldingsPoint(
                wallet=_wallet(item, chain, batch),
                timestamp=_time(item["timestamp"]),
                usd=_usd(item["amount"]),
                breakdown=parts,
                provenance=provenance,
            )
        )
    return points, cursor
