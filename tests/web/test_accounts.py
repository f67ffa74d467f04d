"""Accounts: registration, login, logout, sessions in the database, password hashing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from benzotaper.storage import User
from benzotaper.storage.access import WebSession
from benzotaper.web.accounts import token_hash

from .conftest import PASSWORD, Visitor, csrf_of


def test_register_page_logs_in_and_redirects(visitor: Visitor) -> None:
    page = visitor.client.get("/register")
    assert page.status_code == 200
    r = visitor.client.post(
        "/register",
        data={
            "email": "Ann@Example.org",
            "password": PASSWORD,
            "role": "patient",
            "display_name": "Ann",
            "time_zone": "America/New_York",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/today"
    me = visitor.client.get("/api/session").json()
    assert me["user"]["email"] == "ann@example.org" and me["user"]["role"] == "patient"
    assert me["user"]["time_zone"] == "America/New_York"
    cookie = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookie if c.startswith("bt_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    assert "Secure" not in session_cookie  # plain http test server, secure_cookies off


def test_register_failure_keeps_what_was_typed(visitor: Visitor) -> None:
    r = visitor.form(
        "/register",
        {"email": "not-an-email", "password": "short", "role": "patient", "display_name": "Bo"},
    )
    assert r.status_code == 422
    assert "Enter an email address" in r.text and "at least 10 characters" in r.text
    # each message sits next to its field and is tied to it for screen readers
    assert re.search(r'id="email"[^>]*aria-invalid="true" aria-describedby="email-err"', r.text)
    assert '<p class="error" id="email-err">Enter an email address' in r.text
    assert '<p class="error" id="password-err">Choose a password of at least 10' in r.text
    assert 'value="not-an-email"' in r.text and 'value="Bo"' in r.text
    assert "short" not in r.text  # never echo a password
    # the time zone is asked for (the page picks the browser's; without JavaScript, a choice)
    assert '<p class="error" id="time_zone-err">Choose your time zone' in r.text


def test_time_zone_is_changed_on_the_account_page(visitor: Visitor) -> None:
    visitor.signup("tz@example.org")
    assert visitor.client.get("/api/session").json()["user"]["time_zone"] == "UTC"
    r = visitor.form("/account/time-zone", {"time_zone": "Mars/Olympus_Mons"})
    assert r.status_code == 422 and "Choose your time zone" in r.text
    r = visitor.form("/account/time-zone", {"time_zone": "Asia/Kolkata"})
    assert r.status_code == 200 and "Time zone saved: Asia/Kolkata" in r.text
    assert visitor.client.get("/api/session").json()["user"]["time_zone"] == "Asia/Kolkata"


@pytest.mark.both_backends
def test_registration_never_says_an_address_is_taken(make_visitor) -> None:  # type: ignore[no-untyped-def]
    owner_id = make_visitor().signup("dup@example.org")
    other = "another long passphrase"
    r = make_visitor().api(
        "POST", "/api/users", json={"email": "DUP@example.org", "password": other}
    )
    assert r.status_code == 422
    msg = r.json()["detail"][0]["msg"]
    assert "cannot be used to create a new account" in msg and "exists" not in msg
    page = make_visitor().form(
        "/register",
        {"email": "dup@example.org", "password": other, "time_zone": "Europe/London"},
    )
    assert page.status_code == 422 and "cannot be used to create a new account" in page.text
    # the owner re-registering with their own password is simply signed in to their account
    r = make_visitor().api(
        "POST", "/api/users", json={"email": "dup@example.org", "password": PASSWORD}
    )
    assert r.status_code == 201 and r.json()["user"]["id"] == owner_id


def test_password_is_argon2id_and_session_token_hashed(visitor: Visitor, settings) -> None:  # type: ignore[no-untyped-def]
    visitor.signup("hash@example.org")
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(User.password_hash)).scalar_one()
        hashes = conn.execute(sa.select(WebSession.token_hash)).scalars().all()
    engine.dispose()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    cookie = visitor.client.cookies.get("bt_session")
    assert cookie and token_hash(cookie) in hashes and cookie not in hashes


def test_login_logout(make_visitor) -> None:  # type: ignore[no-untyped-def]
    make_visitor().signup("lo@example.org", name="Lo")
    b = make_visitor()
    page = b.client.get("/login")
    r = b.client.post(
        "/login",
        data={"email": "lo@example.org", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert b.client.get("/account").status_code == 200
    r = b.form("/logout", {}, follow_redirects=False)
    assert r.status_code == 303
    assert b.client.get("/api/session").json()["user"] is None
    r = b.client.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_wrong_password_same_message_as_unknown_account(make_visitor) -> None:  # type: ignore[no-untyped-def]
    make_visitor().signup("known@example.org")
    b = make_visitor()
    wrong = b.api("POST", "/api/session", json={"email": "known@example.org", "password": "x"})
    unknown = b.api("POST", "/api/session", json={"email": "nobody@example.org", "password": "x"})
    assert wrong.status_code == unknown.status_code == 422
    assert wrong.json()["detail"][0]["msg"] == unknown.json()["detail"][0]["msg"]


def test_login_next_only_local(make_visitor) -> None:  # type: ignore[no-untyped-def]
    make_visitor().signup("nx@example.org")
    b = make_visitor()
    for target, expected in (("/account", "/account"), ("//evil.example", "/today")):
        r = b.form(
            "/login",
            {"email": "nx@example.org", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert r.headers["location"] == expected


@pytest.mark.both_backends
def test_session_is_shared_by_separate_app_instances(settings) -> None:  # type: ignore[no-untyped-def]
    """Two app objects (as two worker processes) on one database see the same session."""
    from fastapi.testclient import TestClient

    from benzotaper.web import create_app

    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        b = Visitor(one)
        b.signup("workers@example.org")
        two.cookies.set("bt_session", one.cookies["bt_session"])
        assert two.get("/api/session").json()["user"]["email"] == "workers@example.org"
