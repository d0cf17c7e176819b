"""A small built-in registry of well-known tokens per chain: the native coin, USDC, USDT.

Anything else is given by address or mint. Symbols are matched case-insensitively.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from types import MappingProxyType

from asof.chains import Chain, Family, resolve_chain
from asof.errors import InputError, UnknownToken
from asof.records import NATIVE_SOL_MINT, Token

__all__ = ["EVM_NATIVE_ADDRESS", "known_tokens", "native_token", "resolve_token"]

#: The address asof uses for an EVM chain's native coin.
EVM_NATIVE_ADDRESS = "0x0000000000000000000000000000000000000000"

_STABLES: dict[str, dict[str, tuple[str, str, int]]] = {
    # chain -> symbol -> (address, standard, decimals)
    "solana": {
        "USDC": ("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "spl", 6),
        "USDT": ("Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", "spl", 6),
        "WSOL": ("So11111111111111111111111111111111111111112", "spl", 9),
    },
    "ethereum": {
        "USDC": ("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", "erc20", 6),
        "USDT": ("0xdac17f958d2ee523a2206206994597c13d831ec7", "erc20", 6),
        "WETH": ("0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", "erc20", 18),
    },
    "base": {"USDC": ("0x833589fcd6edb6e08f4c7c32d4f71b54bda02913", "erc20", 6)},
    # the venue's account balance: USDC deposited from Solana, named by its mint
    "pacifica": {"USDC": ("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "spl", 6)},
    "arbitrum": {
        "USDC": ("0xaf88d065e77c8cc2239327c5edb3a432268e5831", "erc20", 6),
        "USDT": ("0xfd086bc7cd5c481dcc9c85ebe478a1c0b69fcbb9", "erc20", 6),
    },
    "optimism": {
        "USDC": ("0x0b2c639c533813f4aa9d7837caf62653d097ff85", "erc20", 6),
        "USDT": ("0x94b008aa00579c1307b0ef2c499ad98a8ce58e58", "erc20", 6),
    },
    "polygon": {
        "USDC": ("0x3c499c542cef5e3811e1192ce70d8cc03d5c3359", "erc20", 6),
        "USDT": ("0xc2132d05d31c914a87c6611c10748aeb04b58e8f", "erc20", 6),
    },
    "bsc": {
        "USDC": ("0x8ac76a51cc950d9822d68b83fe1ad97b32cd580d", "erc20", 18),
        "USDT": ("0x55d398326f99059ff775067255a6fba0b6d5de6d", "erc20", 18),
    },
    "avalanche": {
        "USDC": ("0xb97ef9ef8734c71904d8002f8b6bc66dd9c48a6e", "erc20", 6),
        "USDT": ("0x9702230a8ea53601f5cd2dc00fdbc13d4df4a8c7", "erc20", 6),
    },
}


def native_token(chain: str) -> Token:
    """The native coin of ``chain`` (native SOL is the pseudo-mint, not wrapped SOL)."""
    info = resolve_chain(chain)
    if info.family is Family.SOLANA and not info.venue:
        return Token(chain=info.name, address=NATIVE_SOL_MINT, standard="native", decimals=9,
                     symbol="SOL")
    if info.family is Family.EVM:
        return Token(chain=info.name, address=EVM_NATIVE_ADDRESS, standard="native",
                     decimals=info.native_decimals, symbol=info.native_symbol)
    raise UnknownToken(info.name, info.native_symbol or "native")


def known_tokens(chain: str) -> tuple[Token, ...]:
    """The registry's tokens for ``chain``, native coin first."""
    return _registry(resolve_chain(chain))[0]


@functools.lru_cache(maxsize=64)
def _registry(info: Chain) -> tuple[tuple[Token, ...], Mapping[str, Token]]:
    """The registry's tokens of one chain, and those with a symbol by upper-case
    symbol; built once per chain (tokens are immutable)."""
    found: list[Token] = []
    with contextlib.suppress(UnknownToken):
        found.append(native_token(info.name))
    for symbol, (address, standard, decimals) in _STABLES.get(info.name, {}).items():
        found.append(Token(chain=info.name, address=address, standard=standard,
                           decimals=decimals, symbol=symbol))
    by_symbol = MappingProxyType({t.symbol.upper(): t for t in found if t.symbol})
    return tuple(found), by_symbol


def resolve_token(chain: str, text: str | Token) -> Token:
    """A token from a symbol in the registry, or from an address or mint.

    An address not in the registry becomes a token of unknown standard and decimals
    (the provider fills them in). Raises :class:`~asof.errors.UnknownToken` for an
    unknown symbol, :class:`~asof.errors.InvalidAddress` for a malformed address, and
    :class:`~asof.errors.InputError` (field ``token``) for what is neither text nor a
    :class:`~asof.records.Token`.
    """
    if isinstance(text, Token):
        return text
    if not isinstance(text, str):
        raise InputError(f"expected a token symbol, address or Token, got "
                         f"{type(text).__name__}", field="token", value=text)
    info = resolve_chain(chain)
    wanted = text.strip()
    if not wanted:
        raise InputError("a token is required: a symbol, an address or mint, or 'native'",
                         field="token", value=text)
    tokens, by_symbol = _registry(info)
    found = by_symbol.get(wanted.upper())
    if found is not None:
        return found
    if wanted.lower() == "native":
        return native_token(info.name)
    looks_like_address = len(wanted) >= 32 or wanted.lower().startswith("0x")
    if not looks_like_address:
        raise UnknownToken(info.name, wanted)
    for token in tokens:
        if token.address == (wanted.lower() if info.family is Family.EVM else wanted):
            return token
    return Token(chain=info.name, address=wanted)
