"""Which chains Allium serves: a built-in fallback list and its live listing.

Allium's ``GET /api/v1/supported-chains/realtime-apis`` answers a list of chains, each
with an ``id``, a ``label`` and an ``endpoints`` map from product name to ``null`` (not
supported) or an object whose ``availability`` is ``"beta"`` for a beta product.

Product names: ``holdings_history`` is documented (the holdings document's chain table
reads it). The name under which the balances-history product is listed is not
documented; the names in :data:`BALANCES_PRODUCTS` are read, first one present wins.
Chains asof does not know are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from asof.plugin import (
    Capability,
    ChainSupport,
    HistoryScope,
    ResponseError,
    SupportStatus,
    UnknownChain,
    resolve_chain,
)
from asof_allium.info import MAX_WALLETS, NAME

__all__ = [
    "BALANCES_PRODUCTS",
    "FALLBACK_CHAINS",
    "HISTORY_SCOPE",
    "HOLDINGS_PRODUCT",
    "allium_chain",
    "asof_chain",
    "fallback_support",
    "parse_listing",
]

#: Chains declared when no live listing has been fetched (``asof chains --refresh``).
FALLBACK_CHAINS: tuple[str, ...] = (
    "solana",
    "ethereum",
    "base",
    "arbitrum",
    "optimism",
    "polygon",
    "bsc",
    "avalanche",
)
#: The listing's product name for holdings history (documented).
HOLDINGS_PRODUCT = "holdings_history"
#: Names the listing may use for the balances-history product (assumed, not documented).
BALANCES_PRODUCTS: tuple[str, ...] = (
    "wallet_balances_history",
    "balances_history",
    "historical_balances",
    "wallet_historical_balances",
    "historical_token_balances",
)

_FALLBACK_NOTE = "built-in list; `asof chains --refresh` reads Allium's live listing"

# Allium's chain ids where they differ from asof's canonical names (none known so far).
_TO_ALLIUM: dict[str, str] = {}
_FROM_ALLIUM = {v: k for k, v in _TO_ALLIUM.items()}


def allium_chain(chain: str) -> str:
    """Allium's id for an asof chain name."""
    name = resolve_chain(chain).name
    return _TO_ALLIUM.get(name, name)


def asof_chain(allium_id: str) -> str | None:
    """The asof chain name for an Allium chain id, or ``None`` when asof does not know it."""
    key = allium_id.strip().lower()
    try:
        return resolve_chain(_FROM_ALLIUM.get(key, key)).name
    except UnknownChain:
        return None


def _support(
    chain: str, entries: Iterable[tuple[Capability, SupportStatus]], note: str | None
) -> ChainSupport | None:
    """One declaration per chain: beta when any product on it is beta (the note then
    names the beta ones); ``balance_at`` derived wherever balance history is served."""
    statuses = dict(entries)
    if not statuses:
        return None
    capabilities = list(statuses)
    derived: tuple[Capability, ...] = ()
    if Capability.BALANCE_HISTORY in statuses:
        capabilities.append(Capability.BALANCE_AT)
        derived = (Capability.BALANCE_AT,)
    beta = [str(c) for c, s in statuses.items() if s is SupportStatus.BETA]
    if beta:
        note = "; ".join(filter(None, [f"beta: {', '.join(beta)}", note]))
    return ChainSupport(
        provider=NAME,
        chain=chain,
        capabilities=tuple(capabilities),
        status=SupportStatus.BETA if beta else SupportStatus.SUPPORTED,
        derived=derived,
        note=note,
        history_scope=HISTORY_SCOPE if Capability.BALANCE_HISTORY in statuses else None,
        history_wallets=MAX_WALLETS,
    )


#: What Allium's balances history covers, as its document says: the fungible token
#: balances of each wallet (native coins and the token types its ``type`` field names),
#: one record per balance change of each token account. It carries no opening balances:
#: an account that did not change inside the requested window does not appear.
HISTORY_SCOPE = HistoryScope(
    native=True,
    standards=("erc20", "erc721", "erc1155", "spl", "token-2022"),
    token_accounts="changed",
    opening_balances=False,
)


def fallback_support() -> list[ChainSupport]:
    """The built-in declaration: balance and holdings history (and ``balance_at`` derived
    from the balance history) on :data:`FALLBACK_CHAINS`."""
    found: list[ChainSupport] = []
    for chain in FALLBACK_CHAINS:
        support = _support(
            chain,
            [
                (Capability.BALANCE_HISTORY, SupportStatus.SUPPORTED),
                (Capability.HOLDINGS_HISTORY, SupportStatus.SUPPORTED),
            ],
            _FALLBACK_NOTE,
        )
        assert support is not None
        found.append(support)
    return found


def _status(product: Any) -> SupportStatus | None:
    if product is None:
        return None
    if isinstance(product, Mapping):
        availability = product.get("availability")
        if isinstance(availability, str) and availability.strip().lower() == "beta":
            return SupportStatus.BETA
        return SupportStatus.SUPPORTED
    if product is False:
        return None
    return SupportStatus.SUPPORTED


def parse_listing(data: Any) -> list[ChainSupport]:
    """Chain declarations from the live listing; unknown chains and products are skipped.

    Each chain is declared once; it is ``beta`` when any of its products is, and the
    note then says which.
    """
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise ResponseError(NAME, "supported-chains listing is not a list")
    found: list[ChainSupport] = []
    seen: set[str] = set()
    for position, entry in enumerate(data):
        if not isinstance(entry, Mapping):
            raise ResponseError(NAME, f"supported-chains entry {position} is not an object")
        chain_id = entry.get("id")
        endpoints = entry.get("endpoints")
        if not isinstance(chain_id, str) or not isinstance(endpoints, Mapping):
            raise ResponseError(
                NAME, f"supported-chains entry {position} lacks an id or an endpoints map"
            )
        chain = asof_chain(chain_id)
        if chain is None or resolve_chain(chain).venue:
            continue
        entries: list[tuple[Capability, SupportStatus]] = []
        holdings = _status(endpoints.get(HOLDINGS_PRODUCT))
        if holdings is not None:
            entries.append((Capability.HOLDINGS_HISTORY, holdings))
        for product in BALANCES_PRODUCTS:
            if product in endpoints:
                balances = _status(endpoints[product])
                if balances is not None:
                    entries.append((Capability.BALANCE_HISTORY, balances))
                break
        support = _support(chain, entries, None)
        if support is not None and chain not in seen:
            seen.add(chain)
            found.append(support)
    return found
