"""Address validation and normalisation per chain family.

- Solana: base58 (no ``0``, ``O``, ``I``, ``l``), 32 to 44 characters, kept as given
  (base58 is case-sensitive).
- EVM: ``0x`` followed by 40 hex digits, lowercased. Mixed case is an EIP-55 checksum
  and must be right (a typo in a checksummed address is refused); all-lowercase and
  all-uppercase digits carry no checksum and are accepted as they are.
- Other chains: any non-blank text without white space, kept as given.
"""

from __future__ import annotations

import re

from asof.chains import Family
from asof.errors import InvalidAddress
from asof.keccak import keccak256

__all__ = ["checksum_address", "normalize_address"]

_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")
_EVM = re.compile(r"^0[xX][0-9a-fA-F]{40}$")


def checksum_address(address: str) -> str:
    """The EIP-55 mixed-case form of an EVM address (``0x`` and 40 hex digits)."""
    digits = address[2:].lower()
    hashed = keccak256(digits.encode("ascii")).hex()
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(hashed[i], 16) >= 8 else ch
        for i, ch in enumerate(digits)
    )


def normalize_address(family: Family, address: str, *, field: str = "address") -> str:
    """The canonical form of ``address`` for a chain of ``family``.

    Raises :class:`~asof.errors.InvalidAddress` naming ``field`` when it is not valid.
    """
    if not isinstance(address, str):
        raise InvalidAddress(f"expected text, got {type(address).__name__}", field=field,
                             value=address)
    text = address.strip()
    if family is Family.SOLANA:
        if not _BASE58.match(text):
            raise InvalidAddress(
                f"{address!r} is not a Solana address (base58, 32 to 44 characters)",
                field=field,
                value=address,
            )
        return text
    if family is Family.EVM:
        if not _EVM.match(text):
            raise InvalidAddress(
                f"{address!r} is not an EVM address (0x followed by 40 hex digits)",
                field=field,
                value=address,
            )
        digits = text[2:]
        if digits != digits.lower() and digits != digits.upper() \
                and checksum_address(text) != "0x" + digits:
            raise InvalidAddress(
                f"{address!r} has a wrong EIP-55 checksum (mixed case); check it for a "
                "typo, or write it in lowercase to skip the check",
                field=field,
                value=address,
            )
        return text.lower()
    if not text or any(ch.isspace() for ch in text):
        raise InvalidAddress(f"{address!r} is not an address", field=field, value=address)
    return text
