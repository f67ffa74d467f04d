"""What a signed-in person can do to their own account: change the password, sign out on every
device, and delete the account with everything in it.

Each is one write transaction; the password is hashed before it opens (the caller has already
checked the current password, throttled, in ``web.signin``).

Deleting an account removes the person's journal (entries, plan versions, profiles), sessions,
trusted browsers, push subscriptions, idempotency records, invite codes and shares, the
suggestions made to or by them, and the audit rows *about* them. The audit rows of the looks a
deleted *clinician* took at other people's journals stay with those patients: the row keeps
the clinician's name as the patients saw it (``actor_name``) and loses only its link to the
account (``actor_id`` becomes NULL, also by the database's own ``ON DELETE SET NULL``). A
patient can always read who looked at their journal, even after that clinician has gone.
"""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from benzotaper.storage import Database, Entry, PlanVersion, Profile, User
from benzotaper.storage.access import ACTOR_NAME_MAX, AuditEvent, TrustedDevice, WebSession
from benzotaper.storage.push import PushSubscription
from benzotaper.storage.transfer import JournalExport, journal_export
from benzotaper.web.accounts import AccountError, token_hash
from benzotaper.web.passwords import password_problem
from benzotaper.web.security import hash_password

SAME_PASSWORD = "Choose a new password, not the one you have now."


def change_password(
    db: Database,
    user_id: int,
    current: str,
    new: str,
    *,
    keep_session: str | None,
    keep_device: str | None,
) -> None:
    """Set a new password (checked against the policy; AccountError for ``new_password``) and
    sign out every other session; other browsers are no longer trusted for login."""
    with db.read() as s:
        user = s.get_one(User, user_id)
        email, name = user.email or "", user.display_name
    problem = SAME_PASSWORD if new == current else password_problem(new, email, name)
    if problem:
        raise AccountError(problem, {"new_password": problem})
    hashed = hash_password(new)
    with db.transaction() as s:
        s.get_one(User, user_id).password_hash = hashed
        _end_sessions(s, user_id, keep_session=keep_session, keep_device=keep_device)


def sign_out_everywhere(db: Database, user_id: int, *, keep_device: str | None) -> None:
    """End every session of the account (this one too) and stop its reminders on every device;
    other browsers are no longer trusted for login (this one stays trusted)."""
    with db.transaction() as s:
        _end_sessions(s, user_id, keep_session=None, keep_device=keep_device)
        s.execute(delete(PushSubscription).where(PushSubscription.user_id == user_id))


def _end_sessions(
    s: Session, user_id: int, *, keep_session: str | None, keep_device: str | None
) -> None:
    sessions = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_session:
        sessions = sessions.where(WebSession.token_hash != token_hash(keep_session))
    s.execute(sessions)
    devices = delete(TrustedDevice).where(TrustedDevice.user_id == user_id)
    if keep_device:
        devices = devices.where(TrustedDevice.token_hash != token_hash(keep_device))
    s.execute(devices)


def delete_account(db: Database, user_id: int) -> JournalExport:
    """Delete the account and everything that is the person's (see the module's docstring).

    Returns the export of what was deleted, taken in the same transaction: the person's last
    copy is exactly what was removed (the API gives it back in its answer)."""
    with db.transaction() as s:
        copy = journal_export(s, user_id)
        user = s.get_one(User, user_id)
        seen_as = user.display_name or user.email or ""
        s.execute(
            update(AuditEvent)
            .where(AuditEvent.actor_id == user_id)
            .values(actor_name=seen_as[:ACTOR_NAME_MAX])
        )
        # The journal (one statement each: rows pointing at each other go together).
        s.execute(delete(Entry).where(Entry.user_id == user_id))
        s.execute(delete(PlanVersion).where(PlanVersion.user_id == user_id))
        s.execute(delete(Profile).where(Profile.user_id == user_id))
        # The rest goes with the user row (ON DELETE CASCADE; audit actors: SET NULL). The
        # login throttle's rows for the address were cleared by the password check just before;
        # any others expire within a day.
        s.execute(delete(User).where(User.id == user_id))
    return copy
