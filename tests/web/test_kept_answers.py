"""Kept answers (``web.kept_answers``) answer exactly what the normal path answers, and every
part of their key matters: change it and the answer changes with it.

Each check asks the app (with the middleware) and the same app built without it, on the same
database and cookies, and compares status, headers and body; forms' one-time tokens are the
only difference allowed (each answer has fresh ones, as the normal path makes them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from benzotaper.storage import Database
from benzotaper.storage.access import WebSession
from benzotaper.web import WebSettings, clock, create_app, kept_answers
from benzotaper.web.kept_answers import KeptAnswers

from .conftest import Visitor
from .test_clinician import _share
from .test_journal import plan_started
from .test_plans import FORM

ROUTES = ("/today", "/my-plan", "/journal", "/api/status")
HX = {"HX-Request": "true"}
_TOKEN = re.compile(rb'(name="form_token" value=")[A-Za-z0-9_-]{43}(")')


def without_kept_answers(settings: WebSettings) -> FastAPI:
    """The same app as ``create_app`` makes, without the kept answers: the normal path."""
    app = create_app(settings)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not KeptAnswers]
    return app


def kept_of(client: TestClient) -> KeptAnswers:
    """The app's kept answers (its middleware stack is built by its first request)."""
    layer: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, KeptAnswers):
        layer = layer.app
    return layer


@pytest.fixture
def plain(settings: WebSettings, visitor: Visitor) -> Iterator[TestClient]:
    """A client of the normal path (``both`` gives it ``visitor``'s cookies: its session)."""
    with TestClient(without_kept_answers(settings)) as client:
        yield client


def tokens(body: bytes) -> list[bytes]:
    return [m.group(0) for m in _TOKEN.finditer(body)]


def assert_same(kept: httpx.Response, normal: httpx.Response) -> None:
    """Status, headers and body alike, but forms' one-time tokens."""
    assert kept.status_code == normal.status_code
    assert sorted(kept.headers.multi_items()) == sorted(normal.headers.multi_items())
    blank = rb"\1" + b"x" * 43 + rb"\2"
    assert _TOKEN.sub(blank, kept.content) == _TOKEN.sub(blank, normal.content)


Ask = Callable[..., httpx.Response]


def both(visitor: Visitor, plain: TestClient, path: str, **kw: Any) -> httpx.Response:
    """``path`` asked twice (made, then kept) and of the normal path: all alike; the kept one."""
    method = "POST" if path == "/plan/preview" else "GET"
    if method == "POST":
        kw.setdefault("data", FORM)
        kw["headers"] = {"X-CSRF-Token": visitor.csrf, **HX, **kw.get("headers", {})}
    plain.cookies = visitor.client.cookies
    made = visitor.client.request(method, path, **kw)
    kept = visitor.client.request(method, path, **kw)
    normal = plain.request(method, path, **kw)
    assert kept.status_code == 200, kept.text[:300]
    assert_same(made, normal)
    assert_same(kept, normal)
    return kept


def patient_with_plan(visitor: Visitor, email: str = "kept@example.org") -> int:
    user_id = visitor.signup(email, name="Kay")
    assert visitor.api("POST", "/api/plans", json=plan_started(20)).status_code == 201
    note = {"entry": {"kind": "note", "note": "first note"}}
    assert visitor.api("POST", "/api/journal/entries", json=note).status_code == 201
    return user_id


def test_every_kept_route_answers_as_the_normal_path(visitor: Visitor, plain: TestClient) -> None:
    patient_with_plan(visitor)
    kept = kept_of(visitor.client)
    for path in (*ROUTES, "/plan/preview"):
        before = len(kept.kept._items)
        both(visitor, plain, path)
        both(visitor, plain, path, headers=HX)  # htmx's header changes nothing they show
        assert len(kept.kept._items) == before + 1, path  # kept once, then answered from it
    assert len(kept_answers.ROUTES) == len(ROUTES) + 1  # each route kept is checked here


