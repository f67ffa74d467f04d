"""Post/Redirect/Get for page forms: a form that changed something answers with a redirect (303)
to a page, never with the page itself, so reloading it does not send the form again.

What the change has to say once (a new invite code, what the journal's review decided) goes
with the redirect in a short-lived cookie that the page reads and clears. The cookie is signed
with the visitor's own CSRF token (secret, kept per session), so nobody else can put words on
a person's page, and it only lasts a moment. The redirect's URL says what was done (``?saved=``)
without the details, so the page still confirms it when the cookie is missing (a form sent twice
gets the first answer replayed without cookies, see ``web.idempotency``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE = "flash"
#: Policy: seconds a flash message waits for its page (a redirect is followed at once).
SECONDS = 120
#: Browsers drop cookies above 4 KB; the messages that fit are kept, in their order.
MAX_BYTES = 3500
_SALT = "benzotaper.flash"


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.state.csrf_token, salt=_SALT)


def redirect(request: Request, url: str, **data: Any) -> RedirectResponse:
    """A 303 to ``url`` carrying ``data`` (JSON values) for the page shown next.

    A list under ``messages`` is shortened from its end if the cookie would be too large."""
    response = RedirectResponse(url, status_code=303)
    messages = list(data.get("messages", []))
    value = _signer(request).dumps(data)
    while len(value) > MAX_BYTES and messages:
        messages.pop()
        value = _signer(request).dumps(data | {"messages": messages})
    response.set_cookie(
        COOKIE,
        value,
        max_age=SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def take(request: Request) -> dict[str, Any]:
    """What the last change left for this page ({} if nothing, too old or not signed by us);
    the page's answer clears the cookie (``templating.render``)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    request.state.flash_taken = True
    try:
        data = _signer(request).loads(raw, max_age=SECONDS)
    except BadData:  # altered, expired, or signed for another session
        return {}
    return data if isinstance(data, dict) else {}


def clear(request: Request, response: Response) -> None:
    """Clear the flash cookie once a page has shown it."""
    if getattr(request.state, "flash_taken", False):
        response.delete_cookie(COOKIE, path="/")
