"""Everything a provider plugin needs, in one import.

A plugin imports from this module and nothing else of asof (a contract test checks
every installed plugin)::

    from asof.plugin import (
        BalanceAt, BalanceQuery, ChainSupport, Credential, ProviderContext,
        ProviderInfo, hookimpl, strict,
    )

    @hookimpl
    def provider_info() -> ProviderInfo: ...

What it holds:

- the hook marker :data:`hookimpl` (the one way to mark a hook implementation);
- the declarations: :class:`ProviderInfo`, :class:`Credential`, :class:`RateLimit`,
  :class:`Option`, the in-band error check's :class:`BodyError` / :data:`BodyCheck`,
  and :class:`ChainSupport`, :class:`HistoryScope`, :class:`Cost`,
  :class:`SupportStatus`, :class:`Capability`;
- what the async hooks receive: :class:`ProviderContext` (with its
  :class:`ProviderHTTP` session and its :class:`BlockTimes`, the settled
  :class:`BlockTime` facts kept for time searches), :class:`BalanceQuery`,
  :class:`HistoryQuery`;
- the records they return: :class:`BalanceAt`, :class:`BalanceChange`, :class:`Portfolio`
  and its :class:`Holding` (``portfolio_at``, asked with a :class:`PortfolioQuery`),
  :class:`Price` (``price_at``),
  :class:`HoldingsPoint`, :class:`LedgerEntry`, :class:`Page` and their parts
  (:class:`Amount`, :class:`BlockRef`, :class:`Point`, :class:`Provenance`,
  :class:`Token`, :class:`TokenHolding`, :class:`Wallet`);
- the errors of :mod:`asof.errors`;
- helpers: the strict answer reader (:func:`strict`, :class:`Field`), exact numbers
  (:func:`to_int`, :func:`to_decimal`, :func:`to_raw`, :func:`scale`), cursors
  (:func:`pack_cursor`, :func:`unpack_cursor`, :func:`foreign_cursor`), the as-of rule
  and derivations (:func:`at_or_before`, :func:`change_order`, :func:`ledger_order`,
  :func:`balance_from_changes`, :func:`balance_from_ledger`), times
  (:func:`format_time`, :func:`parse_time`, :func:`to_epoch`), chains and tokens
  (:func:`resolve_chain`, :func:`native_token`, :func:`normalize_address`, :func:`named`:
  a token with the registry's symbol and decimals where its source gave none), and JSON-RPC
  2.0 over the provider's session (:class:`JsonRpc`, :data:`Call`, :func:`rpc_code`,
  :func:`rpc_error`), token transfer lists to balance changes (:class:`Transfer`,
  :class:`RunningBalances`, :func:`cut_at_block`) and time windows to block ranges
  (:func:`block_window`, :func:`last_block_at_or_before`, :class:`BlockWindow`,
  :func:`floor_seconds`, :func:`ceil_seconds`).
"""

from __future__ import annotations

from asof.addresses import normalize_address
from asof.blocks import (
    BlockWindow,
    block_window,
    ceil_seconds,
    floor_seconds,
    last_block_at_or_before,
)
from asof.blocktimes import BlockTime, BlockTimes
from asof.chains import Family, known_chains, resolve_chain
from asof.context import ProviderContext, ProviderHTTP
from asof.cursors import foreign_cursor, pack_cursor, unpack_cursor
from asof.derive import (
    at_or_before,
    balance_from_changes,
    balance_from_ledger,
    change_order,
    ledger_order,
)
from asof.errors import (
    AsofError,
    AuthenticationError,
    ConfigError,
    InputError,
    InvalidAddress,
    InvalidPoint,
    InvalidRange,
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
    UpstreamError,
    error_for_status,
)
from asof.exact import scale, to_decimal, to_int, to_raw
from asof.hookspecs import hookimpl
from asof.jsonrpc import Call, JsonRpc, rpc_code, rpc_error
from asof.points import format_time, parse_time, to_epoch
from asof.portfolio import Holding, Portfolio
from asof.portfolio.derive import named
from asof.prices import Price
from asof.provider import BodyCheck, BodyError, Credential, Option, ProviderInfo, RateLimit
from asof.queries import BalanceQuery, HistoryQuery, PortfolioQuery
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
    HistoryItem,
    HistoryScope,
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
from asof.strict import Field, strict
from asof.tokens import EVM_NATIVE_ADDRESS, native_token
from asof.transfers import RunningBalances, Transfer, cut_at_block

__all__ = [
    "EVM_NATIVE_ADDRESS",
    "NATIVE_SOL_MINT",
    "WRAPPED_SOL_MINT",
    "Amount",
    "AsofError",
    "AuthenticationError",
    "BalanceAt",
    "BalanceChange",
    "BalanceQuery",
    "BlockRef",
    "BlockTime",
    "BlockTimes",
    "BlockWindow",
    "BodyCheck",
    "BodyError",
    "Call",
    "Capability",
    "ChainSupport",
    "ConfigError",
    "Cost",
    "Credential",
    "Family",
    "Field",
    "HistoryItem",
    "HistoryQuery",
    "HistoryScope",
    "Holding",
    "HoldingsPoint",
    "InputError",
    "InvalidAddress",
    "InvalidPoint",
    "InvalidRange",
    "JsonRpc",
    "LedgerEntry",
    "NotFoundError",
    "Option",
    "Page",
    "PluginError",
    "Point",
    "Portfolio",
    "PortfolioQuery",
    "Price",
    "Provenance",
    "ProviderContext",
    "ProviderError",
    "ProviderHTTP",
    "ProviderInfo",
    "ProviderRequestError",
    "ProviderTimeout",
    "RateLimit",
    "RateLimited",
    "ResponseError",
    "RetryableError",
    "RunningBalances",
    "SupportStatus",
    "Token",
    "TokenHolding",
    "Transfer",
    "TransportError",
    "UnknownChain",
    "UpstreamError",
    "Wallet",
    "at_or_before",
    "balance_from_changes",
    "balance_from_ledger",
    "block_window",
    "ceil_seconds",
    "change_order",
    "cut_at_block",
    "error_for_status",
    "floor_seconds",
    "foreign_cursor",
    "format_time",
    "hookimpl",
    "known_chains",
    "last_block_at_or_before",
    "ledger_order",
    "named",
    "native_token",
    "normalize_address",
    "pack_cursor",
    "parse_time",
    "resolve_chain",
    "rpc_code",
    "rpc_error",
    "scale",
    "strict",
    "to_decimal",
    "to_epoch",
    "to_int",
    "to_raw",
    "unpack_cursor",
]
