"""A wallet's balance as of a point, from a Solana node's own records.

Native SOL: the wallet's last transaction at or before the point, and the wallet's
entry of that transaction's ``meta.postBalances`` (lamports).

A token (SPL or Token-2022 mint): every token account the wallet owns for the mint
(``getTokenAccountsByOwner`` with a ``mint`` filter), each walked to its own last
transaction at or before the point, whose ``meta.postTokenBalances`` entry for that
account is the account's balance after it (no entry: the account was closed or did not
hold the mint then, so zero; an entry owned by another wallet counts zero too). The
wallet's balance is the sum over its accounts; ``as_of`` is the latest of those
transactions by slot and transaction index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from asof.context import ProviderContext
from asof.errors import NotFoundError, ResponseError
from asof.queries import BalanceQuery
from asof.records import Amount, BalanceAt, BlockRef, Provenance
from asof_solana.parse import NAME, TokenAccount, parse_token_accounts
from asof_solana.rpc import COMMITMENT
from asof_solana.walk import Last, Walker

__all__ = [
    "CAVEATS",
    "CAVEAT_ACCOUNT_KEYS",
    "CAVEAT_BLOCK_TIME",
    "CAVEAT_CLOSED_ACCOUNTS",
    "CAVEAT_UNRECORDED_OWNER",
    "SOL_DECIMALS",
    "native_balance",
    "token_balance",
]

#: Lamports per SOL: 10**9.
SOL_DECIMALS = 9

CAVEAT_CLOSED_ACCOUNTS = (
    "token accounts closed (or handed to another owner) before this answer was fetched "
    "are not found by getTokenAccountsByOwner: a balance the wallet held at the point in "
    "such an account is not counted"
)
CAVEAT_ACCOUNT_KEYS = (
    "the node's signature index lists only transactions in which the address is an "
    "account key; a balance changed without the account being listed is not seen"
)
CAVEAT_BLOCK_TIME = (
    "time points resolve through validator-reported block times (blockTime), which can "
    "drift a few seconds; slot points are exact"
)
CAVEAT_UNRECORDED_OWNER = (
    "a transaction read here predates the node recording token account owners; that "
    "account's balance is counted as the wallet's because the wallet owns it today"
)
#: Every limit this provider states (the answer's caveats carry the ones that apply).
CAVEATS = (CAVEAT_CLOSED_ACCOUNTS, CAVEAT_ACCOUNT_KEYS, CAVEAT_BLOCK_TIME,
           CAVEAT_UNRECORDED_OWNER)


async def native_balance(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt:
    """Native SOL as of ``query.point``, in lamports."""
    walker = Walker(ctx)
    wallet = query.wallet.address
    found = await walker.last_at_or_before([wallet], query.point, ask_finalized=True)
    await walker.ensure_final(query.point)
    last = found[wallet]
    raw = 0
    reads: list[dict[str, Any]] = []
    if last is not None:
        transaction = (await walker.transactions([last]))[last.signature]
        index = transaction.index_of(wallet)
        assert index is not None  # checked by Walker.transactions
        raw = transaction.post_balances[index]
        last = attrs.evolve(last, block_time=transaction.block_time or last.block_time)
        reads.append(_read(wallet, last, raw))
    token = attrs.evolve(query.token, standard="native", decimals=SOL_DECIMALS,
                         symbol=query.token.symbol or "SOL")
    return BalanceAt(
        wallet=query.wallet,
        token=token,
        amount=Amount(raw=raw, decimals=SOL_DECIMALS),
        requested=query.point,
        as_of=None if last is None else last.block(),
        provenance=_provenance(ctx, query, walker, reads, native=True, owner_guess=False),
    )


async def token_balance(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt:
    """A mint's balance as of ``query.point``: every token account of the wallet summed."""
    walker = Walker(ctx)
    wallet, mint = query.wallet.address, query.token.address
    accounts, read_at = parse_token_accounts(
        await walker.node.call("getTokenAccountsByOwner", [
            wallet, {"mint": mint}, {"encoding": "jsonParsed", "commitment": COMMITMENT},
        ]),
        owner=wallet, mint=mint,
    )
    walker.finalized = read_at
    if query.point.block is not None:
        await walker.ensure_final(query.point)  # before spending a call on the walk
    decimals = _decimals(accounts, query.token.decimals)
    found = await walker.last_at_or_before([a.address for a in accounts], query.point)
    await walker.ensure_final(query.point)
    lasts = [last for last in found.values() if last is not None]
    transactions = await walker.transactions(lasts)
    total = 0
    reads: list[dict[str, Any]] = []
    owner_guess = False
    for n, last in enumerate(lasts):
        transaction = transactions[last.signature]
        if transaction.post_token_balances is None:
            raise NotFoundError(
                NAME, f"the node recorded no token balances for transaction "
                f"{last.signature} (slot {last.slot}), the last one of token account "
                f"{last.address} at or before the point, so its balance cannot be proven",
                field="postTokenBalances")
        index = transaction.index_of(last.address)
        entry = next((b for b in transaction.post_token_balances if b.account_index == index),
                     None)
        held = 0
        if entry is not None and entry.mint == mint and entry.owner in (None, wallet):
            if entry.decimals != decimals:
                raise ResponseError(NAME, f"transaction {last.signature} gives {mint} "
                                    f"{entry.decimals} decimals, the token account "
                                    f"{decimals}", field="uiTokenAmount.decimals")
            held = entry.amount
            owner_guess = owner_guess or entry.owner is None
        total += held
        lasts[n] = attrs.evolve(last, block_time=transaction.block_time or last.block_time)
        reads.append(_read(last.address, lasts[n], held))
    as_of = await _latest(walker, lasts)
    return BalanceAt(
        wallet=query.wallet,
        token=attrs.evolve(query.token, decimals=decimals,
                           standard=_standard(accounts, query.token.standard)),
        amount=Amount(raw=total, decimals=decimals),
        requested=query.point,
        as_of=as_of,
        provenance=_provenance(ctx, query, walker, reads, native=False,
                               owner_guess=owner_guess,
                               accounts=[a.address for a in accounts]),
    )


