"""The password policy through the real edges: registration page and API, and the rule itself
(common and leaked passwords from zxcvbn's list, the person's own email address)."""

from __future__ import annotations

import re

import pytest

from benzotaper.web.passwords import COMMON, HAS_EMAIL, SIMILAR, TOO_SHORT, password_problem

from .conftest import PASSWORD, Visitor


@pytest.mark.parametrize(
    ("password", "email", "problem"),
    [
        ("1234567890", "ann@example.org", COMMON),
        ("password12", "ann@example.org", COMMON),
        ("qwertyuiop", "ann@example.org", COMMON),
        ("iloveyou12", "ann@example.org", SIMILAR),
        ("London2023!", "ann@example.org", SIMILAR),
        ("ann@example.org", "ann@example.org", HAS_EMAIL),
        ("ANN@Example.org!!", "ann@example.org", HAS_EMAIL),
        ("annabelle", "annabelle@example.org", TOO_SHORT),
        ("annabelle11", "annabelle@example.org", HAS_EMAIL),
        ("my name is annabelle", "annabelle@example.org", HAS_EMAIL),
        ("jo", "jo@example.org", TOO_SHORT),
    ],
)
def test_refused(password: str, email: str, problem: str) -> None:
    assert password_problem(password, email) == problem


@pytest.mark.parametrize(
    ("password", "email"),
    [
        (PASSWORD, "ann@example.org"),
        ("walking by the sea at dusk", "ann@example.org"),
        ("enjoying mountains", "jo@example.org"),  # "jo" is too short to count as the address
        ("Blue kettle rain", "ann@example.org"),
        ("seven tired owls sing at noon by the grey sea " * 5, "ann@example.org"),  # > 40
    ],
)
def test_accepted(password: str, email: str) -> None:
    assert password_problem(password, email) is None


def test_a_long_password_is_judged_by_its_beginning() -> None:
    """zxcvbn's time grows fast with length: it sees the first 40 characters (the whole
    of this one would pass), and a strong beginning is enough."""
    assert password_problem("a" * 40 + " enjoying mountains by the sea", "ann@example.org")
    assert password_problem("Blue kettle rain" + "a" * 200, "ann@example.org") is None


def test_trivial_patterns_are_refused_with_the_reason() -> None:
    msg = password_problem("abcdefghijk", "ann@example.org")
    assert msg and "easy to guess" in msg and "Sequences" in msg


def test_api_registration_names_the_password_field(visitor: Visitor) -> None:
    r = visitor.api(
        "POST", "/api/users", json={"email": "weak@example.org", "password": "password12"}
    )
    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["body", "password"], "msg": COMMON, "type": "account"}]
    r = visitor.api(
        "POST",
        "/api/users",
        json={"email": "Weak.Person@example.org", "password": "weak.person@example.org"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == HAS_EMAIL
    assert visitor.client.get("/api/session").json()["user"] is None  # nothing was created


def test_registration_page_shows_the_refusal_beside_the_password(visitor: Visitor) -> None:
    r = visitor.form(
        "/register",
        {
            "email": "page@example.org",
            "password": "1234567890",
            "role": "patient",
            "display_name": "Page",
            "time_zone": "Europe/London",
        },
    )
    assert r.status_code == 422
    assert f'<p class="error" id="password-err">{COMMON}' in r.text
    assert re.search(r'id="password"[^>]*aria-describedby="password-hint password-err"', r.text)
    assert 'value="page@example.org"' in r.text and "1234567890" not in r.text
    assert "not a common password, not your email address" in r.text  # the hint says it first
