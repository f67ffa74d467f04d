"""Listings and exports of the journal are bounded or streamed, on SQLite and PostgreSQL: pages
by keyset cursor (stable under new writes), the FHIR check-ins bounded to the newest, the
journal CSV read a chunk at a time; the CLI asks the same service and words the same bounds."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from benzotaper import exports
from benzotaper.errors import InputError
from benzotaper.journal.entries import CheckinEntry, NoteEntry
from benzotaper.limits import ENTRIES_PAGE_MAX
from benzotaper.services.journal import JournalService
from tests.journal.conftest import Clock
from tests.journal.factory import request, stub_plan
from tests.journal.test_cli import cli, journal_on

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

D = dt.date


def _notes(journal: JournalService, me: int, days: list[int]) -> None:
    """A note on each of these days of January 2026 (two on a day listed twice)."""
    for day in days:
        journal.record(me, NoteEntry(note=f"day {day}"), day=D(2026, 1, day))


def test_pages_list_every_entry_once_and_stay_put_under_new_writes(
    journal: JournalService,
) -> None:
    me = journal.local_user()
    journal.save_plan(me, stub_plan(request(10)), reason="first")
    _notes(journal, me, [3, 1, 2, 2, 5, 4, 4])
    first = journal.entries_page(me, limit=3)
    assert [r.entry.note for r in first.items] == ["day 1", "day 2", "day 2"]  # type: ignore[union-attr]
    assert first.next_cursor is not None

    # written meanwhile: one dated after the page (listed later), one before it (not listed:
    # a page never shifts, so nothing already listed comes again)
    _notes(journal, me, [6, 1])
    seen = list(first.items)
    cursor: str | None = first.next_cursor
    while cursor is not None:
        page = journal.entries_page(me, limit=3, after=cursor)
        seen += page.items
        cursor = page.next_cursor
    notes = [r.entry.note for r in seen]  # type: ignore[union-attr]
    assert notes == ["day 1", "day 2", "day 2", "day 3", "day 4", "day 4", "day 5", "day 6"]
    assert len({r.uid for r in seen}) == len(seen)

    whole = journal.entries(me)
    assert journal.entries_page(me, limit=ENTRIES_PAGE_MAX).items == whole  # one page: all
    assert list(journal.iter_entries(me)) == whole
    only = journal.entries_page(me, kind="note", start=D(2026, 1, 4), end=D(2026, 1, 5), limit=2)
    assert [r.day.day for r in only.items] == [4, 4] and only.next_cursor is not None
    rest = journal.entries_page(
        me, kind="note", start=D(2026, 1, 4), end=D(2026, 1, 5), limit=2, after=only.next_cursor
    )
    assert [r.day.day for r in rest.items] == [5] and rest.next_cursor is None


def test_a_page_has_bounds_and_a_cursor_must_be_one_handed_out(journal: JournalService) -> None:
    me = journal.local_user()
    for limit in (0, ENTRIES_PAGE_MAX + 1):
        with pytest.raises(InputError, match=f"limit must be from 1 to {ENTRIES_PAGE_MAX}"):
            journal.entries_page(me, limit=limit)
    for cursor in ("abc", "2026-02-30.5", "2026-01-01", "2026-01-01.5; drop"):
        with pytest.raises(InputError, match="is not a page cursor"):
            journal.entries_page(me, after=cursor)


def test_a_fhir_export_carries_the_newest_checkins_and_says_where_the_rest_begin(
    journal: JournalService, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("benzotaper.services.journal.EXPORT_CHECKINS_MAX", 3)
    me = journal.local_user()
    journal.save_plan(me, stub_plan(request(10)), reason="first")
    for day in (2, 3, 4, 5, 6):
        journal.record(me, CheckinEntry(quick={"anxiety": day}), day=D(2026, 1, day))
    newest = journal.checkins_for_export(me)
    assert [r.day.day for r in newest.items] == [4, 5, 6] and newest.left_out_from == D(2026, 1, 3)
    earlier = journal.checkins_for_export(me, end=newest.left_out_from)
    assert [r.day.day for r in earlier.items] == [2, 3] and earlier.left_out_from is None


def test_the_cli_pages_history_and_bounds_fhir_as_the_service_does(
    database_url: str, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    journal = journal_on(database_url, clock)
    me = journal.local_user()
    journal.save_plan(me, stub_plan(request(10)), reason="first")
    for day in (2, 3, 4, 5):
        journal.record(me, CheckinEntry(quick={"anxiety": day}), day=D(2026, 1, day))
    journal.db.dispose()

    first = json.loads(cli(database_url, "history", "--limit", "3", "--json").stdout)
    assert [e["day"] for e in first["entries"]] == ["2026-01-02", "2026-01-03", "2026-01-04"]
    rest = json.loads(
        cli(database_url, "history", "--limit", "3", "--after", first["next"], "--json").stdout
    )
    assert [e["day"] for e in rest["entries"]] == ["2026-01-05"] and rest["next"] is None
    shown = cli(database_url, "history", "--limit", "2").stdout
    assert "More entries: add --after 2026-01-03." in shown
    refused = cli(database_url, "history", "--limit", str(ENTRIES_PAGE_MAX + 1), ok=False)
    assert refused.returncode == 2 and f"limit must be from 1 to {ENTRIES_PAGE_MAX}" in (
        refused.stderr
    )
    assert cli(database_url, "history", "--after", "x", ok=False).returncode == 2

    monkeypatch.setattr("benzotaper.services.journal.EXPORT_CHECKINS_MAX", 2)
    monkeypatch.setattr("benzotaper.limits.EXPORT_CHECKINS_MAX", 2)
    bundle = cli(database_url, "export", "--format", "fhir", "--active")
    authored = _authored(bundle.stdout)
    assert authored == ["2026-01-04", "2026-01-05"]
    said = " ".join(bundle.stderr.split())
    assert "newest 2 check-ins" in said and "--journal-end=2026-01-03" in said
    earlier = cli(database_url, "export", "-f", "fhir", "--active", "--journal-end", "2026-01-03")
    assert _authored(earlier.stdout) == ["2026-01-02", "2026-01-03"] and not earlier.stderr
    bad = cli(database_url, "export", "-f", "fhir", "--active", "--journal-end", "soon", ok=False)
    assert bad.returncode == 2 and "--journal-end must be a date" in bad.stderr


def _authored(text: str) -> list[str]:
    bundle = json.loads(text)
    return sorted(
        {
            e["resource"]["authored"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "QuestionnaireResponse"
        }
    )


def test_the_journal_csv_is_written_a_chunk_at_a_time(
    database_url: str, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    journal = journal_on(database_url, clock)
    me = journal.local_user()
    journal.save_plan(me, stub_plan(request(10)), reason="first")
    _notes(journal, me, [1, 2, 3, 4, 5])
    whole = exports.journal_csv(journal.entries(me))
    journal.db.dispose()

    read: list[int] = []
    page = JournalService.entries_page

    def counted(self: JournalService, *args: object, **kwargs: object) -> object:
        found = page(self, *args, **kwargs)  # type: ignore[arg-type]
        read.append(len(found.items))
        return found

    monkeypatch.setattr("benzotaper.services.journal.EXPORT_CHUNK", 2)
    monkeypatch.setattr(JournalService, "entries_page", counted)
    out = cli(database_url, "export", "-f", "csv", "--csv-kind", "journal", "--active").stdout
    assert out == whole.replace("\r\n", "\n") or out == whole
    assert read == [2, 2, 1]  # read in chunks, not all at once
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["note"] for r in rows] == [f"day {d}" for d in range(1, 6)]
