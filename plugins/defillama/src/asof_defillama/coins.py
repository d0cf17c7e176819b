"""DefiLlama's coin identifiers for asof's tokens.

A token is ``{chain}:{address}`` with DefiLlama's chain name (``ethereum:0x...``,
``solana:<mint>``); a native coin is named by its CoinGecko id (``coingecko:ethereum``).
Pacifica's account balance is Solana USDC and is priced as that mint.
"""

from __future__ import annotations

from asof.plugin import Token

__all__ = ["CHAINS", "NATIVE", "coin_id"]

#: asof chain name -> DefiLlama chain name.
CHAINS: dict[str, str] = {
    "ethereum": "ethereum",
    "base": "base",
    "arbitrum": "arbitrum",
    "optimism": "optimism",
    "polygon": "polygon",
    "bsc": "bsc",
    "avalanche": "avax",
    "linea": "linea",
    "scroll": "scroll",
    "blast": "blast",
    "mantle": "mantle",
    "gnosis": "xdai",
    "celo": "celo",
    "solana": "solana",
    "pacifica": "solana",
}

#: asof chain name -> CoinGecko id of its native coin.
NATIVE: dict[str, str] = {
    "ethereum": "ethereum",
    "base": "ethereum",
    "arbitrum": "ethereum",
    "optimism": "ethereum",
    "linea": "ethereum",
    "scroll": "ethereum",
    "blast": "ethereum",
    "polygon": "polygon-ecosystem-token",
    "bsc": "binancecoin",
    "avalanche": "avalanche-2",
    "mantle": "mantle",
    "gnosis": "xdai",
    "celo": "celo",
    "solana": "solana",
}


def coin_id(token: Token) -> str | None:
    """DefiLlama's identifier of ``token``, or ``None`` when it has none here."""
    if token.is_native:
        native = NATIVE.get(token.chain)
        return None if native is None else f"coingecko:{native}"
    chain = CHAINS.get(token.chain)
    return None if chain is None else f"{chain}:{token.address}"
