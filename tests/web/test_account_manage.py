"""Account management through the real edges: change the password, log out everywhere,
download everything, delete the account (the export comes first and with the deletion), and
that the password asked again is throttled like a login."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from benzotaper.web.passwords import COMMON
from benzotaper.web.routes.account_manage import WRONG_PASSWORD

from .conftest import PASSWORD, Clock, Visitor
from .test_journal import plan_started

NEW = "seven tired owls sing at noon"
Make = Callable[[], Visitor]


def _login(v: Visitor, email: str, password: str) -> int:
    r = v.api("POST", "/api/session", json={"email": email, "password": password})
    return r.status_code


def _signed_in(v: Visitor) -> bool:
    return v.client.get("/api/session").json()["user"] is not None


def _with_a_journal(v: Visitor, email: str) -> None:
    v.signup(email, name="Ann")
    assert v.api("POST", "/api/plans", json=plan_started(3)).status_code == 201
    note = {"entry": {"kind": "note", "note": "slept badly, =1+1"}}
    assert v.api("POST", "/api/journal/entries", json=note).status_code == 201


# ----------------------------------------------------------------------------- password


def test_api_password_change_signs_out_every_other_session(make_visitor: Make) -> None:
    here, there = make_visitor(), make_visitor()
    here.signup("pw@example.org")
    assert _login(there, "pw@example.org", PASSWORD) == 200

    wrong = here.api(
        "POST", "/api/account/password", json={"current_password": "nope", "new_password": NEW}
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "current_password"]
    weak = here.api(
        "POST",
        "/api/account/password",
        json={"current_password": PASSWORD, "new_password": "password12"},
    )
    assert weak.status_code == 422
    assert weak.json()["detail"] == [
        {"loc": ["body", "new_password"], "msg": COMMON, "type": "account"}
    ]
    assert _signed_in(there)  # refusals change nothing

    ok = here.api(
        "POST", "/api/account/password", json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert ok.status_code == 204
    assert _signed_in(here) and not _signed_in(there)
    assert _login(make_visitor(), "pw@example.org", PASSWORD) == 422
    assert _login(make_visitor(), "pw@example.org", NEW) == 200


def test_page_password_change_shows_each_problem_beside_its_field(visitor: Visitor) -> None:
    visitor.signup("pwpage@example.org")
    page = visitor.client.get("/account").text
    assert 'action="/account/password"' in page and 'autocomplete="new-password"' in page
    r = visitor.form("/account/password", {"current_password": "", "new_password": NEW})
    assert (
        r.status_code == 422 and 'id="current_password-err">Enter your current password' in r.text
    )
    r = visitor.form(
        "/account/password", {"current_password": PASSWORD, "new_password": "pwpage@example.org"}
    )
    assert (
        r.status_code == 422 and 'id="new_password-err">Choose a password that does not' in r.text
    )
    r = visitor.form("/account/password", {"current_password": PASSWORD, "new_password": PASSWORD})
    assert r.status_code == 422 and "not the one you have now" in r.text
    assert PASSWORD not in r.text  # nothing typed in a password field comes back
    r = visitor.form(
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/account?password=changed#password"
    assert "Password changed" in visitor.client.get(r.headers["location"]).text


def test_asking_the_password_again_is_throttled_like_a_login(
    visitor: Visitor, throttle_clock: Clock
) -> None:
    visitor.signup("guess@example.org")  # settings: 3 failures, then a growing wait
    body = {"current_password": "guess", "new_password": NEW}
    for _ in range(3):
        assert visitor.api("POST", "/api/account/password", json=body).status_code == 422
    r = visitor.api("POST", "/api/account/password", json=body)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    r = visitor.api("POST", "/api/account/delete", json={"password": PASSWORD})
    assert r.status_code == 429  # the right password waits too: no way round by deleting
    page = visitor.form("/account/delete", {"password": PASSWORD})
    assert page.status_code == 429 and "Retry-After" in page.headers
    throttle_clock.advance(60)
    r = visitor.api(
        "POST", "/api/account/password", json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert r.status_code == 204
    assert visitor.api("POST", "/api/account/password", json=body).status_code == 422  # cleared


# ----------------------------------------------------------------------------- log out everywhere


def test_log_out_everywhere_api_ends_every_session(make_visitor: Make) -> None:
    here, there = make_visitor(), make_visitor()
    here.signup("everywhere@example.org")
    assert _login(there, "everywhere@example.org", PASSWORD) == 200
    assert here.api("DELETE", "/api/account/sessions").status_code == 204
    assert not _signed_in(here) and not _signed_in(there)
    assert there.client.get("/api/plans").status_code == 401
    assert _login(here, "everywhere@example.org", PASSWORD) == 200  # the password still works


def test_log_out_everywhere_page(make_visitor: Make) -> None:
    here, there = make_visitor(), make_visitor()
    here.signup("everywhere2@example.org")
    assert _login(there, "everywhere2@example.org", PASSWORD) == 200
    assert 'action="/account/sessions/end"' in here.client.get("/account").text
    r = here.form("/account/sessions/end", {})
    assert r.status_code == 200 and "You are logged out everywhere" in r.text
    assert [h.status_code for h in r.history] == [303]  # Post/Redirect/Get
    assert not _signed_in(here) and not _signed_in(there)
    assert here.client.get("/account", follow_redirects=False).status_code in (302, 303, 401)


# ----------------------------------------------------------------------------- export and delete


def test_export_downloads_everything_but_secrets(visitor: Visitor) -> None:
    _with_a_journal(visitor, "export@example.org")
    r = visitor.client.get("/api/account/export")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.headers["content-disposition"].startswith('attachment; filename="benzotaper-journal-')
    doc = r.json()
    assert doc["user"]["email"] == "export@example.org" and len(doc["plan_versions"]) == 1
    assert [e["data"]["note"] for e in doc["entries"]] == ["slept badly, =1+1"]
    assert "argon2" not in r.text and "password" not in r.text


@pytest.mark.both_backends
def test_api_delete_answers_with_the_export_and_removes_everything(make_visitor: Make) -> None:
    patient, elsewhere = make_visitor(), make_visitor()
    _with_a_journal(patient, "gone@example.org")
    assert _login(elsewhere, "gone@example.org", PASSWORD) == 200
    assert patient.api("POST", "/api/shares").status_code == 201

    r = patient.api("POST", "/api/account/delete", json={"password": "not it"})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == WRONG_PASSWORD
    before = patient.client.get("/api/account/export").json()

    r = patient.api("POST", "/api/account/delete", json={"password": PASSWORD})
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    assert r.json() == before  # the last copy is exactly what was deleted
    assert not _signed_in(patient) and not _signed_in(elsewhere)
    assert _login(make_visitor(), "gone@example.org", PASSWORD) == 422

    # The address is free again; the new account starts empty.
    again = make_visitor()
    again.signup("gone@example.org")
    assert again.client.get("/api/plans").json() == []
    assert again.client.get("/api/journal/entries").json() == []
    assert again.client.get("/api/shares").json() == []


def test_page_delete_offers_the_download_first(visitor: Visitor) -> None:
    _with_a_journal(visitor, "pagedel@example.org")
    page = visitor.client.get("/account/delete").text
    download, form = (
        page.index('href="/api/account/export"'),
        page.index('action="/account/delete"'),
    )
    assert download < form and "agree any change with your prescriber" in page
    r = visitor.form("/account/delete", {"password": "wrong one"})
    assert r.status_code == 422 and f'id="password-err">{WRONG_PASSWORD}' in r.text
    assert _signed_in(visitor)
    r = visitor.form("/account/delete", {"password": PASSWORD})
    assert r.status_code == 200 and "Your account has been deleted" in r.text
    assert not _signed_in(visitor)
    assert _login(visitor, "pagedel@example.org", PASSWORD) == 422


@pytest.mark.both_backends
def test_a_deleted_clinician_stays_in_the_patients_audit_trail(make_visitor: Make) -> None:
    patient, clinician = make_visitor(), make_visitor()
    pid = patient.signup("kept@example.org", name="Pat")
    clinician.signup("leaving@example.org", role="clinician", name="Dr Leaving")
    code = patient.api("POST", "/api/shares").json()["code"]
    assert clinician.api("POST", "/api/patients", json={"code": code}).status_code == 201
    assert clinician.client.get(f"/api/patients/{pid}").status_code == 200

    r = clinician.api("POST", "/api/account/delete", json={"password": PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["role"] == "clinician"
    account = patient.client.get("/account").text
    assert "Dr Leaving, whose account has since been deleted" in account
    assert "read your summary and alerts through the API" in account
    assert patient.client.get("/api/shares").json() == []  # the share went with the clinician


def test_password_bodies_are_never_kept_for_idempotency(visitor: Visitor) -> None:
    visitor.signup("idem@example.org")
    headers = {"X-CSRF-Token": visitor.csrf, "Idempotency-Key": "change-1"}
    body = {"current_password": PASSWORD, "new_password": NEW}
    first = visitor.client.post("/api/account/password", json=body, headers=headers)
    again = visitor.client.post("/api/account/password", json=body, headers=headers)
    assert first.status_code == 204
    assert again.status_code == 422  # run again, and it says why: the current one is new now
    assert "the new one is already in force" in again.json()["detail"][0]["msg"]
