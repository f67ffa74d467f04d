"""The journal repository on SQLite and PostgreSQL: CRUD, history, plan versions, export/import,
and adaptive re-planning saved as new plan versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from benzotaper.errors import InputError, NotFoundError, StorageError
from benzotaper.journal.adaptive import default_rules
from benzotaper.journal.entries import CheckinEntry, DoseEntry, NoteEntry, SleepEntry
from benzotaper.journal.scales import default_scales
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.models import PersonFactors, Plan, PlanRequest
from benzotaper.storage import Database
from benzotaper.storage.journal import JournalStore
from benzotaper.storage.tracking import review, status
from benzotaper.storage.transfer import export_journal, import_journal, parse_export
from tests.journal.factory import request, stub_plan
from tests.journal.test_adaptive import baseline_week, ciwa, days

D = dt.date


def planner(req: PlanRequest, today: dt.date) -> Plan:
    return stub_plan(req, today)


@pytest.fixture
def store(db: Database) -> JournalStore:
    return JournalStore(db)


def test_local_user_is_created_once(store: JournalStore) -> None:
    a = store.local_user()
    assert store.local_user() == a
    other = store.create_user(email="p@example.org", display_name="P")
    assert other != a
    with pytest.raises(StorageError):
        store.create_user(email="p@example.org")


def test_profile_changes_keep_history(store: JournalStore) -> None:
    me = store.local_user()
    assert store.profile(me) is None
    store.set_profile(me, PersonFactors(age=60))
    store.set_profile(me, PersonFactors(age=61, seizures=True))
    assert store.profile(me) == PersonFactors(age=61, seizures=True)
    assert [p.person["age"] for p in export_journal(store.db, me).profiles] == [60, 61]


def test_entries_crud_and_edits_keep_every_revision(store: JournalStore) -> None:
    me = store.local_user()
    a = store.add_entry(me, D(2026, 1, 2), DoseEntry(drug="diazepam", mg=5, time="08:00"))
    store.add_entry(me, D(2026, 1, 1), NoteEntry(note="started"))
    store.add_entry(me, D(2026, 1, 2), CheckinEntry(quick={"anxiety": 3}))
    assert [e.kind for e in store.entries(me)] == ["note", "dose", "checkin"]
    assert [e.kind for e in store.entries(me, kind="dose")] == ["dose"]
    assert store.entries(me, start=D(2026, 1, 2), end=D(2026, 1, 2), kind="note") == []

    b = store.edit_entry(me, a.uid, DoseEntry(drug="diazepam", mg=4.5, time="08:10"))
    assert b.supersedes_uid == a.uid
    [current] = store.entries(me, kind="dose")
    assert current.uid == b.uid and current.entry.mg == 4.5  # type: ignore[union-attr]
    with pytest.raises(StorageError, match="already changed"):
        store.edit_entry(me, a.uid, DoseEntry(drug="diazepam", mg=1))
    with pytest.raises(StorageError, match="is a dose, not a note"):
        store.edit_entry(me, b.uid, NoteEntry(note="x"))

    c = store.delete_entry(me, b.uid)
    assert c.deleted and store.entries(me, kind="dose") == []
    history = store.entry_history(me, b.uid)
    assert [h.uid for h in history] == [a.uid, b.uid, c.uid]
    assert history[0].entry.mg == 5  # type: ignore[union-attr]
    with pytest.raises(StorageError, match="deleted"):
        store.edit_entry(me, c.uid, DoseEntry(drug="diazepam", mg=1))


def test_other_users_entries_are_not_found(store: JournalStore) -> None:
    me = store.local_user()
    other = store.create_user(email="o@example.org")
    e = store.add_entry(other, D(2026, 1, 1), NoteEntry(note="mine"))
    with pytest.raises(NotFoundError):
        store.edit_entry(me, e.uid, NoteEntry(note="yours?"))
    assert store.entries(me) == []


def test_plan_versions_are_appended_linked_and_one_is_active(store: JournalStore) -> None:
    me = store.local_user()
    p1 = stub_plan(request(10))
    v1 = store.save_plan(me, p1, reason="first plan", effective_from=D(2026, 1, 1))
    v2 = store.save_plan(
        me, stub_plan(request(10, percent=5)), reason="slower", effective_from=D(2026, 1, 5)
    )
    versions = store.plan_versions(me)
    assert [(v.version, v.active, v.reason) for v in versions] == [
        (1, False, "first plan"),
        (2, True, "slower"),
    ]
    assert v2.previous_uid == v1.uid
    assert versions[0].plan == p1  # the earlier plan is kept exactly
    active = store.active_plan(me)
    assert active is not None and active.uid == v2.uid and active.request.preferences.percent == 5


def test_review_holds_then_resumes_with_new_plan_versions(store: JournalStore) -> None:
    rules, book = default_rules(), default_scales()
    me = store.local_user()
    store.save_plan(me, stub_plan(request(10)), reason="first plan", effective_from=D(2026, 1, 1))
    for day, entry in [*baseline_week(), (D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]:
        store.add_entry(me, day, entry)
    before = status(store, me, D(2026, 1, 17), rules, book)
    assert before.next_cut == D(2026, 1, 29) or before.pending_replan

    decision, record = review(store, me, D(2026, 1, 17), planner, rules, book)
    assert decision is not None and decision.kind == "hold"
    assert record is not None and record.version == 2 and record.origin == "adaptive"
    assert "Significant withdrawal symptoms" in record.reason
    # reviewing again the same day changes nothing
    assert review(store, me, D(2026, 1, 17), planner, rules, book)[1] is None

    st = status(store, me, D(2026, 1, 17), rules, book)
    assert (st.plan_version, st.hold, st.pending_replan) == (2, True, False)
    assert st.next_cut is not None and st.next_cut > D(2026, 1, 29)
    assert st.hold_reason and "Hold continues" in st.hold_reason
    assert st.latest_scores["ciwa-b"].total == 27 and st.latest_scores["ciwa-b"].band is None

    for day in days(D(2026, 1, 18), 8):
        store.add_entry(me, day, ciwa(6))
        decision, record = review(store, me, day, planner, rules, book)
    assert decision is not None and decision.kind == "resume"
    assert record is not None and record.version == 3
    assert record.request.preferences.percent == 5
    st = status(store, me, D(2026, 1, 26), rules, book)
    assert (st.plan_version, st.hold, st.hold_reason) == (3, False, None)
    assert [v.version for v in store.plan_versions(me)] == [1, 2, 3]


def test_export_import_round_trip_is_exact(
    store: JournalStore, db: Database, databases: Any
) -> None:
    rules, book = default_rules(), default_scales()
    me = store.local_user()
    store.set_profile(me, PersonFactors(age=70, falls=True))
    store.save_plan(me, stub_plan(request(10)), reason="first", effective_from=D(2026, 1, 1))
    for day, entry in [*baseline_week(), (D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]:
        store.add_entry(me, day, entry)
    review(store, me, D(2026, 1, 17), planner, rules, book)
    e = store.add_entry(me, D(2026, 1, 17), DoseEntry(drug="diazepam", mg=4.5, time="08:00"))
    store.edit_entry(me, e.uid, DoseEntry(drug="diazepam", mg=4.25, time="08:00", note="½ tab"))
    n = store.add_entry(me, D(2026, 1, 17), NoteEntry(note="bad night"))
    store.delete_entry(me, n.uid)
    store.add_entry(
        me,
        D(2026, 1, 18),
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
    local = JournalStore(third).local_user()
    assert import_journal(third, parse_export(text), user_id=local) == local
    assert export_journal(third, local).model_dump_json() == text
    assert JournalStore(third).entries(local) == store.entries(me)
    third.dispose()
    # the same uids cannot be imported twice into one database
    with pytest.raises(StorageError):
        import_journal(db, parse_export(text))
    assert len(doc.entries) == 7 + 2 + 2 + 2 + 1
    assert len(doc.plan_versions) == 2


def test_import_refuses_a_non_empty_journal_and_bad_documents(
    store: JournalStore, db: Database
) -> None:
    me = store.local_user()
    store.add_entry(me, D(2026, 1, 1), NoteEntry(note="x"))
    doc = export_journal(db, me)
    with pytest.raises(StorageError, match="already has data"):
        import_journal(db, doc, user_id=me)
    with pytest.raises(InputError, match="Not a valid"):
        parse_export('{"format": "something else"}')
    bad = doc.model_copy(deep=True)
    bad.entries[0].supersedes_uid = "nope"
    fresh = store.create_user(email="fresh@example.org")
    with pytest.raises(InputError, match="refers to 'nope'"):
        import_journal(db, bad, user_id=fresh)
    assert store.entries(fresh) == []  # all or nothing


def test_adaptive_cycle_with_the_real_planner(store: JournalStore, catalogue: Any) -> None:
    from benzotaper.planning.engine import make_plan

    def real(req: PlanRequest, today: dt.date) -> Plan:
        return make_plan(req, default_knowledge(), today=today)

    rules, book = default_rules(), default_scales()
    me = store.local_user()
    first = real(request(10), D(2026, 1, 1))
    store.save_plan(me, first, reason="agreed", effective_from=D(2026, 1, 1))
    from benzotaper.journal.timeline import last_cut, next_cut

    cut = next_cut(first, D(2026, 1, 1))
    assert cut is not None
    for day, entry in [
        *[(cut.start - dt.timedelta(days=i), ciwa(4)) for i in range(7, 0, -1)],
        (cut.start + dt.timedelta(days=1), ciwa(24)),
        (cut.start + dt.timedelta(days=2), ciwa(26)),
    ]:
        store.add_entry(me, day, entry)
    held_on = cut.start + dt.timedelta(days=2)
    original_next = next_cut(first, held_on)
    decision, record = review(store, me, held_on, real, rules, book)
    assert decision is not None and decision.kind == "hold" and record is not None
    new_next = next_cut(record.plan, held_on)
    assert original_next is not None and new_next is not None
    assert new_next.start > original_next.start
    assert new_next.start >= decision.next_cut_not_before  # type: ignore[operator]
    # the hold keeps the dose in force, it never raises it
    assert last_cut(record.plan, held_on) is not None
    held_step = next(s for s in record.plan.steps if s.start <= held_on <= s.end)
    was = next(s for s in first.steps if s.start <= held_on <= s.end)
    assert held_step.diazepam_equivalent_mg == was.diazepam_equivalent_mg

    day = held_on
    while True:
        day += dt.timedelta(days=1)
        store.add_entry(me, day, ciwa(4))
        decision, record = review(store, me, day, real, rules, book)
        assert decision is not None
        if decision.kind == "resume":
            break
        assert decision.kind == "hold" and day < held_on + dt.timedelta(days=30)
    assert record is not None and record.version == 3
    assert record.request.preferences.percent == 5
    assert record.plan.summary.start == day
    assert record.plan.steps[0].diazepam_equivalent_mg <= held_step.diazepam_equivalent_mg


def test_a_planner_refusal_changes_nothing_and_says_so(store: JournalStore) -> None:
    from benzotaper.errors import RegimenError

    def refusing(req: PlanRequest, today: dt.date) -> Plan:
        raise RegimenError("a hold cannot start inside the crossover")

    me = store.local_user()
    store.save_plan(me, stub_plan(request(10)), reason="first", effective_from=D(2026, 1, 1))
    for day, entry in [*baseline_week(), (D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]:
        store.add_entry(me, day, entry)
    decision, record = review(
        store, me, D(2026, 1, 17), refusing, default_rules(), default_scales()
    )
    assert record is None and decision is not None and decision.kind == "hold"
    assert "could not be adjusted automatically" in decision.messages[-1]
    assert "crossover" in decision.messages[-1]
    assert [v.version for v in store.plan_versions(me)] == [1]
    assert len(store.entries(me, kind="checkin")) == 9
