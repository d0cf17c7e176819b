"""What the evm plugin declares: the provider, its chains, its options and its cost.

The provider is any Ethereum JSON-RPC node. ``ASOF_EVM_BASE_URL`` (or ``base_url`` in
``[providers.evm]``) is the node for ``ethereum``; other chains get theirs in
``[providers.evm.urls]`` (chain name = URL). Every EVM chain asof knows is declared;
a chain without a configured node is declined at query time.
"""

from __future__ import annotations

from decimal import Decimal

from asof.plugin import (
    Capability,
    ChainSupport,
    Cost,
    Family,
    HistoryScope,
    Option,
    ProviderInfo,
    SupportStatus,
    known_chains,
)

__all__ = [
    "DEFAULT_CHAIN",
    "DEFAULT_URL",
    "LOG_CHUNK",
    "NAME",
    "SCOPE",
    "chain_support",
    "info",
]

NAME = "evm"
#: The chain whose node is the base URL.
DEFAULT_CHAIN = "ethereum"
#: A node on this machine, the usual address of a local node.
DEFAULT_URL = "http://127.0.0.1:8545"
#: Blocks per ``eth_getLogs`` range to start with; halved when the node refuses one.
LOG_CHUNK = 2000

#: What ``balance_history`` covers: the ERC-20 tokens asked for, from their
#: ``Transfer`` logs, with opening balances; not the native coin.
SCOPE = HistoryScope(native=False, standards=("erc20",), token_accounts="all",
                     opening_balances=True)

#: Requests per balance answer at ``block:N``, measured against a node in the tests
#: (one batch: the block header and the balance). The first answer of a session adds
#: one ``eth_chainId``; a time point adds the latest header and the block search.
BLOCK_COST = Cost(amount=Decimal(1), unit="requests", per="balance at a block")

_CAVEATS = (
    "Historical state needs an archive node: a pruned (full) node answers only recent "
    "blocks, and asof says so naming the block.",
    "A time point is the last block whose timestamp is at or before it; finding it costs "
    "a search over block headers (about 2 log2(blocks) requests at worst, far fewer "
    "where blocks come at a steady pace), cached for the session.",
    "balance_history covers ERC-20 tokens named in the query, from their Transfer logs; "
    "not the native coin, and not tokens whose balances change without a Transfer log "
    "(rebasing tokens).",
    "A node's rate limit depends on who runs it, so none is declared and asof applies "
    "none; set one with ASOF_EVM_RATE_LIMIT (or rate_limit under [providers.evm]).",
)


def info() -> ProviderInfo:
    """The provider's declaration (see ``docs/providers/evm.md``)."""
    return ProviderInfo(
        name=NAME,
        title="Ethereum JSON-RPC node",
        base_url=DEFAULT_URL,
        cost=BLOCK_COST,
        caveats=_CAVEATS,
        docs_url="https://ethereum.org/en/developers/docs/apis/json-rpc/",
        options=(
            Option(name="log_chunk", default=LOG_CHUNK,
                   description="blocks per eth_getLogs range to start with"),
            Option(name="batch", default=True,
                   description="send JSON-RPC batches (falls back by itself when refused)"),
        ),
        timeout=30.0,
        chain_urls=True,
    )


def chain_support() -> list[ChainSupport]:
    """One declaration per EVM chain asof knows; ethereum's node is the base URL."""
    records: list[ChainSupport] = []
    for chain in known_chains():
        if chain.family is not Family.EVM:
            continue
        default = chain.name == DEFAULT_CHAIN
        records.append(ChainSupport(
            provider=NAME,
            chain=chain.name,
            capabilities=(Capability.BALANCE_AT, Capability.BALANCE_HISTORY),
            status=SupportStatus.SUPPORTED if default else SupportStatus.BETA,
            cost=BLOCK_COST,
            note=None if default else
            f"needs a node for {chain.name} in [providers.{NAME}.urls]",
            history_scope=SCOPE,
        ))
    return records
