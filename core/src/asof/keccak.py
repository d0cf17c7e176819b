"""Keccak-256, the hash Ethereum uses (not NIST SHA3-256, whose padding differs).

Only :func:`keccak256` is public; asof needs it for EIP-55 address checksums, on short
inputs, so a plain implementation of the Keccak-f[1600] permutation is enough.
"""

from __future__ import annotations

__all__ = ["keccak256"]

_MASK = (1 << 64) - 1
_RATE = 136  # bytes absorbed per permutation for a 256-bit output


def _round_constants() -> tuple[int, ...]:
    bits: list[int] = []
    register = 1
    for _ in range(255):  # the LFSR x^8 + x^6 + x^5 + x^4 + 1
        bits.append(register & 1)
        register <<= 1
        if register & 0x100:
            register ^= 0x171
    return tuple(
        sum(bits[(j + 7 * r) % 255] << ((1 << j) - 1) for j in range(7)) for r in range(24)
    )


def _rotations() -> tuple[int, ...]:
    offsets = [0] * 25
    x, y = 1, 0
    for t in range(24):
        offsets[x + 5 * y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return tuple(offsets)


_RC = _round_constants()
_ROT = _rotations()


def _rol(value: int, n: int) -> int:
    return ((value << n) | (value >> (64 - n))) & _MASK if n else value


def _permute(a: list[int]) -> list[int]:
    for constant in _RC:
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [a[i] ^ d[i % 5] for i in range(25)]
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _rol(a[x + 5 * y], _ROT[x + 5 * y])
        a = [
            b[i] ^ (~b[(i % 5 + 1) % 5 + 5 * (i // 5)] & b[(i % 5 + 2) % 5 + 5 * (i // 5)])
            for i in range(25)
        ]
        a[0] ^= constant
    return a


def keccak256(data: bytes) -> bytes:
    """The Keccak-256 digest of ``data`` (32 bytes)."""
    padded = bytearray(data)
    padded.append(0x01)
    while len(padded) % _RATE:
        padded.append(0)
    padded[-1] |= 0x80
    state = [0] * 25
    for start in range(0, len(padded), _RATE):
        block = padded[start:start + _RATE]
        for i in range(_RATE // 8):
            state[i] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        state = _permute(state)
    return b"".join(lane.to_bytes(8, "little") for lane in state[:4])
