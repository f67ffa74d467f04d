"""Request-scoped things routes share: the catalogue, the database, the signed-in person.

Dependencies are ``async def``: FastAPI runs those inline, where a plain ``def`` costs a hop
to its thread pool and back (~1 ms of CPU per hop measured in-process: waking a thread, handing
the GIL over, and the caches of another core).

``current_identity`` runs for every request (an app-wide dependency, through ``csrf_guard``): it
reads the session cookie, loads the person from the database, and puts them and their CSRF
token on ``request.state`` for templates and the CSRF check. On SQLite that lookup is one
indexed read in this process that never waits for a writer (WAL), cheaper than the hop: it runs
on the event loop. On PostgreSQL it is a network round trip and stays in the thread pool.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from benzotaper.catalogue import Catalogue
from benzotaper.errors import AccessError, LoginRequired
from benzotaper.knowledge import Knowledge, default_knowledge
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.web.accounts import SESSION_COOKIE, Identity, load_identity
from benzotaper.web.clock import now_for
from benzotaper.web.security import check_csrf
from benzotaper.web.settings import WebSettings


def get_knowledge() -> Knowledge:
    """The catalogue and every rules file (read-only, loaded and source-checked once)."""
    return default_knowledge()


async def knowledge() -> Knowledge:
    """:func:`get_knowledge` as a dependency (inline: no thread pool hop)."""
    return get_knowledge()


async def get_catalogue() -> Catalogue:
    """The shipped catalogue (part of the knowledge loaded once per process)."""
    return get_knowledge().catalogue


def database_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_db(request: Request) -> Database:
    return database_of(request)


def now() -> dt.datetime:
    """The server's "now" where no person's clock applies (UTC)."""
    return now_for(None)


async def get_journal(request: Request) -> JournalService:
    """The journal service every journal page and API route calls (one per request), on the
    signed-in person's clock: "today" is their date in their time zone."""
    person = getattr(request.state, "user", None)
    return JournalService(database_of(request), get_knowledge(), now=lambda: now_for(person))


async def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def identity_of(db: Database, token: str) -> Identity | None:
    """The person signed in with session cookie ``token`` (one read-only transaction)."""
    with db.read_rows() as connection:
        return load_identity(connection, token)


async def current_identity(request: Request) -> Identity | None:
    token = request.cookies.get(SESSION_COOKIE)
    identity = None
    if token and 20 <= len(token) <= 100:
        db = database_of(request)
        if db.local:
            identity = identity_of(db, token)
        else:
            identity = await run_in_threadpool(identity_of, db, token)
    request.state.user = identity
    if identity is not None:
        request.state.csrf_token = identity.csrf_token
    return identity


async def csrf_guard(
    request: Request, identity: Annotated[Identity | None, Depends(current_identity)]
) -> None:
    await check_csrf(request)


async def posted_form(request: Request) -> FormData:
    """The posted form, read where the body arrives (the event loop), so that the route taking
    it can be a plain ``def``: FastAPI runs those in its thread pool, and their planning,
    database work and rendering then never hold up the loop that serves every other request
    of the worker (an ``async def`` route runs on the loop itself)."""
    return await request.form()


async def require_user(
    identity: Annotated[Identity | None, Depends(current_identity)],
) -> Identity:
    if identity is None:
        raise LoginRequired("Please log in first.")
    return identity


async def require_patient(identity: Annotated[Identity, Depends(require_user)]) -> Identity:
    if identity.role != "patient":
        raise AccessError("This is for patient accounts.")
    return identity


async def require_clinician(identity: Annotated[Identity, Depends(require_user)]) -> Identity:
    if identity.role != "clinician":
        raise AccessError("This is for clinician accounts.")
    return identity


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
KnowledgeDep = Annotated[Knowledge, Depends(knowledge)]
DbDep = Annotated[Database, Depends(get_db)]
JournalDep = Annotated[JournalService, Depends(get_journal)]
SettingsDep = Annotated[WebSettings, Depends(get_settings)]
UserDep = Annotated[Identity, Depends(require_user)]
PatientDep = Annotated[Identity, Depends(require_patient)]
ClinicianDep = Annotated[Identity, Depends(require_clinician)]
MaybeUserDep = Annotated[Identity | None, Depends(current_identity)]
FormDep = Annotated[FormData, Depends(posted_form)]
