"""Reading Solana JSON-RPC results strictly, into small records.

Each function takes the ``result`` of one method and checks the fields the Solana
JSON-RPC documentation gives it; a result that breaks that shape raises
:class:`~asof.errors.ResponseError` naming the method and field. Amounts are exact
integers (token amounts arrive as decimal strings, lamports as JSON integers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from asof.plugin import InputError, NotFoundError, ResponseError, to_int

__all__ = [
    "NAME",
    "BlockSignatures",
    "SignatureInfo",
    "TokenAccount",
    "TokenBalance",
    "Transaction",
    "parse_block_signatures",
    "parse_block_time",
    "parse_signatures",
    "parse_slot",
    "parse_token_accounts",
    "parse_transaction",
]

#: The provider's name, equal to the entry-point name.
NAME = "solana"


@attrs.frozen(kw_only=True)
class SignatureInfo:
    """One entry of ``getSignaturesForAddress``."""

    signature: str
    slot: int
    block_time: datetime | None
    failed: bool


@attrs.frozen(kw_only=True)
class TokenAccount:
    """One token account of ``getTokenAccountsByOwner`` (``jsonParsed``)."""

    address: str
    mint: str
    owner: str
    program: str | None
    amount: int
    decimals: int


@attrs.frozen(kw_only=True)
class TokenBalance:
    """One entry of a transaction's ``postTokenBalances``."""

    account_index: int
    mint: str
    owner: str | None
    amount: int
    decimals: int


@attrs.frozen(kw_only=True)
class Transaction:
    """What this plugin reads of ``getTransaction``: where it happened, every account
    key (static keys, then loaded writable, then loaded readonly, the order the balance
    arrays follow), the lamport post-balances and the token post-balances."""

    signature: str
    slot: int
    block_time: datetime | None
    account_keys: tuple[str, ...]
    post_balances: tuple[int, ...]
    #: ``None`` when the node recorded no token balances for it (omitted, as for
    #: transactions from before token balance recording)
    post_token_balances: tuple[TokenBalance, ...] | None

    def index_of(self, address: str) -> int | None:
        """The position of ``address`` among the account keys, or ``None``."""
        try:
            return self.account_keys.index(address)
        except ValueError:
            return None


@attrs.frozen(kw_only=True)
class BlockSignatures:
    """``getBlock`` with ``transactionDetails: "signatures"``: the block's signatures in
    block order (a signature's position is its transaction index)."""

    slot: int
    block_time: datetime | None
    signatures: tuple[str, ...]


def _bad(method: str, field: str, message: str) -> ResponseError:
    return ResponseError(NAME, f"malformed {method} answer: {field} {message}", field=field)


def _get(body: Any, key: str, method: str, where: str) -> Any:
    if not isinstance(body, Mapping):
        raise _bad(method, where or "result", f"expected an object, got {type(body).__name__}")
    if key not in body:
        raise _bad(method, f"{where}{key}", "is missing")
    return body[key]


def _str(body: Any, key: str, method: str, where: str = "") -> str:
    value = _get(body, key, method, where)
    if not isinstance(value, str) or not value:
        raise _bad(method, f"{where}{key}", f"expected a non-empty string, got {value!r}")
    return value


def _int(body: Any, key: str, method: str, where: str = "", *, minimum: int = 0) -> int:
    value = _get(body, key, method, where)
    # lamports and slots are JSON integers; token amounts are strings of digits
    try:
        number = to_int(value, field=f"{where}{key}")
    except InputError:
        raise _bad(method, f"{where}{key}", f"expected an integer, got {value!r}") from None
    if number < minimum:
        raise _bad(method, f"{where}{key}", f"{number} is below {minimum}")
    return number


def _time(body: Any, key: str, method: str, where: str = "") -> datetime | None:
    if _get(body, key, method, where) is None:
        return None
    seconds = _int(body, key, method, where, minimum=-(2**40))
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise _bad(method, f"{where}{key}", f"{seconds} is not a time") from None


