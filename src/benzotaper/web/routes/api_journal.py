"""JSON API for a signed-in person's saved plans, journal, status and exports, and for a
clinician's read-only view of the patients who share with them.

Records are always looked up with the signed-in person's id: another person's uid is 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from benzotaper.errors import NotFoundError
from benzotaper.journal.adaptive import Decision
from benzotaper.journal.notices import Notice
from benzotaper.journal.paging import Page
from benzotaper.journal.scales import ScaleScore
from benzotaper.journal.sleep import SleepMetrics
from benzotaper.journal.status import Status
from benzotaper.limits import ENTRIES_PAGE_DEFAULT, ENTRIES_PAGE_MAX
from benzotaper.planning.models import Plan, PlanRequest
from benzotaper.services.journal import MAX_REASON, Recorded, Today
from benzotaper.storage.journal import EntryRecord
from benzotaper.web import planview, sharing
from benzotaper.web.deps import ClinicianDep, JournalDep, PatientDep
from benzotaper.web.exporting import FORMATS, ExportFormat
from benzotaper.web.isodate import ISODate
from benzotaper.web.patient_list import PER_PAGE, Sort, list_page
from benzotaper.web.patient_view import PatientSummary, summarise_patient
from benzotaper.web.responses import (
    AUTH_401,
    CONFLICT_409,
    CSRF_403,
    INPUT_422,
    NOT_FOUND_404,
    Responses,
    model_json,
)
from benzotaper.web.routes.clinician import (
    PageParam,
    PerPageParam,
    SearchParam,
    reinstate_patient,
    shared_patient,
)
from benzotaper.web.routes.myplan import JournalEnd, JournalStart, export_response, saved_export

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
        "headers": {
            "Link": {
                "description": 'FHIR: `<URL>; rel="prev"` when check-ins were left out (the '
                "bound): the same export for the earlier ones.",
                "schema": {"type": "string"},
            },
            "X-Journal-Left-Out-From": {
                "description": "FHIR: the day of the newest check-in left out, when any was.",
                "schema": {"type": "string", "format": "date"},
            },
        },
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
def api_plans(journal: JournalDep, user: PatientDep) -> list[PlanVersionOut]:
    """Every saved version of the person's plan, oldest first (one is active)."""
    return [_version(r) for r in journal.version_infos(user.id)]


@router.post(
    "/api/plans",
    tags=["plans"],
    status_code=201,
    response_model=PlanVersionDetail,
    responses=WRITE,
)
def api_save_plan(body: SavePlanIn, journal: JournalDep, user: PatientDep) -> Any:
    """Make the plan for the request and save it as the active version (earlier ones are kept;
    saving the active plan again changes nothing)."""
    plan = planview.make(body.request, journal.knowledge, journal.today_date())
    return _version(journal.save_plan(user.id, plan, reason=body.reason), detail=True)


class ReinstateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON,
        description="Why (kept with the new plan version)",
        examples=["Severe anxiety and no sleep since the last cut; agreed with Dr Lee"],
    )


REINSTATE_RESPONSES: Responses = {**WRITE, 404: NOT_FOUND_404}


@router.post(
    "/api/plans/reinstate",
    tags=["plans"],
    status_code=201,
    response_model=PlanVersionDetail,
    responses=REINSTATE_RESPONSES,
)
def api_reinstate(body: ReinstateIn, journal: JournalDep, user: PatientDep) -> Any:
    """Return to the last well-tolerated dose (the dose before the most recent cut) from
    today: a new plan version whose first step, phase ``reinstatement``, holds that dose before
    the taper resumes with smaller cuts. The adaptive rules only propose it (``/api/status``,
    decision kind ``return``); agree it with the prescriber first."""
    return _version(journal.reinstate(user.id, reason=body.reason), detail=True)


@router.get(
    "/api/plans/active",
    tags=["plans"],
    response_model=PlanVersionDetail,
    responses={**READ, 404: NOT_FOUND_404},
)
def api_active_plan(journal: JournalDep, user: PatientDep) -> Any:
    active = journal.active_plan(user.id)
    if active is None:
        raise NotFoundError("No saved plan yet.")
    return _version(active, detail=True)


