"""Clinic measures from the database: one clinician's shared patients in a few bulk queries.

Reading every saved plan (tens of kilobytes of JSON each) for thousands of patients on every
report would take far longer than the report itself, so each patient's dose timeline is kept in
``measure_timelines``, derived data that is never edited by hand:

- one row per patient: the in-force timeline (:mod:`benzotaper.measures.timeline`), the regimen
  the first plan started from, the person factors of every saved version, the first day at zero;
- it is recomputed only when the patient has a plan version it has not seen (plan versions are
  append-only and immutable) or when the timeline format or the catalogue changed.

A report is then: the stale timelines (usually none), the cached ones, the profiles, and one
query for journal doses logged after reaching zero, each filtered by the clinician's active
shares inside the database (no id lists, no query per patient), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, delete, exists, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from benzotaper.catalogue import Catalogue
from benzotaper.measures import (
    ClassSplit,
    ClinicData,
    ClinicReport,
    Factors,
    MeasureBook,
    Period,
    StepDose,
    VersionDoses,
    clinic_report,
    default_measure_book,
    in_force_runs,
)
from benzotaper.measures.timeline import first_zero_day, runs_array, runs_from_bytes
from benzotaper.storage.access import CareShare
from benzotaper.storage.engine import Database
from benzotaper.storage.measure_tables import MeasureTimeline
from benzotaper.storage.tables import Entry, PlanVersion, Profile

#: Bump when the timeline's meaning or format changes: every cached row is then recomputed.
TIMELINE_SCHEMA = 3  # 2: runs flag planned maintain-and-review steps; 3: factors: dementia
#: Patients whose plans are read and summarised per transaction (bounds memory).
REFRESH_BATCH = 200


def shared_patient_ids(clinician_id: int) -> Select[int]:
    """The patients who share with this clinician now, as a subquery (deduplicated)."""
    return (
        select(CareShare.patient_id)
        .where(CareShare.clinician_id == clinician_id, CareShare.revoked_at.is_(None))
        .distinct()
    )


# ----------------------------------------------------------------------------- from plan JSON


def _version_doses(
    effective_from: dt.date, plan: Mapping[str, Any], request: Mapping[str, Any]
) -> VersionDoses:
    """What the timeline needs of a saved version, read straight from its JSON (no model
    validation: the plan was validated when it was saved)."""
    summary = plan["summary"]
    steps = [
        StepDose(
            dt.date.fromisoformat(s["start"]),
            dt.date.fromisoformat(s["end"]),
            s["phase"],
            s["daily_mg"],
            float(s["diazepam_equivalent_mg"]),
        )
        for s in plan["steps"]
    ]
    starting: dict[str, float] = {}
    for a in request.get("regimen", []):
        starting[a["drug"]] = starting.get(a["drug"], 0.0) + float(a["mg"])
    return VersionDoses(
        effective_from=effective_from,
        start=dt.date.fromisoformat(summary["start"]),
        steps=steps,
        starting_mg=starting,
        starting_de=float(summary["starting_diazepam_equivalent_mg"]),
        source=summary.get("equivalence_source"),
    )


def _factors(on: dt.date, person: Mapping[str, Any]) -> Factors:
    age = person.get("age")
    return Factors(
        on.toordinal(),
        int(age) if age is not None else None,
        bool(person.get("falls")),
        bool(person.get("opioids")),
        bool(person.get("seizures")),
        bool(person.get("dementia")),
    )


def _encode_factors(factors: Iterable[Factors]) -> list[list[Any]]:
    return [[f.on, f.age, f.falls, f.opioids, f.seizures, f.dementia] for f in factors]


def _decode_factors(rows: Iterable[Sequence[Any]]) -> list[Factors]:
    return [
        Factors(int(on), age, bool(fa), bool(op), bool(se), bool(de))
        for on, age, fa, op, se, de in rows
    ]


def timeline_payload(
    rows: Sequence[tuple[dt.date, Mapping[str, Any], Mapping[str, Any]]],
    split: ClassSplit,
) -> tuple[bytes, dict[str, Any], dt.date | None]:
    """The cached form of one patient's versions (``effective_from, plan, request``, oldest
    first), and the first day at zero."""
    versions = [_version_doses(eff, plan, req) for eff, plan, req in rows]
    runs = in_force_runs(versions, split)
    first = versions[0]
    start = split.split(first.starting_mg, first.starting_de, first.source)
    # each version's person factors hold from the day it took effect (the first: from its start)
    days = [min(first.effective_from, first.start), *(v.effective_from for v in versions[1:])]
    factors = [
        _factors(day, req.get("person", {})) for day, (_, _, req) in zip(days, rows, strict=True)
    ]
    zero = first_zero_day(runs)
    payload = {
        "start": list(start),
        "factors": _encode_factors(factors),
    }
    packed = runs_array(runs).tobytes()
    return packed, payload, dt.date.fromordinal(zero) if zero is not None else None


# ----------------------------------------------------------------------------- the cache


def stale_patients(s: Session, patients: Select[int], catalogue_version: str) -> list[int]:
    """Patients with plan versions whose cached timeline is missing or out of date."""
    stats = (
        select(
            PlanVersion.user_id.label("user_id"),
            func.max(PlanVersion.id).label("top"),
            func.count(PlanVersion.id).label("n"),
        )
        .where(PlanVersion.user_id.in_(patients))
        .group_by(PlanVersion.user_id)
        .subquery()
    )
    t = MeasureTimeline
    rows = s.scalars(
        select(stats.c.user_id)
        .outerjoin(t, t.user_id == stats.c.user_id)
        .where(
            t.user_id.is_(None)
            | (t.through_version_id != stats.c.top)
            | (t.versions != stats.c.n)
            | (t.schema_version != TIMELINE_SCHEMA)
            | (t.catalogue_version != catalogue_version)
        )
        .order_by(stats.c.user_id)
    )
    return list(rows)


def refresh_timelines(db: Database, user_ids: Sequence[int], split: ClassSplit) -> int:
    """Recompute the cached timelines of ``user_ids`` from their plan versions; returns how
    many were written. Safe in several workers at once: a batch another worker has just
    written is left to it (the same plans give the same timeline)."""
    written = 0
    for i in range(0, len(user_ids), REFRESH_BATCH):
        batch = list(user_ids[i : i + REFRESH_BATCH])
        try:
            with db.transaction() as s:
                written += _refresh_batch(s, batch, split)
        except IntegrityError:
            continue
    return written


def _refresh_batch(s: Session, batch: list[int], split: ClassSplit) -> int:
    rows = s.execute(
        select(
            PlanVersion.user_id,
            PlanVersion.id,
            PlanVersion.effective_from,
            PlanVersion.plan,
            PlanVersion.request,
        )
        .where(PlanVersion.user_id.in_(batch))
        .order_by(PlanVersion.user_id, PlanVersion.version)
    ).all()
    by_user: dict[int, list[Any]] = {}
    for row in rows:
        by_user.setdefault(row.user_id, []).append(row)
    s.execute(delete(MeasureTimeline).where(MeasureTimeline.user_id.in_(list(by_user))))
    for uid, versions in by_user.items():
        packed, payload, zero = timeline_payload(
            [(v.effective_from, v.plan, v.request) for v in versions], split
        )
        s.add(
            MeasureTimeline(
                user_id=uid,
                through_version_id=max(v.id for v in versions),
                versions=len(versions),
                schema_version=TIMELINE_SCHEMA,
                catalogue_version=split.catalogue.version,
                zero_day=zero,
                runs=packed,
                payload=payload,
            )
        )
    s.flush()
    return len(by_user)


# ----------------------------------------------------------------------------- reading a clinic


def _profiles(s: Session, patients: Select[int]) -> dict[int, list[Factors]]:
    rows = s.execute(
        select(Profile.user_id, Profile.created_at, Profile.person)
        .where(Profile.user_id.in_(patients))
        .order_by(Profile.user_id, Profile.id)
    ).all()
    out: dict[int, list[Factors]] = {}
    for uid, created, person in rows:
        out.setdefault(uid, []).append(_factors(created.date(), person))
    return out


def _logged_after_zero(s: Session, patients: Select[int]) -> dict[int, dt.date]:
    """Per patient, the first day after first reaching zero with a dose logged as taken (or
    extra) above 0 mg: current revisions only. One statement for the clinic, driven by the
    timelines: per patient with a zero day, a range scan of ``ix_entries_user_kind_date`` past
    that day, so the cost follows the doses logged after zero (few), not the journal's size (a
    join on the shares made PostgreSQL scan every dose entry of the clinic)."""
    t = MeasureTimeline
    newer = aliased(Entry)
    first_logged = (
        select(func.min(Entry.entry_date))
        .where(
            Entry.user_id == t.user_id,
            Entry.kind == "dose",
            Entry.entry_date > t.zero_day,
            Entry.deleted.is_(False),
            Entry.data["status"].as_string().in_(("taken", "extra")),
            Entry.data["mg"].as_float() > 0,
            ~exists().where(newer.supersedes_id == Entry.id),
        )
        .correlate(t)
        .scalar_subquery()
    )
    if s.get_bind().dialect.name == "postgresql":
        # The per-patient subquery makes the estimated cost large though the work is small:
        # PostgreSQL would then spend longer compiling it (JIT, 1.5 s measured) than running it.
        s.execute(text("SET LOCAL jit = off"))
    rows = s.execute(
        select(t.user_id, first_logged).where(t.user_id.in_(patients), t.zero_day.is_not(None))
    ).all()
    return {uid: day for uid, day in rows if day is not None}


def load_clinic(s: Session, patients: Select[int]) -> ClinicData:
    """Every patient in ``patients`` with a cached timeline, in the core's columns."""
    profiles = _profiles(s, patients)
    logged = _logged_after_zero(s, patients)
    rows = s.execute(
        select(MeasureTimeline.user_id, MeasureTimeline.runs, MeasureTimeline.payload)
        .where(MeasureTimeline.user_id.in_(patients))
        .order_by(MeasureTimeline.user_id)
    ).all()
    data = ClinicData()
    for uid, packed, payload in rows:
        day = logged.get(uid)
        data.add(
            uid,
            runs_from_bytes(packed),
            start_benzo=float(payload["start"][0]),
            factors=_decode_factors(payload["factors"]) + profiles.get(uid, []),
            logged_after_zero=day.toordinal() if day is not None else None,
        )
    return data


def clinic_measures(
    db: Database,
    catalogue: Catalogue,
    clinician_id: int,
    period: Period,
    book: MeasureBook | None = None,
) -> ClinicReport:
    """The clinic report of one clinician's shared patients over ``period``.

    Brings stale timelines up to date first (only patients with new plan versions), then
    reads the clinic in four queries whatever its size.
    """
    patients = shared_patient_ids(clinician_id)
    with db.read() as s:
        stale = stale_patients(s, patients, catalogue.version)
    if stale:
        refresh_timelines(db, stale, ClassSplit(catalogue))
    with db.read() as s:
        count = s.scalar(select(func.count()).select_from(patients.subquery())) or 0
        data = load_clinic(s, patients)
    return clinic_report(data, period, book or default_measure_book(), patients=count)
