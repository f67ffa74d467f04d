"""Web settings, defined once (name, default, help) and read from BENZOTAPER_* variables."""

from __future__ import annotations

from pydantic import Field

from benzotaper.limits import MAX_BODY_BYTES
from benzotaper.settings import Settings
from benzotaper.web.overload import DEFAULT_MAX_IN_FLIGHT, DEFAULT_QUEUE_TIMEOUT_S

#: Software policy, not a clinical figure: failed logins allowed per account (and, separately,
#: five times as many per client address) within the window before login is refused for a while.
DEFAULT_LOGIN_MAX_FAILURES = 5
DEFAULT_LOGIN_WINDOW_MINUTES = 15
DEFAULT_SESSION_DAYS = 14


class WebSettings(Settings):
    """The web app's settings on top of the shared ones (``database_url``); README lists all."""

    secure_cookies: bool = Field(
        default=False,
        description="Always mark cookies Secure (they are anyway on https requests).",
    )
    session_days: int = Field(
        default=DEFAULT_SESSION_DAYS, ge=1, le=365, description="Days a login stays valid."
    )
    login_max_failures: int = Field(
        default=DEFAULT_LOGIN_MAX_FAILURES,
        ge=1,
        le=1000,
        description="Failed logins per account within the window before login is paused.",
    )
    login_window_minutes: int = Field(
        default=DEFAULT_LOGIN_WINDOW_MINUTES,
        ge=1,
        le=24 * 60,
        description="Length of the login rate-limit window, in minutes.",
    )
    max_in_flight: int = Field(
        default=DEFAULT_MAX_IN_FLIGHT,
        ge=1,
        le=1000,
        description="Requests one worker process serves at once; more wait (see next).",
    )
    queue_timeout_s: float = Field(
        default=DEFAULT_QUEUE_TIMEOUT_S,
        gt=0,
        le=300,
        description="Seconds a request may wait for a free slot before 503 (Retry-After: 1).",
    )
    max_body_bytes: int = Field(
        default=MAX_BODY_BYTES,
        ge=4096,
        le=16 * 1024 * 1024,
        description="Largest request body read (bytes); larger ones are refused with 413.",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply database migrations when the app starts."
    )
    prepare_routes: bool = Field(
        default=True,
        description="Prepare every route when the app starts (~0.3-0.5 s of CPU), not on the "
        "first requests that reach them.",
    )
    push_reminders: bool = Field(
        default=True,
        description="Send Web Push dose reminders to subscribed browsers (checked every minute).",
    )
    vapid_private_key: str | None = Field(
        default=None,
        description="VAPID private key (PEM) for Web Push; default: one made and kept in the "
        "database on first use.",
    )
    push_contact: str = Field(
        default="mailto:benzotaper@example.org",
        pattern=r"^(mailto:|https://)",
        description="Contact sent to push services with each reminder (mailto: or https URL).",
    )
    cds_fhir_servers: str = Field(
        default="",
        description="Comma-separated FHIR base URLs the CDS Hooks service may fetch missing "
        "prefetch data from (a request's fhirServer must start with one); empty: prefetch only.",
    )
    smart_client_id: str = Field(
        default="benzotaper",
        max_length=200,
        description="The client_id benzotaper is registered with at the EHR (SMART App Launch).",
    )
