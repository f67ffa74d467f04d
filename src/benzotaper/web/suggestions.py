"""A clinician's suggested plan change: a message and, optionally, a changed request.

The suggestion is checked by planning it (a suggestion the planner refuses is refused here,
with the planner's words); the patient sees it on their plan page, can open it in the builder
and decide with the clinician. Nothing changes the patient's plan until they save it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from benzotaper.catalogue import Catalogue
from benzotaper.errors import BenzotaperError, InputError, NotFoundError
from benzotaper.planning.models import PlanRequest
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.storage import suggestions as stored_suggestions
from benzotaper.web import planview
from benzotaper.web.deps import get_knowledge, now


class SuggestionError(InputError):
    code = "suggestion"


@dataclass(frozen=True)
class SuggestionView:
    id: int
    clinician: str
    message: str
    created_at: dt.datetime
    status: str
    changes: list[str]


def create(
    db: Database, cat: Catalogue, clinician_id: int, patient_id: int, values: dict[str, str]
) -> int:
    message = values.get("message", "").strip()
    if not message:
        raise SuggestionError("Write the suggestion for your patient.")
    request: PlanRequest | None = None
    changes: dict[str, Any] = {}
    if values.get("pace"):
        changes["pace"] = values["pace"]
    for key, kind in (("percent", float), ("every_days", int)):
        if values.get(key):
            try:
                changes[key] = kind(values[key])
            except ValueError:
                raise SuggestionError(f"{key.replace('_', ' ')}: enter a number.") from None
    if changes:
        journal = JournalService(db, cat, now=now)
        active = journal.active_plan(patient_id)
        if active is None:
            raise SuggestionError("The patient has no saved plan to change; send a message only.")
        try:
            prefs = active.request.preferences.model_copy(update=changes)
            request = PlanRequest.model_validate(
                active.request.model_copy(update={"preferences": prefs}).model_dump()
            )
            planview.replan(request, get_knowledge(), journal.today_date())
        except BenzotaperError as exc:
            raise SuggestionError(f"This change cannot be planned: {exc.message}") from None
        except ValueError as exc:
            raise SuggestionError(f"This change cannot be planned: {exc}") from None
    with db.transaction() as s:
        stored = request.model_dump(mode="json") if request else None
        return stored_suggestions.add(s, clinician_id, patient_id, message[:2000], stored)


def _changes(request: dict[str, Any] | None) -> list[str]:
    if not request:
        return []
    p = request.get("preferences", {})
    out = []
    if p.get("pace"):
        out.append(f"pace: {p['pace']}")
    if p.get("percent"):
        out.append(f"{p['percent']:g}% per cut")
    if p.get("every_days"):
        out.append(f"every {p['every_days']} days")
    return out


def for_patient(
    db: Database, patient_id: int, session: Session | None = None
) -> list[SuggestionView]:
    """The suggestions made to the patient, newest first (read in ``session`` if given)."""
    if session is None:
        with db.read() as s:
            return for_patient(db, patient_id, s)
    return [
        SuggestionView(
            id=made.id,
            clinician=made.clinician_name or made.clinician_email or "",
            message=made.message,
            created_at=made.created_at,
            status=made.status,
            changes=_changes(made.request),
        )
        for made in stored_suggestions.made_to(session, patient_id)
    ]


def request_of(db: Database, patient_id: int, suggestion_id: int) -> PlanRequest:
    """The suggested request, for the patient's builder (another patient's id: NotFound)."""
    with db.read() as s:
        request = stored_suggestions.request_of(s, patient_id, suggestion_id)
    if request is None:
        raise NotFoundError("No such suggestion.")
    return PlanRequest.model_validate(request)
