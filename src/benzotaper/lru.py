"""A small thread-safe least-recently-used map, for per-process caches of immutable values.

Used where a value is costly to make and never changes for its key (a saved plan version's
parsed JSON, a preview chart of one form on one day). ``functools.lru_cache`` does not fit:
these callers look values up before deciding what to read from the database, and store values
made elsewhere.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``size`` values; a lookup or a store makes its key the most recent."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (benchmarks and tests measure a cold process with it)."""
        with self._lock:
            self._items.clear()
