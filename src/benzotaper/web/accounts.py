"""Accounts: registration, login with a rate limit kept in the database, and web sessions.

Sessions are random 256-bit tokens in an HttpOnly cookie; the database keeps only their SHA-256,
so a copy of the database cannot be used to sign in. Nothing here lives in process memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from benzotaper.errors import InputError
from benzotaper.storage import User, utcnow
from benzotaper.storage.access import LoginAttempt, WebSession
from benzotaper.storage.tables import ROLES
from benzotaper.web import security
from benzotaper.web.clock import DEFAULT_TZ, valid_zone
from benzotaper.web.security import hash_password, new_token, verify_password

SESSION_COOKIE = "bt_session"
#: Policy: password length bounds (long passphrases welcome; the upper bound stops hashing abuse).
PASSWORD_MIN = 10
PASSWORD_MAX = 256
#: Policy: client addresses get this many times the per-account failure allowance.
CLIENT_FACTOR = 5
TIME_ZONE_PROBLEM = "Choose your time zone from the list (where you take your doses)."
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class AccountError(InputError):
    """Registration or login refused; the message says what to do (never which part was wrong)."""

    code = "account"


class RateLimitedError(AccountError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Identity:
    """The signed-in person, as routes and templates see them."""

    id: int
    email: str
    role: str
    display_name: str
    csrf_token: str
    time_zone: str = "UTC"

    @property
    def name(self) -> str:
        return self.display_name or self.email


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_registration(email: str, password: str, role: str, display_name: str) -> dict[str, str]:
    """Every problem with a registration form, by field, in plain words (empty: fine)."""
    problems: dict[str, str] = {}
    if not _EMAIL_RE.match(normalise_email(email)) or len(email) > 320:
        problems["email"] = "Enter an email address like name@example.com."
    if len(password) < PASSWORD_MIN:
        problems["password"] = f"Choose a password of at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        problems["password"] = f"Choose a password of at most {PASSWORD_MAX} characters."
    if role not in ROLES:
        problems["role"] = "Choose whether you are a patient or a clinician."
    if len(display_name) > 200:
        problems["display_name"] = "Your name can be at most 200 characters."
    return problems


def register(
    session: Session,
    email: str,
    password: str,
    role: str,
    display_name: str = "",
    time_zone: str = DEFAULT_TZ,
) -> User:
    problems = check_registration(email, password, role, display_name)
    if not valid_zone(time_zone):
        problems["time_zone"] = TIME_ZONE_PROBLEM
    if problems:
        raise AccountError(" ".join(problems.values()))
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        role=role,
        display_name=display_name.strip(),
        time_zone=time_zone,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise AccountError(
            "An account with this email address already exists. Log in instead."
        ) from None
    return user


def _failures_since(
    session: Session, column: InstrumentedAttribute[str], value: str, since: dt.datetime
) -> int:
    stmt = select(func.count(LoginAttempt.id)).where(
        column == value,
        LoginAttempt.at >= since,
        LoginAttempt.succeeded.is_(False),
    )
    return int(session.scalar(stmt) or 0)


def check_rate_limit(
    session: Session, account: str, client: str, max_failures: int, window: dt.timedelta
) -> None:
    """Refuse (429) while an account, or a client address, has failed too often lately."""
    now = utcnow()
    since = now - window
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.account == account, LoginAttempt.succeeded.is_(True)
        )
    )
    account_since = max(since, last_ok) if last_ok else since
    if _failures_since(session, LoginAttempt.account, account, account_since) >= max_failures:
        raise RateLimitedError(
            "Too many failed logins for this account. Please wait "
            f"{int(window.total_seconds() // 60)} minutes and try again.",
            int(window.total_seconds()),
        )
    if _failures_since(session, LoginAttempt.client, client, since) >= max_failures * CLIENT_FACTOR:
        raise RateLimitedError(
            "Too many failed logins from this device. Please wait "
            f"{int(window.total_seconds() // 60)} minutes and try again.",
            int(window.total_seconds()),
        )


def authenticate(
    session: Session,
    email: str,
    password: str,
    client: str,
    max_failures: int,
    window: dt.timedelta,
) -> User | None:
    """The user for these credentials, or None; every attempt is recorded (commit it!)."""
    account = normalise_email(email)[:320]
    client = client[:64]
    check_rate_limit(session, account, client, max_failures, window)
    user = session.scalar(select(User).where(User.email == account))
    stored = user.password_hash if user is not None and user.password_hash else security.DUMMY_HASH
    ok = verify_password(password[:PASSWORD_MAX], stored) and user is not None
    session.add(LoginAttempt(account=account, client=client, succeeded=ok))
    return user if ok else None


LOGIN_FAILED = "That email address and password do not match an account."


def start_session(session: Session, user: User, days: int) -> str:
    """Create a session row; return the cookie value (the only copy of the token)."""
    token = new_token()
    now = utcnow()
    session.add(
        WebSession(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=new_token(),
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
    )
    # Housekeeping: expired sessions of anyone are of no use to anybody.
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return token


def load_identity(session: Session, token: str) -> Identity | None:
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == token_hash(token), WebSession.expires_at > utcnow())
    ).first()
    if row is None:
        return None
    ws, user = row
    return Identity(
        id=user.id,
        email=user.email or "",
        role=user.role,
        display_name=user.display_name,
        csrf_token=ws.csrf_token,
        time_zone=user.time_zone,
    )


def set_time_zone(session: Session, user_id: int, time_zone: str) -> None:
    """Change a person's time zone (AccountError for a name that is not an IANA zone)."""
    if not valid_zone(time_zone):
        raise AccountError(TIME_ZONE_PROBLEM)
    session.get_one(User, user_id).time_zone = time_zone


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
