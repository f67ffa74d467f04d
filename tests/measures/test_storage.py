"""The clinic report from a real database (SQLite and PostgreSQL): shares, plan versions, the
journal, the timeline cache and the number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from benzotaper.catalogue import Catalogue
from benzotaper.knowledge import knowledge_for
from benzotaper.measures import ClinicReport, Period
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest
from benzotaper.storage import Database, Entry, PlanVersion, User, utcnow
from benzotaper.storage.access import CareShare
from benzotaper.storage.measure_tables import MeasureTimeline
from benzotaper.storage.measures import clinic_measures

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

YEAR = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
D = dt.date.fromisoformat


def _user(s: Any, name: str, role: str = "patient") -> int:
    user = User(email=f"{name}@example.org", display_name=name, role=role)
    s.add(user)
    s.flush()
    return user.id


def _share(s: Any, patient: int, clinician: int, revoked: bool = False) -> None:
    now = utcnow()
    s.add(
        CareShare(
            patient_id=patient,
            clinician_id=clinician,
            code_hash=f"{patient}-{clinician}-{revoked}".ljust(64, "x"),
            code_expires_at=now,
            accepted_at=now,
            revoked_at=now if revoked else None,
        )
    )


def _version(
    s: Any, user: int, n: int, effective: str, plan: dict[str, Any], request: dict[str, Any]
) -> None:
    s.add(
        PlanVersion(
            user_id=user,
            version=n,
            effective_from=D(effective),
            request=request,
            plan=plan,
            active=False,
            created_at=dt.datetime.combine(D(effective), dt.time(9), dt.UTC),
        )
    )


def _hand_plan(steps: list[tuple[str, str, float, str]]) -> dict[str, Any]:
    """Only what the measures read of a saved plan (the JSON of a real Plan has more)."""
    return {
        "summary": {
            "start": steps[0][0],
            "starting_diazepam_equivalent_mg": 10.0,
            "equivalence_source": "ashton2002",
        },
        "steps": [
            {
                "start": a,
                "end": b,
                "phase": ph,
                "daily_mg": {"diazepam": mg},
                "diazepam_equivalent_mg": mg,
            }
            for a, b, mg, ph in steps
        ],
    }


def _dose(s: Any, user: int, day: str, mg: float, status: str = "taken") -> Entry:
    row = Entry(
        user_id=user,
        kind="dose",
        entry_date=D(day),
        data={"kind": "dose", "status": status, "drug": "diazepam", "mg": mg, "note": ""},
    )
    s.add(row)
    s.flush()
    return row


@pytest.fixture
def clinic(db: Database, catalogue: Catalogue) -> Iterator[tuple[Database, dict[str, int]]]:
    ids: dict[str, int] = {}
    with db.transaction() as s:
        c = ids["clinician"] = _user(s, "clinician", "clinician")
        other = _user(s, "other", "clinician")
        for name in ("a", "b", "d", "x"):
            ids[name] = _user(s, name)
        for name in ("a", "b", "d"):
            _share(s, ids[name], c)
        _share(s, ids["x"], c, revoked=True)
        _share(s, ids["x"], other)
        # A: a real plan, diazepam 10 mg from 1 Jan 2026, fast: zero on 13 Jun 2026
        request = PlanRequest.model_validate(
            {
                "regimen": [
                    {"drug": "diazepam", "mg": 5, "time": "08:00"},
                    {"drug": "diazepam", "mg": 5, "time": "20:00"},
                ],
                "person": {"age": 40},
                "preferences": {"start": "2026-01-01", "pace": "fast"},
            }
        )
        plan = make_plan(request, knowledge_for(catalogue), today=D("2026-01-01"))
        _version(
            s,
            ids["a"],
            1,
            "2026-01-01",
            plan.model_dump(mode="json"),
            request.model_dump(mode="json"),
        )
        _dose(s, ids["a"], "2026-03-01", 2.5)  # before zero: not counted
        _dose(s, ids["a"], "2026-06-20", 0.0, "missed")  # not a dose taken
        retracted = _dose(s, ids["a"], "2026-06-25", 1.0)
        s.add(
            Entry(
                user_id=ids["a"],
                kind="dose",
                entry_date=D("2026-06-25"),
                data=retracted.data,
                supersedes_id=retracted.id,
                deleted=True,
            )
        )
        _dose(s, ids["a"], "2026-07-01", 1.0)  # taken after zero: not still off
        # B: 75, falls and opioids; 10 mg until May, 8 mg to the end of the year
        b_plan = _hand_plan(
            [
                ("2025-06-01", "2026-05-31", 10, "taper"),
                ("2026-06-01", "2026-12-31", 8, "taper"),
                ("2027-01-01", "2027-01-07", 0, "stop"),
            ]
        )
        b_request = {
            "regimen": [{"drug": "diazepam", "mg": 10, "time": "08:00"}],
            "person": {"age": 75, "falls": True, "opioids": True},
        }
        _version(s, ids["b"], 1, "2025-06-01", b_plan, b_request)
        # X: revoked for this clinician (shared with another): never counted here
        _version(s, ids["x"], 1, "2025-06-01", b_plan, b_request)
    yield db, ids


def _rates(report: ClinicReport) -> dict[str, tuple[int, int]]:
    return {r.id: (r.denominator, r.numerator) for m in report.measures for r in m.rates}


def test_report_from_the_database(
    clinic: tuple[Database, dict[str, int]], catalogue: Catalogue
) -> None:
    db, ids = clinic
    report = clinic_measures(db, catalogue, ids["clinician"], YEAR)
    assert (report.patients, report.patients_with_plan) == (3, 2)
    rates = _rates(report)
    # B only is 67 or older: 10 -> 8 mg is a 20% reduction
    assert rates["dbo-10"] == rates["dbo-20"] == (1, 1)
    assert rates["dbo-25"] == (1, 0)
    assert rates["dae-bzd"] == (1, 1) and rates["dae-z"] == (1, 0)
    assert rates["dde-falls"] == (1, 1)
    assert rates["cob"] == (1, 1)
    # A reached zero on 13 Jun (163 days), logged a dose on 1 Jul: not still off at 6 months
    assert rates["completion"] == (2, 1)
    ttz = next(m for m in report.measures if m.id == "time-to-zero").rates[0]
    assert ttz.score == 163.0
    assert rates["still-off-6m"] == (1, 0)


def test_new_plan_versions_refresh_the_cache(
    clinic: tuple[Database, dict[str, int]], catalogue: Catalogue
) -> None:
    db, ids = clinic
    clinic_measures(db, catalogue, ids["clinician"], YEAR)
    with db.transaction() as s:
        assert (
            s.scalar(select(MeasureTimeline.versions).where(MeasureTimeline.user_id == ids["b"]))
            == 1
        )
        # B goes back up to 10 mg from 1 Sep (a reinstatement), saved as version 2
        plan = _hand_plan(
            [("2026-09-01", "2026-12-31", 10, "taper"), ("2027-01-01", "2027-01-07", 0, "stop")]
        )
        _version(
            s,
            ids["b"],
            2,
            "2026-09-01",
            plan,
            {"regimen": [{"drug": "diazepam", "mg": 8, "time": "08:00"}], "person": {"age": 75}},
        )
    report = clinic_measures(db, catalogue, ids["clinician"], YEAR)
    rates = _rates(report)
    assert rates["reinstatements"] == (2, 1)
    assert rates["dbo-10"] == (1, 0)  # back at 10 mg by the end of the year
    with db.transaction() as s:
        assert (
            s.scalar(select(MeasureTimeline.versions).where(MeasureTimeline.user_id == ids["b"]))
            == 2
        )


#: Transaction control and settings (PostgreSQL's SET LOCAL jit): not queries.
NOT_QUERIES = ("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "SET ")


def _count_queries(db: Database) -> list[str]:
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(NOT_QUERIES):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    return seen


def test_queries_do_not_grow_with_the_clinic(
    clinic: tuple[Database, dict[str, int]], catalogue: Catalogue
) -> None:
    db, ids = clinic
    clinic_measures(db, catalogue, ids["clinician"], YEAR)  # fills the cache
    seen = _count_queries(db)
    clinic_measures(db, catalogue, ids["clinician"], YEAR)
    small = len(seen)
    with db.transaction() as s:
        for i in range(20):
            uid = _user(s, f"more{i}")
            _share(s, uid, ids["clinician"])
            plan = _hand_plan(
                [("2026-01-01", "2026-03-31", 5, "taper"), ("2026-04-01", "2026-04-07", 0, "stop")]
            )
            _version(s, uid, 1, "2026-01-01", plan, {"regimen": [], "person": {"age": 70 + i}})
            _dose(s, uid, "2026-05-01", 1.0)
    clinic_measures(db, catalogue, ids["clinician"], YEAR)  # refreshes the 20 new timelines
    seen.clear()
    report = clinic_measures(db, catalogue, ids["clinician"], YEAR)
    assert report.patients == 23
    assert len(seen) == small == 5, seen
