"""Command-line interface. Each command's module registers it on the one app, and is imported
only when that command runs (see ``COMMANDS`` in ``benzotaper.cli.app``)."""

from benzotaper.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
