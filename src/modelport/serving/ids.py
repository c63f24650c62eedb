"""Prediction ids: one per row, unique, time-ordered, made without a system call per id."""

from __future__ import annotations

import os
import random
import threading
import time

_BLOCK = 4096  # random bytes read from the OS at a time


class PredictionIds:
    """32-hex-digit ids: 48 bits of Unix milliseconds (uuid7-like order) then 80 random bits.

    The random bits come from the OS (`os.urandom`), read ahead in blocks of 4 KiB rather
    than one system call per id (as `uuid.uuid4()` does) or per request: ids stay unguessable,
    so nobody can send feedback for predictions they did not see, and a one-row request costs
    a slice of a buffer. `seed` makes them reproducible for tests.
    """

    def __init__(self, seed: bytes | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None  # noqa: S311 - tests only
        self._buffer = ""
        self._used = 0
        self._lock = threading.Lock()  # a slice handed out twice would repeat an id

    def new(self, count: int) -> list[str]:
        """`count` fresh ids."""
        stamp = f"{int(time.time() * 1000) & 0xFFFFFFFFFFFF:012x}"
        if self._random is not None:
            return [f"{stamp}{self._random.getrandbits(80):020x}" for _ in range(count)]
        raw = self._hex(20 * count)
        return [stamp + raw[20 * i: 20 * (i + 1)] for i in range(count)]

    def _hex(self, digits: int) -> str:
        """`digits` fresh random hex digits, each handed out once."""
        with self._lock:
            if self._used + digits > len(self._buffer):
                self._buffer, self._used = os.urandom(max(_BLOCK, digits)).hex(), 0
            start, self._used = self._used, self._used + digits
        return self._buffer[start:start + digits]
