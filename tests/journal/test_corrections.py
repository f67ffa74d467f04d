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
from benzotaper.errors import ConflictError
from benzotaper.journal.entries import CheckinEntry, DoseEntry, NoteEntry
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.storage.transfer import export_journal, import_journal, parse_export
from tests.journal.conftest import Clock
from tests.journal.factory import request, stub_plan
from tests.journal.test_adaptive import baseline_week, ciwa

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

D = dt.date


def test_a_retraction_lifts_the_hold_it_caused_and_a_correction_can_start_one(
    journal: JournalService, clock: Clock
) -> None:
    me = journal.local_user()
    journal.save_plan(me, stub_plan(request(10)), reason="first")
    for day, entry in baseline_week():
        journal.record(me, entry, day=day)
    first = journal.record(me, ciwa(25), day=D(2026, 1, 16))
    second = journal.record(me, ciwa(27), day=D(2026, 1, 17))
    assert second.review.decision is not None and second.review.decision.kind == "hold"
    st = journal.status(me)
    assert st.hold and st.plan_version == 2 and st.latest_scores["ciwa-b"].total == 27

    # the 27 was entered by mistake: without it nothing calls for the hold, it is lifted
    gone = journal.retract(me, second.entry.uid, reason="entered twice")
    assert gone.review.lifted and gone.review.decision is not None
    assert gone.review.decision.kind == "lift" and gone.review.new_version is not None
    st = journal.status(me)
    assert st.hold is False and st.plan_version == 3 and st.hold_since is None
    assert st.next_cut == D(2026, 1, 29)  # the plan as it was before the hold
    active = journal.active_plan(me)
    assert active is not None and active.plan == journal.plan_versions(me)[0].plan
    assert "Hold lifted" in active.reason

    # the 25 was really a 6
    fixed = journal.correct(me, first.entry.uid, ciwa(6), reason="typed 25 for 6")
    assert fixed.review.decision is not None and fixed.review.decision.kind == "continue"
    st = journal.status(me)
    assert st.latest_scores["ciwa-b"].total == 6
    assert st.latest_score_dates["ciwa-b"] == D(2026, 1, 16)
    assert [v.version for v in journal.plan_versions(me)] == [1, 2, 3]

    # a correction the other way round starts the hold like a new check-in would
    clock.at(D(2026, 1, 19))
    calm = journal.record(me, ciwa(5), day=D(2026, 1, 18))
    journal.correct(me, calm.entry.uid, ciwa(26), reason="wrong form")
    done = journal.record(me, ciwa(27), day=D(2026, 1, 19))
    assert done.review.decision is not None and done.review.decision.kind == "hold"
    assert done.review.new_version is not None and done.review.new_version.version == 4


def test_a_hold_stays_while_other_check_ins_still_call_for_it(
    journal: JournalService, clock: Clock
) -> None:
    me = journal.local_user()
    journal.save_plan(me, stub_plan(request(10)), reason="first")
    for day, entry in [*baseline_week(), (D(2026, 1, 15), ciwa(24)), (D(2026, 1, 16), ciwa(25))]:
        journal.record(me, entry, day=day)
    extra = journal.record(me, ciwa(27), day=D(2026, 1, 17))
    assert journal.status(me).hold
    done = journal.retract(me, extra.entry.uid, reason="duplicate")
    assert not done.review.lifted and journal.status(me).hold  # 15 and 16 still call for it
    assert len(journal.version_infos(me)) == 2


def test_a_danger_sign_keeps_the_plan_as_it_is_even_when_a_hold_could_be_lifted(
    journal: JournalService, clock: Clock
) -> None:
    me = journal.local_user()
    journal.save_plan(me, stub_plan(request(10)), reason="first")
    for day, entry in [*baseline_week(), (D(2026, 1, 16), ciwa(25))]:
        journal.record(me, entry, day=day)
    second = journal.record(me, ciwa(27), day=D(2026, 1, 17))
    journal.record(me, CheckinEntry(danger_signs=["confusion"]), day=D(2026, 1, 17))
    done = journal.retract(me, second.entry.uid, reason="mistake")
    assert done.review.decision is not None and done.review.decision.kind == "urgent"
    assert not done.review.lifted and len(journal.version_infos(me)) == 2


