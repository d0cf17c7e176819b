"""What a wallet held at a moment: every token, each with its amount and provenance,
what the answer may have missed, and the spam policy applied (``docs/portfolio.md``)."""

from asof.portfolio.records import Holding, Portfolio
from asof.portfolio.settings import PortfolioSettings, portfolio_settings
from asof.portfolio.spam import AllowList, DenyList, MinimumValue, SpamPolicy, SpamRule

__all__ = [
    "AllowList",
    "DenyList",
    "Holding",
    "MinimumValue",
    "Portfolio",
    "PortfolioSettings",
    "SpamPolicy",
    "SpamRule",
    "portfolio_settings",
]
