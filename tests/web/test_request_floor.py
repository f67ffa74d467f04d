"""What every signed-in request pays for stays correct where it was made cheaper: the session
check on the event loop (SQLite), the status answer serialised in the route, the read that
trusts the summary row for the person's existence."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import update

from benzotaper.errors import NotFoundError
from benzotaper.journal.status import Status
from benzotaper.knowledge import default_knowledge
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.storage.access import WebSession
from benzotaper.web import WebSettings, create_app

from .conftest import Visitor
from .test_journal import TODAY, plan_started


def test_status_answer_is_what_fastapi_makes_of_the_model(visitor: Visitor) -> None:
    db: Database = visitor.client.app.state.db  # type: ignore[attr-defined]
    user_id = visitor.signup("status-json@example.org")
    assert visitor.api("POST", "/api/plans", json=plan_started(20)).status_code == 201
    r = visitor.client.get("/api/status")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    status = JournalService(db, default_knowledge()).status(user_id, TODAY)
    assert r.content == TypeAdapter(Status).dump_json(status, by_alias=True)
    past = visitor.client.get(f"/api/status?on={(TODAY - dt.timedelta(days=3)).isoformat()}")
    assert past.json()["on"] == (TODAY - dt.timedelta(days=3)).isoformat()
    assert visitor.client.get("/api/status?on=not-a-date").status_code == 422


def test_an_expired_session_signs_nobody_in(visitor: Visitor) -> None:
    db: Database = visitor.client.app.state.db  # type: ignore[attr-defined]
    visitor.signup("expiring@example.org")
    assert visitor.client.get("/api/status").status_code == 200
    assert visitor.client.get("/today").status_code == 200
    with db.transaction() as s:
        s.execute(update(WebSession).values(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    assert visitor.client.get("/api/status").status_code == 401
    page = visitor.client.get("/today", follow_redirects=False)
    assert page.status_code in (302, 303, 401) and 'class="today-h"' not in page.text


@pytest.mark.both_backends
def test_status_without_a_summary_or_a_person(db: Database) -> None:
    journal = JournalService(db, default_knowledge())
    nobody_yet = journal.create_user(email="no-summary@example.org")  # no plan: no summary row
    assert journal.status(nobody_yet).plan_version is None
    assert journal.today(nobody_yet).doses == []
    with pytest.raises(NotFoundError):
        journal.status(nobody_yet + 1000)
    with pytest.raises(NotFoundError):
        journal.plan_state(nobody_yet + 1000)


def test_routes_are_prepared_before_the_first_request(settings: WebSettings) -> None:
    """FastAPI (0.165) prepares an included router's routes (dependencies, a validator per
    parameter) the first time a request is matched against it; with ``prepare_routes`` the app
    does it at start, so no person's first request waits for it. Reads FastAPI's own record of
    what it prepared: if a FastAPI upgrade renames it, rewrite this check for the new one."""
    app = create_app(settings.model_copy(update={"prepare_routes": True}))
    included = [r for r in app.router.routes if hasattr(r, "effective_candidates")]
    assert len(included) >= 15  # one per router of web.routes
    with TestClient(app):
        for router in included:
            built = router._effective_candidates_version  # type: ignore[attr-defined]
            assert built == router.original_router._get_routes_version()  # type: ignore[attr-defined]
