"""Command-line interface. Each command's module registers it on the one app, and is imported
only when that command runs (see ``COMMANDS`` in ``benzotaper.cli.app``)."""

import os
import sys

from benzotaper.cli.app import app

#: pydantic looks for plugins in the entry points of every installed package when it builds its
#: first validator (~5-10 ms of each command's start-up); benzotaper's commands use none. The
#: console script turns the search off unless PYDANTIC_DISABLE_PLUGINS is already set (set it
#: empty to keep plugins), and not for ``serve``: the web app keeps what its deployment installed.
PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"


def main() -> None:
    if sys.argv[1:2] != ["serve"]:
        os.environ.setdefault(PLUGINS_ENV, "__all__")
    app()


__all__ = ["app", "main"]
