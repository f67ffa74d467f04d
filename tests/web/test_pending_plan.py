"""A plan built while logged out is carried through log-in or registration and then saved."""

from __future__ import annotations

import html
import re

import pytest

from .conftest import PASSWORD, Visitor
from .test_plans import FORM


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def pending_of(page: str) -> str:
    values = re.findall(r'name="pending_plan" value="([^"]*)"', page)
    assert values, "the page does not carry the plan"
    assert len(set(values)) == 1  # the same plan in every form of the page
    return html.unescape(values[0])


def saved_regimen(v: Visitor) -> list[tuple[str, float, str]]:
    versions = v.client.get("/api/plans").json()
    assert len(versions) == 1 and versions[0]["active"]
    plan = v.client.get("/api/plans/active").json()
    regimen = plan["plan"]["request"]["regimen"]
    return [(a["drug"], a["mg"], a["time"]) for a in regimen]


BUILT = [("clonazepam", 0.5, "08:00"), ("clonazepam", 0.5, "22:00")]


def test_register_after_building_saves_the_plan(visitor: Visitor) -> None:
    r = visitor.form("/plan/save", FORM)
    assert r.status_code == 200 and "Save your plan" in r.text
    assert "Create account and save the plan" in r.text and "Log in and save the plan" in r.text
    pending = pending_of(r.text)
    r = visitor.form(
        "/register",
        {
            "email": "new@example.org",
            "password": PASSWORD,
            "role": "patient",
            "time_zone": "Europe/London",
            "pending_plan": pending,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/my-plan?saved=1"
    assert saved_regimen(visitor) == BUILT


def test_login_after_building_saves_the_plan(make_visitor) -> None:  # type: ignore[no-untyped-def]
    make_visitor().signup("back@example.org")
    v = make_visitor()
    pending = pending_of(v.form("/plan/save", {**FORM, "age": "61"}).text)
    r = v.form(
        "/login",
        {"email": "back@example.org", "password": PASSWORD, "pending_plan": pending},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/my-plan?saved=1"
    assert saved_regimen(v) == BUILT
    assert v.client.get("/api/plans/active").json()["plan"]["request"]["person"]["age"] == 61


def test_failed_login_keeps_the_plan_and_the_email(make_visitor) -> None:  # type: ignore[no-untyped-def]
    make_visitor().signup("typo@example.org")
    v = make_visitor()
    pending = pending_of(v.form("/plan/save", FORM).text)
    r = v.form(
        "/login", {"email": "typo@example.org", "password": "wrong one!", "pending_plan": pending}
    )
    assert r.status_code == 422 and "do not match an account" in r.text
    assert pending_of(r.text) == pending and 'value="typo@example.org"' in r.text
    r = v.form("/login", {"email": "", "password": "", "pending_plan": pending})
    assert r.status_code == 422 and pending_of(r.text) == pending
    assert '<p class="error" id="email-err">Enter the email address' in r.text
    assert '<p class="error" id="password-err">Enter your password.' in r.text
    # a failed registration on the same page keeps it too (and its own ids do not clash)
    r = v.form("/register", {"email": "x", "password": "short", "pending_plan": pending})
    assert r.status_code == 422 and pending_of(r.text) == pending
    assert 'id="reg-email-err"' in r.text and r.text.count('id="email"') == 1
    # then the right password saves it
    r = v.form(
        "/login",
        {"email": "typo@example.org", "password": PASSWORD, "pending_plan": pending},
        follow_redirects=False,
    )
    assert r.status_code == 303 and saved_regimen(v) == BUILT


def test_back_to_the_builder_restores_every_value(visitor: Visitor) -> None:
    pending = pending_of(visitor.form("/plan/save", {**FORM, "seizures": "on"}).text)
    r = visitor.form("/plan/new", {"pending_plan": pending})
    assert r.status_code == 200
    for value in ("Klonopin", "22:00", "45"):
        assert f'value="{value}"' in r.text
    assert re.search(r'name="seizures" value="on" checked', r.text)
    assert "Agree this plan with your prescriber" in r.text  # the preview is shown again


def test_unreadable_pending_plan_is_a_clear_error(make_visitor) -> None:  # type: ignore[no-untyped-def]
    make_visitor().signup("tamper@example.org")
    v = make_visitor()
    for bad in ("not json", '["a list"]', '{"drug_0": 5}'):
        r = v.form(
            "/login", {"email": "tamper@example.org", "password": PASSWORD, "pending_plan": bad}
        )
        assert r.status_code == 422 and "could not be read" in r.text
        assert v.client.get("/api/session").json()["user"] is None  # not logged in


def test_invalid_plan_is_not_carried_but_shown_with_its_errors(visitor: Visitor) -> None:
    r = visitor.form("/plan/save", {**FORM, "dose_0": "lots"})
    assert r.status_code == 422 and 'value="lots"' in r.text and "pending_plan" not in r.text


def test_plan_that_fails_after_login_comes_back_filled_in(make_visitor) -> None:  # type: ignore[no-untyped-def]
    """A clinician account cannot hold a plan: logged in, the builder shows it, values kept."""
    make_visitor().signup("doc@example.org", role="clinician")
    v = make_visitor()
    pending = pending_of(v.form("/plan/save", FORM).text)
    r = v.form(
        "/login", {"email": "doc@example.org", "password": PASSWORD, "pending_plan": pending}
    )
    assert r.status_code == 422 and "patient accounts" in r.text and 'value="Klonopin"' in r.text
    me = v.client.get("/api/session").json()
    assert me["user"]["role"] == "clinician"  # logged in all the same
    assert re.search(r'<meta name="csrf-token" content="' + re.escape(me["csrf_token"]), r.text)
