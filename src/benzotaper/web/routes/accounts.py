"""Register, log in and out, and the account page (sharing with clinicians, who looked)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from benzotaper.catalogue import Catalogue
from benzotaper.web import flash, sharing
from benzotaper.web.accounts import (
    DEVICE_COOKIE,
    DEVICE_DAYS,
    SESSION_COOKIE,
    TIME_ZONE_PROBLEM,
    AccountError,
    check_registration,
    end_session,
    load_identity,
    set_time_zone,
)
from benzotaper.web.clock import DEFAULT_TZ, valid_zone
from benzotaper.web.deps import CatalogueDep, DbDep, MaybeUserDep, PatientDep, SettingsDep, UserDep
from benzotaper.web.passwords import PASSWORD_MAX
from benzotaper.web.plan_form import PENDING_MAX, load_pending, parse_form
from benzotaper.web.responses import AUTH_401, CSRF_403, INPUT_422, NOT_FOUND_404, RATE_429
from benzotaper.web.routes.builder import save_account_context, save_or_show
from benzotaper.web.security import is_https
from benzotaper.web.settings import WebSettings
from benzotaper.web.signin import SignIn, register_and_sign_in
from benzotaper.web.signin import login as password_login
from benzotaper.web.templating import render
from benzotaper.web.throttle import RateLimitedError

router = APIRouter()
ID = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


def _safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def _home_for(role: str) -> str:
    return "/clinician" if role == "clinician" else "/today"


def _set_session_cookie(
    request: Request, response: Response, signin: SignIn, settings: WebSettings
) -> None:
    secure = settings.secure_cookies or is_https(request)
    response.set_cookie(
        SESSION_COOKIE,
        signin.token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        DEVICE_COOKIE,
        signin.device,
        max_age=DEVICE_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    request.state.rotate_csrf = True


# ----------------------------------------------------------------------------- pages


def _page(
    request: Request, name: str, pending: str, ctx: dict[str, Any], status: int
) -> HTMLResponse:
    """The log-in or registration page again; with a pending plan, the page that carries it."""
    if pending:
        return render(request, "save_account.html", save_account_context(pending, **ctx), status)
    return render(request, name, {"nav": name.removesuffix(".html"), **ctx}, status)


def _pending_problem(pending: str) -> str | None:
    if pending and load_pending(pending) is None:
        return "The plan you built could not be read. Please build it again in the plan builder."
    return None


def _signed_in(
    request: Request,
    db: DbDep,
    cat: Catalogue,
    settings: WebSettings,
    signin: SignIn,
    target: str,
    pending: str,
) -> Response:
    """After log-in or registration: save a plan built while logged out, else go on."""
    data = load_pending(pending) if pending else None
    if data is None:
        response: Response = RedirectResponse(target, status_code=303)
    else:
        with db.read() as s:
            identity = load_identity(s, signin.token)
        assert identity is not None  # the session was opened just now
        request.state.user = identity
        request.state.csrf_token = identity.csrf_token
        response = save_or_show(request, cat, db, identity, parse_form(data, cat), "")
    _set_session_cookie(request, response, signin, settings)
    return response


@router.get("/register", response_class=HTMLResponse, include_in_schema=False)
def register_page(request: Request) -> HTMLResponse:
    reg = {"values": {"role": "patient"}, "errors": {}}
    return render(request, "register.html", {"nav": "register", "reg": reg})


@router.post("/register", response_class=HTMLResponse, include_in_schema=False)
def register_submit(
    request: Request,
    db: DbDep,
    cat: CatalogueDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=PASSWORD_MAX + 1)] = "",
    role: Annotated[str, Form(max_length=20)] = "patient",
    display_name: Annotated[str, Form(max_length=201)] = "",
    time_zone: Annotated[str, Form(max_length=64)] = "",
    pending_plan: Annotated[str, Form(max_length=PENDING_MAX)] = "",
) -> Response:
    values = {"email": email, "role": role, "display_name": display_name, "time_zone": time_zone}
    errors = check_registration(email, password, role, display_name)
    if not valid_zone(time_zone):
        errors["time_zone"] = TIME_ZONE_PROBLEM
    problem = _pending_problem(pending_plan)
    problems = [problem] if problem else []
    status = 422
    if not errors and problem is None:
        try:
            signin = register_and_sign_in(
                request, db, settings, email, password, role, display_name, time_zone
            )
        except RateLimitedError as exc:
            problems, status = [exc.message], 429
        except AccountError as exc:
            errors = exc.problems or {"email": exc.message}
        else:
            target = _home_for(signin.user.role)
            return _signed_in(request, db, cat, settings, signin, target, pending_plan)
    reg = {"values": values, "errors": errors, "problems": problems}
    return _page(request, "register.html", pending_plan, {"reg": reg}, status)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    login = {"values": {"next": next or ""}, "errors": {}, "problems": []}
    return render(request, "login.html", {"nav": "login", "login": login})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login_submit(
    request: Request,
    db: DbDep,
    cat: CatalogueDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=PASSWORD_MAX + 1)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
    pending_plan: Annotated[str, Form(max_length=PENDING_MAX)] = "",
) -> Response:
    values = {"email": email, "next": next}
    errors: dict[str, str] = {}
    if not email.strip():
        errors["email"] = "Enter the email address you registered with."
    if not password:
        errors["password"] = "Enter your password."
    problem = _pending_problem(pending_plan)
    problems = [problem] if problem else []
    status = 422
    if not errors and not problems:
        try:
            signin = password_login(request, db, settings, email, password)
        except RateLimitedError as exc:
            problems, status = [exc.message], 429
            retry_after = str(exc.retry_after_s)
        except AccountError as exc:
            problems = [exc.message]
        else:
            target = _safe_next(next, _home_for(signin.user.role))
            return _signed_in(request, db, cat, settings, signin, target, pending_plan)
    login = {"values": values, "errors": errors, "problems": problems}
    resp = _page(request, "login.html", pending_plan, {"login": login}, status)
    if status == 429:
        resp.headers["Retry-After"] = retry_after
    return resp


@router.post("/logout", include_in_schema=False)
def logout(request: Request, db: DbDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with db.transaction() as s:
            end_session(s, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    request.state.rotate_csrf = True
    return response


def account_context(db: DbDep, user: Any) -> dict[str, Any]:
    with db.read() as s:
        shares = sharing.shares_of(s, user.id) if user.role == "patient" else []
        trail = sharing.audit_trail(s, user.id) if user.role == "patient" else []
        patients = sharing.patients_of(s, user.id) if user.role == "clinician" else []
    return {
        "nav": "account",
        "shares": shares,
        "trail": trail,
        "patients": patients,
        "action_words": sharing.ACTION_WORDS,
    }


@router.get("/account", response_class=HTMLResponse, include_in_schema=False)
def account_page(request: Request, db: DbDep, user: UserDep) -> HTMLResponse:
    ctx = account_context(db, user)
    if request.query_params.get("invite") and user.role == "patient":
        ctx |= {"new_code": flash.take(request).get("code"), "invite_made": True}
        ctx["code_days"] = sharing.CODE_DAYS
    return render(request, "account.html", ctx)


@router.post("/account/time-zone", response_class=HTMLResponse, include_in_schema=False)
def change_time_zone(
    request: Request,
    db: DbDep,
    user: UserDep,
    time_zone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The person's time zone: "today", reminders and calendar files follow it."""
    try:
        with db.transaction() as s:
            set_time_zone(s, user.id, time_zone)
    except AccountError as exc:
        ctx = account_context(db, user) | {"tz_error": exc.message, "tz_value": time_zone}
        return render(request, "account.html", ctx, status_code=422)
    return RedirectResponse("/account?tz=1#time-zone", status_code=303)


