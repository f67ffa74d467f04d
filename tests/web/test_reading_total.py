"""Reading is total: no stored entry can make a page, the API or an export fail.

Every kind of odd-but-valid entry is stored straight into the database (as an older version, an
import or the old API could have stored it, bypassing today's checks), then every page of the
patient and of the clinician, the API's status and today, and every export are rendered (the
PDFs, drawn from the plan alone, once per run).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pypdf
import pytest

from benzotaper.journal.entries import (
    CheckinEntry,
    DoseEntry,
    EventEntry,
    MedicineEntry,
    NoteEntry,
    SleepEntry,
)
from benzotaper.storage import Database
from benzotaper.web import WebSettings
from tests.journal.rows import SeedStore

from .conftest import Visitor
from .test_journal import TODAY, plan_started

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

YESTERDAY = TODAY - dt.timedelta(days=1)
LONG = "<script>alert(1)</script> ünïcödé 😀 שלום " * 120  # about 5,000 characters


def odd_entries() -> list[tuple[dt.date, Any]]:
    """Entries each model accepts but today's checks (or common sense) would question."""
    night = {"bed_time": "23:00", "final_wake_time": "06:00", "out_of_bed_time": "06:30"}
    return [
        # the night: 600 minutes awake in a 7-hour night; and no time in bed at all
        (YESTERDAY, SleepEntry(**night, sol_min=30, waso_min=600)),
        (
            TODAY,
            SleepEntry(
                bed_time="23:00", sol_min=0, final_wake_time="23:00", out_of_bed_time="23:00"
            ),
        ),
        (TODAY, CheckinEntry(note="only a note")),
        (TODAY, CheckinEntry(ciwa_b=[4, 4, 4])),  # 3 of 22 items
        (TODAY, CheckinEntry(gad7=[9] * 7, bwsq=[5] * 20)),  # items out of range
        (TODAY, CheckinEntry(quick={"made_up": 99, "anxiety": -5})),
        (TODAY, CheckinEntry(danger_signs=["headache"])),  # not a known sign
        (YESTERDAY, CheckinEntry(phq9=[3] * 9, ciwa_b=[4] * 22, quick={"anxiety": 10})),
        (TODAY, DoseEntry(drug="xanaxx", mg=1000, status="extra")),
        (TODAY, DoseEntry(drug="diazepam", mg=0, status="taken", planned_time="03:33")),
        (TODAY, DoseEntry(drug="diazepam", mg=9, status="missed")),
        (TODAY, DoseEntry(drug="diazepam", mg=9, time="08:00", planned_time="08:00")),
        (TODAY, DoseEntry(drug="diazepam", mg=9, time="08:01", planned_time="08:00")),  # twice
        (TODAY, MedicineEntry(name="x" * 200, dose="")),
        (TODAY, EventEntry(title=LONG[:200])),
        (TODAY, NoteEntry(note=LONG[:5000])),
        (dt.date(2000, 1, 1), NoteEntry(note="long before the plan")),
        (dt.date(2199, 12, 31), NoteEntry(note="far in the future")),
        (TODAY + dt.timedelta(days=3), CheckinEntry(danger_signs=["seizure"])),  # future-dated
    ]


def seed(db: Database, user_id: int) -> None:
    store = SeedStore(db)
    active = store.active_plan(user_id)
    linked = active.uid if active else None
    for day, entry in odd_entries():
        store.add_entry(user_id, day, entry, plan_version_uid=linked)
    # documents this version cannot read as entries at all
    store.add_raw(user_id, TODAY, "sleep", {"kind": "sleep", "bed_time": "8pm"})
    store.add_raw(user_id, TODAY, "mood", {"kind": "mood", "level": "low"})
    store.add_raw(user_id, TODAY, "checkin", {"kind": "checkin", "quick": "anxiety=4"})
    # a corrected entry and a retracted one
    note = store.add_entry(user_id, TODAY, NoteEntry(note="first words"))
    edited = store.edit_entry(user_id, note.uid, NoteEntry(note="second words"), reason="typo")
    store.delete_entry(user_id, edited.uid, reason="")


PATIENT_PAGES = [
    "/",
    "/my-plan",
    "/journal",
    "/journal/sleep",
    "/journal/scales/ciwa-b",
    "/account",
    "/api/status",
    f"/api/status?on={YESTERDAY.isoformat()}",
    "/api/journal/today",
    "/api/journal/entries",
    "/api/plans",
    "/api/plans/active",
]
#: The formats that read the journal (history) as well as the plan.
JOURNAL_EXPORTS = ["ics", "csv", "fhir", "fhir-r5", "story"]
#: The PDFs are drawn from the plan alone, whatever the database (their route reads the journal
#: as every format's does, which JOURNAL_EXPORTS cover on each database): rendered once, for the
#: patient on SQLite (~1.5 s of CPU each; the clinician's would be the same bytes).
PDFS = ["pdf", "prescriber-pdf"]


def _all_ok(get: Callable[[str], Any], paths: list[str]) -> dict[str, Any]:
    """Each path fetched once; every answer must be 200. Returns the answers by path."""
    answers = {p: get(p) for p in paths}
    assert [(p, r.status_code) for p, r in answers.items() if r.status_code != 200] == []
    return answers


def test_every_page_reads_every_odd_entry(
    make_visitor: Callable[[], Visitor], settings: WebSettings, databases: Any
) -> None:
    patient, clinician = make_visitor(), make_visitor()
    me = patient.signup("odd@example.org", name="Odd")
    clinician.signup("dr-odd@example.org", role="clinician")
    assert patient.api("POST", "/api/plans", json=plan_started(20)).status_code == 201
    db = Database(settings.database_url)
    try:
        seed(db, me)
    finally:
        db.dispose()

    entries = patient.client.get("/api/journal/entries").json()
    assert {e["kind"] for e in entries} >= {"sleep", "checkin", "dose", "note", "unreadable"}
    entry_pages = [f"/journal/entries/{e['uid']}" for e in entries]
    pages = _all_ok(patient.client.get, PATIENT_PAGES + entry_pages)
    formats = JOURNAL_EXPORTS + (PDFS if databases.kind == "sqlite" else [])
    exports = _all_ok(patient.client.get, [f"/my-plan/export/{f}" for f in formats])
    if databases.kind == "sqlite":  # the sheet's chart is drawn for print (A4 width)
        sheet = pypdf.PdfReader(io.BytesIO(exports["/my-plan/export/prescriber-pdf"].content))
        assert [i.image.width for page in sheet.pages for i in page.images] == [2250]
    status = pages["/api/status"].json()
    assert status["latest_sleep"]["metrics"] is None  # today's night does not add up
    assert status["decision"]["kind"] == "urgent"  # the PHQ-9 item 9 of yesterday

    code = patient.api("POST", "/api/shares").json()["code"]
    pid = clinician.api("POST", "/api/patients", json={"code": code}).json()["id"]
    clinician_pages = [
        "/clinician",
        f"/clinician/patients/{pid}",
        "/api/patients",
        f"/api/patients/{pid}",
        f"/api/patients/{pid}/status",
        f"/api/patients/{pid}/entries",
        f"/api/patients/{pid}/plan",
    ]
    _all_ok(clinician.client.get, clinician_pages)
    _all_ok(
        clinician.client.get, [f"/clinician/patients/{pid}/export/{f}" for f in JOURNAL_EXPORTS]
    )