def test_forms_get_fresh_one_time_tokens_and_still_record(visitor: Visitor) -> None:
    patient_with_plan(visitor)
    first, second = (visitor.client.get("/today").content for _ in range(2))
    assert len(tokens(first)) == len(tokens(second)) >= 2
    assert not set(tokens(first)) & set(tokens(second))
    token = re.search(rb'name="form_token" value="([^"]+)"', second)
    assert token is not None
    taken = visitor.form(
        "/today/take",
        {"drug": "diazepam", "planned_time": "08:00", "form_token": token.group(1).decode()},
        follow_redirects=False,
    )
    assert taken.status_code == 303
    assert "Undo" in visitor.client.get(taken.headers["location"]).text


def test_a_change_to_the_journal_or_plan_is_seen_at_once(
    visitor: Visitor, plain: TestClient
) -> None:
    patient_with_plan(visitor)
    for path in ROUTES:
        both(visitor, plain, path)
    note = {"entry": {"kind": "note", "note": "a second, later note"}}
    assert visitor.api("POST", "/api/journal/entries", json=note).status_code == 201
    assert "a second, later note" in both(visitor, plain, "/journal").text
    assert visitor.api("POST", "/api/plans", json=plan_started(10)).status_code == 201
    assert "version 2" in both(visitor, plain, "/my-plan").text


@pytest.mark.both_backends  # the read in the thread pool on PostgreSQL, inline on SQLite
def test_a_change_through_another_worker_is_seen_at_once(
    settings: WebSettings, visitor: Visitor, plain: TestClient
) -> None:
    """Another process's kept answers: the stamp read on every request moves with its write."""
    patient_with_plan(visitor)
    before = both(visitor, plain, "/journal").text
    with TestClient(create_app(settings)) as other:
        other.cookies = visitor.client.cookies
        note = {"entry": {"kind": "note", "note": "written by the other worker"}}
        headers = {"X-CSRF-Token": visitor.csrf}
        assert other.post("/api/journal/entries", json=note, headers=headers).status_code == 201
    after = both(visitor, plain, "/journal").text
    assert "written by the other worker" in after and "written by the other worker" not in before


def test_each_person_and_session_gets_their_own(
    make_visitor: Callable[[], Visitor], visitor: Visitor, plain: TestClient
) -> None:
    patient_with_plan(visitor)
    mine = both(visitor, plain, "/today").text
    other = make_visitor()
    patient_with_plan(other, "other@example.org")
    theirs = other.client.get("/today").text
    assert f'content="{other.csrf}"' in theirs and f'content="{other.csrf}"' not in mine
    # the same person signed in again: a new session, with its own CSRF token on the page
    again = make_visitor()
    login = {"email": "kept@example.org", "password": "correct horse battery staple"}
    assert again.api("POST", "/api/session", json=login).status_code == 200
    page = again.client.get("/today").text
    assert f'content="{again.csrf}"' in page and again.csrf != visitor.csrf


