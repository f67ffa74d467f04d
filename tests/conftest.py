"""Shared fixtures: the real shipped catalogue, and what the environment must provide."""

from __future__ import annotations

import os

import pytest

from benzotaper.catalogue import Catalogue, default_catalogue

#: scripts/test sets this: a missing PostgreSQL or browser then fails instead of skipping.
REQUIRE_ALL = os.environ.get("BENZOTAPER_TEST_REQUIRE_ALL") == "1"


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return default_catalogue()
