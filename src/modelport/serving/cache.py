"""An optional per-version prediction cache: LRU with a time to live, keyed on the canonical input."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from modelport.foundation.clock import Clock


class PredictionCache:
    """Remembers outputs for inputs already seen (only for deterministic models; off by default)."""

    def __init__(self, size: int, ttl_s: float, clock: Clock) -> None:
        self.size = size
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any | None:
        """The cached value, or None when absent or expired."""
        found = self._entries.get(key)
        if found is None:
            return None
        expires, value = found
        if expires <= self._clock.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Store a value, evicting the least recently used entry past `size`."""
        self._entries[key] = (self._clock.monotonic() + self.ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
