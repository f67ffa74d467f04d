"""Parsed plan versions kept per process, by plan-version uid.

A version's request and plan never change once saved, so a cache keyed by its uid is correct in
every worker process without any invalidation; a page otherwise parses a two-year plan's JSON
several times.
"""

from __future__ import annotations

from benzotaper.lru import LRU
from benzotaper.planning.models import Plan, PlanRequest

#: Policy: parsed plan versions kept per process (enough for every active patient of a busy
#: worker).
PLAN_CACHE_SIZE = 512

Parsed = tuple[PlanRequest, Plan]

PARSED: LRU[str, Parsed] = LRU(PLAN_CACHE_SIZE)
