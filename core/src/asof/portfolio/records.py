"""The records of a portfolio answer: one :class:`Holding` per token, in a
:class:`Portfolio` that says what it may have missed and what its spam policy hid."""

from __future__ import annotations

import attrs

from asof.prices import Valuation
from asof.records import Amount, BlockRef, Point, Provenance, Token, Wallet

__all__ = ["Holding", "Portfolio"]


@attrs.frozen(kw_only=True)
class Holding:
    """A wallet's balance of one token as of the portfolio's point.

    ``token_accounts`` lists the token accounts the balance is summed over (Solana),
    when the source names them; ``as_of`` is the latest change used (``None``: no
    activity, zero). ``valuation`` is set when the portfolio was valued.
    """

    wallet: Wallet
    token: Token
    amount: Amount
    as_of: BlockRef | None
    provenance: Provenance
    token_accounts: tuple[str, ...] = ()
    valuation: Valuation | None = None


@attrs.frozen(kw_only=True)
class Portfolio:
    """Every token one wallet held as of ``requested``.

    ``may_miss`` says, one sentence each, which tokens the answer may have missed and
    why (a history scope that excludes the native coin, token accounts closed before
    today, tokens asof's registry does not know). ``spam_policy`` states the policy
    applied (``None``: none) and ``hidden`` the addresses it hid.
    """

    wallet: Wallet
    requested: Point
    holdings: tuple[Holding, ...]
    provenance: Provenance
    may_miss: tuple[str, ...] = ()
    spam_policy: str | None = None
    hidden: tuple[str, ...] = ()

    def _repr_html_(self) -> str:
        """The holdings as an HTML table (what a notebook shows)."""
        from asof.frames import html_table

        return html_table([self])
