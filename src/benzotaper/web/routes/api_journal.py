"""JSON API for a signed-in person's saved plans, journal, status and exports, and for a
clinician's read-only view of the patients who share with them.

Records are always looked up with the signed-in person's id: another person's uid is 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from benzotaper.errors import NotFoundError
from benzotaper.planning.models import Plan, PlanRequest
from benzotaper.storage.tracking import Status
from benzotaper.web import planview, sharing, tracking
from benzotaper.web.deps import CatalogueDep, ClinicianDep, DbDep, PatientDep, get_knowledge
from benzotaper.web.exporting import FORMATS, ExportFormat, saved_history
from benzotaper.web.isodate import ISODate
from benzotaper.web.patient_view import PatientSummary, summarise_patient
from benzotaper.web.responses import AUTH_401, CSRF_403, INPUT_422, NOT_FOUND_404, Responses
from benzotaper.web.routes.clinician import patients, shared_patient
from benzotaper.web.routes.myplan import export_response

router = APIRouter()
READ: Responses = {401: AUTH_401, 403: CSRF_403}
WRITE: Responses = {401: AUTH_401, 403: CSRF_403, 422: INPUT_422}
UID = Annotated[
    str, PathParam(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]
ID = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
EXPORT_RESPONSES: Responses = {
    200: {
        "description": "The file",
        "content": {
            f.media_type: {"schema": {"type": "string", "format": "binary"}}
            for f in FORMATS.values()
        },
    },
    **READ,
    404: NOT_FOUND_404,
    422: INPUT_422,
}


class PlanVersionOut(BaseModel):
    uid: str
    version: int
    previous_uid: str | None
    reason: str
    origin: str
    effective_from: dt.date
    active: bool
    created_at: dt.datetime


class PlanVersionDetail(PlanVersionOut):
    request: PlanRequest
    plan: Plan


class SavePlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: PlanRequest
    reason: str = Field(default="Saved from the API", max_length=500)


def _version(record: Any, detail: bool = False) -> PlanVersionOut:
    data = record.model_dump()
    if not detail:
        return PlanVersionOut(**{k: data[k] for k in PlanVersionOut.model_fields})
    return PlanVersionDetail(**{k: data[k] for k in PlanVersionDetail.model_fields})


# ----------------------------------------------------------------------------- plans


@router.get("/api/plans", tags=["plans"], response_model=list[PlanVersionOut], responses=READ)
def api_plans(db: DbDep, user: PatientDep) -> list[PlanVersionOut]:
    """Every saved version of the person's plan, oldest first (one is active)."""
    return [_version(r) for r in tracking.store(db).plan_versions(user.id)]


@router.post(
    "/api/plans",
    tags=["plans"],
    status_code=201,
    response_model=PlanVersionDetail,
    responses=WRITE,
)
def api_save_plan(body: SavePlanIn, db: DbDep, cat: CatalogueDep, user: PatientDep) -> Any:
    """Make the plan for the request and save it as the active version (earlier ones are kept)."""
    plan = planview.make(body.request, get_knowledge(), tracking.today())
    planview.save(db, user.id, plan, body.reason)
    active = tracking.store(db).active_plan(user.id)
    assert active is not None
    return _version(active, detail=True)


@router.get(
    "/api/plans/active",
    tags=["plans"],
    response_model=PlanVersionDetail,
    responses={**READ, 404: NOT_FOUND_404},
)
def api_active_plan(db: DbDep, user: PatientDep) -> Any:
    active = tracking.store(db).active_plan(user.id)
    if active is None:
        raise NotFoundError("No saved plan yet.")
    return _version(active, detail=True)


