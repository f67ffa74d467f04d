"""Signing in, registering, and re-checking a signed-in person's password, all throttled.

Every password check goes through :func:`check_password`: it claims a slot in the login
throttle (``web.throttle``) in a short write transaction of its own, then lets argon2 work with
no transaction open. A login, a registration that meets an existing address, and the password
asked again before a password change or an account deletion are all counted the same way, so
none of them is a way round the throttle.

Registration never says that an address has an account. A registration for a taken address
costs what a new one costs (one hash, one check, the same throttle) and is refused with
:data:`REGISTRATION_REFUSED` beside the email field; with the account's own password it simply
signs in. What cannot be hidden without emailing a confirmation link: a new address gets an
account and a taken one does not (README, "Security").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import Request

from benzotaper.limits import EMAIL_MAX
from benzotaper.storage import Database, User
from benzotaper.web import throttle
from benzotaper.web.accounts import (
    DEVICE_COOKIE,
    LOGIN_FAILED,
    AccountError,
    find_user,
    normalise_email,
    password_matches,
    register,
    remember_device,
    start_session,
    trusted_device,
)
from benzotaper.web.clock import DEFAULT_TZ
from benzotaper.web.settings import WebSettings
from benzotaper.web.throttle import RateLimitedError

#: Said whenever an address cannot be registered, taken or not (the form says no more).
REGISTRATION_REFUSED = (
    "These details cannot be used to create a new account. If you already have an account, "
    "log in instead."
)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: the account, its new session token and this browser's device token."""

    user: User
    token: str
    device: str


@dataclass(frozen=True)
class Checked:
    """A password found right: the account, the throttle buckets it was counted in, and
    whether this browser is one the account trusts (its ``bt_device`` cookie)."""

    user: User
    buckets: list[throttle.Bucket]
    trusted: bool


def check_password(
    request: Request, db: Database, settings: WebSettings, email: str, password: str
) -> Checked:
    """The account for ``email`` if ``password`` is its own (throttled); AccountError otherwise.

    Two short transactions: read the account, claim a slot in the throttle (a write of a few
    rows); then argon2 checks the password with no transaction open, so on SQLite the write
    lock is never held while the password is hashed."""
    account = normalise_email(email)[:EMAIL_MAX]
    with db.read() as s:
        user = find_user(s, account)
        device = trusted_device(s, request.cookies.get(DEVICE_COOKIE), user)
    window = dt.timedelta(minutes=settings.login_window_minutes)
    buckets = throttle.login_buckets(
        account, client_address(request), device, settings.login_max_failures, window
    )
    with db.transaction() as s:
        throttle.claim(s, buckets, "login attempts")
    if user is None or not password_matches(user, password):
        raise AccountError(LOGIN_FAILED)
    return Checked(user, buckets, device is not None)


def confirm_password(
    request: Request, db: Database, settings: WebSettings, email: str, password: str
) -> User:
    """A signed-in person's own password asked again (before a password change or an account
    deletion): checked and counted like a login, and like a login a right one clears the
    account's failed attempts."""
    checked = check_password(request, db, settings, email, password)
    with db.transaction() as s:
        throttle.succeeded(s, checked.buckets)
    return checked.user


def login(
    request: Request, db: Database, settings: WebSettings, email: str, password: str
) -> SignIn:
    """Check the credentials (throttled) and open a session; AccountError otherwise."""
    checked = check_password(request, db, settings, email, password)
    cookie = request.cookies.get(DEVICE_COOKIE) if checked.trusted else None
    with db.transaction() as s:
        throttle.succeeded(s, checked.buckets)
        token = start_session(s, checked.user, settings.session_days)
        device_token = remember_device(s, checked.user.id, cookie)
    return SignIn(checked.user, token, device_token)


def register_and_sign_in(
    request: Request,
    db: Database,
    settings: WebSettings,
    email: str,
    password: str,
    role: str,
    display_name: str,
    time_zone: str = DEFAULT_TZ,
) -> SignIn:
    """Create an account and sign in (registrations are throttled per address).

    An address that already has an account is never confirmed: with its own password this
    simply signs in, otherwise the answer is REGISTRATION_REFUSED (beside the email field)."""
    with db.transaction() as s:
        throttle.claim(
            s,
            [throttle.registration_bucket(client_address(request))],
            "new accounts from this address",
        )
    created = register(db, email, password, role, display_name, time_zone)
    try:
        return login(request, db, settings, email, password)
    except RateLimitedError:
        raise
    except AccountError:
        if created:
            raise
        raise AccountError(REGISTRATION_REFUSED, {"email": REGISTRATION_REFUSED}) from None