@router.get(
    "/api/plans/{uid}",
    tags=["plans"],
    response_model=PlanVersionDetail,
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_plan_version(uid: UID, journal: JournalDep, user: PatientDep) -> Any:
    return _version(journal.plan_version(user.id, uid), detail=True)


@router.get(
    "/api/plans/active/export",
    tags=["exports"],
    response_class=Response,
    responses=EXPORT_RESPONSES,
)
def api_export(
    request: Request,
    journal: JournalDep,
    user: PatientDep,
    format: Annotated[ExportFormat, Query()] = "pdf",
    with_journal: Annotated[
        bool,
        Query(
            alias="journal",
            description="FHIR and story: include the journal (check-ins as Questionnaire"
            "Responses and score Observations; the story's actual holds and progress)",
        ),
    ] = True,
    journal_start: JournalStart = None,
    journal_end: JournalEnd = None,
) -> Response:
    """The active plan as PDF, prescriber PDF, iCalendar, CSV, FHIR R4B or R5 JSON (a Bundle
    with the plan and, by default, the newest check-ins of the journal: at most
    ``EXPORT_CHECKINS_MAX``, see ``journal_end``) or taper story."""
    active = journal.active_plan(user.id)
    if active is None:
        raise NotFoundError("No saved plan yet.")
    if not with_journal:
        return export_response(active.plan, journal.catalogue, format, None)
    return saved_export(journal, user.id, active, format, request, journal_start, journal_end)


# ----------------------------------------------------------------------------- journal


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: ISODate | None = Field(default=None, description="YYYY-MM-DD; default today")
    entry: dict[str, Any] = Field(
        description="A journal entry: kind dose, checkin, sleep, medicine, event or note "
        "(see the journal's entry models)",
        examples=[{"kind": "checkin", "quick": {"anxiety": 4}}],
    )
    confirm: bool = Field(
        default=False,
        description="Record a dose the journal asked about (422 confirmation_required) anyway",
    )


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: ISODate | None = Field(default=None, description="A new date for the entry")
    entry: dict[str, Any] = Field(
        default_factory=dict, description="The fields to change (the rest stay as they are)"
    )
    reason: str = Field(default="", max_length=MAX_REASON, description="Why (kept in history)")
    confirm: bool = False


class TakeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: ISODate | None = Field(default=None, description="YYYY-MM-DD; default today")
    planned_time: str | None = Field(
        default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Which planned dose"
    )
    drug: str | None = Field(default=None, min_length=1, max_length=100)
    mg: float | None = Field(default=None, ge=0, le=1000)
    status: Literal["taken", "missed", "extra"] = "taken"
    time: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    note: str = Field(default="", max_length=5000)
    confirm: bool = False


class EntryOut(BaseModel):
    uid: str
    day: dt.date
    kind: str
    entry: dict[str, Any]
    plan_version_uid: str | None
    created_at: dt.datetime


class RevisionOut(EntryOut):
    supersedes_uid: str | None
    deleted: bool
    reason: str


class EntrySaved(BaseModel):
    """A change to the journal and what it did."""

    entry: EntryOut
    replaces: str | None = Field(default=None, description="The revision it corrects/retracts")
    decision: Decision | None = Field(default=None, description="The adaptive rules' review")
    new_plan_version: int | None = Field(default=None, description="Made by the review")
    hold_lifted: bool = False
    scores: dict[str, ScaleScore] = Field(default_factory=dict)
    sleep: SleepMetrics | None = None
    notices: list[Notice] = Field(default_factory=list)


def _entry(record: EntryRecord) -> EntryOut:
    return EntryOut(
        uid=record.uid,
        day=record.day,
        kind=record.kind,
        entry=record.entry.model_dump(mode="json"),
        plan_version_uid=record.plan_version_uid,
        created_at=record.created_at,
    )


def _saved(done: Recorded) -> EntrySaved:
    review = done.review
    return EntrySaved(
        entry=_entry(done.entry),
        replaces=done.replaces,
        decision=review.decision,
        new_plan_version=review.new_version.version if review.new_version else None,
        hold_lifted=review.lifted,
        scores=done.scores,
        sleep=done.sleep,
        notices=done.notices,
    )


KindParam = Annotated[str | None, Query(pattern="^(dose|checkin|sleep|medicine|event|note)$")]
LimitParam = Annotated[
    int,
    Query(
        ge=1,
        le=ENTRIES_PAGE_MAX,
        description=f"Entries in this page (at most {ENTRIES_PAGE_MAX}; more is a 422). The "
        "next page is named by the Link header.",
    ),
]
AfterParam = Annotated[
    str | None,
    Query(
        max_length=40,
        description="The cursor of the page to give (the key of the previous page's last "
        'entry): follow the previous page\'s Link header (rel="next") rather than building '
        "it. One that no page named is a 422.",
        examples=["2026-03-01.1234"],
    ),
]
PAGED_RESPONSES: Responses = {
    200: {
        "description": "A page of entries, oldest first",
        "headers": {
            "Link": {
                "description": 'RFC 8288: `<URL>; rel="next"` names the next page (same query, '
                "with its cursor); absent on the last page.",
                "schema": {"type": "string"},
            }
        },
    },
    **READ,
    422: INPUT_422,
}


def paged(request: Request, response: Response, page: Page[EntryRecord]) -> list[EntryOut]:
    """The page's entries as the body (a list, as before pages existed), the next page's
    address in the Link header (relative to this one: right behind any proxy)."""
    if page.next_cursor is not None:
        url = request.url.include_query_params(after=page.next_cursor)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    return [_entry(r) for r in page.items]


@router.get(
    "/api/journal/entries",
    tags=["journal"],
    response_model=list[EntryOut],
    responses=PAGED_RESPONSES,
)
def api_entries(
    request: Request,
    response: Response,
    journal: JournalDep,
    user: PatientDep,
    kind: KindParam = None,
    start: Annotated[ISODate | None, Query()] = None,
    end: Annotated[ISODate | None, Query()] = None,
    limit: LimitParam = ENTRIES_PAGE_DEFAULT,
    after: AfterParam = None,
) -> list[EntryOut]:
    """Current journal entries (corrections and retractions kept in history), oldest first, a
    page at a time: ``limit`` entries and, when there are more, a ``Link`` header
    naming the next page (a keyset cursor: entries written meanwhile never shift a page)."""
    found = journal.entries_page(user.id, kind=kind, start=start, end=end, after=after, limit=limit)
    return paged(request, response, found)


@router.post(
    "/api/journal/entries",
    tags=["journal"],
    status_code=201,
    response_model=EntrySaved,
    responses=WRITE,
)
def api_add_entry(body: EntryIn, journal: JournalDep, user: PatientDep) -> EntrySaved:
    """Add an entry: checked (nothing is stored if it is refused), stored, then the adaptive
    rules are reviewed (a hold may start). A dose that differs from the plan is answered 422
    ``confirmation_required``; send it again with ``confirm: true`` to record it."""
    return _saved(journal.record(user.id, body.entry, day=body.day, confirm=body.confirm))


@router.post(
    "/api/journal/take",
    tags=["journal"],
    status_code=201,
    response_model=EntrySaved,
    responses=WRITE,
)
def api_take(body: TakeIn, journal: JournalDep, user: PatientDep) -> EntrySaved:
    """Record a planned dose as taken or missed (the one at ``planned_time``, else the next one
    not yet recorded) or an extra dose; amounts default to the plan's."""
    done = journal.take(user.id, **body.model_dump(exclude={"day"}), day=body.day)
    return _saved(done)


@router.get(
    "/api/journal/today",
    tags=["journal"],
    response_model=Today,
    responses={**READ, 422: INPUT_422},
)
def api_today(
    journal: JournalDep, user: PatientDep, on: Annotated[ISODate | None, Query()] = None
) -> Today:
    """The day's planned doses, each with what was recorded for it, and the day's status."""
    return journal.today(user.id, on)


@router.get(
    "/api/journal/entries/{uid}/history",
    tags=["journal"],
    response_model=list[RevisionOut],
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_entry_history(uid: UID, journal: JournalDep, user: PatientDep) -> list[RevisionOut]:
    """Every revision of the entry, oldest first, with the reason for each change."""
    revisions, _ = journal.history(user.id, uid)
    return [
        RevisionOut(
            **_entry(r).model_dump(),
            supersedes_uid=r.supersedes_uid,
            deleted=r.deleted,
            reason=r.reason,
        )
        for r in revisions
    ]


@router.patch(
    "/api/journal/entries/{uid}",
    tags=["journal"],
    response_model=EntrySaved,
    responses={**WRITE, 404: NOT_FOUND_404, 409: CONFLICT_409},
)
def api_correct_entry(
    uid: UID, body: CorrectionIn, journal: JournalDep, user: PatientDep
) -> EntrySaved:
    """Correct an entry (its newest revision): a new revision is added, the old one stays in
    its history; checked like a new entry, then the adaptive rules are reviewed. 409 when the
    entry was changed meanwhile."""
    done = journal.correct(
        user.id, uid, body.entry, day=body.day, reason=body.reason, confirm=body.confirm
    )
    return _saved(done)


@router.delete(
    "/api/journal/entries/{uid}",
    tags=["journal"],
    response_model=EntrySaved,
    responses={**WRITE, 404: NOT_FOUND_404, 409: CONFLICT_409},
)
def api_delete_entry(
    uid: UID,
    journal: JournalDep,
    user: PatientDep,
    reason: Annotated[str, Query(min_length=1, max_length=MAX_REASON, description="Why")],
) -> EntrySaved:
    """Retract an entry (it leaves the journal and stays in its history), with the reason;
    the adaptive rules are reviewed again (a hold it caused is lifted)."""
    return _saved(journal.retract(user.id, uid, reason=reason))


@router.get(
    "/api/status", tags=["journal"], response_model=Status, responses={**READ, 422: INPUT_422}
)
def api_status(
    journal: JournalDep, user: PatientDep, on: Annotated[ISODate | None, Query()] = None
) -> Response:
    """Where the person stands: plan version, current step, next cut, hold and its reason,
    latest scores, sleep and adherence, and any urgent message."""
    return model_json(journal.status(user.id, on))


# ----------------------------------------------------------------------------- clinician


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, examples=["ABCD-EFGH-JKMN"])


@router.get(
    "/api/patients",
    tags=["clinician"],
    response_model=list[PatientSummary],
    responses={**READ, 422: INPUT_422},
)
def api_patients(
    response: Response,
    journal: JournalDep,
    user: ClinicianDep,
    q: SearchParam = "",
    page: PageParam = 1,
    per_page: PerPageParam = PER_PAGE,
    sort: Sort = "urgency",
) -> list[PatientSummary]:
    """Patients who share with the signed-in clinician, a page at a time: most urgent alerts
    first (``sort=name``: by name), ``q`` searching names and emails. ``X-Total-Count`` says
    how many match in all. Each patient listed gets an audit row they can read."""
    found = list_page(
        journal, user.id, q=q, page=page, per_page=per_page, sort=sort, action="view.list.api"
    )
    response.headers["X-Total-Count"] = str(found.total)
    return found.patients


@router.post(
    "/api/patients",
    tags=["clinician"],
    status_code=201,
    response_model=PatientSummary,
    responses=WRITE,
)
def api_redeem(body: RedeemIn, journal: JournalDep, user: ClinicianDep) -> PatientSummary:
    """Redeem a patient's invite code: their plan and journal become readable to you."""
    with journal.db.transaction() as s:
        patient = sharing.redeem_invite(s, user.id, body.code)
        s.expunge(patient)
    return summarise_patient(journal, patient)


@router.get(
    "/api/patients/{patient_id}",
    tags=["clinician"],
    response_model=PatientSummary,
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_patient(journal: JournalDep, user: ClinicianDep, patient_id: ID) -> PatientSummary:
    """One patient's summary and alerts (the access is audited)."""
    patient = shared_patient(journal.db, user.id, patient_id, "view.patient.api")
    return summarise_patient(journal, patient)


@router.get(
    "/api/patients/{patient_id}/status",
    tags=["clinician"],
    response_model=Status,
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_patient_status(journal: JournalDep, user: ClinicianDep, patient_id: ID) -> Status:
    """A shared patient's status, as the patient sees it in ``/api/status`` (audited)."""
    patient = shared_patient(journal.db, user.id, patient_id, "view.status.api")
    return journal.status(patient.id)


@router.get(
    "/api/patients/{patient_id}/entries",
    tags=["clinician"],
    response_model=list[EntryOut],
    responses={**PAGED_RESPONSES, 404: NOT_FOUND_404},
)
def api_patient_entries(
    request: Request,
    response: Response,
    journal: JournalDep,
    user: ClinicianDep,
    patient_id: ID,
    kind: KindParam = None,
    start: Annotated[ISODate | None, Query()] = None,
    end: Annotated[ISODate | None, Query()] = None,
    limit: LimitParam = ENTRIES_PAGE_DEFAULT,
    after: AfterParam = None,
) -> list[EntryOut]:
    """A shared patient's journal as ``/api/journal/entries`` gives it to them, a page at a
    time (each page audited)."""
    patient = shared_patient(journal.db, user.id, patient_id, "view.journal.api")
    found = journal.entries_page(
        patient.id, kind=kind, start=start, end=end, after=after, limit=limit
    )
    return paged(request, response, found)


@router.get(
    "/api/patients/{patient_id}/plan",
    tags=["clinician"],
    response_model=PlanVersionDetail,
    responses={**READ, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_patient_plan(journal: JournalDep, user: ClinicianDep, patient_id: ID) -> Any:
    patient = shared_patient(journal.db, user.id, patient_id, "view.plan.api")
    active = journal.active_plan(patient.id)
    if active is None:
        raise NotFoundError("This patient has no saved plan.")
    return _version(active, detail=True)


@router.post(
    "/api/patients/{patient_id}/reinstate",
    tags=["clinician"],
    status_code=201,
    response_model=PlanVersionDetail,
    responses=REINSTATE_RESPONSES,
)
def api_patient_reinstate(
    body: ReinstateIn, journal: JournalDep, user: ClinicianDep, patient_id: ID
) -> Any:
    """As the prescriber, return a shared patient to their last well-tolerated dose (a new plan
    version from the patient's today, recorded as asked by the prescriber; audited)."""
    patient = shared_patient(journal.db, user.id, patient_id, None)
    record = reinstate_patient(journal, user.id, patient, body.reason, "plan.reinstate.api")
    return _version(record, detail=True)
