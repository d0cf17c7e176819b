"""Chains: canonical names, the aliases people type, CAIP-2 ids and address families.

A chain's canonical name is lowercase (``solana``, ``ethereum``, ``base``). Users may type
an alias (``sol``, ``eth``) or a CAIP-2 id (``eip155:1``); :func:`resolve_chain` turns any
of them into a :class:`Chain`. An exchange venue (``pacifica``) is a chain for routing;
its accounts are addressed in the family of the chain it settles on.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from asof.errors import InputError, UnknownChain

__all__ = ["CHAINS", "Chain", "Family", "canonical_chain", "known_chains", "resolve_chain"]


class Family(StrEnum):
    """How a chain's addresses look and how its points are counted."""

    SOLANA = "solana"  #: base58 addresses; points counted in slots
    EVM = "evm"  #: 0x + 40 hex addresses; points counted in block numbers
    OTHER = "other"  #: any non-blank address without white space

    def __str__(self) -> str:
        return self.value


@attrs.frozen(kw_only=True)
class Chain:
    """A chain (or venue) asof can route queries for."""

    name: str  #: canonical lowercase name
    title: str  #: human-readable name
    family: Family  #: address and point family
    caip2: str | None = None  #: CAIP-2 id, when the chain has one
    aliases: tuple[str, ...] = ()  #: other names users type
    native_symbol: str | None = None  #: symbol of the native coin
    native_decimals: int | None = None  #: decimals of the native coin
    venue: bool = False  #: an exchange venue rather than a chain

    @property
    def point_unit(self) -> str:
        """What a block-height point counts on this chain: ``slot`` or ``block``."""
        return "slot" if self.family is Family.SOLANA else "block"


def _evm(name: str, title: str, chain_id: int, *aliases: str, symbol: str = "ETH") -> Chain:
    return Chain(
        name=name,
        title=title,
        family=Family.EVM,
        caip2=f"eip155:{chain_id}",
        aliases=aliases,
        native_symbol=symbol,
        native_decimals=18,
    )


CHAINS: tuple[Chain, ...] = (
    Chain(
        name="solana",
        title="Solana",
        family=Family.SOLANA,
        caip2="solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
        aliases=("sol", "solana-mainnet", "mainnet-beta"),
        native_symbol="SOL",
        native_decimals=9,
    ),
    _evm("ethereum", "Ethereum", 1, "eth", "mainnet", "ethereum-mainnet"),
    _evm("base", "Base", 8453, "base-mainnet"),
    _evm("arbitrum", "Arbitrum One", 42161, "arb", "arbitrum-one"),
    _evm("optimism", "OP Mainnet", 10, "op", "op-mainnet"),
    _evm("polygon", "Polygon PoS", 137, "matic", "pol", symbol="POL"),
    _evm("bsc", "BNB Smart Chain", 56, "bnb", "binance", "bnb-chain", symbol="BNB"),
    _evm("avalanche", "Avalanche C-Chain", 43114, "avax", "avalanche-c", symbol="AVAX"),
    _evm("linea", "Linea", 59144),
    _evm("scroll", "Scroll", 534352),
    _evm("zksync", "ZKsync Era", 324, "zksync-era"),
    _evm("blast", "Blast", 81457),
    _evm("mantle", "Mantle", 5000, symbol="MNT"),
    _evm("gnosis", "Gnosis", 100, "xdai", symbol="XDAI"),
    _evm("celo", "Celo", 42220, symbol="CELO"),
    _evm("sonic", "Sonic", 146, symbol="S"),
    _evm("berachain", "Berachain", 80094, "bera", symbol="BERA"),
    _evm("unichain", "Unichain", 130),
    _evm("worldchain", "World Chain", 480, "world"),
    _evm("ink", "Ink", 57073),
    _evm("zora", "Zora", 7777777),
    _evm("abstract", "Abstract", 2741),
    _evm("hyperevm", "HyperEVM", 999, symbol="HYPE"),
    _evm("ronin", "Ronin", 2020, symbol="RON"),
    _evm("sepolia", "Ethereum Sepolia", 11155111, "eth-sepolia"),
    _evm("anvil", "Local development chain", 31337, "localhost", "hardhat"),
    Chain(name="tron", title="Tron", family=Family.OTHER, aliases=("trx",)),
    Chain(name="bitcoin", title="Bitcoin", family=Family.OTHER, aliases=("btc",),
          caip2="bip122:000000000019d6689c085ae165831e93"),
    Chain(name="sui", title="Sui", family=Family.OTHER),
    Chain(name="aptos", title="Aptos", family=Family.OTHER),
    Chain(
        name="pacifica",
        title="Pacifica (perpetuals venue settled on Solana)",
        family=Family.SOLANA,
        venue=True,
        native_symbol="USDC",
        native_decimals=6,
    ),
)

_BY_NAME: dict[str, Chain] = {}
for _chain in CHAINS:
    for _key in (_chain.name, *_chain.aliases, *((_chain.caip2,) if _chain.caip2 else ())):
        _BY_NAME[_key.lower()] = _chain


def resolve_chain(name: str | Chain) -> Chain:
    """The chain a name, alias or CAIP-2 id stands for (case-insensitive).

    Raises :class:`~asof.errors.UnknownChain` when nobody knows it.
    """
    if isinstance(name, Chain):
        return name
    if not isinstance(name, str):
        raise InputError(f"expected a chain name, got {type(name).__name__}", field="chain",
                         value=name)
    key = name.strip().lower()
    try:
        return _BY_NAME[key]
    except KeyError:
        raise UnknownChain(name) from None


def canonical_chain(name: str | Chain) -> str:
    """The canonical name for any accepted spelling of a chain."""
    return resolve_chain(name).name


def known_chains() -> tuple[Chain, ...]:
    """Every chain asof knows, in a stable order."""
    return CHAINS
