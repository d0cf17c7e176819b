"""``balance_at`` for a Pacifica account, derived from its ledger.

The balance as of a moment is the ``balance`` after the last event at or before it
(:func:`asof.derive.balance_from_ledger`); before the first event it is zero with no
``as_of``. The walk reads the ledger newest first, always with trade events (the
balance after a deposit says nothing about the trades that followed it), and stops at
the first page holding an event at or before the moment: a recent moment costs one
request, an old one every page back to it.

The balance is USDC (:data:`~asof_pacifica.info.USDC`); its decimal string becomes an
:class:`~asof.records.Amount` of 6 decimals exactly, and a balance with finer digits is
refused as a :class:`~asof.errors.ResponseError` rather than rounded.
"""

from __future__ import annotations

from decimal import Decimal

from asof.plugin import (
    Amount,
    BalanceAt,
    BalanceQuery,
    BlockRef,
    InputError,
    LedgerEntry,
    Provenance,
    ProviderContext,
    ResponseError,
    balance_from_ledger,
    to_raw,
)
from asof_pacifica import cursor
from asof_pacifica.info import HISTORY_SOURCE, NAME, USDC, USDC_DECIMALS
from asof_pacifica.ledger import fetch, page_size

__all__ = ["balance_at", "usdc_amount"]

_DERIVED = (
    "derived from the account's balance history: the balance after the last event at or "
    "before the moment"
)


def usdc_amount(value: Decimal) -> Amount:
    """``value`` USDC as base units with 6 decimals; refuses finer digits."""
    try:
        raw = to_raw(value, USDC_DECIMALS, field="balance")
    except InputError as exc:
        raise ResponseError(NAME, f"balance {exc.args[0].removeprefix('balance: ')}",
                            field="balance") from None
    return Amount(raw=raw, decimals=USDC_DECIMALS)


async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt:
    """The account's USDC balance as of ``query.point`` (a time)."""
    if query.token.address != USDC.address:
        raise InputError(
            f"a Pacifica account holds its balance in USDC ({USDC.address}); "
            f"{query.token} is not it",
            field="token",
            value=query.token.address,
        )
    if query.point.time is None:
        raise InputError("a Pacifica account's balance is placed in time only; give a time, "
                         "not a slot", field="at", value=str(query.point))
    limit = page_size(ctx)
    state: cursor.State | None = cursor.State()
    found: tuple[Decimal, LedgerEntry] | None = None
    while state is not None and found is None:
        batch = await fetch(ctx, query.wallet, state, limit=limit, trades=True)
        balance, entry = balance_from_ledger(batch.entries, query.point)
        if entry is not None:
            found = (balance, entry)
        state = batch.next
    provenance = Provenance(provider=NAME, derived=True, source=HISTORY_SOURCE,
                            fetched_at=ctx.now(), caveats=(_DERIVED,))
    if found is None:
        return BalanceAt(wallet=query.wallet, token=USDC,
                         amount=Amount(raw=0, decimals=USDC_DECIMALS),
                         requested=query.point, as_of=None, provenance=provenance)
    balance, entry = found
    return BalanceAt(
        wallet=query.wallet,
        token=USDC,
        amount=usdc_amount(balance),
        requested=query.point,
        as_of=BlockRef(timestamp=entry.time),
        provenance=provenance,
    )
