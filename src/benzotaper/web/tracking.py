"""The web app's handle on the journal: the store, the planner binding, status and review.

All decisions (holds, returns, resumption, crisis messages) are the journal library's; the
web layer calls ``review`` after each check-in so a hold is applied as soon as it is due.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from benzotaper.catalogue import Catalogue
from benzotaper.storage import Database

if TYPE_CHECKING:
    from benzotaper.journal.adaptive import Decision
    from benzotaper.planning.models import Plan, PlanRequest
    from benzotaper.storage.journal import JournalStore
    from benzotaper.storage.tracking import Status


def today() -> dt.date:
    return dt.date.today()


def store(db: Database) -> JournalStore:
    from benzotaper.storage.journal import JournalStore

    return JournalStore(db)


def status(db: Database, user_id: int, on: dt.date | None = None) -> Status:
    from benzotaper.journal.adaptive import default_rules
    from benzotaper.journal.scales import default_scales
    from benzotaper.storage.tracking import status as journal_status

    return journal_status(store(db), user_id, on or today(), default_rules(), default_scales())


def review(db: Database, user_id: int, cat: Catalogue, day: dt.date) -> Decision | None:
    """Apply the adaptive rules for ``day`` (may save a new plan version with its reason)."""
    from benzotaper.journal.adaptive import default_rules
    from benzotaper.journal.scales import default_scales
    from benzotaper.planning.engine import make_plan
    from benzotaper.storage.tracking import review as journal_review
    from benzotaper.web.deps import get_knowledge

    def planner(request: PlanRequest, on: dt.date) -> Plan:
        return make_plan(request, get_knowledge(), today=on)

    decision, _record = journal_review(
        store(db), user_id, day, planner, default_rules(), default_scales()
    )
    return decision
