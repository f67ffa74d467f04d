"""The clinician list's queries: a page of the patients who share with a clinician.

One query finds the page (ordered by the most urgent stored alert, then by name, or by name
alone), each id with how many match in all; a second reads the columns shown for the page's
patients only. The statements are built once (a list is read on every visit: building a
statement and its cache key each time cost more than running it); values are bound at each
execution. What the list shows and when a row is recomputed is ``web.patient_list``'s.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal, NamedTuple

from sqlalchemy import ColumnElement, Integer, Select, String, bindparam, func, or_, select
from sqlalchemy.orm import Session

from benzotaper.storage.access import CareShare
from benzotaper.storage.summaries import JournalSummary
from benzotaper.storage.tables import User

Sort = Literal["urgency", "name"]
SORTS: tuple[Sort, ...] = ("urgency", "name")


def _matching(search: bool) -> list[ColumnElement[bool]]:
    """The clinician's active shares (``:clinician_id``), and with ``search`` the people whose
    name or email contains ``:like``."""
    where = [CareShare.clinician_id == bindparam("clinician_id"), CareShare.revoked_at.is_(None)]
    if search:
        like = bindparam("like", type_=String)
        where.append(
            or_(
                func.lower(User.display_name).like(like, escape="\\"),
                func.lower(User.email).like(like, escape="\\"),
            )
        )
    return where


def _build_page(sort: Sort, search: bool) -> Select[int, int]:
    """The ids of a page's patients (``:offset``, ``:limit``), in order, each with how many
    match in all (one query instead of a count and a page). Only narrow columns are joined and
    sorted (the whole clinic's rows go through the sort): the users' and summaries' wide
    columns, with their JSON documents, are read for the page's patients alone (10,000
    patients on PostgreSQL: 124 ms for the page query with whole rows)."""
    level = func.coalesce(JournalSummary.alert_level, -1)
    name = (func.lower(User.display_name), User.email, User.id)
    order = name if sort == "name" else (level.desc(), *name)
    return (
        select(User.id, func.count().over())
        .join(CareShare, CareShare.patient_id == User.id)
        .outerjoin(JournalSummary, JournalSummary.user_id == User.id)
        .where(*_matching(search))
        .order_by(*order)
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


_PAGES = {(sort, search): _build_page(sort, search) for sort in SORTS for search in (False, True)}
_COUNTS = {
    search: select(func.count())
    .select_from(User)
    .join(CareShare, CareShare.patient_id == User.id)
    .where(*_matching(search))
    for search in (False, True)
}


def _binds(clinician_id: int, q: str, **more: int) -> dict[str, Any]:
    words = q.strip().lower()
    found: dict[str, Any] = {"clinician_id": clinician_id, **more}
    if words:
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        found["like"] = f"%{escaped}%"
    return found


def page_query(clinician_id: int, q: str, sort: Sort, offset: int, limit: int) -> Select[int, int]:
    """The page query with its values bound (for query plans: ``benchmarks/bench_clinic``)."""
    binds = _binds(clinician_id, q, offset=offset, limit=limit)
    return _PAGES[sort, "like" in binds].params(binds)


class Listed(NamedTuple):
    """What the list shows of a patient, and their stored card (None: no summary row)."""

    id: int
    name: str
    email: str
    time_zone: str | None
    revision: int | None
    alerts: list[Any] | None
    facts: dict[str, Any] | None
    computed_on: dt.date | None


#: The columns shown (no ORM objects, no summary slots: a page is read on every visit).
_ROWS = (
    select(
        User.id,
        User.display_name,
        User.email,
        User.time_zone,
        JournalSummary.revision,
        JournalSummary.alerts,
        JournalSummary.facts,
        JournalSummary.computed_on,
    )
    .outerjoin(JournalSummary, JournalSummary.user_id == User.id)
    .where(User.id.in_(bindparam("ids", expanding=True)))
)


def page_rows(s: Session, ids: list[int]) -> list[Listed]:
    """The shown columns of the patients ``ids``, in that order."""
    by_id = {r[0]: Listed(*r) for r in s.execute(_ROWS, {"ids": ids})}
    return [by_id[i] for i in ids]


def _count(s: Session, clinician_id: int, q: str) -> int:
    binds = _binds(clinician_id, q)
    return int(s.scalar(_COUNTS["like" in binds], binds) or 0)


def find_page(
    s: Session, clinician_id: int, q: str, sort: Sort, page: int, per_page: int
) -> tuple[int, int, list[int]]:
    """How many match in all, the page shown (``page``, or the last one when beyond it) and
    its patients' ids, in order."""
    binds = _binds(clinician_id, q, offset=(page - 1) * per_page, limit=per_page)
    found = s.execute(_PAGES[sort, "like" in binds], binds).all()
    if found:
        return int(found[0][1]), page, [r[0] for r in found]
    total = _count(s, clinician_id, q)
    last = max(1, math.ceil(total / per_page))
    if page <= last:
        return total, page, []
    return find_page(s, clinician_id, q, sort, last, per_page)