def _decimals(accounts: Sequence[TokenAccount], asked: int | None) -> int | None:
    found = {a.decimals for a in accounts}
    if len(found) > 1:
        raise ResponseError(NAME, f"getTokenAccountsByOwner gives one mint several decimals: "
                            f"{sorted(found)}", field="tokenAmount.decimals")
    return found.pop() if found else asked


#: ``jsonParsed`` program names of the token programs, as :class:`~asof.records.Token`
#: standards.
_STANDARDS = {"spl-token": "spl", "spl-token-2022": "token-2022"}


def _standard(accounts: Sequence[TokenAccount], asked: str) -> str:
    if asked != "unknown":
        return asked
    found = {_STANDARDS.get(a.program or "", "unknown") for a in accounts}
    return found.pop() if len(found) == 1 else asked


async def _latest(walker: Walker, lasts: Sequence[Last]) -> BlockRef | None:
    """The latest of the accounts' last transactions, by slot then transaction index."""
    if not lasts:
        return None
    top = max(last.slot for last in lasts)
    tied = [last for last in lasts if last.slot == top]
    signatures = list(dict.fromkeys(last.signature for last in tied))
    if len(signatures) == 1:
        return tied[0].block()
    positions = await walker.positions(top, signatures)
    best = max(tied, key=lambda last: positions[last.signature])
    return best.block(positions[best.signature])


def _read(address: str, last: Last, amount: int) -> dict[str, Any]:
    return {"account": address, "signature": last.signature, "slot": last.slot,
            "amount": str(amount)}


def _provenance(ctx: ProviderContext, query: BalanceQuery, walker: Walker,
                reads: list[dict[str, Any]], *, native: bool, owner_guess: bool,
                accounts: Sequence[str] = ()) -> Provenance:
    caveats = [CAVEAT_ACCOUNT_KEYS]
    if not native:
        caveats.insert(0, CAVEAT_CLOSED_ACCOUNTS)
    if query.point.time is not None:
        caveats.append(CAVEAT_BLOCK_TIME)
    if owner_guess:
        caveats.append(CAVEAT_UNRECORDED_OWNER)
    source = ("getSignaturesForAddress + getTransaction" if native else
              "getTokenAccountsByOwner + getSignaturesForAddress + getTransaction")
    echo: dict[str, Any] = {"reads": reads, "calls": dict(walker.node.calls),
                            "requests": walker.node.requests}
    if not native:
        echo["token_accounts"] = list(accounts)
    return Provenance(provider=NAME, source=f"JSON-RPC {source}", fetched_at=ctx.now(),
                      echo=echo, caveats=tuple(caveats))
