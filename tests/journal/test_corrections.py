"""Correcting and retracting entries, on SQLite and PostgreSQL: nothing is overwritten, the
history keeps every revision with its reason, status and the adaptive rules read only the newest
revision, and export/import keeps the revisions exactly."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from benzotaper.cli import app
from benzotaper.errors import StorageError
from benzotaper.journal.adaptive import default_rules
from benzotaper.journal.entries import CheckinEntry, DoseEntry, NoteEntry
from benzotaper.journal.scales import default_scales
from benzotaper.planning.models import Plan, PlanRequest
from benzotaper.storage import Database
from benzotaper.storage.journal import JournalStore
from benzotaper.storage.tracking import review, status
from benzotaper.storage.transfer import export_journal, import_journal, parse_export
from tests.journal.factory import request, stub_plan
from tests.journal.test_adaptive import baseline_week, ciwa

D = dt.date


def planner(req: PlanRequest, today: dt.date) -> Plan:
    return stub_plan(req, today)


@pytest.fixture
def store(db: Database) -> JournalStore:
    return JournalStore(db)


def test_status_and_rules_use_the_newest_revision_and_skip_retractions(
    store: JournalStore,
) -> None:
    rules, book = default_rules(), default_scales()
    me = store.local_user()
    store.save_plan(me, stub_plan(request(10)), reason="first", effective_from=D(2026, 1, 1))
    for day, entry in baseline_week():
        store.add_entry(me, day, entry)
    first = store.add_entry(me, D(2026, 1, 16), ciwa(25))
    second = store.add_entry(me, D(2026, 1, 17), ciwa(27))
    st = status(store, me, D(2026, 1, 17), rules, book)
    assert st.decision is not None and st.decision.kind == "hold"
    assert st.latest_scores["ciwa-b"].total == 27

    # the 27 was entered by mistake; the 25 was really a 6
    store.delete_entry(me, second.uid, reason="entered twice")
    store.edit_entry(me, first.uid, ciwa(6), reason="typed 25 for 6")
    st = status(store, me, D(2026, 1, 17), rules, book)
    assert st.decision is not None and st.decision.kind == "continue" and st.hold is False
    assert st.latest_scores["ciwa-b"].total == 6
    assert st.latest_score_dates["ciwa-b"] == D(2026, 1, 16)
    decision, version = review(store, me, D(2026, 1, 17), planner, rules, book)
    assert decision is not None and decision.kind == "continue" and version is None
    assert [v.version for v in store.plan_versions(me)] == [1]

    # a correction the other way round starts the hold like a new check-in would
    calm = store.add_entry(me, D(2026, 1, 18), ciwa(5))
    store.edit_entry(me, calm.uid, ciwa(26), reason="wrong form")
    store.add_entry(me, D(2026, 1, 19), ciwa(27))
    decision, version = review(store, me, D(2026, 1, 19), planner, rules, book)
    assert decision is not None and decision.kind == "hold"
    assert version is not None and version.version == 2


def test_revision_reasons_are_kept_and_round_trip(store: JournalStore, databases: Any) -> None:
    me = store.local_user()
    dose = store.add_entry(me, D(2026, 1, 2), DoseEntry(drug="diazepam", mg=5, time="08:00"))
    fixed = store.edit_entry(
        me, dose.uid, DoseEntry(drug="diazepam", mg=4.5, time="08:00"), reason="  half tab  "
    )
    note = store.add_entry(me, D(2026, 1, 2), NoteEntry(note="bad night"))
    gone = store.delete_entry(me, note.uid, reason="wrong day")
    assert (fixed.reason, gone.reason, dose.reason) == ("half tab", "wrong day", "")
    assert store.entry(me, fixed.uid[:8]) == fixed
    assert store.superseded_uids(me) == {dose.uid, note.uid}
    assert [r.reason for r in store.entry_history(me, note.uid)] == ["", "wrong day"]
    every = store.entries(me, every_revision=True)
    assert [e.uid for e in every] == [dose.uid, fixed.uid, note.uid, gone.uid]
    assert [e.uid for e in store.entries(me)] == [fixed.uid]
    with pytest.raises(StorageError, match="was deleted"):
        store.delete_entry(me, note.uid, reason="again")

    text = export_journal(store.db, me).model_dump_json()
    doc = json.loads(text)
    assert doc["format_version"] == 2
    assert [e["reason"] for e in doc["entries"]] == ["", "half tab", "", "wrong day"]
    other = Database(databases.new_url())
    other.upgrade()
    try:
        new_id = import_journal(other, parse_export(text))
        assert export_journal(other, new_id).model_dump_json() == text
        assert JournalStore(other).entry_history(new_id, note.uid)[-1].reason == "wrong day"

        # a version 1 export (before reasons) still imports, every revision intact
        old = json.loads(text)
        old["format_version"] = 1
        for e in old["entries"]:
            del e["reason"]
            e["uid"] = e["uid"][:-4] + "0001"
            if e["supersedes_uid"]:
                e["supersedes_uid"] = e["supersedes_uid"][:-4] + "0001"
        old["user"]["email"] = None
        third = import_journal(other, parse_export(json.dumps(old)))
        again = export_journal(other, third)
        assert [e.reason for e in again.entries] == ["", "", "", ""]
        assert [(e.deleted, e.data) for e in again.entries] == [
            (e["deleted"], e["data"]) for e in old["entries"]
        ]
    finally:
        other.dispose()


# ----------------------------------------------------------------------------- the commands


def cli(url: str, *args: str, code: int = 0) -> Result:
    """In-process (the same app object the entry point runs)."""
    result = CliRunner().invoke(app, list(args), env={"BENZOTAPER_DATABASE_URL": url})
    assert result.exit_code == code, result.output
    return result


def test_edit_retract_and_history_commands(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    store = JournalStore(db)
    me = store.local_user()
    store.save_plan(me, stub_plan(request(10)), reason="first", effective_from=D(2026, 1, 1))
    dose = store.add_entry(me, D(2026, 1, 16), DoseEntry(drug="diazepam", mg=5, time="08:00"))
    check = store.add_entry(me, D(2026, 1, 16), CheckinEntry(quick={"anxiety": 3}))
    db.dispose()
    url = database_url

    out = json.loads(
        cli(
            url, "edit", dose.uid[:8], "--set", "mg=4.5", "--set", "time=08:10",
            "--reason", "half tab", "--json",
        ).stdout
    )  # fmt: skip
    new = out["entry"]
    assert out["replaces"] == dose.uid and new["supersedes_uid"] == dose.uid
    assert (new["entry"]["mg"], new["entry"]["time"], new["reason"]) == (4.5, "08:10", "half tab")
    text = cli(url, "edit", check.uid, "--set", "gad-7=1,1,1,1,1,1,1", "--date", "2026-01-17")
    assert "GAD-7: 7/21 (mild)" in text.stdout and "prescriber" in text.stdout
    # a check-in correction is reviewed like a new check-in, and says so in its JSON too
    extra = cli(url, "checkin", "--date", "2026-01-17", "--quick", "tremor=2").stdout
    extra_id = extra.split("(")[1][:8]
    out = json.loads(cli(url, "retract", extra_id, "--reason", "test", "--json").stdout)
    assert out["entry"]["deleted"] is True and out["retracts"].startswith(extra_id)
    assert out["decision"]["kind"] == "continue" and out["new_plan_version"] is None
    moved = cli(url, "history", "--date", "2026-01-17", "--kind", "checkin", "--json").stdout
    [current] = json.loads(moved)["entries"]
    assert current["day"] == "2026-01-17" and current["state"] == "edited"
    assert current["entry"]["quick"] == {"anxiety": 3}  # untouched fields stay

    # the current dose revision is retracted; its history shows all three rows and why
    gone = cli(url, "retract", new["uid"][:8], "--reason", "entered twice").stdout
    assert "Retracted dose of 2026-01-16" in gone and "entered twice" in gone
    hist = json.loads(cli(url, "history", dose.uid, "--json").stdout)
    assert [(r["state"], r["reason"]) for r in hist["revisions"]] == [
        ("superseded", ""),
        ("superseded", "half tab"),
        ("retraction", "entered twice"),
    ]
    assert hist["revisions"][0]["entry"]["mg"] == 5.0  # the first text is still there
    table = cli(url, "history", dose.uid[:8]).stdout
    assert "retraction" in table and "half tab" in table
    day = cli(url, "history", "--date", "2026-01-17", "--json").stdout
    assert [e["kind"] for e in json.loads(day)["entries"]] == ["checkin"]
    every = json.loads(cli(url, "history", "--date", "2026-01-17", "--all", "--json").stdout)
    assert sorted(e["state"] for e in every["entries"]) == [
        "edited",
        "retraction",
        "retraction",
        "superseded",
        "superseded",
        "superseded",
        "superseded",
    ]
    st = json.loads(cli(url, "status", "--on", "2026-01-17", "--json").stdout)
    assert st["latest_scores"]["gad-7"]["total"] == 7
    assert all(d["taken"] == 0 for d in st["adherence"]["days"])  # the dose was retracted


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--set", "mg=abc"], "mg: Input should be a valid number", 2),
        (["--set", "colour=red"], "with a field of a dose entry (note, status, drug, mg", 2),
        (["--set", "mg"], "Write --set FIELD=VALUE", 2),
        (["--set", "drug="], "drug cannot be empty", 2),
        (["--set", "mg=5"], "Nothing changes", 2),
        ([], "Give what to correct", 2),
        (["--date", "2026-02-30"], "YYYY-MM-DD", 2),
    ],
)
def test_bad_edits_get_a_clear_error(
    tmp_path: Any, args: list[str], message: str, code: int
) -> None:
    url = f"sqlite:///{tmp_path / 'e.sqlite3'}"
    db = Database(url)
    db.upgrade()
    store = JournalStore(db)
    dose = store.add_entry(store.local_user(), D(2026, 1, 16), DoseEntry(drug="diazepam", mg=5))
    db.dispose()
    result = cli(url, "edit", dose.uid, *args, code=code)
    assert message in " ".join(result.stderr.split())  # unwrapped


def test_bad_retractions_and_unknown_ids(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    db = Database(url)
    db.upgrade()
    store = JournalStore(db)
    me = store.local_user()
    check = store.add_entry(me, D(2026, 1, 16), CheckinEntry(quick={"anxiety": 3}))
    db.dispose()
    assert "Say why" in cli(url, "retract", check.uid, "--reason", "  ", code=2).stderr
    assert "at most 1000" in cli(url, "retract", check.uid, "--reason", "x" * 1001, code=2).stderr
    assert "No journal entry" in cli(url, "retract", "nope", "--reason", "x", code=1).stderr
    assert "No journal entry" in cli(url, "history", "nope", code=1).stderr
    emptied = cli(url, "edit", check.uid, "--set", "quick=", code=2).stderr
    assert "use `benzotaper retract`" in emptied
    assert "GAD-7 needs 7" in cli(url, "edit", check.uid, "--set", "gad7=1,2", code=2).stderr
    cli(url, "retract", check.uid, "--reason", "test entry")
    again = cli(url, "retract", check.uid, "--reason", "again", code=1).stderr
    assert "was deleted" in again


def test_status_json_fields_and_crisis_information_with_or_without_a_plan(
    database_url: str,
) -> None:
    url = database_url
    phq9 = "0,0,0,0,0,0,0,0,1"  # total 1, item 9 above zero
    cli(url, "checkin", "--date", "2026-01-10", "--phq9", phq9)
    st = json.loads(cli(url, "status", "--on", "2026-01-10", "--json").stdout)
    assert st["plan_version"] is None and st["hold"] is False and st["next_cut"] is None
    assert any("Samaritans" in m for m in st["messages"])
    assert "No saved plan" in st["messages"][-1]
    text = " ".join(cli(url, "status", "--on", "2026-01-10").stdout.split())
    assert "Samaritans" in text and "No saved plan" in text and "PHQ-9 2026-01-10: 1/27" in text
    assert "Samaritans" in " ".join(cli(url, "today", "--date", "2026-01-10").stdout.split())

    db = Database(url)
    store = JournalStore(db)
    store.save_plan(
        store.local_user(), stub_plan(request(10)), reason="first", effective_from=D(2026, 1, 1)
    )
    db.dispose()
    cli(url, "take", "--date", "2026-01-16", "--time", "08:00")
    cli(url, "checkin", "--date", "2026-01-16", "--gad7", "1,1,1,1,1,1,1", "--bwsq", "1," * 20)
    st = json.loads(cli(url, "status", "--on", "2026-01-16", "--json").stdout)
    assert (st["plan_version"], st["current_step"], st["next_cut"]) == (1, 1, "2026-01-29")
    assert st["hold"] is True and "PHQ-9 item 9" in st["hold_reason"]  # urgent: no auto change
    assert st["decision"]["kind"] == "urgent" and st["pending_replan"] is False
    scores = {
        k: (v["total"], v["band"], v["band_established"]) for k, v in st["latest_scores"].items()
    }
    assert scores == {
        "phq-9": (1, "minimal", True),
        "gad-7": (7, "mild", True),
        "bwsq": (20, None, False),
    }
    assert st["latest_score_dates"]["phq-9"] == "2026-01-10"
    assert any("Samaritans" in m for m in st["messages"])  # still the latest PHQ-9
    adherence = st["adherence"]
    assert (adherence["start"], adherence["end"]) == ("2026-01-03", "2026-01-16")
    assert adherence["days"][-1]["taken"] == 1 and adherence["days"][-1]["planned"] == 2
