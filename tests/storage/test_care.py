"""A clinician's looks at a patient (``services.care``, ``storage.care.looking``): the share
checked and the audit row written in one transaction, the same way for every look."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.dbwire import wire

from benzotaper.errors import NotFoundError
from benzotaper.knowledge import default_knowledge
from benzotaper.services.care import CareService
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.storage.access import AuditEvent, CareShare
from benzotaper.web import sharing

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py


def _shared(db: Database) -> tuple[int, int, int]:
    """A clinician, a patient sharing with them, and the share's id."""
    journal = JournalService(db, default_knowledge())
    clinician = journal.create_user(email="dr@example.org", role="clinician")
    patient = journal.create_user(email="p@example.org", display_name="Pat")
    with db.transaction() as s:
        sharing.redeem_invite(s, clinician, sharing.create_invite(s, patient))
        share = s.scalar(select(CareShare.id).where(CareShare.patient_id == patient))
    assert share is not None
    return clinician, patient, share


def _audited(db: Database, patient: int) -> list[tuple[int, str, str]]:
    with db.read() as s:
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.patient_id == patient).order_by(AuditEvent.id)
        )
        return [(r.actor_id, r.action, r.detail) for r in rows]


def test_a_look_is_checked_and_audited_in_one_transaction(db: Database) -> None:
    clinician, patient, _ = _shared(db)
    looks = CareService(db)
    with wire(db.engine) as seen, looks.look(clinician, patient, "view.patient") as (_, found):
        assert found.display_name == "Pat"
    begins = [x for x in seen.statements if x.startswith("BEGIN")]
    assert len(begins) == 1, seen.statements
    assert seen.statements[-2].startswith("INSERT INTO audit_log")
    assert looks.patient(clinician, patient, "view.status.api").id == patient
    assert looks.patient(clinician, patient, None).id == patient  # checked, not audited
    assert _audited(db, patient)[1:] == [
        (clinician, "view.patient", ""),
        (clinician, "view.status.api", ""),
    ]


def test_a_look_that_fails_is_not_recorded_as_made(db: Database) -> None:
    clinician, patient, _ = _shared(db)
    before = _audited(db, patient)
    with pytest.raises(RuntimeError), CareService(db).look(clinician, patient, "view.patient"):
        raise RuntimeError("the page could not be read")
    assert _audited(db, patient) == before


def test_a_revoked_share_is_refused_everywhere_and_audits_nothing(db: Database) -> None:
    """No share (revoked, or never made): NotFoundError, as if the patient did not exist, from
    every look (a page, the API's, a prescriber's reinstatement), and no audit row."""
    clinician, patient, share = _shared(db)
    stranger = JournalService(db, default_knowledge()).create_user(email="x@example.org")
    with db.transaction() as s:
        sharing.revoke(s, patient, share)
    before = _audited(db, patient)
    looks = CareService(db)
    journal = JournalService(db, default_knowledge())
    for who in (clinician, stranger):
        with pytest.raises(NotFoundError), looks.look(who, patient, "view.patient"):
            pass
        for action in ("view.patient.api", None):
            with pytest.raises(NotFoundError):
                looks.patient(who, patient, action)
        with pytest.raises(NotFoundError):
            journal.reinstate_for_patient(who, patient, reason="severe", action="plan.reinstate")
    assert _audited(db, patient) == before


def test_a_page_of_audit_rows_is_one_statement_with_a_row_per_patient(db: Database) -> None:
    from benzotaper.storage import care, utcnow

    clinician, patient, _ = _shared(db)
    others = [JournalService(db, default_knowledge()).create_user() for _ in range(3)]
    with wire(db.engine) as seen, db.transaction() as s:
        care.audit_each(s, clinician, [patient, *others], "view.list", "page 1")
    assert sum(x.startswith("INSERT") for x in seen.statements) == 1
    with db.read() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == "view.list")).all()
    assert sorted((r.patient_id, r.actor_id, r.detail) for r in rows) == sorted(
        (p, clinician, "page 1") for p in [patient, *others]
    )
    assert len({r.at for r in rows}) == 1
    assert abs(rows[0].at - utcnow()) < dt.timedelta(minutes=1)  # UTC, as every timestamp
