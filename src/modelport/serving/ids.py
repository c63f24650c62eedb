"""Prediction ids: one per row, unique, time-ordered, made without a system call per id."""

from __future__ import annotations

import os
import random
import time


class PredictionIds:
    """32-hex-digit ids: 48 bits of Unix milliseconds (uuid7-like order) then 80 random bits.

    The random bits come from a generator seeded once from the OS: `uuid.uuid4()` reads
    os.urandom for every id, and each of those system calls gives up the GIL in the middle of
    serving a request.
    """

    def __init__(self, seed: bytes | None = None) -> None:
        self._random = random.Random(seed if seed is not None else os.urandom(32))  # noqa: S311 - ids, not secrets

    def new(self, count: int) -> list[str]:
        """`count` fresh ids."""
        stamp = f"{int(time.time() * 1000) & 0xFFFFFFFFFFFF:012x}"
        bits = self._random.getrandbits
        return [f"{stamp}{bits(80):020x}" for _ in range(count)]
