"""A Solana wallet's whole portfolio as of a point, from the node.

The tokens are found among the wallet's token accounts today: ``getTokenAccountsByOwner``
once per token program (Token and Token-2022) lists every account and its mint. Each
mint's balance at the point is then read as ``balance_at`` reads it (every account of the
wallet for the mint, each walked back to its last transaction at or before the point),
and native SOL as well. A token held at the point only in accounts closed (or handed to
another owner) before the call is not found; the answer says so in ``may_miss``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asof.plugin import (
    BalanceAt,
    BalanceQuery,
    Holding,
    Portfolio,
    PortfolioQuery,
    Provenance,
    ProviderContext,
    Token,
    named,
    native_token,
)
from asof_solana.parse import NAME, parse_token_accounts
from asof_solana.rpc import COMMITMENT
from asof_solana.walk import Walker

__all__ = ["MISSED_CLOSED", "PROGRAMS", "portfolio_at"]

#: The token programs whose accounts are listed: Token and Token-2022.
PROGRAMS = ("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
            "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
#: What a portfolio from today's token accounts may miss.
MISSED_CLOSED = ("tokens held at the point only in token accounts closed (or handed to "
                 "another owner) before this answer was fetched: getTokenAccountsByOwner "
                 "lists today's accounts")

Ask = Callable[[BalanceQuery], Awaitable[BalanceAt]]


async def portfolio_at(ctx: ProviderContext, query: PortfolioQuery, ask: Ask) -> Portfolio:
    """Native SOL and every mint of the wallet's token accounts today, each as of
    ``query.point`` through ``ask`` (the plugin's ``balance_at``)."""
    wallet = query.wallet.address
    walker = Walker(ctx)
    decimals: dict[str, int | None] = {}
    for program in PROGRAMS:
        accounts, _ = parse_token_accounts(
            await walker.node.call("getTokenAccountsByOwner", [
                wallet, {"programId": program},
                {"encoding": "jsonParsed", "commitment": COMMITMENT},
            ]),
            owner=wallet, mint=None,
        )
        for account in accounts:
            decimals.setdefault(account.mint, account.decimals)
    tokens = [native_token("solana")] + [
        Token(chain="solana", address=mint, decimals=decimals[mint]) for mint in sorted(decimals)]
    holdings: list[Holding] = []
    for token in tokens:
        answer = await ask(BalanceQuery(wallet=query.wallet, token=token, point=query.point))
        echo: Any = answer.provenance.echo or {}
        accounts_read = tuple(echo.get("token_accounts", ()))
        holdings.append(Holding(wallet=query.wallet, token=named(answer.token),
                                amount=answer.amount, as_of=answer.as_of,
                                provenance=answer.provenance, token_accounts=accounts_read))
    return Portfolio(
        wallet=query.wallet, requested=query.point, holdings=tuple(holdings),
        provenance=Provenance(provider=NAME, fetched_at=ctx.now(),
                              source="JSON-RPC getTokenAccountsByOwner (per token program), "
                              "then each mint's balance_at"),
        may_miss=(MISSED_CLOSED,))
