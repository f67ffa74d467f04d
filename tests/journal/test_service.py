"""The journal service on SQLite and PostgreSQL: entries and their history, plan versions,
export/import, and adaptive re-planning saved as new plan versions, each use-case one
transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.errors import ConflictError, InputError, NotFoundError, StorageError
from benzotaper.journal.entries import CheckinEntry, DoseEntry, NoteEntry, SleepEntry
from benzotaper.planning.models import PersonFactors, Plan, PlanRequest
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.storage.transfer import export_journal, import_journal, parse_export
from tests.journal.conftest import Clock
from tests.journal.factory import request, stub_plan
from tests.journal.test_adaptive import baseline_week, ciwa, days

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

D = dt.date


def planned(journal: JournalService, start: dt.date = D(2026, 1, 1), **kw: Any) -> int:
    """A person with the stub plan (10 mg diazepam a day, 10% cuts every 14 days) saved."""
    me = journal.local_user()
    journal.save_plan(me, stub_plan(request(10, start=start, **kw)), reason="first plan")
    return me


def record_all(journal: JournalService, me: int, items: list[tuple[dt.date, Any]]) -> None:
    for day, entry in items:
        journal.record(me, entry, day=day)


def test_local_user_is_created_once(journal: JournalService) -> None:
    a = journal.local_user()
    assert journal.local_user() == a
    other = journal.create_user(email="p@example.org", display_name="P")
    assert other != a
    with pytest.raises(StorageError):
        journal.create_user(email="p@example.org")


def test_saving_a_plan_keeps_the_profile_history(journal: JournalService, db: Database) -> None:
    me = journal.local_user()
    assert journal.profile(me) is None
    for person in (PersonFactors(age=60), PersonFactors(age=61, seizures=True)):
        req = request(10).model_copy(update={"person": person})
        journal.save_plan(me, stub_plan(req), reason="x")
    assert journal.profile(me) == PersonFactors(age=61, seizures=True)
    assert [p.person["age"] for p in export_journal(db, me).profiles] == [60, 61]


def test_entries_and_corrections_keep_every_revision(journal: JournalService) -> None:
    me = journal.local_user()
    a = journal.record(me, DoseEntry(drug="diazepam", mg=5, time="08:00"), day=D(2026, 1, 2))
    journal.record(me, NoteEntry(note="started"), day=D(2026, 1, 1))
    journal.record(me, CheckinEntry(quick={"anxiety": 3}), day=D(2026, 1, 2))
    assert [e.kind for e in journal.entries(me)] == ["note", "dose", "checkin"]
    assert [e.kind for e in journal.entries(me, kind="dose")] == ["dose"]
    assert journal.entries(me, start=D(2026, 1, 2), end=D(2026, 1, 2), kind="note") == []

    b = journal.correct(me, a.entry.uid, {"mg": 4.5, "time": "08:10"}, reason="half tab")
    assert b.replaces == a.entry.uid and b.entry.supersedes_uid == a.entry.uid
    [current] = journal.entries(me, kind="dose")
    assert current.uid == b.entry.uid and current.entry.mg == 4.5  # type: ignore[union-attr]
    with pytest.raises(ConflictError, match="changed meanwhile"):  # an old revision
        journal.correct(me, a.entry.uid, {"mg": 1})
    with pytest.raises(InputError, match="Nothing changes"):
        journal.correct(me, b.entry.uid, {"mg": 4.5})

    c = journal.retract(me, b.entry.uid, reason="entered twice")
    assert c.entry.deleted and journal.entries(me, kind="dose") == []
    history, replaced = journal.history(me, b.entry.uid)
    assert [h.uid for h in history] == [a.entry.uid, b.entry.uid, c.entry.uid]
    assert replaced >= {a.entry.uid, b.entry.uid}
    assert history[0].entry.mg == 5  # type: ignore[union-attr]
    with pytest.raises(ConflictError, match="retracted meanwhile"):
        journal.correct(me, b.entry.uid, {"mg": 1})
    with pytest.raises(InputError, match="Say why"):
        journal.retract(me, a.entry.uid, reason=" ")


def test_other_peoples_entries_are_not_found(journal: JournalService) -> None:
    me = journal.local_user()
    other = journal.create_user(email="o@example.org")
    e = journal.record(other, NoteEntry(note="mine"))
    with pytest.raises(NotFoundError):
        journal.correct(me, e.entry.uid, {"note": "yours?"})
    with pytest.raises(NotFoundError):
        journal.retract(me, e.entry.uid, reason="x")
    assert journal.entries(me) == []


def test_plan_versions_are_appended_linked_and_one_is_active(journal: JournalService) -> None:
    me = journal.local_user()
    p1 = stub_plan(request(10))
    v1 = journal.save_plan(me, p1, reason="first plan")
    v2 = journal.save_plan(me, stub_plan(request(10, percent=5)), reason="slower")
    versions = journal.plan_versions(me)
    assert [(v.version, v.active, v.reason) for v in versions] == [
        (1, False, "first plan"),
        (2, True, "slower"),
    ]
    assert v2.previous_uid == v1.uid
    assert versions[0].plan == p1  # the earlier plan is kept exactly
    active = journal.active_plan(me)
    assert active is not None and active.uid == v2.uid and active.request.preferences.percent == 5
    # the same plan saved again (a form sent twice) makes no new version
    assert journal.save_plan(me, stub_plan(request(10, percent=5)), reason="again").uid == v2.uid
    assert len(journal.version_infos(me)) == 2


def test_a_hold_then_a_slower_resumption_are_new_plan_versions(
    journal: JournalService, clock: Clock
) -> None:
    me = planned(journal)
    record_all(journal, me, [*baseline_week(), (D(2026, 1, 16), ciwa(25))])
    assert len(journal.version_infos(me)) == 1  # one bad day is not a hold
    done = journal.record(me, ciwa(27), day=D(2026, 1, 17))
    decision, version = done.review.decision, done.review.new_version
    assert decision is not None and decision.kind == "hold"
    assert version is not None and version.version == 2 and version.origin == "adaptive"
    assert "Significant withdrawal symptoms" in version.reason

    st = journal.status(me)
    assert (st.plan_version, st.hold, st.pending_replan) == (2, True, False)
    assert st.next_cut is not None and st.next_cut > D(2026, 1, 29)
    assert st.hold_reason and "Hold continues" in st.hold_reason
    assert st.latest_scores["ciwa-b"].total == 27 and st.latest_scores["ciwa-b"].band is None

    for day in days(D(2026, 1, 18), 8):
        clock.at(day)
        done = journal.record(me, ciwa(6), day=day)
    assert done.review.decision is not None and done.review.decision.kind == "resume"
    assert done.review.new_version is not None and done.review.new_version.version == 3
    active = journal.active_plan(me)
    assert active is not None and active.request.preferences.percent == 5
    st = journal.status(me, D(2026, 1, 26))
    assert (st.plan_version, st.hold, st.hold_reason) == (3, False, None)
    assert [v.version for v in journal.plan_versions(me)] == [1, 2, 3]


def test_export_import_round_trip_is_exact(
    journal: JournalService, db: Database, databases: Any, catalogue: Catalogue
) -> None:
    me = planned(journal)
    record_all(journal, me, [*baseline_week(), (D(2026, 1, 16), ciwa(25))])
    journal.record(me, ciwa(27), day=D(2026, 1, 17))  # a hold: plan version 2
    e = journal.take(me, mg=4.5, drug="diazepam", status="extra", time="08:00")
    journal.correct(me, e.entry.uid, {"mg": 4.25, "note": "½ tab"})
    n = journal.record(me, NoteEntry(note="bad night"))
    journal.retract(me, n.entry.uid, reason="wrong day")
    journal.record(
        me,
        SleepEntry(
            bed_time="23:00",
            sol_min=45,
            waso_min=60,
            final_wake_time="06:00",
            out_of_bed_time="07:00",
            quality=2,
        ),
    )
    doc = export_journal(db, me)
    text = doc.model_dump_json()

    # into a fresh database of the same kind, as a new user and into an empty local user
    other = Database(databases.new_url())
    other.upgrade()
    new_id = import_journal(other, parse_export(text))
    assert export_journal(other, new_id).model_dump_json() == text
    other.dispose()
    third = Database(databases.new_url())
    third.upgrade()
    there = JournalService(third, catalogue)
    local = there.local_user()
    assert import_journal(third, parse_export(text), user_id=local) == local
    assert export_journal(third, local).model_dump_json() == text
    assert there.entries(local) == journal.entries(me)
    third.dispose()
    # the same uids cannot be imported twice into one database
    with pytest.raises(StorageError):
        import_journal(db, parse_export(text))
    assert len(doc.entries) == 7 + 2 + 2 + 2 + 1
    assert len(doc.plan_versions) == 2


def test_import_refuses_a_non_empty_journal_and_bad_documents(
    journal: JournalService, db: Database
) -> None:
    me = journal.local_user()
    journal.record(me, NoteEntry(note="x"))
    doc = export_journal(db, me)
    with pytest.raises(StorageError, match="already has data"):
        import_journal(db, doc, user_id=me)
    with pytest.raises(InputError, match="Not a valid"):
        parse_export('{"format": "something else"}')
    bad = doc.model_copy(deep=True)
    bad.entries[0].supersedes_uid = "nope"
    fresh = journal.create_user(email="fresh@example.org")
    with pytest.raises(InputError, match="refers to 'nope'"):
        import_journal(db, bad, user_id=fresh)
    assert journal.entries(fresh) == []  # all or nothing


def test_adaptive_cycle_with_the_real_planner(
    db: Database, catalogue: Catalogue, clock: Clock
) -> None:
    from benzotaper.journal.timeline import last_cut, next_cut
    from benzotaper.knowledge import knowledge_for
    from benzotaper.planning.engine import make_plan

    journal = JournalService(db, catalogue, now=clock)
    me = journal.local_user()
    first = make_plan(request(10), knowledge_for(catalogue), today=D(2026, 1, 1))
    journal.save_plan(me, first, reason="agreed")
    cut = next_cut(first, D(2026, 1, 1))
    assert cut is not None
    held_on = cut.start + dt.timedelta(days=2)
    clock.at(held_on)
    record_all(
        journal,
        me,
        [
            *[(cut.start - dt.timedelta(days=i), ciwa(4)) for i in range(7, 0, -1)],
            (cut.start + dt.timedelta(days=1), ciwa(24)),
            (cut.start + dt.timedelta(days=2), ciwa(26)),
        ],
    )
    active = journal.active_plan(me)
    assert active is not None and active.version == 2
    decision = active.decision
    assert decision is not None and decision.kind == "hold"
    original_next, new_next = next_cut(first, held_on), next_cut(active.plan, held_on)
    assert original_next is not None and new_next is not None
    assert new_next.start > original_next.start
    assert new_next.start >= decision.next_cut_not_before  # type: ignore[operator]
    # the hold keeps the dose in force, it never raises it
    assert last_cut(active.plan, held_on) is not None
    held_step = next(s for s in active.plan.steps if s.start <= held_on <= s.end)
    was = next(s for s in first.steps if s.start <= held_on <= s.end)
    assert held_step.diazepam_equivalent_mg == was.diazepam_equivalent_mg

    day = held_on
    while True:
        day += dt.timedelta(days=1)
        clock.at(day)
        done = journal.record(me, ciwa(4), day=day)
        assert done.review.decision is not None
        if done.review.decision.kind == "resume":
            break
        assert done.review.decision.kind == "hold" and day < held_on + dt.timedelta(days=30)
    record = journal.active_plan(me)
    assert record is not None and record.version == 3
    assert record.request.preferences.percent == 5
    assert record.plan.summary.start == day
    assert record.plan.steps[0].diazepam_equivalent_mg <= held_step.diazepam_equivalent_mg


def test_a_planner_refusal_changes_nothing_and_says_so(
    db: Database, catalogue: Catalogue, clock: Clock
) -> None:
    from benzotaper.errors import RegimenError

    def refusing(req: PlanRequest, today: dt.date) -> Plan:
        raise RegimenError("a hold cannot start inside the crossover")

    journal = JournalService(db, catalogue, planner=refusing, now=clock)
    me = planned(journal)
    record_all(journal, me, [*baseline_week(), (D(2026, 1, 16), ciwa(25))])
    done = journal.record(me, ciwa(27), day=D(2026, 1, 17))
    decision = done.review.decision
    assert done.review.new_version is None and decision is not None and decision.kind == "hold"
    assert "could not be adjusted automatically" in decision.messages[-1]
    assert "crossover" in decision.messages[-1]
    assert [v.version for v in journal.plan_versions(me)] == [1]
    assert len(journal.entries(me, kind="checkin")) == 9
