"""Account management, pages and API: change the password, log out everywhere, download
everything, delete the account.

Anything that could lock a person out or destroy their data asks for the current password
again; that check is throttled exactly like a login (``web.signin.confirm_password``), so a
borrowed session cannot be used to guess the password.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from benzotaper.storage.transfer import JournalExport, export_journal
from benzotaper.web import account_manage as manage
from benzotaper.web.accounts import DEVICE_COOKIE, SESSION_COOKIE, AccountError, Identity
from benzotaper.web.deps import DbDep, SettingsDep, UserDep
from benzotaper.web.passwords import HINT, PASSWORD_MAX
from benzotaper.web.responses import AUTH_401, CSRF_403, INPUT_422, RATE_429
from benzotaper.web.routes.accounts import account_context, problems_422
from benzotaper.web.settings import WebSettings
from benzotaper.web.signin import confirm_password
from benzotaper.web.templating import render
from benzotaper.web.throttle import RateLimitedError

router = APIRouter()

WRONG_PASSWORD = (
    "That is not your current password. (If you have just changed it, the new one is already "
    "in force.)"
)
ENTER_CURRENT = "Enter your current password."
Password = Annotated[str, Form(max_length=PASSWORD_MAX + 1)]


def _confirm(
    request: Request, db: DbDep, settings: WebSettings, user: Identity, password: str, field: str
) -> None:
    """The signed-in person's own password, checked and throttled like a login: AccountError
    (for ``field``) when it is wrong, RateLimitedError after too many tries."""
    try:
        confirm_password(request, db, settings, user.email, password)
    except RateLimitedError:
        raise
    except AccountError:
        raise AccountError(WRONG_PASSWORD, {field: WRONG_PASSWORD}) from None


def _signed_out(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _refused(exc: AccountError | RateLimitedError) -> tuple[dict[str, str], int, dict[str, str]]:
    """A refusal as the page shows it: messages by field, the status, extra headers."""
    if isinstance(exc, RateLimitedError):
        return {"form": exc.message}, 429, {"Retry-After": str(exc.retry_after_s)}
    return exc.problems or {"form": exc.message}, 422, {}


# ----------------------------------------------------------------------------- pages


@router.post("/account/password", response_class=HTMLResponse, include_in_schema=False)
def change_password_page(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    user: UserDep,
    current_password: Password = "",
    new_password: Password = "",
) -> Response:
    try:
        _change_password(request, db, settings, user, current_password, new_password)
    except (AccountError, RateLimitedError) as exc:
        errors, status, headers = _refused(exc)
        ctx = account_context(db, user) | {"pw_errors": errors, "password_hint": HINT}
        response = render(request, "account.html", ctx, status_code=status)
        response.headers.update(headers)
        return response
    return RedirectResponse("/account?password=changed#password", status_code=303)


def _change_password(
    request: Request, db: DbDep, settings: WebSettings, user: Identity, current: str, new: str
) -> None:
    if not current:
        raise AccountError(ENTER_CURRENT, {"current_password": ENTER_CURRENT})
    _confirm(request, db, settings, user, current, "current_password")
    manage.change_password(
        db,
        user.id,
        current,
        new,
        keep_session=request.cookies.get(SESSION_COOKIE),
        keep_device=request.cookies.get(DEVICE_COOKIE),
    )


@router.post("/account/sessions/end", response_class=HTMLResponse, include_in_schema=False)
def log_out_everywhere_page(request: Request, db: DbDep, user: UserDep) -> Response:
    manage.sign_out_everywhere(db, user.id, keep_device=request.cookies.get(DEVICE_COOKIE))
    request.state.rotate_csrf = True
    return _signed_out(RedirectResponse("/account/done?what=signed-out", status_code=303))


@router.get("/account/done", response_class=HTMLResponse, include_in_schema=False)
def done_page(
    request: Request, what: Annotated[str, Query(pattern="^(signed-out|deleted)$")]
) -> HTMLResponse:
    """Where logging out everywhere and deleting the account lead (Post/Redirect/Get)."""
    return render(request, "account_done.html", {"done": what})


@router.get("/account/delete", response_class=HTMLResponse, include_in_schema=False)
def delete_page(request: Request, user: UserDep) -> HTMLResponse:
    return render(request, "account_delete.html", {"nav": "account", "errors": {}})


@router.post("/account/delete", response_class=HTMLResponse, include_in_schema=False)
def delete_submit(
    request: Request, db: DbDep, settings: SettingsDep, user: UserDep, password: Password = ""
) -> Response:
    try:
        if not password:
            raise AccountError("Enter your password.", {"password": "Enter your password."})
        _confirm(request, db, settings, user, password, "password")
    except (AccountError, RateLimitedError) as exc:
        errors, status, headers = _refused(exc)
        ctx = {"nav": "account", "errors": errors}
        page = render(request, "account_delete.html", ctx, status_code=status)
        page.headers.update(headers)
        return page
    manage.delete_account(db, user.id)
    request.state.rotate_csrf = True
    response = _signed_out(RedirectResponse("/account/done?what=deleted", status_code=303))
    response.delete_cookie(DEVICE_COOKIE, path="/")
    return response


# ----------------------------------------------------------------------------- API


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new_password: str = Field(
        min_length=1,
        max_length=PASSWORD_MAX,
        description="At least 10 characters; not a common (leaked) password; not containing "
        "your email address.",
    )


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


def _api_refused(exc: AccountError | RateLimitedError) -> HTTPException:
    if isinstance(exc, RateLimitedError):
        return HTTPException(429, exc.message, {"Retry-After": str(exc.retry_after_s)})
    return problems_422(exc)


@router.post(
    "/api/account/password",
    tags=["accounts"],
    status_code=204,
    responses={401: AUTH_401, 403: CSRF_403, 422: INPUT_422, 429: RATE_429},
)
def api_change_password(
    request: Request, body: PasswordChangeIn, db: DbDep, settings: SettingsDep, user: UserDep
) -> Response:
    """Change the password (the current one is required, and checked like a login). Every
    other session of the account is signed out; this one stays signed in."""
    try:
        _change_password(request, db, settings, user, body.current_password, body.new_password)
    except (AccountError, RateLimitedError) as exc:
        raise _api_refused(exc) from None
    return Response(status_code=204)


@router.delete(
    "/api/account/sessions",
    tags=["accounts"],
    status_code=204,
    responses={401: AUTH_401, 403: CSRF_403},
)
def api_log_out_everywhere(request: Request, db: DbDep, user: UserDep) -> Response:
    """Log out everywhere: every session of the account ends (this one too), and dose
    reminders stop on every device."""
    manage.sign_out_everywhere(db, user.id, keep_device=request.cookies.get(DEVICE_COOKIE))
    request.state.rotate_csrf = True
    return _signed_out(Response(status_code=204))


@router.get(
    "/api/account/export",
    tags=["accounts"],
    response_model=JournalExport,
    responses={401: AUTH_401},
)
def api_export(db: DbDep, user: UserDep) -> Response:
    """Everything stored for you, as a download: the journal export format of the CLI's
    ``export-data`` (``benzotaper import-data`` reads it back). No password hash, no session."""
    return _download(export_journal(db, user.id))


def _download(doc: JournalExport) -> Response:
    name = f"benzotaper-journal-{dt.date.today().isoformat()}.json"
    return Response(
        doc.model_dump_json(indent=2) + "\n",
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/api/account/delete",
    tags=["accounts"],
    response_model=JournalExport,
    responses={401: AUTH_401, 403: CSRF_403, 422: INPUT_422, 429: RATE_429},
)
def api_delete_account(
    request: Request, body: PasswordIn, db: DbDep, settings: SettingsDep, user: UserDep
) -> Response:
    """Delete the account and everything in it (journal, plans, sessions, shares, the audit
    rows about you), after the password is checked like a login. The answer is the export of
    everything deleted (as ``GET /api/account/export``, taken in the deleting transaction):
    keep it, nothing else remains. A clinician's looks at their patients' journals stay in
    those patients' audit trails, with the clinician's name."""
    try:
        _confirm(request, db, settings, user, body.password, "password")
    except (AccountError, RateLimitedError) as exc:
        raise _api_refused(exc) from None
    copy = manage.delete_account(db, user.id)
    request.state.rotate_csrf = True
    response = _signed_out(_download(copy))
    response.delete_cookie(DEVICE_COOKIE, path="/")
    return response
