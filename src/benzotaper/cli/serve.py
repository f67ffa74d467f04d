"""`serve`: run the web app with uvicorn (migrations applied once, before workers start), and
`migrate`: bring the database's schema up to date (the step before starting workers yourself)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from benzotaper.cli.app import app, console, handle_errors

#: Policy: seconds a worker may take to answer the supervisor's health check (see below).
WORKER_HEALTHCHECK_S = 60


@app.command("serve")
@handle_errors
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (they share one database).")
    ] = 1,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            help="Behind a reverse proxy: take the client address and https from "
            "X-Forwarded-For/-Proto, only when the request comes from --forwarded-allow-ips."
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="The proxy's own addresses, comma-separated (default: FORWARDED_ALLOW_IPS, "
            "else 127.0.0.1). Never '*' unless nothing but the proxy can reach this port."
        ),
    ] = None,
    access_log: Annotated[
        bool,
        typer.Option(
            help="Log one line per request (off by default: it costs CPU on every request; "
            "a reverse proxy usually keeps its own access log)."
        ),
    ] = False,
) -> None:
    """Start the web app (default http://127.0.0.1:8000) on BENZOTAPER_DATABASE_URL or SQLite."""
    import uvicorn

    from benzotaper.storage import Database
    from benzotaper.web.settings import WebSettings

    settings = WebSettings()
    db = Database(settings.database_url)
    db.upgrade()
    console.print(f"Database: {db.url}", highlight=False)
    db.dispose()
    os.environ["BENZOTAPER_MIGRATE_ON_START"] = "0"  # done once here, not in every worker
    console.print(f"benzotaper is running on http://{host}:{port}  (Ctrl+C stops it)")
    uvicorn.run(
        "benzotaper.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="info",
        access_log=access_log,
        # httptools parses HTTP in C and uvloop runs the event loop on libuv: a few ms less CPU
        # per request than uvicorn's pure-Python h11 and asyncio's loop (both are dependencies;
        # "auto" takes uvloop where it is installed, asyncio elsewhere).
        http="httptools",
        loop="auto",
        # A worker busy drawing a chart on a loaded machine may answer the supervisor's ping
        # late; uvicorn's default (5 s) then kills it mid-request. Policy: allow a minute.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )


@app.command("migrate")
@handle_errors
def migrate_cmd() -> None:
    """Bring the database (BENZOTAPER_DATABASE_URL or SQLite) to the newest schema, once.

    Run it before starting web workers yourself (uvicorn, gunicorn) with
    BENZOTAPER_MIGRATE_ON_START=false. Safe to run again, and from several places at once."""
    from benzotaper.storage import Database, current_revision, head_revision

    db = Database()
    before = current_revision(db.engine)
    db.upgrade()
    after = current_revision(db.engine)
    console.print(f"Database: {db.url}", highlight=False)
    if before == after:
        console.print(f"The schema is up to date ({after}).", highlight=False)
    else:
        console.print(f"Migrated from {before or 'an empty database'} to {after}.", highlight=False)
    assert after == head_revision()
    db.dispose()
