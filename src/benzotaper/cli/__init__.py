"""Command-line interface. Each module registers its commands on the one Typer app."""

from benzotaper.cli import catalogue_cmds  # noqa: F401  (registers commands)
from benzotaper.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
