"""The clinic generator and the clinician list (the dashboard) at 1,000 patients: the CI size of
``benchmarks/bench_clinic.py`` (10,000 on demand), on SQLite and PostgreSQL. Journals are two
days long: the list reads the stored summaries, never the journals."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, event, select, text

from benzotaper.knowledge import default_knowledge
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database, summaries
from benzotaper.storage.access import CareShare
from benzotaper.storage.migrate import backfill_summaries
from benzotaper.storage.patient_list import page_query
from benzotaper.storage.summaries import JournalSummary
from benzotaper.web.patient_list import list_page
from tests.benches import count_computed_statuses, load_bench

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

PATIENTS = 1000


def _card(row: JournalSummary) -> tuple[object, ...]:
    return (summaries.slots_of(row), row.alerts, row.facts, row.alert_level, row.computed_on)


def test_the_generated_clinic_lists_a_page_in_a_fixed_number_of_statements(db: Database) -> None:
    bench = load_bench("bench_clinic")
    clinician, _ = bench.generate(db, PATIENTS, 2)
    with db.read() as s:
        ids = list(
            s.scalars(
                select(CareShare.patient_id)
                .where(CareShare.clinician_id == clinician)
                .order_by(CareShare.patient_id)
            )
        )
    bench.copy_summaries(db, ids)
    # a copied summary is the one an upgrade makes for that patient
    with db.read() as s:
        copied = _card(s.get_one(JournalSummary, ids[-1]))
    with db.transaction() as s:
        s.execute(delete(JournalSummary).where(JournalSummary.user_id == ids[-1]))
    with db.engine.connect() as conn:
        assert backfill_summaries(conn) == 1
    with db.read() as s:
        assert _card(s.get_one(JournalSummary, ids[-1])) == copied

    journal = JournalService(db, default_knowledge())
    statements: list[str] = []
    # SQLite's read-only switch (PRAGMA query_only) is sent only when a pooled connection
    # changes mode, so it depends on which connection a call gets, not on the patients shown.
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda *a: None if a[2].startswith("PRAGMA query_only") else statements.append(a[2]),
    )
    first = list_page(journal, clinician)
    few = len(statements)
    statements.clear()
    later = list_page(journal, clinician, page=40, sort="name", per_page=25)
    assert len(statements) == few  # no statement per patient shown
    assert (first.total, len(first.patients), first.pages) == (PATIENTS, 25, 40)
    assert [p.name for p in later.patients][-1] == "Patient 00999"
    found = list_page(journal, clinician, q="patient 0042")
    assert found.total == 10  # 00420-00429
    if db.engine.dialect.name == "sqlite":
        sql = page_query(clinician, "", "urgency", 0, 25).compile(
            db.engine, compile_kwargs={"literal_binds": True}
        )
        with db.engine.connect() as conn:
            plan = " ".join(str(r) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert "USING INDEX ix_care_shares_clinician_id" in plan


def test_the_status_growth_table_times_status_computed_not_remembered(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal change leaves the status remembered under the person's stamp; a growth table
    of that look-up would be flat whatever the journal costs. Each timed run must compute."""
    bench = load_bench("bench_clinic")
    computed = count_computed_statuses(monkeypatch)
    [(entries, cold, warm, patient)] = bench.status_growth(db, [100])
    assert entries == 99 and cold > 0 and warm > 0
    # computed: cold, 5 warm; remembered: 5 look-ups; the whole-journal reference: 3
    assert len(computed) == 1 + 5 + 3
    # the pages: status, Today and My plan compute it after each change (and perhaps on the
    # first read, when nothing is remembered for that page yet), not when read again
    computed.clear()
    [slowest] = bench.page_growth(db, [(entries, patient)], runs=2)
    assert slowest > 0 and 3 * 2 <= len(computed) <= 3 * (1 + 2)
