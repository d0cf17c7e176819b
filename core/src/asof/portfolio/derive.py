"""A portfolio derived from a complete balance history, by the as-of rule.

Pure functions: they never fetch. A history from the wallet's beginning up to the
point lists every balance change of every token (and token account) its provider
covers, so the tokens it mentions are the tokens the wallet ever held, and each
balance at the point is :func:`asof.derive.balance_from_changes` over that token's
changes. What the provider's declared :class:`~asof.records.HistoryScope` leaves out
is stated, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

from asof.chains import Family, resolve_chain
from asof.derive import at_or_before, balance_from_changes
from asof.portfolio.records import Holding
from asof.records import BalanceChange, HistoryScope, Point, Provenance, Token, Wallet
from asof.tokens import known_tokens

__all__ = ["holdings_from_changes", "named", "scope_gaps"]

#: The fungible token standards of each family: a scope listing all of them misses none.
_FUNGIBLE: dict[Family, set[str]] = {Family.SOLANA: {"spl", "token-2022"},
                                     Family.EVM: {"erc20"}}


def named(token: Token) -> Token:
    """The token with the registry's symbol (and decimals) when the source gave none."""
    if token.symbol is not None and token.decimals is not None:
        return token
    for known in known_tokens(token.chain):
        if known.address == token.address:
            return Token(chain=token.chain, address=token.address,
                         standard=token.standard if token.standard != "unknown"
                         else known.standard,
                         decimals=token.decimals if token.decimals is not None
                         else known.decimals,
                         symbol=token.symbol or known.symbol)
    return token


def holdings_from_changes(
    changes: Iterable[BalanceChange], wallet: Wallet, point: Point, *,
    provenance: Provenance, include_zero: bool = False,
) -> tuple[Holding, ...]:
    """One holding per token the wallet's changes mention at or before ``point``.

    Balances are summed over each token's token accounts; a token whose balance is zero
    at the point is left out unless ``include_zero``. Holdings come sorted by token
    address; each carries ``provenance`` (the history's provider, marked derived).
    """
    by_token: dict[str, list[BalanceChange]] = {}
    tokens: dict[str, Token] = {}
    for change in changes:
        if change.wallet != wallet or not at_or_before(change.block, point):
            continue
        by_token.setdefault(change.token.address, []).append(change)
        held = tokens.get(change.token.address)
        if held is None or (held.decimals is None and change.token.decimals is not None):
            tokens[change.token.address] = change.token
    found: list[Holding] = []
    for address in sorted(by_token):
        token = named(tokens[address])
        amount, as_of = balance_from_changes(by_token[address], point,
                                             decimals=token.decimals)
        if amount.raw == 0 and not include_zero:
            continue
        accounts = sorted({c.token_account for c in by_token[address]
                           if c.token_account is not None})
        found.append(Holding(wallet=wallet, token=token, amount=amount, as_of=as_of,
                             provenance=provenance, token_accounts=tuple(accounts)))
    return tuple(found)


def scope_gaps(scope: HistoryScope | None, chain: str, provider: str) -> tuple[str, ...]:
    """What a portfolio read off ``provider``'s history may miss, one sentence each."""
    info = resolve_chain(chain)
    name, family = info.name, info.family
    if scope is None:
        return (f"{provider} declares no history scope on {name}: tokens it does not "
                "report are missing, whatever they are",)
    gaps: list[str] = []
    if scope.tokens is not None:
        gaps.append(f"{provider}'s history on {name} covers only "
                    f"{', '.join(scope.tokens)}; any other token is missing")
        return tuple(gaps)
    if not scope.native:
        gaps.append(f"{provider}'s history on {name} excludes the native coin; its "
                    "balance is not listed")
    if scope.standards is not None and not _FUNGIBLE.get(family, set()) <= set(scope.standards):
        gaps.append(f"{provider}'s history on {name} covers {'/'.join(scope.standards)} "
                    "tokens only; tokens of other standards are missing")
    # ``token_accounts="changed"`` and missing opening balances cost nothing here: the
    # history is read from the wallet's beginning, so every account's changes are in it.
    return tuple(gaps)
