"""The installable app: web manifest, service worker (Today readable offline), Web Push.

The service worker lives at the site's root so it controls every page; it is a static file
served with ``no-cache`` so a new version is picked up at once. Push subscriptions are kept per
person; the scheduler (``web.push``) sends dose reminders on each person's own clock.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from benzotaper.web import push
from benzotaper.web.deps import DbDep, PatientDep, SettingsDep
from benzotaper.web.responses import AUTH_401, CSRF_403, INPUT_422
from benzotaper.web.templating import STATIC_DIR, render

router = APIRouter()

MANIFEST: dict[str, Any] = {
    "name": "benzotaper: your taper, day by day",
    "short_name": "benzotaper",
    "description": "What to take today, your journal and your taper plan. Agree every change "
    "with your prescriber.",
    "id": "/today",
    "start_url": "/today",
    "scope": "/",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#0b5394",
    "icons": [
        {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png",
         "purpose": "any maskable"},
        {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png",
         "purpose": "any maskable"},
    ],
}  # fmt: skip


@router.get("/manifest.webmanifest", include_in_schema=False)
def manifest() -> Response:
    return JSONResponse(MANIFEST, media_type="application/manifest+json")


@router.get("/sw.js", include_in_schema=False)
def service_worker() -> Response:
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"}
    return FileResponse(STATIC_DIR / "sw.js", media_type="text/javascript", headers=headers)


@router.get("/offline", response_class=HTMLResponse, include_in_schema=False)
def offline(request: Request) -> HTMLResponse:
    """What the service worker shows for a page it has no copy of while offline."""
    return render(request, "offline.html", {"nav": ""})


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="ignore")

    p256dh: str = Field(min_length=20, max_length=200)
    auth: str = Field(min_length=8, max_length=100)


class SubscriptionIn(BaseModel):
    """A browser's ``PushSubscription.toJSON()``."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(min_length=10, max_length=1000, pattern=r"^https?://")
    keys: PushKeys


class PushKeyOut(BaseModel):
    public_key: str = Field(description="VAPID public key (base64url): applicationServerKey")


class PushStatusOut(BaseModel):
    subscriptions: int


@router.get(
    "/api/push/key",
    tags=["reminders"],
    response_model=PushKeyOut,
    responses={401: AUTH_401, 403: CSRF_403},
)
def push_key(db: DbDep, settings: SettingsDep, user: PatientDep) -> PushKeyOut:
    """The server's VAPID public key, for ``pushManager.subscribe``."""
    return PushKeyOut(public_key=push.keys(db, settings.vapid_private_key).public_key)


@router.post(
    "/api/push/subscriptions",
    tags=["reminders"],
    status_code=201,
    response_model=PushStatusOut,
    responses={401: AUTH_401, 403: CSRF_403, 422: INPUT_422},
)
def push_subscribe(db: DbDep, user: PatientDep, body: SubscriptionIn) -> PushStatusOut:
    """Send dose reminders to this browser (its push subscription)."""
    push.subscribe(db, user.id, body.model_dump())
    return PushStatusOut(subscriptions=push.subscription_count(db, user.id))


class UnsubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: Annotated[str | None, Field(max_length=1000)] = None


@router.post(
    "/api/push/unsubscribe",
    tags=["reminders"],
    response_model=PushStatusOut,
    responses={401: AUTH_401, 403: CSRF_403, 422: INPUT_422},
)
def push_unsubscribe(db: DbDep, user: PatientDep, body: UnsubscribeIn) -> PushStatusOut:
    """Stop reminders to one browser (by its endpoint), or to all of the person's browsers."""
    push.unsubscribe(db, user.id, body.endpoint)
    return PushStatusOut(subscriptions=push.subscription_count(db, user.id))