@router.get(
    "/api/plans/{uid}",
    tags=["plans"],
    response_model=PlanVersionDetail,
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_plan_version(uid: UID, db: DbDep, user: PatientDep) -> Any:
    for record in tracking.store(db).plan_versions(user.id):
        if record.uid == uid:
            return _version(record, detail=True)
    raise NotFoundError("No such plan version.")


@router.get(
    "/api/plans/active/export",
    tags=["exports"],
    response_class=Response,
    responses=EXPORT_RESPONSES,
)
def api_export(
    db: DbDep,
    cat: CatalogueDep,
    user: PatientDep,
    format: Annotated[ExportFormat, Query()] = "pdf",
    journal: Annotated[
        bool,
        Query(
            description="FHIR and story: include the journal (check-ins as Questionnaire"
            "Responses and score Observations; the story's actual holds and progress)"
        ),
    ] = True,
) -> Response:
    """The active plan as PDF, prescriber PDF, iCalendar, CSV, FHIR R4B or R5 JSON (a Bundle
    with the plan and, by default, the journal's check-ins) or taper story."""
    active = tracking.store(db).active_plan(user.id)
    if active is None:
        raise NotFoundError("No saved plan yet.")
    history = saved_history(db, user.id) if journal else None
    return export_response(active.plan, cat, format, history)


# ----------------------------------------------------------------------------- journal


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: ISODate | None = Field(default=None, description="YYYY-MM-DD; default today")
    entry: dict[str, Any] = Field(
        description="A journal entry: kind dose, checkin, sleep, medicine, event or note "
        "(see the journal's entry models)",
        examples=[{"kind": "checkin", "quick": {"anxiety": 4}}],
    )


class EntryOut(BaseModel):
    uid: str
    day: dt.date
    kind: str
    entry: dict[str, Any]
    plan_version_uid: str | None
    created_at: dt.datetime


class EntrySaved(BaseModel):
    entry: EntryOut
    decision: dict[str, Any] | None = None


def _entry(record: Any) -> EntryOut:
    return EntryOut(
        uid=record.uid,
        day=record.day,
        kind=record.kind,
        entry=record.entry.model_dump(mode="json"),
        plan_version_uid=record.plan_version_uid,
        created_at=record.created_at,
    )


@router.get(
    "/api/journal/entries",
    tags=["journal"],
    response_model=list[EntryOut],
    responses={**READ, 422: INPUT_422},
)
def api_entries(
    db: DbDep,
    user: PatientDep,
    kind: Annotated[str | None, Query(pattern="^(dose|checkin|sleep|medicine|event|note)$")] = None,
    start: Annotated[ISODate | None, Query()] = None,
    end: Annotated[ISODate | None, Query()] = None,
) -> list[EntryOut]:
    """Current journal entries (edits and deletions kept in history), oldest first."""
    return [_entry(r) for r in tracking.store(db).entries(user.id, kind=kind, start=start, end=end)]


def check_entry(entry: Any) -> None:
    """What the entry model alone cannot know: symptom keys, item counts, danger-sign names."""
    from benzotaper.errors import InputError
    from benzotaper.journal.entries import CheckinEntry
    from benzotaper.journal.scales import check_quick, default_scales, score

    if not isinstance(entry, CheckinEntry):
        return
    book = default_scales()
    check_quick(book, entry.quick)
    for scale, items in entry.scales().items():
        score(book, scale, items)
    unknown = [s for s in entry.danger_signs if s not in book.danger.keys]
    if unknown:
        raise InputError(
            f"Unknown danger sign {unknown[0]!r}; known: {', '.join(book.danger.keys)}"
        )
    if entry.is_empty() and not entry.note:
        raise InputError("A check-in needs at least one rating, scale, danger sign or note.")


@router.post(
    "/api/journal/entries",
    tags=["journal"],
    status_code=201,
    response_model=EntrySaved,
    responses=WRITE,
)
def api_add_entry(body: EntryIn, db: DbDep, cat: CatalogueDep, user: PatientDep) -> EntrySaved:
    """Add an entry; after a check-in the adaptive rules are reviewed (a hold may start)."""
    from benzotaper.journal.entries import ENTRY_ADAPTER

    entry = ENTRY_ADAPTER.validate_python(body.entry)
    check_entry(entry)
    day = body.day or tracking.today()
    if day > tracking.today():
        from benzotaper.errors import InputError

        raise InputError("The journal records what happened: the day cannot be in the future.")
    js = tracking.store(db)
    active = js.active_plan(user.id)
    record = js.add_entry(user.id, day, entry, plan_version_uid=active.uid if active else None)
    decision = None
    if entry.kind == "checkin" and active is not None:
        found = tracking.review(db, user.id, cat, day)
        decision = found.model_dump(mode="json") if found else None
    return EntrySaved(entry=_entry(record), decision=decision)


@router.delete(
    "/api/journal/entries/{uid}",
    tags=["journal"],
    status_code=204,
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_delete_entry(uid: UID, db: DbDep, user: PatientDep) -> Response:
    """Remove an entry from the journal (it stays in the entry's history)."""
    js = tracking.store(db)
    if not any(r.uid == uid for r in js.entries(user.id)):
        raise NotFoundError("No such entry.")
    js.delete_entry(user.id, uid)
    return Response(status_code=204)


@router.get(
    "/api/status", tags=["journal"], response_model=Status, responses={**READ, 422: INPUT_422}
)
def api_status(
    db: DbDep, user: PatientDep, on: Annotated[ISODate | None, Query()] = None
) -> Status:
    """Where the person stands: plan version, current step, next cut, hold and its reason,
    latest scores, sleep and adherence, and any urgent message."""
    return tracking.status(db, user.id, on)


# ----------------------------------------------------------------------------- clinician


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, examples=["ABCD-EFGH-JKMN"])


@router.get(
    "/api/patients", tags=["clinician"], response_model=list[PatientSummary], responses=READ
)
def api_patients(db: DbDep, user: ClinicianDep) -> list[PatientSummary]:
    """Patients who share with the signed-in clinician, most urgent alerts first (each patient
    listed gets an audit row they can read)."""
    return patients(db, user.id, "view.list.api")


@router.post(
    "/api/patients",
    tags=["clinician"],
    status_code=201,
    response_model=PatientSummary,
    responses=WRITE,
)
def api_redeem(body: RedeemIn, db: DbDep, user: ClinicianDep) -> PatientSummary:
    """Redeem a patient's invite code: their plan and journal become readable to you."""
    with db.transaction() as s:
        patient = sharing.redeem_invite(s, user.id, body.code)
        s.expunge(patient)
    return summarise_patient(db, patient)


@router.get(
    "/api/patients/{patient_id}",
    tags=["clinician"],
    response_model=PatientSummary,
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_patient(db: DbDep, user: ClinicianDep, patient_id: ID) -> PatientSummary:
    """One patient's summary and alerts (the access is audited)."""
    return summarise_patient(db, shared_patient(db, user.id, patient_id, "view.patient.api"))


@router.get(
    "/api/patients/{patient_id}/status",
    tags=["clinician"],
    response_model=Status,
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_patient_status(db: DbDep, user: ClinicianDep, patient_id: ID) -> Status:
    """A shared patient's status, as the patient sees it in ``/api/status`` (audited)."""
    patient = shared_patient(db, user.id, patient_id, "view.status.api")
    return tracking.status(db, patient.id)


@router.get(
    "/api/patients/{patient_id}/entries",
    tags=["clinician"],
    response_model=list[EntryOut],
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_patient_entries(db: DbDep, user: ClinicianDep, patient_id: ID) -> list[EntryOut]:
    patient = shared_patient(db, user.id, patient_id, "view.journal.api")
    return [_entry(r) for r in tracking.store(db).entries(patient.id)]


@router.get(
    "/api/patients/{patient_id}/plan",
    tags=["clinician"],
    response_model=PlanVersionDetail,
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_patient_plan(db: DbDep, user: ClinicianDep, patient_id: ID) -> Any:
    patient = shared_patient(db, user.id, patient_id, "view.plan.api")
    active = tracking.store(db).active_plan(patient.id)
    if active is None:
        raise NotFoundError("This patient has no saved plan.")
    return _version(active, detail=True)