def test_the_person_s_time_zone_and_day(
    visitor: Visitor, plain: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_with_plan(visitor)
    today = both(visitor, plain, "/today").text
    real = clock.now_in

    def tomorrow(tz: str | None, at: dt.datetime | None = None) -> dt.datetime:
        return real(tz, at or dt.datetime.now(dt.UTC) + dt.timedelta(days=1))

    monkeypatch.setattr(clock, "now_in", tomorrow)
    assert both(visitor, plain, "/today").text != today
    assert (
        both(visitor, plain, "/api/status").json()["on"]
        == (real("UTC") + dt.timedelta(days=1)).date().isoformat()
    )
    monkeypatch.undo()
    journal = both(visitor, plain, "/journal").text
    zone = {"time_zone": "Pacific/Kiritimati"}  # UTC+14: a moment shown in it reads otherwise
    assert visitor.form("/account/time-zone", zone, follow_redirects=False).status_code == 303
    assert both(visitor, plain, "/journal").text != journal


def test_the_reader_s_language(visitor: Visitor, plain: TestClient) -> None:
    patient_with_plan(visitor)
    us = both(visitor, plain, "/today", headers={"Accept-Language": "en-US"}).text
    gb = both(visitor, plain, "/today", headers={"Accept-Language": "en-GB"}).text
    assert us != gb


@pytest.mark.both_backends  # PostgreSQL: the session and the suggestions, two autocommit reads
def test_the_clinician_s_suggestions_on_my_plan(
    make_visitor: Callable[[], Visitor], visitor: Visitor, plain: TestClient
) -> None:
    patient_with_plan(visitor)
    clinician = make_visitor()
    clinician.signup("kept-dr@example.org", role="clinician", name="Dr K")
    pid = _share(visitor, clinician)
    assert "Suggestions from your clinician" not in both(visitor, plain, "/my-plan").text
    sent = clinician.form(f"/clinician/patients/{pid}/suggest", {"message": "Slower?"})
    assert sent.status_code in (200, 303)
    assert "Slower?" in both(visitor, plain, "/my-plan").text


def test_the_form_and_the_server_s_day_of_a_preview(
    visitor: Visitor, plain: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_with_plan(visitor)
    first = both(visitor, plain, "/plan/preview").text
    slower = both(visitor, plain, "/plan/preview", data=FORM | {"dose_1": "0.25 mg"}).text
    assert first != slower
    from benzotaper.web.routes import builder

    monkeypatch.setattr(builder, "today", lambda: dt.date.today() + dt.timedelta(days=40))
    assert both(visitor, plain, "/plan/preview").text != first


def test_a_preview_without_the_session_s_token_is_refused(visitor: Visitor) -> None:
    patient_with_plan(visitor)
    headers = {"X-CSRF-Token": visitor.csrf, **HX}
    assert visitor.client.post("/plan/preview", data=FORM, headers=headers).status_code == 200
    wrong = {"X-CSRF-Token": "x" * 43, **HX}
    assert visitor.client.post("/plan/preview", data=FORM, headers=wrong).status_code == 403
    assert visitor.client.post("/plan/preview", data=FORM, headers=HX).status_code == 403


@pytest.mark.both_backends
def test_an_ended_session_gets_nothing_kept(visitor: Visitor) -> None:
    patient_with_plan(visitor)
    db: Database = visitor.client.app.state.db  # type: ignore[attr-defined]
    for path in ROUTES:
        assert visitor.client.get(path).status_code == 200
    with db.transaction() as s:
        s.execute(update(WebSession).values(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    assert visitor.client.get("/api/status").status_code == 401
    for path in ("/today", "/my-plan", "/journal"):
        page = visitor.client.get(path, follow_redirects=False)
        assert page.status_code in (302, 303, 401) and "first note" not in page.text


def test_signing_out_ends_the_kept_answers(visitor: Visitor) -> None:
    patient_with_plan(visitor)
    cookies = httpx.Cookies(visitor.client.cookies)
    assert visitor.client.get("/api/status").status_code == 200
    assert visitor.form("/logout", {}, follow_redirects=False).status_code == 303
    visitor.client.cookies = cookies  # the old session cookie, sent again
    assert visitor.client.get("/api/status").status_code == 401


def test_what_is_never_kept(visitor: Visitor, plain: TestClient) -> None:
    """A query, a flash cookie, a person without a summary: the normal path every time."""
    visitor.signup("no-plan@example.org")  # no plan yet: no summary
    kept = kept_of(visitor.client)
    both(visitor, plain, "/today")
    assert len(kept.kept._items) == 0
    assert visitor.api("POST", "/api/plans", json=plan_started(20)).status_code == 201
    note = visitor.client.get("/today?note=already").text
    assert "already recorded" in note and len(kept.kept._items) == 0
    visitor.client.cookies.set("flash", "anything")
    assert visitor.client.get("/today").status_code == 200
    assert len(kept.kept._items) == 0


def test_headers_are_read_as_the_routes_read_them(visitor: Visitor, plain: TestClient) -> None:
    """The first header of a name counts (Starlette's ``headers.get``), so an answer made for
    one is never kept for another."""
    patient_with_plan(visitor)
    twice = [("Accept-Language", "en-US"), ("Accept-Language", "en-GB")]
    us = both(visitor, plain, "/today", headers=twice).text
    assert both(visitor, plain, "/today", headers={"Accept-Language": "en-GB"}).text != us


def test_a_preview_s_body_is_read_with_its_content_type(visitor: Visitor) -> None:
    patient_with_plan(visitor)
    body = str(httpx.QueryParams(FORM))
    form = {"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": visitor.csrf}
    for _ in range(2):
        kept = visitor.client.post("/plan/preview", content=body, headers={**form, **HX})
        assert kept.status_code == 200
    text = {**form, "Content-Type": "text/plain", **HX}
    assert visitor.client.post("/plan/preview", content=body, headers=text).status_code == 422
