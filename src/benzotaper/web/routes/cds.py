"""CDS Hooks 2.0 endpoints: discovery, the three services, and card feedback.

An EHR calls these, not a person: no session cookie is used, so no CSRF token is needed (see
``web.security.CSRF_EXEMPT``). Answers are decided by :mod:`benzotaper.ehr.hooks`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from benzotaper.ehr import feedback as fb
from benzotaper.ehr.fetch import fetcher
from benzotaper.ehr.hooks import SERVICES, PrefetchMissing, answer, discovery
from benzotaper.ehr.rules import default_ehr_rules
from benzotaper.errors import InputError
from benzotaper.planning.risk import default_risk_rules
from benzotaper.web.deps import CatalogueDep, DbDep, SettingsDep
from benzotaper.web.responses import INPUT_422, Message, Responses

router = APIRouter(tags=["cds-hooks"])
ServiceId = Annotated[str, Path(pattern="^benzotaper-(patient-view|order-select|order-sign)$")]
SERVICE_ERRORS: Responses = {
    404: {"model": Message, "description": "No such CDS service."},
    412: {"model": Message, "description": "Prefetch data missing and no FHIR server to ask."},
    422: INPUT_422,
    502: {"model": Message, "description": "The EHR's FHIR server did not answer as expected."},
}


class CdsRequest(BaseModel):
    """A CDS Hooks request (only the fields benzotaper reads are described)."""

    model_config = ConfigDict(extra="allow")
    hook: str = Field(max_length=100)
    hookInstance: str = Field(max_length=100)
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    fhirServer: str | None = Field(default=None, max_length=2000)
    fhirAuthorization: dict[str, Any] | None = None


class CdsResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    cards: list[dict[str, Any]]


@router.get("/cds-services", responses={200: {"description": "The CDS Hooks discovery."}})
def cds_discovery() -> dict[str, Any]:
    """The CDS Hooks discovery document: benzotaper's services and their prefetch templates."""
    return discovery(default_ehr_rules())


def _allowed(server: str | None, allowed: str) -> bool:
    prefixes = [p.strip().rstrip("/") for p in allowed.split(",") if p.strip()]
    return bool(server) and any(str(server).rstrip("/").startswith(p) for p in prefixes)


@router.post("/cds-services/{service_id}", response_model=CdsResponse, responses=SERVICE_ERRORS)
def cds_service(
    service_id: ServiceId, body: CdsRequest, request: Request, cat: CatalogueDep,
    settings: SettingsDep,
) -> Any:  # fmt: skip
    """Cards for one hook call. Every suggestion is a draft to review with the patient."""
    data = body.model_dump(exclude_none=True)
    fetch = fetcher(data) if _allowed(body.fhirServer, settings.cds_fhir_servers) else None
    base = str(request.base_url).rstrip("/")
    try:
        return answer(
            service_id, data, cat, default_ehr_rules(), default_risk_rules(),
            today=dt.date.today(), app_url=f"{base}/smart/launch", source_url=f"{base}/",
            fetch=fetch,
        )  # fmt: skip
    except PrefetchMissing as exc:
        return JSONResponse({"detail": exc.message}, status_code=412)
    except httpx.HTTPError as exc:
        return JSONResponse({"detail": f"FHIR server: {exc}"}, status_code=502)
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        # Shapes no FHIR server sends (a number where a resource belongs): say so plainly.
        raise InputError(f"The request's data could not be read as FHIR: {exc}") from None


class FeedbackAnswer(BaseModel):
    stored: int


@router.post(
    "/cds-services/{service_id}/feedback", response_model=FeedbackAnswer,
    responses={404: SERVICE_ERRORS[404], 422: INPUT_422},
)  # fmt: skip
def cds_feedback(service_id: ServiceId, body: fb.FeedbackRequest, db: DbDep) -> FeedbackAnswer:
    """Record which cards were accepted or overridden (for the clinic's measures)."""
    assert service_id in SERVICES
    with db.transaction() as session:
        stored = fb.record_feedback(session, service_id, body.feedback)
    return FeedbackAnswer(stored=stored)
