"""Request-scoped things routes share: the catalogue, the database, the signed-in person.

Dependencies are ``async def``: FastAPI runs those inline, where a plain ``def`` costs a hop
to its thread pool and back (~1 ms of CPU per hop measured in-process: waking a thread, handing
the GIL over, and the caches of another core).

``current_identity`` runs for every request (an app-wide dependency, through ``csrf_guard``): it
reads the session cookie, loads the person from the database, and puts them and their CSRF
token on ``request.state`` for templates and the CSRF check. On SQLite that lookup is one
indexed read in this process that never waits for a writer (WAL), cheaper than the hop: it runs
on the event loop. On PostgreSQL it is a network round trip and stays in the thread pool. A
request whose session was read already (``web.kept_answers`` reads it first) is not read again.
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
from benzotaper.web.accounts import SESSION_COOKIE, Identity, Stamp, load_session
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


#: Where a read of the session made earlier in the request (``web.kept_answers``) is left on
#: ``request.state``: the cookie's token and what :func:`read_session` found for it.
SESSION_READ = "session_read"


def session_of(db: Database, token: str) -> tuple[Identity, Stamp | None] | None:
    """The person signed in with session cookie ``token`` and their summary stamp (one
    read-only transaction, one statement)."""
    with db.read_rows() as connection:
        return load_session(connection, token)


async def read_session(db: Database, token: str) -> tuple[Identity, Stamp | None] | None:
    """:func:`session_of` on the event loop (SQLite) or in the thread pool (PostgreSQL)."""
    if db.local:
        return session_of(db, token)
    return await run_in_threadpool(session_of, db, token)


def session_token(token: str | None) -> str | None:
    """The session cookie's value if it can be a session token at all (else no read)."""
    return token if token and 20 <= len(token) <= 100 else None


async def current_identity(request: Request) -> Identity | None:
    token = session_token(request.cookies.get(SESSION_COOKIE))
    found = None
    if token is not None:
        earlier = getattr(request.state, SESSION_READ, None)
        if earlier is not None and earlier[0] == token:
            found = earlier[1]
        else:
            found = await read_session(database_of(request), token)
    identity = None if found is None else found[0]
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
