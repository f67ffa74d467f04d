"""Home page and health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from benzotaper.web.deps import MaybeUserDep
from benzotaper.web.templating import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, user: MaybeUserDep) -> Response:
    """A signed-in patient lands on Today (the general introduction stays at /about)."""
    if user is not None and user.role == "patient":
        return RedirectResponse("/today", status_code=303)
    return render(request, "home.html")


@router.get("/about", response_class=HTMLResponse, include_in_schema=False)
def about(request: Request) -> HTMLResponse:
    return render(request, "home.html")


@router.get("/healthz", tags=["service"], responses={200: {"description": "The app is up."}})
def healthz() -> dict[str, str]:
    """Liveness: answers without touching the database."""
    return {"status": "ok"}


@router.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI for the JSON API, served from the app (vendored; no CDN, no inline script)."""
    return render(request, "api_docs.html", {"nav": "api"})
