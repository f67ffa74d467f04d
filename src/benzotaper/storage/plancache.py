"""Parsed plan versions kept per process, by plan-version uid.

A version's request and plan never change once saved, so a cache keyed by its uid is correct in
every worker process without any invalidation; a page otherwise parses a two-year plan's JSON
several times.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from benzotaper.planning.models import Plan, PlanRequest

#: Policy: parsed plan versions kept per process (enough for every active patient of a busy
#: worker).
PLAN_CACHE_SIZE = 512

Parsed = tuple[PlanRequest, Plan]


class ParsedPlans:
    """A small thread-safe LRU of parsed (request, plan) by plan-version uid."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Parsed] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, uid: str) -> Parsed | None:
        with self._lock:
            found = self._items.get(uid)
            if found is not None:
                self._items.move_to_end(uid)
            return found

    def put(self, uid: str, parsed: Parsed) -> None:
        with self._lock:
            self._items[uid] = parsed
            self._items.move_to_end(uid)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every parsed version (benchmarks measure a cold process with it)."""
        with self._lock:
            self._items.clear()


PARSED = ParsedPlans(PLAN_CACHE_SIZE)
