"""Short full garbage collections in a long-running worker: what survived one is frozen.

A full collection walks every object the collector tracks and does not find frozen, ~1 µs
each on the development machine. Start-up freezes what the app loads (``app._warm_up``), but a
worker then fills its per-process caches (parsed plan versions, remembered statuses, compiled
SQL): tens of thousands of long-lived objects that every later full collection walked again,
stopping every request of the worker meanwhile. Here the objects that survived a full
collection are frozen right after it, so the next one walks only what was made since; every
:data:`THAW_EVERY`-th full collection first thaws them all, so cyclic garbage among older
objects (a plan evicted from a cache: most garbage is freed by reference counting, frozen or
not) is still freed, with one longer pause now and then.
"""

from __future__ import annotations

import gc
from typing import Any

#: Policy: every how many full collections one walks the frozen objects too (cyclic garbage
#: among them is freed then). The load benchmark's mix of pages runs a full collection every
#: ~270 requests (10 s at 28 requests/s): a thaw every ~8 minutes.
THAW_EVERY = 50
#: The oldest generation: a collection of it is a full one.
OLDEST = 2


class FreezeSurvivors:
    """A ``gc.callbacks`` hook: freeze after each full collection, thaw before every
    ``thaw_every``-th."""

    def __init__(self, thaw_every: int = THAW_EVERY) -> None:
        self.thaw_every = thaw_every
        self.full = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != OLDEST:
            return
        if phase == "start":
            self.full += 1
            if self.full % self.thaw_every == 0:
                gc.unfreeze()
        else:
            gc.freeze()


def freeze_survivors() -> None:
    """Install the hook (once per process: a test process starts many apps)."""
    if not any(isinstance(c, FreezeSurvivors) for c in gc.callbacks):
        gc.callbacks.append(FreezeSurvivors())
