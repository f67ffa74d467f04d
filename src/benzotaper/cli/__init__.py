"""Command-line interface. Every module in this package registers its commands on the one app."""

import importlib
import pkgutil

from benzotaper.cli.app import app

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "app" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")


def main() -> None:
    app()


__all__ = ["app", "main"]
