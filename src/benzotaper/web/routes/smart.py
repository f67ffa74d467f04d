"""SMART App Launch pages: launch, callback, the patient's taper from EHR data, send back.

``/smart/launch?iss=…&launch=…`` (EHR launch; without ``launch``: standalone) reads the EHR's
SMART configuration and sends the browser to its authorization endpoint (Authlib, PKCE S256).
``/smart/callback`` trades the code for a token and the patient in context, then
``/smart/app`` reads that patient's benzodiazepine MedicationRequests and shows the taper the
planner makes, the builder prefilled one click away, and either "send to the EHR as draft
MedicationRequests" (with a write scope) or the FHIR R4 download.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from benzotaper.catalogue import Catalogue
from benzotaper.ehr import smart
from benzotaper.ehr.record import PatientRecord, read_record
from benzotaper.ehr.rules import default_ehr_rules
from benzotaper.ehr.taper import Taper, request_for, taper_for
from benzotaper.exports.fhir_r4 import step_requests
from benzotaper.storage import Database
from benzotaper.storage.ehr import SmartLaunch
from benzotaper.web import flash
from benzotaper.web.deps import CatalogueDep, DbDep, FormDep, SettingsDep
from benzotaper.web.plan_form import from_request
from benzotaper.web.security import is_https, new_token
from benzotaper.web.templating import render

router = APIRouter(include_in_schema=False)
COOKIE = "bt_smart"
LAUNCH_MINUTES = 10
HTTP_TIMEOUT_S = 10.0


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _error(request: Request, message: str, status: int = 422) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "message": message}, status)


@router.get("/smart/launch")
def smart_launch(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    iss: Annotated[str, Query(max_length=2000)],
    launch: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """Start the SMART flow: discovery, then off to the EHR's authorization endpoint."""
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
        config = smart.discover(iss, http)
    redirect_uri = str(request.url_for("smart_callback"))
    scope = smart.EHR_SCOPE if launch else smart.STANDALONE_SCOPE
    auth = smart.authorization(config, settings.smart_client_id, redirect_uri, scope, launch)
    key = new_token()
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        session.add(SmartLaunch(
            key_hash=_hash(key), state=auth.state, code_verifier=auth.code_verifier,
            iss=config.iss, token_endpoint=config.token_endpoint, redirect_uri=redirect_uri,
            scope="", expires_at=now + dt.timedelta(minutes=LAUNCH_MINUTES),
        ))  # fmt: skip
    response = RedirectResponse(auth.url, status_code=303)
    response.set_cookie(COOKIE, key, httponly=True, samesite="lax", secure=is_https(request),
                        path="/smart", max_age=12 * 3600)  # fmt: skip
    return response


def _launch(db: Database, request: Request) -> SmartLaunch | None:
    key = request.cookies.get(COOKIE, "")
    if not 20 <= len(key) <= 100:
        return None
    with db.transaction() as session:
        row = session.scalars(select(SmartLaunch).where(SmartLaunch.key_hash == _hash(key))).first()
        if row is None or row.expires_at < dt.datetime.now(dt.UTC):
            return None
        session.expunge(row)
        return row


