"""The FastAPI application factory: middleware, error handlers, routers, static files.

No state lives in a process: sessions, CSRF tokens, rate-limit counters and everything a person
enters are in the database, so any number of worker processes can share one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from benzotaper import __version__
from benzotaper.storage import Database
from benzotaper.web.deps import csrf_guard
from benzotaper.web.errors import install_error_handlers
from benzotaper.web.guard import RequestGuard
from benzotaper.web.idempotency import Idempotency
from benzotaper.web.kept_answers import KeptAnswers
from benzotaper.web.overload import BoundedConcurrency
from benzotaper.web.security import install_security_middleware
from benzotaper.web.settings import WebSettings
from benzotaper.web.templating import STATIC_DIR

API_DESCRIPTION = (
    "benzotaper's JSON API: the drug catalogue, dose conversion, taper plans, comparison, "
    "simulation, the journal and exports. Every result is decision support: agree any change "
    "with your prescriber, and never stop a benzodiazepine or Z-drug abruptly. Unsafe methods "
    "need the `X-CSRF-Token` header (GET /api/session gives the token)."
)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    if settings.migrate_on_start:
        app.state.db.upgrade()
    _warm_up(app)
    task = None
    if settings.push_reminders:
        from benzotaper.web.push import scheduler

        pem, contact = settings.vapid_private_key, settings.push_contact
        task = asyncio.create_task(scheduler(app.state.db, pem, contact))
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    app.state.db.dispose()


def _warm_up(app: FastAPI) -> None:
    """Before the first request: load the knowledge, compile the templates and prepare the
    routes (a person's first page would wait for them), then move everything loaded so far out
    of the garbage collector's way. Its full collections otherwise walk those ~190,000
    long-lived objects again and again (about 50 ms each, several times a minute under use:
    the slowest 1% of pages). Frozen once per process (a test process starts many apps); what
    the worker's caches keep later is frozen after the full collection it survives
    (``heap``)."""
    from benzotaper.web.deps import get_knowledge
    from benzotaper.web.heap import freeze_survivors
    from benzotaper.web.templating import compile_all

    get_knowledge()
    compile_all()
    if app.state.settings.prepare_routes:
        _prepare_routes(app)
    if gc.get_freeze_count() == 0:
        gc.freeze()
    freeze_survivors()


def _prepare_routes(app: FastAPI) -> None:
    """Match a request no route answers against every router now. FastAPI prepares an
    included router's routes (their dependencies, a validator per parameter) the first time a
    request is matched against them, on the event loop: ~0.4 s of CPU for the journal API's,
    which a worker's first requests waited for (and every request behind them)."""
    for route in app.router.routes:
        scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/\x00", "headers": []}
        route.matches(scope)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: read from BENZOTAPER_* variables)."""
    settings = settings or WebSettings()
    app = FastAPI(
        title="benzotaper",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,  # our own /api/docs: vendored Swagger UI, started from a file (CSP)
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(csrf_guard)],
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.db = Database(settings.database_url)
    app.add_middleware(KeptAnswers, db=lambda: app.state.db)
    app.add_middleware(Idempotency, db=lambda: app.state.db)
    app.add_middleware(RequestGuard, max_body=settings.max_body_bytes)
    install_security_middleware(app, settings.secure_cookies)
    app.add_middleware(
        BoundedConcurrency, limit=settings.max_in_flight, queue_timeout_s=settings.queue_timeout_s
    )
    install_error_handlers(app)
    # Static files are compressed (htmx is 51 KB as a file, 16 KB gzipped); pages are not, as
    # they carry the CSRF token next to what people typed (BREACH).
    static = GZipMiddleware(StaticFiles(directory=str(STATIC_DIR)), minimum_size=1000)
    app.mount("/static", static, name="static")

    from benzotaper.web.routes import ROUTERS

    for router in ROUTERS:
        app.include_router(router)
    _fix_tuple_schemas(app)
    return app


def _uniform_tuples_as_arrays(node: Any) -> None:
    """A tuple of one type (e.g. ``range_mg: tuple[float, float]``) becomes an array of that
    type with a fixed length: same meaning, and readable by tools that mishandle
    ``prefixItems`` (schemathesis 4 rewrites it into a form OpenAPI 3.1 rejects)."""
    if isinstance(node, dict):
        prefix = node.get("prefixItems")
        if isinstance(prefix, list) and prefix and all(i == prefix[0] for i in prefix):
            node["items"] = prefix[0]
            node["minItems"] = node["maxItems"] = len(prefix)
            del node["prefixItems"]
        for value in node.values():
            _uniform_tuples_as_arrays(value)
    elif isinstance(node, list):
        for value in node:
            _uniform_tuples_as_arrays(value)


#: The OpenAPI document of the apps ``create_app`` builds. It depends only on the routers, the
#: same for every one of them, and takes ~1.3 s of CPU to make: made once per process (a test
#: process builds many apps).
_openapi_document: dict[str, Any] = {}


def _fix_tuple_schemas(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            if not _openapi_document:
                _uniform_tuples_as_arrays(original())
                assert app.openapi_schema is not None
                _openapi_document.update(app.openapi_schema)
            app.openapi_schema = copy.deepcopy(_openapi_document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
