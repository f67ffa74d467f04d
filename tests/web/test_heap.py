"""The worker's garbage-collector hook: survivors of a full collection are frozen (the next one
does not walk them), and a thawing collection still frees cyclic garbage among them."""

from __future__ import annotations

import gc
import weakref

from benzotaper.web.heap import FreezeSurvivors


class Node:
    """An object in a reference cycle (only the cyclic collector frees it)."""

    def __init__(self) -> None:
        self.me = self


def _with_hook(hook: FreezeSurvivors) -> weakref.ref[Node]:
    gc.callbacks.append(hook)
    try:
        node = Node()
        alive = weakref.ref(node)
        gc.collect()  # node survives this full collection: frozen after it
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()  # the next full collection (thawing only if the hook says so)
        return alive
    finally:
        gc.callbacks.remove(hook)
        gc.unfreeze()


def test_survivors_are_frozen_until_a_thawing_collection() -> None:
    # the process's own hook (an app started by an earlier test) is set aside meanwhile
    installed = [c for c in gc.callbacks if isinstance(c, FreezeSurvivors)]
    frozen = gc.get_freeze_count()
    for c in installed:
        gc.callbacks.remove(c)
    try:
        gc.unfreeze()
        assert _with_hook(FreezeSurvivors(thaw_every=1000))() is not None  # frozen: kept
        assert _with_hook(FreezeSurvivors(thaw_every=2))() is None  # thawed first: freed
    finally:
        gc.callbacks.extend(installed)
        if frozen:
            gc.freeze()