def test_revision_reasons_are_kept_and_round_trip(
    journal: JournalService, db: Database, databases: Any
) -> None:
    me = journal.local_user()
    dose = journal.record(me, DoseEntry(drug="diazepam", mg=5, time="08:00"), day=D(2026, 1, 2))
    fixed = journal.correct(me, dose.entry.uid, {"mg": 4.5}, reason="  half tab  ")
    note = journal.record(me, NoteEntry(note="bad night"), day=D(2026, 1, 2))
    gone = journal.retract(me, note.entry.uid, reason="wrong day")
    assert (fixed.entry.reason, gone.entry.reason, dose.entry.reason) == (
        "half tab",
        "wrong day",
        "",
    )
    assert journal.entry(me, fixed.entry.uid[:8]) == fixed.entry
    assert journal.superseded_uids(me) == {dose.entry.uid, note.entry.uid}
    history, _ = journal.history(me, note.entry.uid)
    assert [r.reason for r in history] == ["", "wrong day"]
    every = journal.entries(me, every_revision=True)
    uids = [dose.entry.uid, fixed.entry.uid, note.entry.uid, gone.entry.uid]
    assert [e.uid for e in every] == uids
    assert [e.uid for e in journal.entries(me)] == [fixed.entry.uid]
    with pytest.raises(ConflictError, match="retracted meanwhile"):
        journal.retract(me, note.entry.uid, reason="again")

    text = export_journal(db, me).model_dump_json()
    doc = json.loads(text)
    assert doc["format_version"] == 2
    assert [e["reason"] for e in doc["entries"]] == ["", "half tab", "", "wrong day"]
    other = Database(databases.new_url())
    other.upgrade()
    try:
        new_id = import_journal(other, parse_export(text))
        assert export_journal(other, new_id).model_dump_json() == text
        there = JournalService(other, journal.catalogue)
        assert there.history(new_id, note.entry.uid)[0][-1].reason == "wrong day"

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
    """In-process (the same app object the entry point runs); tests using it take ``clock``."""
    result = CliRunner().invoke(app, list(args), env={"BENZOTAPER_DATABASE_URL": url})
    assert result.exit_code == code, result.output
    return result


def seeded(url: str, catalogue: Any, clock: Clock) -> tuple[JournalService, int]:
    db = Database(url)
    db.upgrade()
    journal = JournalService(db, catalogue, now=clock)
    return journal, journal.local_user()


def test_edit_retract_and_history_commands(database_url: str, catalogue: Any, clock: Clock) -> None:
    journal, me = seeded(database_url, catalogue, clock)
    journal.save_plan(me, stub_plan(request(10)), reason="first")
    dose = journal.take(me, day=D(2026, 1, 16), time="08:00").entry
    check = journal.record(me, CheckinEntry(quick={"anxiety": 3}), day=D(2026, 1, 16)).entry
    journal.db.dispose()
    url = database_url

    out = json.loads(
        cli(
            url, "edit", dose.uid[:8], "--set", "mg=4.25", "--set", "time=08:10",
            "--reason", "half tab", "--confirm", "--json",
        ).stdout
    )  # fmt: skip
    new = out["entry"]
    assert out["replaces"] == dose.uid and new["supersedes_uid"] == dose.uid
    assert (new["entry"]["mg"], new["entry"]["time"], new["reason"]) == (4.25, "08:10", "half tab")
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
    assert hist["revisions"][0]["entry"]["mg"] == 4.5  # the first text is still there
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
    tmp_path: Any, args: list[str], message: str, code: int, catalogue: Any, clock: Clock
) -> None:
    url = f"sqlite:///{tmp_path / 'e.sqlite3'}"
    journal, me = seeded(url, catalogue, clock)
    dose = journal.record(me, DoseEntry(drug="diazepam", mg=5), day=D(2026, 1, 16)).entry
    journal.db.dispose()
    result = cli(url, "edit", dose.uid, *args, code=code)
    assert message in " ".join(result.stderr.split())  # unwrapped


def test_bad_retractions_and_unknown_ids(tmp_path: Any, catalogue: Any, clock: Clock) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    journal, me = seeded(url, catalogue, clock)
    check = journal.record(me, CheckinEntry(quick={"anxiety": 3}), day=D(2026, 1, 16)).entry
    journal.db.dispose()
    assert "Say why" in cli(url, "retract", check.uid, "--reason", "  ", code=2).stderr
    assert "at most 1000" in cli(url, "retract", check.uid, "--reason", "x" * 1001, code=2).stderr
    assert "No journal entry" in cli(url, "retract", "nope", "--reason", "x", code=2).stderr
    assert "No journal entry" in cli(url, "history", "nope", code=2).stderr
    emptied = cli(url, "edit", check.uid, "--set", "quick=", code=2).stderr
    assert "Nothing to record" in emptied
    assert "GAD-7 needs 7" in cli(url, "edit", check.uid, "--set", "gad7=1,2", code=2).stderr
    cli(url, "retract", check.uid, "--reason", "test entry")
    again = cli(url, "retract", check.uid, "--reason", "again", code=2).stderr
    assert "retracted meanwhile" in again  # a conflict: exit status 2


def test_status_json_fields_and_crisis_information_with_or_without_a_plan(
    database_url: str, catalogue: Any, clock: Clock
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

    journal, me = seeded(url, catalogue, clock)
    journal.save_plan(me, stub_plan(request(10)), reason="first")
    journal.db.dispose()
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
