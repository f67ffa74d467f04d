"""A clinician's access to the patients who share with them: every look checked and audited.

Use::

    care = CareService(db)
    patient = care.patient(clinician_id, patient_id, "view.status.api")   # checked, audited
    with care.look(clinician_id, patient_id, "view.patient") as (session, patient):
        ...                       # read what is shown, in the same transaction as the audit

Each look is one transaction: the share is checked (``storage.care.looking``: NotFoundError
without an active share, as if the patient did not exist, and no audit row) and the audit row
the patient reads on their Account page is written in it, after what was read or done. A
prescriber's reinstatement goes the same way inside the journal service's own transaction
(``JournalService.reinstate_for_patient``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from benzotaper.storage import care
from benzotaper.storage.engine import Database
from benzotaper.storage.tables import User


class CareService:
    """Looks at shared patients; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def look(
        self, clinician_id: int, patient_id: int, action: str
    ) -> Iterator[tuple[Session, User]]:
        """The shared patient and the look's transaction, audited as ``action`` when the block
        ends without an error (a look that failed shows nothing and is not recorded as made)."""
        with self.db.transaction() as s, care.looking(s, clinician_id, patient_id, action) as look:
            yield s, look.patient

    def patient(self, clinician_id: int, patient_id: int, action: str | None) -> User:
        """The shared patient (detached from its session), the look audited as ``action``;
        ``action`` None: only checked, in a read, for a use-case that audits the look itself
        once done (a reinstatement, with the version it made)."""
        if action is None:
            with self.db.read() as s:
                patient = care.patient_for_clinician(s, clinician_id, patient_id)
                s.expunge(patient)
                return patient
        with self.look(clinician_id, patient_id, action) as (s, patient):
            s.expunge(patient)
        return patient
