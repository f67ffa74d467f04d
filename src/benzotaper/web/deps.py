"""Request-scoped things the routes share: the catalogue and the signed-in person."""

from __future__ import annotations

from benzotaper.catalogue import Catalogue, default_catalogue


def get_catalogue() -> Catalogue:
    """The shipped catalogue (read-only data, loaded once per process)."""
    return default_catalogue()
