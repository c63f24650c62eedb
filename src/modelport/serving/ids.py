"""Prediction ids: one per row, unique, time-ordered, made without a system call per id."""

from __future__ import annotations

import os
import random
import time


class PredictionIds:
    """32-hex-digit ids: 48 bits of Unix milliseconds (uuid7-like order) then 80 random bits.

    The random bits come from the OS in one read per call (not one per id, as `uuid.uuid4()`
    does): ids stay unguessable, so nobody can send feedback for predictions they did not see,
    and a request costs one system call whatever its number of rows. `seed` makes them
    reproducible for tests.
    """

    def __init__(self, seed: bytes | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None  # noqa: S311 - tests only

    def new(self, count: int) -> list[str]:
        """`count` fresh ids."""
        stamp = f"{int(time.time() * 1000) & 0xFFFFFFFFFFFF:012x}"
        if self._random is not None:
            return [f"{stamp}{self._random.getrandbits(80):020x}" for _ in range(count)]
        raw = os.urandom(10 * count).hex()
        return [stamp + raw[20 * i: 20 * (i + 1)] for i in range(count)]
