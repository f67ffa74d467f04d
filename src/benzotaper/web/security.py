"""Security at the edge: response headers, CSRF tokens and password hashing.

CSRF: a signed-in person's token lives in their session row (synchronizer token); before sign-in
a random ``bt_csrf`` cookie is echoed by the form (double submit). Unsafe requests (POST, PUT,
PATCH, DELETE) must carry the token in the ``csrf_token`` form field or the ``X-CSRF-Token``
header; htmx sends the header from ``static/app.js`` (no inline script anywhere).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import FastAPI, Request
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from benzotaper.errors import CsrfError

CSRF_COOKIE = "bt_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: SVG charts are served as images; matplotlib's SVG styles itself inline.
CSP_SVG = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_hasher = PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    """argon2id with pwdlib's default cost parameters."""
    return _hasher.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    try:
        return bool(_hasher.verify(password, hashed))
    except Exception:  # a malformed stored hash is a failed login, never a crash
        return False


_dummy: tuple[PasswordHash, str] | None = None


def dummy_hash() -> str:
    """A hash of a random password, verified against when the account does not exist, so a
    login for an unknown name costs the same time as one for a known name. Made on first use
    with the hasher in force (at production cost ~0.26 s of CPU: not at import, which every
    process that imports this module, CLI and test workers included, would pay)."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, hash_password(secrets.token_urlsafe(16)))
    return _dummy[1]


def new_token() -> str:
    """A URL-safe random token of 256 bits."""
    return secrets.token_urlsafe(32)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def add_security_headers(headers: MutableHeaders, path: str) -> None:
    """The headers every answer carries, errors included; nothing but static files is cached:
    pages, API answers and exports hold health data (Back after logout must not show them)."""
    for key, value in SECURITY_HEADERS.items():
        headers.setdefault(key, value)
    if not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"


def install_security_middleware(app: FastAPI, secure_cookies: bool) -> None:
    app.add_middleware(SecurityMiddleware, secure_cookies=secure_cookies)


def _anon_csrf(scope: Scope) -> tuple[str, bool]:
    """The visitor's ``bt_csrf`` token from their cookie, or a new one (and whether it is new)."""
    for key, value in scope["headers"]:
        if key == b"cookie":
            anon = cookie_parser(value.decode("latin-1")).get(CSRF_COOKIE, "")
            if len(anon) == 43 and anon.replace("-", "").replace("_", "").isalnum():
                return anon, False
            break
    return new_token(), True


class SecurityMiddleware:
    """ASGI middleware: the anonymous CSRF token on ``request.state`` before the route, and the
    security headers, HSTS and the ``bt_csrf`` cookie on the answer. Plain ASGI (Starlette's
    ``@app.middleware("http")`` runs the rest of the app in a task of its own with memory
    streams between them: a cost on every request)."""

    def __init__(self, app: ASGIApp, secure_cookies: bool) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        anon, fresh = _anon_csrf(scope)
        state = scope.setdefault("state", {})
        state["anon_csrf"] = state["csrf_token"] = anon
        secure = self.secure_cookies or scope.get("scheme") == "https"

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                add_security_headers(headers, scope["path"])
                if secure:
                    headers.setdefault(
                        "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
                    )
                rotate = bool(state.get("rotate_csrf", False))
                if fresh or rotate:
                    cookie = Response()
                    cookie.set_cookie(
                        CSRF_COOKIE,
                        new_token() if rotate else anon,
                        httponly=True,
                        samesite="lax",
                        secure=secure,
                        path="/",
                    )
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, send_secured)


#: Paths called by other systems, never with a session cookie, so CSRF cannot apply:
#: CDS Hooks services (an EHR posts to them).
CSRF_EXEMPT = ("/cds-services",)


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe request without the right token (403), whatever route it is for."""
    if request.method in SAFE_METHODS or request.url.path.startswith(CSRF_EXEMPT):
        return
    expected: str = request.state.csrf_token
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError(
            "This form has expired or did not come from this site. "
            "Please reload the page and try again."
        )
