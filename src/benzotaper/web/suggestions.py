"""A clinician's suggested plan change: a message and, optionally, a changed request.

The suggestion is checked by planning it (a suggestion the planner refuses is refused here,
with the planner's words); the patient sees it on their plan page, can open it in the builder
and decide with the clinician. Nothing changes the patient's plan until they save it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from benzotaper.catalogue import Catalogue
from benzotaper.errors import BenzotaperError, InputError, NotFoundError
from benzotaper.planning.models import PlanRequest
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database, User
from benzotaper.storage.access import PlanSuggestion
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
        row = PlanSuggestion(
            patient_id=patient_id,
            clinician_id=clinician_id,
            message=message[:2000],
            request=request.model_dump(mode="json") if request else None,
        )
        s.add(row)
        s.flush()
        return row.id


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


#: A patient's suggestions with who made them, newest first (built once, as columns: read on
#: every look at the patient and on My plan).
_MADE_TO = (
    select(
        PlanSuggestion.id,
        User.display_name,
        User.email,
        PlanSuggestion.message,
        PlanSuggestion.created_at,
        PlanSuggestion.status,
        PlanSuggestion.request,
    )
    .join(User, User.id == PlanSuggestion.clinician_id)
    .where(PlanSuggestion.patient_id == bindparam("patient_id"))
    .order_by(PlanSuggestion.created_at.desc(), PlanSuggestion.id.desc())
)


def for_patient(
    db: Database, patient_id: int, session: Session | None = None
) -> list[SuggestionView]:
    """The suggestions made to the patient, newest first (read in ``session`` if given)."""
    if session is None:
        with db.read() as s:
            return for_patient(db, patient_id, s)
    return [
        SuggestionView(
            id=sid,
            clinician=name or email or "",
            message=message,
            created_at=created_at,
            status=status,
            changes=_changes(request),
        )
        for sid, name, email, message, created_at, status, request in made_to_rows(
            session, patient_id
        )
    ]


def made_to_rows(session: Session | Connection, patient_id: int) -> list[tuple[Any, ...]]:
    """Everything :func:`for_patient` shows, as rows (a kept My plan page is keyed by them)."""
    return [tuple(row) for row in session.execute(_MADE_TO, {"patient_id": patient_id})]


def request_of(db: Database, patient_id: int, suggestion_id: int) -> PlanRequest:
    """The suggested request, for the patient's builder (another patient's id: NotFound)."""
    with db.read() as s:
        row = s.get(PlanSuggestion, suggestion_id)
        if row is None or row.patient_id != patient_id or row.request is None:
            raise NotFoundError("No such suggestion.")
        return PlanRequest.model_validate(row.request)
