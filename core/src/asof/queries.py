"""The questions the router passes to a provider's async hooks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import attrs

from asof.errors import InputError, InvalidRange
from asof.records import Capability, Point, Token, Wallet

__all__ = ["BalanceQuery", "HistoryQuery", "PortfolioQuery", "by_chain"]


def by_chain(wallets: Iterable[Wallet]) -> dict[str, tuple[Wallet, ...]]:
    """The wallets grouped by chain, in order of first appearance, duplicates dropped:
    one history query covers one chain, so wallets on several chains are asked chain
    by chain (the CLI and both clients do this)."""
    groups: dict[str, list[Wallet]] = {}
    for wallet in dict.fromkeys(wallets):
        groups.setdefault(wallet.chain, []).append(wallet)
    return {chain: tuple(found) for chain, found in groups.items()}


@attrs.frozen(kw_only=True)
class BalanceQuery:
    """One wallet's balance of one token as of one point."""

    wallet: Wallet
    token: Token
    point: Point

    def __attrs_post_init__(self) -> None:
        if self.token.chain != self.wallet.chain:
            raise InputError(
                f"token is on {self.token.chain} but the wallet is on {self.wallet.chain}",
                field="token",
            )

    @property
    def chain(self) -> str:
        """The canonical chain of the query."""
        return self.wallet.chain


@attrs.frozen(kw_only=True)
class HistoryQuery:
    """A history over a range, for one or more wallets on one chain.

    ``start`` is inclusive and ``end`` exclusive; either may be ``None`` (open). The
    other fields apply to some capabilities only: ``tokens`` filters balance changes,
    ``granularity``, ``breakdown`` and ``min_liquidity`` shape holdings history, and
    ``event_types`` filters ledger entries. ``page_size`` is a hint; providers may
    return fewer or more items per page.
    """

    capability: Capability
    wallets: tuple[Wallet, ...]
    start: datetime | None = None
    end: datetime | None = None
    tokens: tuple[Token, ...] = ()
    granularity: str | None = None
    breakdown: bool = False
    min_liquidity: Decimal | None = None
    event_types: tuple[str, ...] = ()
    page_size: int | None = None

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "capability", Capability(self.capability))
        object.__setattr__(self, "wallets", tuple(self.wallets))
        if not self.wallets:
            raise InputError("give at least one wallet", field="wallets")
        chains = {w.chain for w in self.wallets}
        if len(chains) > 1:
            raise InputError(
                f"one history query covers one chain, got {', '.join(sorted(chains))}",
                field="wallets",
            )
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise InvalidRange(
                f"end {self.end.isoformat()} is not after start {self.start.isoformat()}",
                field="end",
            )
        if self.page_size is not None and self.page_size < 1:
            raise InputError("must be at least 1", field="page_size", value=self.page_size)

    @property
    def chain(self) -> str:
        """The canonical chain of the query."""
        return self.wallets[0].chain


@attrs.frozen(kw_only=True)
class PortfolioQuery:
    """Every token one wallet held as of one point.

    ``include_zero`` asks also for the tokens the wallet held before the point whose
    balance is zero at it.
    """

    wallet: Wallet
    point: Point
    include_zero: bool = False

    @property
    def chain(self) -> str:
        """The canonical chain of the query."""
        return self.wallet.chain
