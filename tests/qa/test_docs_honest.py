"""Docs the tests keep honest (style.md point 8): every CLI command is in the README."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from benzotaper.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"


def command_names() -> list[str]:
    group = typer.main.get_command(app)
    return sorted(group.commands)  # type: ignore[attr-defined]


def test_every_cli_command_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    names = command_names()
    assert {"plan", "compare", "convert"} <= set(names)
    missing = [n for n in names if not re.search(rf"benzotaper {re.escape(n)}\b", text)]
    assert not missing, f"commands not in README.md (as 'benzotaper NAME'): {missing}"


def test_changelog_exists_in_keep_a_changelog_style() -> None:
    text = (README.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog")
    assert "## [Unreleased]" in text and "keepachangelog.com" in text