@router.post("/account/invites", include_in_schema=False)
def create_invite(request: Request, db: DbDep, user: PatientDep) -> Response:
    """A new code, shown once on the account page (reloading it makes no other code)."""
    with db.transaction() as s:
        code = sharing.create_invite(s, user.id)
    return flash.redirect(request, "/account?invite=1#invite", code=code)


@router.post("/account/shares/{share_id}/revoke", include_in_schema=False)
def revoke_share(db: DbDep, user: PatientDep, share_id: ID) -> Response:
    with db.transaction() as s:
        sharing.revoke(s, user.id, share_id)
    return RedirectResponse("/account?revoked=1", status_code=303)


# ----------------------------------------------------------------------------- API


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    role: Literal["patient", "clinician"] = "patient"
    display_name: str = Field(default="", max_length=200)
    time_zone: str = Field(
        default=DEFAULT_TZ,
        max_length=64,
        description="IANA time zone (e.g. America/New_York): 'today' and reminders use it.",
    )


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class MeOut(BaseModel):
    """Who is signed in (null when nobody) and the CSRF token for unsafe requests."""

    user: UserOut | None
    csrf_token: str


class UserOut(BaseModel):
    id: int
    email: str
    role: str
    display_name: str
    time_zone: str


MeOut.model_rebuild()


def _me(request: Request) -> MeOut:
    u = getattr(request.state, "user", None)
    return MeOut(
        user=UserOut(
            id=u.id,
            email=u.email,
            role=u.role,
            display_name=u.display_name,
            time_zone=u.time_zone,
        )
        if u
        else None,
        csrf_token=request.state.csrf_token,
    )


