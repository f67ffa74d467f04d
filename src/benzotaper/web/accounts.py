"""Accounts: registration, login with a rate limit kept in the database, and web sessions.

Sessions are random 256-bit tokens in an HttpOnly cookie; the database keeps only their SHA-256,
so a copy of the database cannot be used to sign in. Nothing here lives in process memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from benzotaper.errors import InputError
from benzotaper.storage import Database, User, utcnow
from benzotaper.storage.access import TrustedDevice, WebSession
from benzotaper.storage.summaries import JournalSummary
from benzotaper.storage.tables import ROLES
from benzotaper.web import security
from benzotaper.web.clock import DEFAULT_TZ, valid_zone
from benzotaper.web.passwords import PASSWORD_MAX, password_problem
from benzotaper.web.security import hash_password, new_token, verify_password

SESSION_COOKIE = "bt_session"
#: The cookie that marks a browser as one the account has signed in from (see web.throttle).
DEVICE_COOKIE = "bt_device"
#: Policy: a device stays trusted this many days after its last sign-in.
DEVICE_DAYS = 365
TIME_ZONE_PROBLEM = "Choose your time zone from the list (where you take your doses)."
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class AccountError(InputError):
    """Registration, login or an account change refused; the message says what to do (a login
    never says which part was wrong). ``problems``: the message for each form field at fault."""

    code = "account"

    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or {}


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
    password_wrong = password_problem(password, email, display_name)
    if password_wrong:
        problems["password"] = password_wrong
    if role not in ROLES:
        problems["role"] = "Choose whether you are a patient or a clinician."
    if len(display_name) > 200:
        problems["display_name"] = "Your name can be at most 200 characters."
    return problems


def register(
    db: Database,
    email: str,
    password: str,
    role: str,
    display_name: str = "",
    time_zone: str = DEFAULT_TZ,
) -> bool:
    """Create the account; False when the address already has one (the caller says no more).

    The password is hashed before the write transaction opens: the database is never locked
    while argon2 works."""
    problems = check_registration(email, password, role, display_name)
    if not valid_zone(time_zone):
        problems["time_zone"] = TIME_ZONE_PROBLEM
    if problems:
        raise AccountError(" ".join(problems.values()), problems)
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        role=role,
        display_name=display_name.strip(),
        time_zone=time_zone,
    )
    try:
        with db.transaction() as s:
            s.add(user)
    except IntegrityError:
        return False
    return True


def find_user(session: Session, account: str) -> User | None:
    """The account for a normalised email address, if there is one."""
    user: User | None = session.scalar(select(User).where(User.email == account))
    return user


def password_matches(user: User | None, password: str) -> bool:
    """Check the password (slow on purpose): call it outside any write transaction.

    An unknown account is checked against a dummy hash, so it takes as long as a known one."""
    known = user.password_hash if user is not None else None
    stored = known or security.dummy_hash()
    return verify_password(password[:PASSWORD_MAX], stored) and user is not None


def trusted_device(session: Session, token: str | None, user: User | None) -> str | None:
    """The id of the device this cookie token names, if it has signed in to ``user`` before."""
    if not token or user is None or not 20 <= len(token) <= 100:
        return None
    device = session.scalar(
        select(TrustedDevice).where(
            TrustedDevice.token_hash == token_hash(token), TrustedDevice.user_id == user.id
        )
    )
    return None if device is None else str(device.id)


def remember_device(session: Session, user_id: int, token: str | None) -> str:
    """After a correct password: mark this browser as the account's own (or refresh it).

    Returns the device cookie's token (a new one unless ``token`` is already trusted)."""
    now = utcnow()
    if token:
        device = session.scalar(
            select(TrustedDevice).where(
                TrustedDevice.token_hash == token_hash(token), TrustedDevice.user_id == user_id
            )
        )
        if device is not None:
            device.last_used_at = now
            return token
    token = new_token()
    session.add(TrustedDevice(token_hash=token_hash(token), user_id=user_id, last_used_at=now))
    # Housekeeping: a device unused for DEVICE_DAYS is a stranger again.
    session.execute(
        delete(TrustedDevice).where(
            TrustedDevice.last_used_at < now - dt.timedelta(days=DEVICE_DAYS)
        )
    )
    return token


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


def load_identity(session: Session | Connection, token: str) -> Identity | None:
    """The signed-in person of a session cookie (None: no such session, or it expired)."""
    found = load_session(session, token)
    return None if found is None else found[0]


#: Where a person's journal and plans stand: their summary's revision and time of change
#: (``storage.summaries.stamp``; None without a summary).
Stamp = tuple[int, dt.datetime]


def load_session(session: Session | Connection, token: str) -> tuple[Identity, Stamp | None] | None:
    """The signed-in person of a session cookie and their summary stamp, or None (no such
    session, or it expired). Runs for every request: one prebuilt statement, the columns it
    needs (on a bare connection, ``Database.read_rows``, it skips the ORM session's
    bookkeeping); the stamp comes with it, so a kept answer (``web.kept_answers``) is checked
    by this one read."""
    row = session.execute(_IDENTITY, {"hash": token_hash(token), "now": utcnow()}).first()
    if row is None:
        return None
    identity = Identity(
        id=row[0],
        email=row[1] or "",
        role=row[2],
        display_name=row[3],
        csrf_token=row[4],
        time_zone=row[5],
    )
    return identity, (None if row[6] is None else (row[6], row[7]))


_IDENTITY = (
    select(
        User.id,
        User.email,
        User.role,
        User.display_name,
        WebSession.csrf_token,
        User.time_zone,
        JournalSummary.revision,
        JournalSummary.updated_at,
    )
    .select_from(WebSession)
    .join(User, User.id == WebSession.user_id)
    .outerjoin(JournalSummary, JournalSummary.user_id == User.id)
    .where(WebSession.token_hash == bindparam("hash"), WebSession.expires_at > bindparam("now"))
)


def set_time_zone(session: Session, user_id: int, time_zone: str) -> None:
    """Change a person's time zone (AccountError for a name that is not an IANA zone)."""
    if not valid_zone(time_zone):
        raise AccountError(TIME_ZONE_PROBLEM)
    session.get_one(User, user_id).time_zone = time_zone


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