@router.get("/smart/callback", name="smart_callback")
def smart_callback(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    code: Annotated[str | None, Query(max_length=4000)] = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The EHR sends the browser back here with a code; trade it for the token."""
    launch = _launch(db, request)
    if error or launch is None or not code or state != launch.state:
        why = error or "this launch has expired or did not start here; launch again from the EHR"
        return _error(request, f"The EHR launch did not complete: {why}.", 400)
    token = smart.exchange(launch.token_endpoint, settings.smart_client_id,
                           launch.redirect_uri, code, launch.code_verifier)  # fmt: skip
    patient = token.get("patient")
    if not isinstance(patient, str) or not token.get("access_token"):
        return _error(request, "The EHR gave no patient in context: launch from a chart.", 400)
    seconds = int(token.get("expires_in") or 3600)
    with db.transaction() as session:
        row = session.get(SmartLaunch, launch.id)
        assert row is not None
        row.access_token = str(token["access_token"])
        row.scope = str(token.get("scope") or "")
        row.patient_id = patient
        row.state = new_token()  # the state is spent
        row.expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=min(seconds, 12 * 3600))
    return RedirectResponse(str(request.url_for("smart_app")), status_code=303)


def _record(launch: SmartLaunch, cat: Catalogue) -> PatientRecord:
    assert launch.access_token is not None and launch.patient_id is not None
    pid = launch.patient_id
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
        fhir = smart.Fhir(launch.iss, launch.access_token, http)
        patient = fhir.get(f"Patient/{pid}")
        meds = fhir.get(f"MedicationRequest?patient={pid}&status=active")
        conditions = fhir.get(f"Condition?patient={pid}")
    from benzotaper.ehr.hooks import resources_of

    return read_record(patient, resources_of(meds), resources_of(conditions), cat,
                       default_ehr_rules(), dt.date.today())  # fmt: skip


def _options(pace: str | None, liquid: bool, crossover: bool) -> dict[str, object]:
    out: dict[str, object] = {}
    if pace in ("slow", "moderate", "fast"):
        out["pace"] = pace
    if liquid:
        out["liquid"] = True
    if crossover:
        out["crossover"] = "diazepam"
    return out


def _taper(record: PatientRecord, cat: Catalogue, options: dict[str, object]) -> Taper:
    if not options:
        return taper_for(record, cat, dt.date.today())
    from benzotaper.errors import BenzotaperError
    from benzotaper.knowledge import knowledge_for
    from benzotaper.planning.engine import make_plan

    today = dt.date.today()
    try:
        request = request_for(record, "us", today + dt.timedelta(days=1), **options)
        return Taper(make_plan(request, knowledge_for(cat), today=today))
    except BenzotaperError as exc:
        return Taper(None, str(exc))


@router.get("/smart/app", name="smart_app")
def smart_app(
    request: Request,
    db: DbDep,
    cat: CatalogueDep,
    pace: Annotated[str | None, Query(pattern="^(slow|moderate|fast)?$")] = None,
    liquid: bool = False,
    crossover: bool = False,
) -> Response:
    """The patient's regimen read from the EHR and the taper for it."""
    launch = _launch(db, request)
    if launch is None or launch.access_token is None:
        return _error(request, "No EHR launch is open: launch benzotaper from the EHR.", 401)
    record = _record(launch, cat)
    options = _options(pace, liquid, crossover)
    taper = _taper(record, cat, options)
    context: dict[str, Any] = {
        "record": record, "taper": taper, "plan": taper.plan, "catalogue": cat,
        "can_write": smart.can_write_medication_requests(launch.scope),
        "options": {"pace": pace or "", "liquid": liquid, "crossover": crossover},
        "iss": launch.iss,
    }  # fmt: skip
    return render(request, "smart_app.html", context)


@router.get("/smart/builder")
def smart_builder(request: Request, db: DbDep, cat: CatalogueDep) -> Response:
    """benzotaper's plan builder, filled in with the regimen and risk facts from the EHR."""
    launch = _launch(db, request)
    if launch is None or launch.access_token is None:
        return _error(request, "No EHR launch is open: launch benzotaper from the EHR.", 401)
    record = _record(launch, cat)
    if not record.reading.regimen:
        return _error(request, "No benzodiazepine or Z-drug dose could be read for this patient.")
    from benzotaper.web.plan_form import as_data, parse_form
    from benzotaper.web.routes.builder import _context, _preview

    form = from_request(request_for(record, "us", dt.date.today() + dt.timedelta(days=1)))
    form = parse_form(as_data(form), cat)
    notice = "Filled in from the EHR record. Agree the plan with the patient before acting on it."
    return render(request, "builder.html", _context(cat, form, notice=notice, **_preview(form)))


@router.post("/smart/send", name="smart_send")
def smart_send(request: Request, db: DbDep, cat: CatalogueDep, form: FormDep) -> Response:
    """Send the chosen plan to the EHR as draft MedicationRequests, or download it (R4)."""
    launch = _launch(db, request)
    if launch is None or launch.access_token is None or launch.patient_id is None:
        return _error(request, "No EHR launch is open: launch benzotaper from the EHR.", 401)
    options = _options(str(form.get("pace") or ""), form.get("liquid") == "on",
                       form.get("crossover") == "on")  # fmt: skip
    taper = _taper(_record(launch, cat), cat, options)
    if taper.plan is None:
        return _error(request, taper.refusal or "No plan could be made.")
    ref = f"Patient/{launch.patient_id}"
    draft = step_requests(taper.plan, cat, patient_ref=ref, authored_on=dt.date.today().isoformat())
    if form.get("action") == "download" or not smart.can_write_medication_requests(launch.scope):
        bundle = {"resourceType": "Bundle", "type": "collection",
                  "entry": [{"resource": r} for r in draft]}  # fmt: skip
        return Response(json.dumps(bundle, indent=2), media_type="application/fhir+json",
                        headers={"Content-Disposition":
                                 'attachment; filename="benzotaper-taper-r4.json"'})  # fmt: skip
    created = []
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
        fhir = smart.Fhir(launch.iss, launch.access_token, http)
        for resource in draft:
            answer = fhir.create(resource)
            created.append(answer.get("id", "?") if isinstance(answer, dict) else "?")
    return flash.redirect(request, "/smart/sent", created=created, iss=launch.iss)


@router.get("/smart/sent")
def smart_sent(request: Request) -> HTMLResponse:
    """Where sending leads (Post/Redirect/Get: reloading it sends nothing again)."""
    from benzotaper.planning.models import DISCLAIMER

    sent = flash.take(request)
    ctx = {"created": sent.get("created", []), "iss": sent.get("iss"), "disclaimer": DISCLAIMER}
    return render(request, "smart_sent.html", ctx)
