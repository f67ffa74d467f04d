"""Clinician pages: redeem a patient's invite code, the patient list with alerts, read-only views.

Every look at a patient's data goes through ``sharing.patient_for_clinician`` (no active share:
404, as if the patient did not exist) and writes an audit-log row the patient can see.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from benzotaper.web import sharing
from benzotaper.web.deps import ClinicianDep, DbDep
from benzotaper.web.patient_view import PatientSummary, summarise_patient
from benzotaper.web.responses import AUTH_401, CSRF_403, INPUT_422, NOT_FOUND_404
from benzotaper.web.templating import render

router = APIRouter()
ID = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


def _list_context(db: DbDep, user: ClinicianDep) -> dict[str, Any]:
    with db.transaction() as s:
        patients = [summarise_patient(s, p) for p in sharing.patients_of(s, user.id)]
    patients.sort(key=lambda p: (-p.alert_level, p.name.lower()))
    return {"nav": "clinician", "patients": patients}


@router.get("/clinician", response_class=HTMLResponse, include_in_schema=False)
def clinician_home(request: Request, db: DbDep, user: ClinicianDep) -> HTMLResponse:
    return render(request, "clinician.html", _list_context(db, user))


@router.post("/clinician/redeem", response_class=HTMLResponse, include_in_schema=False)
def redeem(
    request: Request,
    db: DbDep,
    user: ClinicianDep,
    code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        with db.transaction() as s:
            patient = sharing.redeem_invite(s, user.id, code)
    except sharing.ShareError as exc:
        ctx = _list_context(db, user) | {"problems": [exc.message], "code": code}
        return render(request, "clinician.html", ctx, status_code=422)
    return RedirectResponse(f"/clinician/patients/{patient.id}", status_code=303)


@router.get(
    "/clinician/patients/{patient_id}", response_class=HTMLResponse, include_in_schema=False
)
def patient_page(request: Request, db: DbDep, user: ClinicianDep, patient_id: ID) -> HTMLResponse:
    with db.transaction() as s:
        patient = sharing.patient_for_clinician(s, user.id, patient_id)
        sharing.audit(s, user.id, patient.id, "view.patient")
        summary = summarise_patient(s, patient, detail=True)
    return render(request, "patient.html", {"nav": "clinician", "p": summary})


# ----------------------------------------------------------------------------- API


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, examples=["ABCD-EFGH-JKMN"])


@router.get(
    "/api/patients",
    tags=["clinician"],
    response_model=list[PatientSummary],
    responses={401: AUTH_401, 403: CSRF_403},
)
def api_patients(db: DbDep, user: ClinicianDep) -> list[PatientSummary]:
    """Patients who share with the signed-in clinician, most urgent alerts first."""
    patients: list[PatientSummary] = _list_context(db, user)["patients"]
    return patients


@router.post(
    "/api/patients",
    tags=["clinician"],
    status_code=201,
    response_model=PatientSummary,
    responses={401: AUTH_401, 403: CSRF_403, 422: INPUT_422},
)
def api_redeem(body: RedeemIn, db: DbDep, user: ClinicianDep) -> PatientSummary:
    """Redeem a patient's invite code: their plan and journal become readable to you."""
    with db.transaction() as s:
        patient = sharing.redeem_invite(s, user.id, body.code)
        return summarise_patient(s, patient)


@router.get(
    "/api/patients/{patient_id}",
    tags=["clinician"],
    response_model=PatientSummary,
    responses={401: AUTH_401, 403: CSRF_403, 404: NOT_FOUND_404},
)
def api_patient(db: DbDep, user: ClinicianDep, patient_id: ID) -> PatientSummary:
    """One patient's summary and alerts (audited)."""
    with db.transaction() as s:
        patient = sharing.patient_for_clinician(s, user.id, patient_id)
        sharing.audit(s, user.id, patient.id, "view.patient", "api")
        return summarise_patient(s, patient, detail=True)
