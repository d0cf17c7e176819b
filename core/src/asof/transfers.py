"""Token transfers turned into balance changes, for sources that list transfers
(``Transfer`` logs of a node, an explorer's token-transfer list).

A :class:`RunningBalances` holds a wallet's balance of each token while a history is
paged: it starts from the opening balances at the window start (:meth:`~RunningBalances.
opening`, one :class:`~asof.records.BalanceChange` per token that holds a balance),
then :meth:`~RunningBalances.apply` sums each transaction's transfers of a token into
one change carrying the balance after it. Its state (:meth:`~RunningBalances.state`)
is plain JSON for an opaque cursor (:mod:`asof.cursors`), so a later page, even in
another process, continues from it. :func:`cut_at_block` cuts a page so that no block
is split between two pages.

An opening record's ``block`` is the last block before the window (whose state it is),
with no transaction, and its ``timestamp`` is the window start: the moment from which
that balance holds, not the block's own time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from asof.errors import InputError, ResponseError
from asof.records import Amount, BalanceChange, BlockRef, Provenance, Token, Wallet

__all__ = ["RunningBalances", "Transfer", "cut_at_block"]


@attrs.frozen(kw_only=True)
class Transfer:
    """One token transfer as a source lists it. Addresses in the chain's normal form
    (lowercase on EVM chains); ``value`` in base units; ``log_index`` orders transfers
    inside a block."""

    token: Token
    block: int
    index: int  #: the transaction's index inside its block
    log_index: int
    transaction: str
    sender: str
    recipient: str
    value: int
    timestamp: datetime | None = None
    block_hash: str | None = None

    def __attrs_post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise InputError("must be a non-negative integer", field="value", value=self.value)

    @property
    def order_key(self) -> tuple[int, int, int]:
        """Chain order: block, transaction index, log index."""
        return (self.block, self.index, self.log_index)


class RunningBalances:
    """A wallet's running balance per token (keyed by token address), in base units.

    ``provider`` names the source in errors: transfers that take a balance below zero
    mean the source's list or the opening balance is wrong, and raise
    :class:`~asof.errors.ResponseError`.
    """

    def __init__(
        self, wallet: Wallet, provider: str, balances: Mapping[str, int] | None = None
    ) -> None:
        self.wallet = wallet
        self.provider = provider
        self.balances: dict[str, int] = dict(balances or {})

    # -- cursor state

    def state(self) -> dict[str, str]:
        """The balances as JSON data (decimal strings, exact in any reader)."""
        return {token: str(raw) for token, raw in sorted(self.balances.items())}

    @classmethod
    def from_state(cls, wallet: Wallet, provider: str, state: Any) -> RunningBalances:
        """Balances read back from :meth:`state`; anything else is refused with an
        :class:`~asof.errors.InputError` on field ``cursor``."""
        if not isinstance(state, Mapping):
            raise InputError("the cursor's balances are not an object", field="cursor")
        balances: dict[str, int] = {}
        for token, raw in state.items():
            if not isinstance(token, str) or not isinstance(raw, str) or not raw.isdigit():
                raise InputError("the cursor's balances are not base-unit integers",
                                 field="cursor")
            balances[token] = int(raw)
        return cls(wallet, provider, balances)

    # -- records

    def opening(
        self,
        balances: Sequence[tuple[Token, int]],
        *,
        before: int,
        start: datetime | None,
        provenance: Provenance,
    ) -> list[BalanceChange]:
        """Set the opening balances and return a record for each one that is not zero.

        ``before`` is the last block before the window, ``start`` the window start.
        """
        records: list[BalanceChange] = []
        for token, raw in balances:
            if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
                raise ResponseError(self.provider, f"opening balance of {token.address} is "
                                    f"not a base-unit integer: {raw!r}", field="balance")
            self.balances[token.address] = raw
            if raw:
                records.append(self._record(
                    token, raw, BlockRef(number=max(before, 0), timestamp=start), provenance
                ))
        return records

    def apply(
        self, transfers: Iterable[Transfer], *, provenance: Provenance
    ) -> list[BalanceChange]:
        """Balance changes from ``transfers`` (any order; they are sorted by chain
        order): one per transaction and token whose net amount for the wallet is not
        zero, carrying the balance after that transaction, in chain order."""
        me = self.wallet.address
        net: dict[tuple[int, int, str, str], int] = {}
        first: dict[tuple[int, int, str, str], Transfer] = {}
        for transfer in sorted(transfers, key=lambda t: t.order_key):
            delta = 0
            if transfer.recipient == me:
                delta += transfer.value
            if transfer.sender == me:
                delta -= transfer.value
            key = (transfer.block, transfer.index, transfer.transaction, transfer.token.address)
            net[key] = net.get(key, 0) + delta
            first.setdefault(key, transfer)
        records: list[BalanceChange] = []
        for key in sorted(first, key=lambda k: first[k].order_key):
            amount = net[key]
            if amount == 0:
                continue
            head = first[key]
            balance = self.balances.get(head.token.address, 0) + amount
            if balance < 0:
                raise ResponseError(
                    self.provider,
                    f"transfers take the balance of {head.token.address} below zero in "
                    f"transaction {head.transaction} (block {head.block}): the transfer "
                    "list or the opening balance is incomplete",
                    field="transfers",
                )
            self.balances[head.token.address] = balance
            block = BlockRef(number=head.block, hash=head.block_hash, timestamp=head.timestamp,
                             transaction=head.transaction, index=head.index)
            records.append(self._record(head.token, balance, block, provenance))
        return records

    def _record(
        self, token: Token, raw: int, block: BlockRef, provenance: Provenance
    ) -> BalanceChange:
        return BalanceChange(
            wallet=self.wallet, token=token, token_account=None,
            balance=Amount(raw=raw, decimals=token.decimals), block=block,
            provenance=provenance,
        )


def cut_at_block(
    records: Sequence[BalanceChange], size: int
) -> tuple[list[BalanceChange], list[BalanceChange]]:
    """Split records (in chain order) into a page of about ``size`` and the rest, never
    inside a block: the page ends before the block that would take it past ``size``,
    unless that block is the page's first (then the whole block is the page)."""
    if size < 1:
        raise InputError("must be at least 1", field="page_size", value=size)
    if len(records) <= size:
        return list(records), []
    cut = size
    boundary = records[cut].block.number
    while cut > 0 and records[cut - 1].block.number == boundary:
        cut -= 1
    if cut == 0:
        cut = size
        while cut < len(records) and records[cut].block.number == boundary:
            cut += 1
    return list(records[:cut]), list(records[cut:])
