"""`import-data` says what is wrong with a file, never a traceback, on SQLite and PostgreSQL;
a UTF-8 byte-order mark is fine. And the taper story never carries HTML typed in the journal."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from benzotaper.catalogue import Catalogue
from benzotaper.cli import app
from benzotaper.knowledge import Knowledge

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py


def cli(url: str, *args: str) -> Any:
    return CliRunner().invoke(
        app, list(args), env={"BENZOTAPER_DATABASE_URL": url, "COLUMNS": "200"}
    )


@pytest.fixture
def export(tmp_path: Path, databases: Any) -> dict[str, Any]:
    """A real export: a saved plan and a note, written by export-data."""
    url = databases.new_url()
    saved = cli(url, "plan", "--take", "diazepam 5 mg at 08:00", "--save", "--reason", "agreed")
    assert saved.exit_code == 0, saved.output
    assert cli(url, "note", "slept well").exit_code == 0
    out = tmp_path / "journal.json"
    assert cli(url, "export-data", "--output", str(out)).exit_code == 0
    doc: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return doc


def _broken(doc: dict[str, Any], how: str) -> bytes:
    doc = json.loads(json.dumps(doc))
    if how == "not-utf8":  # one Latin-1 byte (é) in otherwise UTF-8 text
        return json.dumps(doc, ensure_ascii=False).encode().replace(b"slept well", b"slept w\xe9ll")
    if how == "overflow":
        doc["plan_versions"][0]["version"] = 2**63
    elif how == "nul":
        doc["entries"][-1]["data"]["note"] = "slept\x00well"
    elif how == "long-uid":
        doc["entries"][-1]["uid"] = "u" * 100
    elif how == "naive-time":
        doc["entries"][-1]["created_at"] = "2026-12-01T08:00:00"
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("not-utf8", "not UTF-8"),
        ("overflow", "version"),
        ("nul", "NUL"),
        ("long-uid", "uid"),
        ("naive-time", "created_at"),
    ],
)
def test_a_bad_file_is_a_clear_error(
    export: dict[str, Any], databases: Any, tmp_path: Path, how: str, words: str
) -> None:
    path = tmp_path / f"{how}.json"
    path.write_bytes(_broken(export, how))
    url = databases.new_url()
    result = cli(url, "import-data", str(path))
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.stderr.split())
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_a_byte_order_mark_is_fine(export: dict[str, Any], databases: Any, tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(export).encode())
    url = databases.new_url()
    result = cli(url, "import-data", str(path))
    assert result.exit_code == 0, result.output
    assert "Imported 1 entries" in result.output


def test_the_story_never_carries_html_from_the_journal(
    catalogue: Catalogue, knowledge: Knowledge
) -> None:
    from benzotaper.exports import story_markdown, story_text
    from benzotaper.journal.entries import DoseEntry
    from benzotaper.planning.engine import make_plan
    from benzotaper.planning.models import PlanRequest

    today = dt.date(2027, 1, 10)
    request = PlanRequest.model_validate(
        {
            "regimen": [{"drug": "diazepam", "mg": 5, "time": "08:00"}],
            "preferences": {"start": "2027-01-04"},
        }
    )
    plan = make_plan(request, knowledge, today=today)

    class Row:
        uid = "x"
        day = today
        entry = DoseEntry(drug='<img src=x onerror="alert(1)">**bold**', mg=1)

    for render in (story_markdown, story_text):
        story = render(plan, today=today, catalogue=catalogue, versions=None, journal=[Row()])
        assert "<" not in story and "onerror=" not in story and "**bold**" not in story
        assert "img srcx onerroralert1bold 1 mg" in story
