"""Login and registration throttling: a growing wait instead of a lock, exact under concurrency,
and never a way to lock the owner out of their own account (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from benzotaper.storage.access import LoginThrottle
from benzotaper.web import WebSettings, throttle

from .conftest import PASSWORD, Clock, Visitor

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

WRONG = {"password": "not the password"}


def login(v: Visitor, email: str, password: str) -> int:
    r = v.api("POST", "/api/session", json={"email": email, "password": password})
    return r.status_code


@pytest.fixture(autouse=True)
def _frozen(throttle_clock: Clock) -> None:
    """Time stands still unless a test moves it (waits never run out on a slow machine)."""


def test_backoff_grows_and_then_lets_the_next_attempt_through(
    make_visitor: Callable[[], Visitor], throttle_clock: Clock
) -> None:
    clock = throttle_clock
    make_visitor().signup("backoff@example.org")
    v = make_visitor()
    assert [login(v, "backoff@example.org", "x") for _ in range(3)] == [422, 422, 422]
    r = v.api("POST", "/api/session", json={"email": "backoff@example.org", "password": "x"})
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    clock.advance(1.01)
    assert login(v, "backoff@example.org", "x") == 422  # evaluated again: no lock
    r = v.api("POST", "/api/session", json={"email": "backoff@example.org", "password": PASSWORD})
    assert r.status_code == 429 and r.headers["retry-after"] == "2"  # the wait doubled
    clock.advance(2.01)
    assert login(v, "backoff@example.org", PASSWORD) == 200
    # the window passes quietly: the count starts again
    for _ in range(3):
        login(v, "backoff@example.org", "x")
    clock.advance(16 * 60)
    assert login(v, "backoff@example.org", "x") == 422


def test_the_owners_browser_is_not_slowed_by_others_failures(
    make_visitor: Callable[[], Visitor],
) -> None:
    owner = make_visitor()
    owner.signup("owner@example.org")
    assert owner.client.cookies.get("bt_device")
    assert owner.api("DELETE", "/api/session").status_code == 204
    attacker = make_visitor()  # same address ("testclient"), as behind one proxy
    for _ in range(12):
        attacker.api("POST", "/api/session", json={"email": "owner@example.org", **WRONG})
    assert login(attacker, "owner@example.org", PASSWORD) == 429
    assert login(owner, "owner@example.org", PASSWORD) == 200
    # and the owner's own mistakes count only against the owner's browser
    owner.api("DELETE", "/api/session")
    assert [login(owner, "owner@example.org", "typo") for _ in range(3)] == [422] * 3
    assert login(owner, "owner@example.org", PASSWORD) == 429


def test_a_busy_address_slows_new_browsers_but_not_known_ones(
    make_visitor: Callable[[], Visitor], settings: WebSettings
) -> None:
    """25 failures from one address (a clinic behind one proxy) never lock everybody out."""
    known = make_visitor()
    known.signup("known@example.org")
    known.api("DELETE", "/api/session")
    make_visitor().signup("fresh@example.org")
    guesser = make_visitor()
    allowance = settings.login_max_failures * throttle.CLIENT_FACTOR
    for i in range(allowance + 1):
        guesser.api("POST", "/api/session", json={"email": f"u{i}@example.org", **WRONG})
    assert login(make_visitor(), "fresh@example.org", PASSWORD) == 429
    assert login(known, "known@example.org", PASSWORD) == 200


def test_concurrent_wrong_passwords_are_counted_exactly(
    make_visitor: Callable[[], Visitor], settings: WebSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit saw 19-30 of 30 concurrent attempts evaluated on PostgreSQL (limit 5)."""
    monkeypatch.setattr(throttle, "FIRST_WAIT_S", 600.0)
    make_visitor().signup("race@example.org")
    visitors = [make_visitor() for _ in range(12)]
    for v in visitors:
        v.csrf  # noqa: B018  (fetch the token before the race starts)
    results: list[int] = []
    start = threading.Barrier(len(visitors))

    def attempt(v: Visitor) -> None:
        start.wait()
        results.append(login(v, "race@example.org", "wrong password"))

    threads = [threading.Thread(target=attempt, args=(v,)) for v in visitors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [422] * settings.login_max_failures + [429] * (
        len(visitors) - settings.login_max_failures
    )


def test_a_free_attempt_is_never_refused_by_a_clock_that_lags(
    make_visitor: Callable[[], Visitor], throttle_clock: Clock, settings: WebSettings
) -> None:
    """Seen with two uvicorn workers: an attempt that read the time, then waited for the row
    lock behind a later one, found ``next_at`` (the later attempt's "now") ahead of its own
    clock and got 429 within the allowance. Free attempts now leave nothing to wait for."""
    make_visitor().signup("lag@example.org")
    v = make_visitor()
    throttle_clock.advance(5)
    free = settings.login_max_failures
    assert [login(v, "lag@example.org", "x") for _ in range(free - 1)] == [422] * (free - 1)
    throttle_clock.advance(-1)  # the last free attempt, judged by a clock a second behind
    assert login(v, "lag@example.org", "x") == 422
    assert login(v, "lag@example.org", "x") == 429  # then the wait, as before


def test_throttle_keys_hold_no_address_or_email(
    make_visitor: Callable[[], Visitor], settings: WebSettings
) -> None:
    v = make_visitor()
    login(v, "private@example.org", "x")
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        keys = conn.execute(sa.select(LoginThrottle.key)).scalars().all()
    engine.dispose()
    assert keys and all(len(k) == 64 and "example" not in k for k in keys)


def test_registration_is_throttled_per_address(
    make_visitor: Callable[[], Visitor], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "REGISTRATIONS", 3)
    v = make_visitor()
    for i in range(3):
        v.signup(f"reg{i}@example.org")
    r = v.api("POST", "/api/users", json={"email": "reg9@example.org", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    page = make_visitor().form(
        "/register",
        {"email": "reg8@example.org", "password": PASSWORD, "time_zone": "Europe/London"},
    )
    assert page.status_code == 429 and "Too many new accounts" in page.text
    assert login(v, "reg9@example.org", PASSWORD) == 422  # nothing was created


def test_the_password_is_checked_outside_the_write_transaction(
    make_visitor: Callable[[], Visitor], settings: WebSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While argon2 works on a login, other requests can write (the audit: ~400 ms of a 426 ms
    login held SQLite's write lock)."""
    from benzotaper.storage import Database, User
    from benzotaper.web import accounts

    make_visitor().signup("slow@example.org")
    hashing, done = threading.Event(), threading.Event()
    real = accounts.verify_password

    def slow_verify(password: str, hashed: str) -> bool:
        hashing.set()
        done.wait(10)
        return real(password, hashed)

    monkeypatch.setattr(accounts, "verify_password", slow_verify)
    v = make_visitor()
    thread = threading.Thread(target=login, args=(v, "slow@example.org", PASSWORD))
    thread.start()
    try:
        assert hashing.wait(30)
        db = Database(settings.database_url)
        with db.transaction() as s:  # would wait for the lock if the login held it
            s.add(User(email="writer@example.org"))
        db.dispose()
    finally:
        done.set()
        thread.join()
