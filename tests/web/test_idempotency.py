"""A retried write is stored once: Idempotency-Key on the API, a form token on pages
(SQLite; the stored-once and in-flight cases on PostgreSQL too)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from benzotaper.storage.access import IdempotencyKey
from benzotaper.web import WebSettings

from .conftest import Visitor

NOTE = {"entry": {"kind": "note", "note": "slept badly"}}


def post_keyed(v: Visitor, key: str, body: dict[str, Any]) -> Any:
    headers = {"X-CSRF-Token": v.csrf, "Idempotency-Key": key}
    return v.client.post("/api/journal/entries", json=body, headers=headers)


def notes(v: Visitor) -> list[Any]:
    entries: list[Any] = v.client.get("/api/journal/entries?kind=note").json()
    return entries


@pytest.mark.both_backends
def test_a_retried_api_write_is_stored_once(visitor: Visitor) -> None:
    visitor.signup("idem@example.org")
    first = post_keyed(visitor, "retry-0001-abcdef", NOTE)
    again = post_keyed(visitor, "retry-0001-abcdef", NOTE)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(notes(visitor)) == 1
    # a new key is a new write
    assert post_keyed(visitor, "retry-0002-abcdef", NOTE).status_code == 201
    assert len(notes(visitor)) == 2


def test_a_key_reused_for_another_request_is_refused(visitor: Visitor) -> None:
    visitor.signup("idem-other@example.org")
    assert post_keyed(visitor, "reused-key-0001", NOTE).status_code == 201
    other = {"entry": {"kind": "note", "note": "another note"}}
    r = post_keyed(visitor, "reused-key-0001", other)
    assert r.status_code == 422 and "different request" in r.text
    assert post_keyed(visitor, "short", NOTE).status_code == 422
    assert len(notes(visitor)) == 1


def test_keys_are_per_person_and_expire(
    make_visitor: Callable[[], Visitor], settings: WebSettings
) -> None:
    a, b = make_visitor(), make_visitor()
    a.signup("idem-a@example.org")
    b.signup("idem-b@example.org")
    assert post_keyed(a, "shared-key-0001", NOTE).status_code == 201
    r = post_keyed(b, "shared-key-0001", NOTE)
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert len(notes(b)) == 1
    engine = sa.create_engine(settings.database_url)
    with engine.begin() as conn:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
        conn.execute(sa.update(IdempotencyKey).values(created_at=old))
    engine.dispose()
    assert post_keyed(a, "shared-key-0001", NOTE).status_code == 201  # expired: runs again
    assert len(notes(a)) == 2


@pytest.mark.both_backends
def test_a_request_still_running_gets_409(visitor: Visitor, settings: WebSettings) -> None:
    visitor.signup("idem-busy@example.org")
    me = visitor.client.get("/api/session").json()["user"]["id"]
    assert post_keyed(visitor, "busy-key-0001", NOTE).status_code == 201
    engine = sa.create_engine(settings.database_url)
    with engine.begin() as conn:  # as if the first request had not finished
        conn.execute(
            sa.update(IdempotencyKey).values(status=None).where(IdempotencyKey.user_id == me)
        )
    engine.dispose()
    r = post_keyed(visitor, "busy-key-0001", NOTE)
    assert r.status_code == 409 and "Check whether it was saved" in r.text
    assert len(notes(visitor)) == 1


def test_answers_that_did_nothing_are_not_kept(visitor: Visitor) -> None:
    visitor.signup("idem-csrf@example.org")
    r = visitor.client.post(
        "/api/journal/entries",
        json=NOTE,
        headers={"X-CSRF-Token": "forged", "Idempotency-Key": "k-forged-01"},
    )
    assert r.status_code == 403
    assert post_keyed(visitor, "k-forged-01", NOTE).status_code == 201  # runs, not a kept 403


def test_a_page_form_submitted_twice_is_stored_once(visitor: Visitor) -> None:
    visitor.signup("idem-page@example.org")
    page = visitor.client.get("/journal").text
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token
    form = {
        "note_text": "a note typed once",
        "form_token": token.group(1),
        "csrf_token": visitor.csrf,
    }
    first = visitor.client.post("/journal/note", data=form, follow_redirects=False)
    second = visitor.client.post("/journal/note", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert second.headers["idempotent-replayed"] == "true"
    assert [n["entry"]["note"] for n in notes(visitor)] == ["a note typed once"]
    # each page render has a fresh token
    again = visitor.client.get("/journal").text
    assert token.group(1) not in again