@router.get("/api/session", tags=["accounts"], response_model=MeOut)
def api_session(request: Request, user: MaybeUserDep) -> MeOut:
    """The signed-in person (or null) and the CSRF token to send as ``X-CSRF-Token``."""
    return _me(request)


@router.post(
    "/api/session",
    tags=["accounts"],
    response_model=MeOut,
    responses={403: CSRF_403, 422: INPUT_422, 429: RATE_429},
)
def api_login(
    request: Request, response: Response, body: LoginIn, db: DbDep, settings: SettingsDep
) -> MeOut:
    """Log in: sets the session cookie. Attempts are throttled per account and client, with a
    growing wait rather than a lock; the owner's own browser is never slowed by others."""
    return _api_signed_in(
        request,
        response,
        db,
        settings,
        lambda: password_login(request, db, settings, body.email, body.password),
    )


def problems_422(exc: AccountError) -> HTTPException:
    """An account refusal as the API's 422: one item per field at fault (``loc`` names it)."""
    fields = exc.problems or {"": exc.message}
    detail = [
        {"loc": ["body", field] if field else ["body"], "msg": msg, "type": exc.code}
        for field, msg in fields.items()
    ]
    return HTTPException(422, detail)


def _api_signed_in(
    request: Request,
    response: Response,
    db: DbDep,
    settings: WebSettings,
    sign_in: Callable[[], SignIn],
) -> MeOut:
    try:
        signin = sign_in()
    except RateLimitedError as exc:
        raise HTTPException(429, exc.message, {"Retry-After": str(exc.retry_after_s)}) from None
    except AccountError as exc:
        raise problems_422(exc) from None
    _set_session_cookie(request, response, signin, settings)
    with db.read() as s:
        identity = load_identity(s, signin.token)
    request.state.user = identity
    request.state.csrf_token = identity.csrf_token if identity else ""
    return _me(request)


@router.delete("/api/session", tags=["accounts"], status_code=204, responses={403: CSRF_403})
def api_logout(request: Request, response: Response, db: DbDep) -> Response:
    """Log out: ends the session in the database and clears the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with db.transaction() as s:
            end_session(s, token)
    out = Response(status_code=204)
    out.delete_cookie(SESSION_COOKIE, path="/")
    request.state.rotate_csrf = True
    return out


@router.post(
    "/api/users",
    tags=["accounts"],
    status_code=201,
    response_model=MeOut,
    responses={403: CSRF_403, 422: INPUT_422, 429: RATE_429},
)
def api_register(
    request: Request, response: Response, body: RegisterIn, db: DbDep, settings: SettingsDep
) -> MeOut:
    """Create an account (patient or clinician) and sign in. Registrations are throttled per
    client address; whether an address already has an account is never said."""
    return _api_signed_in(
        request,
        response,
        db,
        settings,
        lambda: register_and_sign_in(
            request,
            db,
            settings,
            body.email,
            body.password,
            body.role,
            body.display_name,
            body.time_zone,
        ),
    )


class ShareOut(BaseModel):
    id: int
    status: str
    clinician: str | None
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    code_expires_at: dt.datetime


class InviteOut(BaseModel):
    code: str
    valid_days: int


@router.get(
    "/api/shares",
    tags=["sharing"],
    response_model=list[ShareOut],
    responses={401: AUTH_401, 403: CSRF_403},
)
def api_shares(db: DbDep, user: PatientDep) -> list[ShareOut]:
    """The patient's invite codes and shares with clinicians."""
    with db.transaction() as s:
        return [ShareOut(**v.__dict__) for v in sharing.shares_of(s, user.id)]


@router.post(
    "/api/shares",
    tags=["sharing"],
    status_code=201,
    response_model=InviteOut,
    responses={401: AUTH_401, 403: CSRF_403},
)
def api_create_invite(db: DbDep, user: PatientDep) -> InviteOut:
    """A new one-time invite code for a clinician (shown once; valid for a week)."""
    with db.transaction() as s:
        return InviteOut(code=sharing.create_invite(s, user.id), valid_days=sharing.CODE_DAYS)


@router.delete(
    "/api/shares/{share_id}",
    tags=["sharing"],
    status_code=204,
    responses={401: AUTH_401, 403: CSRF_403, 404: NOT_FOUND_404, 422: INPUT_422},
)
def api_revoke(db: DbDep, user: PatientDep, share_id: ID) -> Response:
    """Revoke a share (or cancel an unused code)."""
    with db.transaction() as s:
        sharing.revoke(s, user.id, share_id)
    return Response(status_code=204)
