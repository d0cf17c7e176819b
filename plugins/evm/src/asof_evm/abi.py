"""The few pieces of the Ethereum ABI and JSON-RPC encoding the plugin needs.

Quantities are ``0x``-prefixed hex without leading zeros; data is ``0x``-prefixed hex
of whole bytes. Anything else a node sends where one is expected is a
:class:`~asof.errors.ResponseError` naming the field.
"""

from __future__ import annotations

import re

from asof.plugin import ResponseError

__all__ = [
    "BALANCE_OF",
    "DECIMALS",
    "TRANSFER_TOPIC",
    "address_topic",
    "balance_of_data",
    "data_bytes",
    "quantity",
    "to_quantity",
    "topic_address",
    "uint256",
]

#: ``balanceOf(address)``
BALANCE_OF = "0x70a08231"
#: ``decimals()``
DECIMALS = "0x313ce567"
#: ``Transfer(address,address,uint256)``
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

_QUANTITY = re.compile(r"0x(?:0|[1-9a-fA-F][0-9a-fA-F]*)")
_LOOSE_QUANTITY = re.compile(r"0x[0-9a-fA-F]+")
_DATA = re.compile(r"0x(?:[0-9a-fA-F]{2})*")


def to_quantity(value: int) -> str:
    """``value`` as a JSON-RPC quantity."""
    return hex(value)


def quantity(provider: str, value: object, field: str) -> int:
    """A JSON-RPC quantity read exactly (leading zeros tolerated, as some nodes send)."""
    if isinstance(value, str) and (_QUANTITY.fullmatch(value) or _LOOSE_QUANTITY.fullmatch(value)):
        return int(value, 16)
    raise ResponseError(provider, f"expected a hex quantity, got {value!r}", field=field)


def data_bytes(provider: str, value: object, field: str) -> bytes:
    """JSON-RPC data as bytes."""
    if isinstance(value, str) and _DATA.fullmatch(value):
        return bytes.fromhex(value[2:])
    raise ResponseError(provider, f"expected hex data, got {value!r}", field=field)


def uint256(provider: str, data: bytes, field: str) -> int:
    """The first 32-byte word of an ABI answer as an unsigned integer."""
    if len(data) < 32:
        raise ResponseError(provider, f"expected a 32-byte word, got {len(data)} bytes",
                            field=field)
    return int.from_bytes(data[:32], "big")


def address_topic(address: str) -> str:
    """An address as a 32-byte log topic."""
    return "0x" + "0" * 24 + address.lower().removeprefix("0x")


def topic_address(provider: str, topic: object, field: str) -> str:
    """The address inside a 32-byte topic (lowercase)."""
    raw = data_bytes(provider, topic, field)
    if len(raw) != 32 or any(raw[:12]):
        raise ResponseError(provider, f"expected an address topic, got {topic!r}", field=field)
    return "0x" + raw[12:].hex()


def balance_of_data(owner: str) -> str:
    """The call data of ``balanceOf(owner)``."""
    return BALANCE_OF + "0" * 24 + owner.lower().removeprefix("0x")
