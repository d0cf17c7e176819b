"""Spam policies: rules that hide tokens from a portfolio, off by default.

A rule is any object with ``describe() -> str`` and ``hides(holding) -> bool``
(:class:`SpamRule`); a :class:`SpamPolicy` applies its rules in turn, and the portfolio
states the policy and lists every address it hid. The built-in rules are an allow list
(only these tokens), a deny list (never these) and a minimum USD value, which judges
only holdings that have a value: a token without a price at the moment is kept, since
nothing proves it is worth less.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from asof.portfolio.records import Holding, Portfolio

__all__ = ["AllowList", "DenyList", "MinimumValue", "SpamPolicy", "SpamRule"]


@runtime_checkable
class SpamRule(Protocol):
    """One rule of a spam policy."""

    def describe(self) -> str:
        """The rule in a few words, stated in the answer."""
        ...

    def hides(self, holding: Holding) -> bool:
        """Whether the rule hides ``holding``."""
        ...


def _keys(holding: Holding) -> set[str]:
    token = holding.token
    return {token.address, token.address.lower(), f"{token.chain}:{token.address}",
            f"{token.chain}:{token.address}".lower()}


@attrs.frozen
class AllowList:
    """Only the listed tokens are shown (addresses, or ``chain:address``)."""

    tokens: frozenset[str]

    def describe(self) -> str:
        """The rule in a few words."""
        return f"allow list of {len(self.tokens)} tokens"

    def hides(self, holding: Holding) -> bool:
        """A token not on the list is hidden."""
        return not (_keys(holding) & self.tokens)


@attrs.frozen
class DenyList:
    """The listed tokens are hidden (addresses, or ``chain:address``)."""

    tokens: frozenset[str]

    def describe(self) -> str:
        """The rule in a few words."""
        return f"deny list of {len(self.tokens)} tokens"

    def hides(self, holding: Holding) -> bool:
        """A token on the list is hidden."""
        return bool(_keys(holding) & self.tokens)


@attrs.frozen
class MinimumValue:
    """Holdings valued below ``usd`` at the moment are hidden; unvalued ones are kept."""

    usd: Decimal

    def describe(self) -> str:
        """The rule in a few words."""
        return f"minimum value {format(self.usd, 'f')} USD (tokens without a value are kept)"

    def hides(self, holding: Holding) -> bool:
        """A holding with a value below the minimum is hidden."""
        valued = holding.valuation
        return valued is not None and valued.value is not None and valued.value < self.usd


@attrs.frozen
class SpamPolicy:
    """Rules applied in turn; a holding any rule hides is hidden."""

    rules: tuple[SpamRule, ...] = ()

    @property
    def active(self) -> bool:
        """Whether the policy has any rule."""
        return bool(self.rules)

    @property
    def needs_values(self) -> bool:
        """Whether a rule judges values (the portfolio must then be valued)."""
        return any(isinstance(rule, MinimumValue) for rule in self.rules)

    def describe(self) -> str:
        """The policy in a few words."""
        return "; ".join(rule.describe() for rule in self.rules)

    def apply(self, portfolio: Portfolio) -> Portfolio:
        """The portfolio without the hidden holdings, stating the policy."""
        if not self.active:
            return portfolio
        kept: list[Holding] = []
        hidden: list[str] = []
        for holding in portfolio.holdings:
            if any(rule.hides(holding) for rule in self.rules):
                hidden.append(holding.token.address)
            else:
                kept.append(holding)
        return attrs.evolve(portfolio, holdings=tuple(kept), spam_policy=self.describe(),
                            hidden=(*portfolio.hidden, *hidden))

    @classmethod
    def of(cls, *, allow: Iterable[str] | None = None, deny: Sequence[str] = (),
           min_value_usd: Decimal | None = None,
           extra: Sequence[SpamRule] = ()) -> SpamPolicy:
        """A policy from the built-in rules (each optional) and any extra rules."""
        rules: list[SpamRule] = []
        if allow is not None:
            rules.append(AllowList(frozenset(t.strip() for t in allow)))
        if deny:
            rules.append(DenyList(frozenset(t.strip() for t in deny)))
        if min_value_usd is not None:
            rules.append(MinimumValue(min_value_usd))
        rules.extend(extra)
        return cls(tuple(rules))
