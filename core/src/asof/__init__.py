"""asof: what did this wallet or exchange account hold as of a given moment?

The package's public surface: the canonical records, the errors, the hook marker for
plugins, and the clients (:class:`AsyncClient`, and :class:`Client`, its sync facade).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asof.errors import (
    ArchiveError,
    AsofError,
    AuthenticationError,
    ConfigError,
    InputError,
    InvalidAddress,
    InvalidPoint,
    InvalidRange,
    NoRoute,
    NotFoundError,
    PluginError,
    ProviderError,
    ProviderRequestError,
    ProviderTimeout,
    RateLimited,
    ResponseError,
    RetryableError,
    TransportError,
    UnknownChain,
    UnknownProvider,
    UnknownToken,
    UnreadableResponse,
    UpstreamError,
)
from asof.hookspecs import hookimpl
from asof.points import parse_point, parse_time
from asof.portfolio.records import Holding, Portfolio
from asof.portfolio.spam import SpamPolicy
from asof.prices import Price, Valuation
from asof.records import (
    NATIVE_SOL_MINT,
    WRAPPED_SOL_MINT,
    Amount,
    BalanceAt,
    BalanceChange,
    BlockRef,
    Capability,
    ChainSupport,
    Cost,
    HoldingsPoint,
    LedgerEntry,
    Page,
    Point,
    Provenance,
    SupportStatus,
    Token,
    TokenHolding,
    Wallet,
)

if TYPE_CHECKING:
    from asof.blocking import Client
    from asof.client import AsyncClient

__version__ = "0.1.0"

__all__ = [
    "NATIVE_SOL_MINT",
    "WRAPPED_SOL_MINT",
    "Amount",
    "ArchiveError",
    "AsofError",
    "AsyncClient",
    "AuthenticationError",
    "BalanceAt",
    "BalanceChange",
    "BlockRef",
    "Capability",
    "ChainSupport",
    "Client",
    "ConfigError",
    "Cost",
    "Holding",
    "HoldingsPoint",
    "InputError",
    "InvalidAddress",
    "InvalidPoint",
    "InvalidRange",
    "LedgerEntry",
    "NoRoute",
    "NotFoundError",
    "Page",
    "PluginError",
    "Point",
    "Portfolio",
    "Price",
    "Provenance",
    "ProviderError",
    "ProviderRequestError",
    "ProviderTimeout",
    "RateLimited",
    "ResponseError",
    "RetryableError",
    "SpamPolicy",
    "SupportStatus",
    "Token",
    "TokenHolding",
    "TransportError",
    "UnknownChain",
    "UnknownProvider",
    "UnknownToken",
    "UnreadableResponse",
    "UpstreamError",
    "Valuation",
    "Wallet",
    "hookimpl",
    "parse_point",
    "parse_time",
]


def __getattr__(name: str) -> Any:
    # The clients pull in the HTTP stack; import them on first use.
    if name == "AsyncClient":
        from asof.client import AsyncClient

        return AsyncClient
    if name == "Client":
        from asof.blocking import Client

        return Client
    raise AttributeError(f"module 'asof' has no attribute {name!r}")