def _list(value: Any, method: str, field: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise _bad(method, field, f"expected an array, got {type(value).__name__}")
    return value


def parse_signatures(result: Any) -> tuple[SignatureInfo, ...]:
    """``getSignaturesForAddress``: newest first, slots never increasing."""
    method = "getSignaturesForAddress"
    items: list[SignatureInfo] = []
    for n, entry in enumerate(_list(result, method, "result")):
        where = f"result[{n}]."
        info = SignatureInfo(
            signature=_str(entry, "signature", method, where),
            slot=_int(entry, "slot", method, where),
            block_time=_time(entry, "blockTime", method, where),
            failed=_get(entry, "err", method, where) is not None,
        )
        if items and info.slot > items[-1].slot:
            raise _bad(method, f"{where}slot", f"{info.slot} follows slot {items[-1].slot}: "
                       "the list is not newest first")
        items.append(info)
    return tuple(items)


def parse_token_accounts(
    result: Any, *, owner: str, mint: str | None
) -> tuple[tuple[TokenAccount, ...], int]:
    """``getTokenAccountsByOwner`` with a ``mint`` filter (or a ``programId`` one, with
    ``mint`` ``None``) and ``jsonParsed`` encoding: the accounts (each must be of
    ``mint`` and owned by ``owner``) and the slot the node read them at
    (``context.slot``)."""
    method = "getTokenAccountsByOwner"
    slot = _int(_get(result, "context", method, "result."), "slot", method, "result.context.")
    accounts: list[TokenAccount] = []
    value = _list(_get(result, "value", method, "result."), method, "result.value")
    for n, entry in enumerate(value):
        where = f"result.value[{n}]."
        address = _str(entry, "pubkey", method, where)
        account = _get(entry, "account", method, where)
        data = _get(account, "data", method, f"{where}account.")
        if not isinstance(data, Mapping):
            raise _bad(method, f"{where}account.data", "is not parsed JSON: ask with "
                       "encoding jsonParsed")
        parsed = _get(data, "parsed", method, f"{where}account.data.")
        info = _get(parsed, "info", method, f"{where}account.data.parsed.")
        at = f"{where}account.data.parsed.info."
        amount = _get(info, "tokenAmount", method, at)
        account_mint = _str(info, "mint", method, at)
        account_owner = _str(info, "owner", method, at)
        if mint is not None and account_mint != mint:
            raise _bad(method, f"{at}mint", f"is {account_mint}, but the filter asked for {mint}")
        if account_owner != owner:
            raise _bad(method, f"{at}owner", f"is {account_owner}, but {owner} was asked")
        program = data.get("program")
        accounts.append(TokenAccount(
            address=address,
            mint=account_mint,
            owner=account_owner,
            program=program if isinstance(program, str) else None,
            amount=_int(amount, "amount", method, f"{at}tokenAmount."),
            decimals=_decimals(amount, method, f"{at}tokenAmount."),
        ))
    addresses = [a.address for a in accounts]
    if len(addresses) != len(set(addresses)):
        raise _bad(method, "result.value", "lists a token account twice")
    return tuple(accounts), slot


def _decimals(body: Any, method: str, where: str) -> int:
    decimals = _int(body, "decimals", method, where)
    if decimals > 255:
        raise _bad(method, f"{where}decimals", f"{decimals} is above 255")
    return decimals


def parse_transaction(result: Any, *, signature: str) -> Transaction | None:
    """``getTransaction`` with ``json`` encoding; ``None`` when the node has no such
    transaction (a ``null`` result)."""
    method = "getTransaction"
    if result is None:
        return None
    transaction = _get(result, "transaction", method, "result.")
    signatures = _list(_get(transaction, "signatures", method, "result.transaction."),
                       method, "result.transaction.signatures")
    if not signatures or signatures[0] != signature:
        raise _bad(method, "result.transaction.signatures",
                   f"do not start with the signature asked for, {signature}")
    message = _get(transaction, "message", method, "result.transaction.")
    keys = list(_list(_get(message, "accountKeys", method, "result.transaction.message."),
                      method, "result.transaction.message.accountKeys"))
    meta = _get(result, "meta", method, "result.")
    if meta is None:
        raise NotFoundError(NAME, f"the node keeps no status (meta) for transaction "
                            f"{signature}, so its balances cannot be read", field="meta")
    loaded = meta.get("loadedAddresses") if isinstance(meta, Mapping) else None
    if loaded is not None:
        for part in ("writable", "readonly"):
            keys.extend(_list(_get(loaded, part, method, "result.meta.loadedAddresses."),
                              method, f"result.meta.loadedAddresses.{part}"))
    if not all(isinstance(k, str) and k for k in keys):
        raise _bad(method, "result.transaction.message.accountKeys",
                   "holds something that is not an address (ask with encoding json)")
    post = _list(_get(meta, "postBalances", method, "result.meta."), method,
                 "result.meta.postBalances")
    if len(post) != len(keys):
        raise _bad(method, "result.meta.postBalances",
                   f"has {len(post)} entries for {len(keys)} account keys")
    balances = tuple(_int({"v": v}, "v", method, f"result.meta.postBalances[{n}].")
                     for n, v in enumerate(post))
    recorded = isinstance(meta, Mapping) and meta.get("postTokenBalances") is not None
    tokens: list[TokenBalance] = []
    for n, entry in enumerate(_list(meta.get("postTokenBalances") if recorded else [], method,
                                    "result.meta.postTokenBalances")):
        where = f"result.meta.postTokenBalances[{n}]."
        index = _int(entry, "accountIndex", method, where)
        if index >= len(keys):
            raise _bad(method, f"{where}accountIndex", f"{index} is past the {len(keys)} "
                       "account keys")
        owner = entry.get("owner") if isinstance(entry, Mapping) else None
        amount = _get(entry, "uiTokenAmount", method, where)
        tokens.append(TokenBalance(
            account_index=index,
            mint=_str(entry, "mint", method, where),
            owner=owner if isinstance(owner, str) and owner else None,
            amount=_int(amount, "amount", method, f"{where}uiTokenAmount."),
            decimals=_decimals(amount, method, f"{where}uiTokenAmount."),
        ))
    return Transaction(
        signature=signature,
        slot=_int(result, "slot", method, "result."),
        block_time=_time(result, "blockTime", method, "result."),
        account_keys=tuple(keys),
        post_balances=balances,
        post_token_balances=tuple(tokens) if recorded else None,
    )


def parse_block_signatures(result: Any, *, slot: int) -> BlockSignatures:
    """``getBlock`` with ``transactionDetails: "signatures"``."""
    method = "getBlock"
    if result is None:
        raise _bad(method, "result", f"is null: the node has no block at slot {slot}")
    signatures = _list(_get(result, "signatures", method, "result."), method,
                       "result.signatures")
    if not all(isinstance(s, str) and s for s in signatures):
        raise _bad(method, "result.signatures", "holds something that is not a signature")
    return BlockSignatures(slot=slot, block_time=_time(result, "blockTime", method, "result."),
                           signatures=tuple(signatures))


def parse_slot(result: Any) -> int:
    """``getSlot``: the node's latest slot at the commitment asked."""
    return _int({"slot": result}, "slot", "getSlot", "result.")


def parse_block_time(result: Any, *, slot: int) -> datetime | None:
    """``getBlockTime``: the block's estimated production time, ``None`` when unknown."""
    if result is None:
        return None
    return _time({"blockTime": result}, "blockTime", "getBlockTime", f"slot {slot} ")
