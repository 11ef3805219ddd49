"""Record identifiers: unique across chunks, unrelated between systems.

Sequential counters are passed through a keyed bijection on [0, 2**bits), so
ids never collide yet reveal neither creation order nor which person or chunk
they belong to.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cdp_demo.sample_data.randomness import stream_key

_MUL_1 = np.uint64(0x9E3779B97F4A7C15)
_MUL_2 = np.uint64(0xBF58476D1CE4E5B9)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class IdSpace:
    """Hands out unique integers in [offset, offset + 2**bits) from a keyed permutation."""

    def __init__(self, seed: int, name: str, bits: int, offset: int = 0) -> None:
        self.bits = bits
        self.offset = offset
        self._mask = np.uint64((1 << bits) - 1)
        self._key = np.uint64(stream_key(seed, name, bits))
        self._next = 0

    def take(self, n: int) -> np.ndarray:
        """The next `n` ids as int64."""
        if self._next + n > (1 << self.bits):
            raise ValueError(f"id space of {self.bits} bits exhausted")
        x = np.arange(self._next, self._next + n, dtype=np.uint64)
        self._next += n
        return (self._permute(x) + np.uint64(self.offset)).astype(np.int64)

    def _permute(self, x: np.ndarray) -> np.ndarray:
        half = np.uint64(max(1, self.bits // 2))
        third = np.uint64(max(1, self.bits // 3))
        with np.errstate(over="ignore"):
            x = x ^ self._key
            for _ in range(2):
                x = (x * _MUL_1) & self._mask
                x ^= x >> half
                x = (x * _MUL_2) & self._mask
                x ^= x >> third
        return x


def base62(values: np.ndarray, width: int) -> list[str]:
    """Fixed-width base-62 renderings of non-negative integers."""
    out = []
    for v in values.tolist():
        chars = []
        for _ in range(width):
            v, r = divmod(v, 62)
            chars.append(_BASE62[r])
        out.append("".join(reversed(chars)))
    return out


def hex_ids(rng: np.random.Generator, n: int, chars: int = 32, dashed: bool = True) -> list[str]:
    """Random hexadecimal ids (UUID-shaped when 32 characters and dashed)."""
    digits = rng.bytes(16 * n).hex()
    if chars == 32 and dashed:
        return [
            f"{digits[i : i + 8]}-{digits[i + 8 : i + 12]}-4{digits[i + 13 : i + 16]}-"
            f"{digits[i + 16 : i + 20]}-{digits[i + 20 : i + 32]}"
            for i in range(0, 32 * n, 32)
        ]
    return [digits[i : i + chars] for i in range(0, 32 * n, 32)]


def luhn_digit(digits: str) -> str:
    """Check digit that makes `digits + check` pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def loyalty_numbers(values: Sequence[int]) -> list[str]:
    """13-digit card numbers: prefix 27, ten digits, Luhn check digit."""
    out = []
    for v in values:
        body = f"27{v:010d}"
        out.append(body + luhn_digit(body))
    return out
