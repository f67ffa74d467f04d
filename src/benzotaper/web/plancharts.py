"""Charts as their own requests: pages link to an SVG, they never draw one while rendering.

Drawing a chart with matplotlib costs hundreds of milliseconds; the page around it a few. So a
page carries only ``<img src="...svg" loading="lazy">`` and the chart comes separately:

- a saved plan version never changes, so its chart is drawn once, by whichever worker process is
  asked first, stored in ``plan_renders`` and read by every later request (and cached by the
  browser as immutable);
- the builder's preview chart is drawn from the form's values in the URL, kept in a small
  per-process cache (the same form gives the same plan on the same day);
- the journal's trend chart follows the entries: it is drawn per request, but only when the
  image is fetched.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from benzotaper.catalogue import Catalogue
from benzotaper.errors import BenzotaperError, NotFoundError
from benzotaper.lru import LRU
from benzotaper.planning.models import Plan, PlanRequest
from benzotaper.storage import Database, PlanVersion
from benzotaper.storage.renders import PlanRender

CHART_KIND = "chart-phone.svg"
#: Policy: preview charts kept per worker process (a few people building plans at once).
PREVIEW_CACHE_SIZE = 64
NO_CHART = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="320" height="40">'
    b'<text x="8" y="24" font-family="sans-serif" font-size="14">No chart for this plan.</text>'
    b"</svg>"
)


def draw(plan: Plan, catalogue: Catalogue) -> bytes:
    """The plan chart (phone size), or a one-line SVG saying there is none."""
    from benzotaper.web.planview import chart_svg

    return chart_svg(plan, catalogue) or NO_CHART


def saved_plan_chart(db: Database, catalogue: Catalogue, user_id: int, uid: str) -> bytes:
    """The chart of plan version ``uid`` of ``user_id``: stored once, then only read."""
    with db.read() as s:
        pid = s.scalar(
            select(PlanVersion.id).where(PlanVersion.uid == uid, PlanVersion.user_id == user_id)
        )
        if pid is None:
            raise NotFoundError("No such plan version.")
        body = s.scalar(
            select(PlanRender.body).where(
                PlanRender.plan_version_id == pid, PlanRender.kind == CHART_KIND
            )
        )
    if body is not None:
        return body
    from benzotaper.services.journal import JournalService

    record = JournalService(db, catalogue).plan_version(user_id, uid)
    body = draw(record.plan, catalogue)
    try:
        with db.transaction() as s:
            s.add(PlanRender(plan_version_id=pid, kind=CHART_KIND, body=body))
    except IntegrityError:
        pass  # another worker stored the same chart meanwhile
    return body


_PREVIEWS: LRU[str, bytes] = LRU(PREVIEW_CACHE_SIZE)


def preview_chart(request: PlanRequest, catalogue: Catalogue, day: dt.date) -> bytes:
    """The chart of the plan the builder would make from ``request`` on ``day``."""

    from benzotaper.web.deps import get_knowledge
    from benzotaper.web.planview import make

    key = f"{day.isoformat()}|{request.model_dump_json()}"
    body = _PREVIEWS.get(key)
    if body is None:
        try:
            plan = make(request, get_knowledge(), day)
        except BenzotaperError:
            body = NO_CHART
        else:
            body = draw(plan, catalogue)
        _PREVIEWS.put(key, body)
    return body


def preview_url(values: dict[str, str]) -> str:
    """Where the builder's preview chart for these form values is drawn."""
    return "/plan/chart.svg?" + urlencode(sorted(values.items()))
