"""The clinician's patient list: one page at a time, searchable, most urgent first.

The order and the alerts come from each patient's stored summary (``storage.summaries``, kept
by the journal service with every change): one query finds the page, sorted by the most urgent
alert, then by name (``storage.patient_list``); nobody's status is computed for the rest of the
list. A row on the page whose alerts were computed before the patient's today is recomputed
(and stored, unless the patient changed something meanwhile), so what is shown is always as of
today. Only the patients on the page shown get an audit row, in the page's one transaction.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from benzotaper.services.journal import JournalService
from benzotaper.services.summary import card
from benzotaper.storage import care, patient_list, summaries
from benzotaper.storage.patient_list import Listed
from benzotaper.storage.patient_list import Sort as Sort  # the list's sort orders, for the routes
from benzotaper.web import clock
from benzotaper.web.patient_view import PatientSummary

#: Policy: patients per page of the clinician list (and the most one page may ask for).
PER_PAGE = 25
MAX_PER_PAGE = 100


class PatientPage(BaseModel):
    """One page of the list: the patients shown, and how many match in all."""

    patients: list[PatientSummary]
    total: int
    page: int
    pages: int
    per_page: int
    q: str
    sort: Sort


def _row(patient: Listed, alerts: list[Any], facts: dict[str, Any]) -> PatientSummary:
    return PatientSummary.model_validate(
        {
            "id": patient.id,
            "name": patient.name or patient.email or "",
            "email": patient.email or "",
            "alerts": alerts,
            **facts,
        }
    )


def list_page(
    journal: JournalService,
    clinician_id: int,
    *,
    q: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
    sort: Sort = "urgency",
    action: str = "view.list",
) -> PatientPage:
    """The page ``page`` (from 1) of the clinician's patients matching ``q`` (name or email):
    found, read, brought up to today and audited in one transaction."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    with journal.db.transaction() as s:
        total, page, ids = patient_list.find_page(s, clinician_id, q, sort, page, per_page)
        rows = patient_list.page_rows(s, ids) if ids else []
        with journal.reading(s, known=ids):
            shown = [_shown(journal, s, patient) for patient in rows]
        care.audit_each(s, clinician_id, ids, action)
    if sort == "urgency":  # a row recomputed for today may have moved within its page
        shown.sort(key=lambda p: -p.alert_level)
    pages = max(1, math.ceil(total / per_page))
    return PatientPage(
        patients=shown, total=total, page=page, pages=pages, per_page=per_page, q=q, sort=sort
    )


def _shown(journal: JournalService, s: Session, patient: Listed) -> PatientSummary:
    """The patient's row as of their today: the stored card, or one made now (and stored, in
    ``s``, unless the patient has changed something since it was read)."""
    today = clock.today_in(patient.time_zone)
    if patient.computed_on == today and patient.revision is not None:
        return _row(patient, patient.alerts or [], patient.facts or {})
    made = card(journal.status(patient.id, today))
    if patient.revision is not None:
        summaries.refresh_alerts(s, patient.id, patient.revision, made, today)
    return _row(patient, made[0], made[1])
