"""Command-line interface. Each command's module registers it on the one app, and is imported
only when that command runs (see ``COMMANDS`` in ``benzotaper.cli.app``)."""

import atexit
import gc
import os
import sys
import types

from benzotaper.cli.app import app

#: pydantic looks for plugins in the entry points of every installed package when it builds its
#: first validator (~5-10 ms of each command's start-up); benzotaper's commands use none. The
#: console script turns the search off unless PYDANTIC_DISABLE_PLUGINS is already set (set it
#: empty to keep plugins), and not for ``serve``: the web app keeps what its deployment installed.
PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"
#: The values with which pydantic's ``get_plugins`` answers "no plugins" without looking.
PLUGINS_OFF = ("__all__", "1", "true")
#: pydantic's plugin loader. It imports ``importlib.metadata`` (and with it ``email``,
#: ``zipfile``, ``csv``...: ~20-25 ms, a twentieth of ``convert``) when first imported, even when
#: the variable above turns plugins off and it never uses it.
LOADER = "pydantic.plugin._loader"


def _without_plugin_search() -> None:
    """With plugins off, put in place of pydantic's loader one that answers what the real one
    would (no plugins: its ``get_plugins`` returns nothing for these values before it reads
    any entry point), without its imports. Only the console script does this, for the rest of
    its own process: in-process callers (the tests' CliRunner, the web app) keep pydantic's."""
    if os.environ.get(PLUGINS_ENV) not in PLUGINS_OFF or LOADER in sys.modules:
        return
    loader = types.ModuleType(LOADER, "pydantic's plugin loader, with plugins turned off.")
    loader.get_plugins = tuple  # type: ignore[attr-defined]  # () : no plugins
    sys.modules[LOADER] = loader


#: The cyclic collector's first threshold in a command's process (Python's default is 700).
#: Start-up creates hundreds of thousands of objects (Typer, pydantic's schemas, the models)
#: that all live until the process exits; with the default, the collector walks them again and
#: again (about 2% of ``convert``'s and ``plan``'s instructions). Cycles made while a command
#: runs are still collected, after 50,000 new objects rather than 700.
GC_THRESHOLD = 50_000


def _short_lived() -> None:
    """Collect less in a process that runs one command and exits. At exit, the objects still
    alive are frozen first, so the interpreter's final collections skip them (about 6% of
    ``convert``'s and ``plan``'s instructions went to collecting, at exit, objects the
    operating system frees anyway); modules are still torn down and objects not in a
    reference cycle still finalised as before. Not for ``serve``, a long-running process."""
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    atexit.register(gc.freeze)


def main() -> None:
    if sys.argv[1:2] != ["serve"]:
        os.environ.setdefault(PLUGINS_ENV, "__all__")
        _without_plugin_search()
        _short_lived()
    app()


__all__ = ["app", "main"]
