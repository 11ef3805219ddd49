"""Named, reproducible random streams derived from the seed.

Every stream is keyed by (seed, chunk index, stream name), so a chunk's data
depends only on those and never on wall-clock time or Python's hash seed.
"""

from __future__ import annotations

import random
import zlib

import numpy as np


def _entropy(seed: int, chunk: int, name: str) -> list[int]:
    return [seed & 0xFFFFFFFF, seed >> 32 & 0xFFFFFFFF, chunk, zlib.crc32(name.encode())]


def np_rng(seed: int, chunk: int, name: str) -> np.random.Generator:
    """A numpy generator for vectorised draws."""
    return np.random.default_rng(np.random.SeedSequence(_entropy(seed, chunk, name)))


def py_rng(seed: int, chunk: int, name: str) -> random.Random:
    """A stdlib generator for per-record draws inside Python loops (faster per call)."""
    state = np.random.SeedSequence(_entropy(seed, chunk, name)).generate_state(2, np.uint64)
    return random.Random(int(state[0]) << 64 | int(state[1]))


def stream_key(seed: int, name: str, bits: int) -> int:
    """A fixed integer key below 2**bits for keyed permutations."""
    state = np.random.SeedSequence(_entropy(seed, 0xFFFF, name)).generate_state(1, np.uint64)
    return int(state[0]) & ((1 << bits) - 1)
