"""The one place benzotaper's typed errors become HTTP answers (JSON for /api, a page otherwise).

Every 422 has FastAPI's validation shape, ``{"detail": [{"loc", "msg", "type"}]}``, so clients
and the OpenAPI schema see one error format whether pydantic or the core refused the input.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from benzotaper.errors import BenzotaperError, InputError
from benzotaper.web.guard import answers_json
from benzotaper.web.templating import render


def status_for(exc: BenzotaperError) -> int:
    """The HTTP status of a benzotaper error: each class carries its own."""
    return exc.http_status


def _item(notice: Any, exc: BenzotaperError, loc: list[str | int] | None) -> dict[str, Any]:
    """One journal notice (a refusal or a question) as a problem item of the 422 answer."""
    from benzotaper.journal.wording import notice_text

    where: list[str | int] = loc or ["body"]
    if notice.field:
        where = [*where, *([] if notice.field == "day" else ["entry"]), notice.field]
    return {
        "loc": where,
        "msg": notice_text(notice),
        "type": exc.code,
        "ctx": {"kind": notice.kind, "values": notice.model_dump(mode="json")["values"]},
    }


def error_detail(exc: BenzotaperError, loc: list[str | int] | None = None) -> list[dict[str, Any]]:
    """The ``detail`` list of a 422: one item per journal notice, else one for the message."""
    notices = getattr(exc, "problems", None) or getattr(exc, "questions", None)
    if notices and all(isinstance(n, str) for n in notices):  # a custom schedule's problems
        ctx = {"preference": getattr(exc, "preference", None) or {}}
        return [{"loc": loc or ["body"], "msg": n, "type": exc.code, "ctx": ctx} for n in notices]
    if notices:
        return [_item(n, exc, loc) for n in notices]
    item: dict[str, Any] = {"loc": loc or ["body"], "msg": exc.message, "type": exc.code}
    suggestions = getattr(exc, "suggestions", None)
    if suggestions:
        item["ctx"] = {"suggestions": suggestions}
    return [item]


def _wants_json(request: Request) -> bool:
    return answers_json(request.url.path)


def _readable(errors: list[Any]) -> list[dict[str, Any]]:
    """Keep pydantic's detail but make sure each message names the field in plain words."""
    out = []
    for err in errors:
        loc = [p for p in err.get("loc", []) if isinstance(p, str | int)]
        msg = str(err.get("msg", "invalid value"))
        out.append({"loc": loc, "msg": msg, "type": str(err.get("type", "value_error"))})
    return out


def _server_error(request: Request, exc: Exception) -> Response:
    """An unexpected error: a plain answer that says nothing of the cause, with the security
    headers (Starlette sends it from outside every middleware, so they are added here)."""
    from benzotaper.web.security import add_security_headers

    response: Response
    if _wants_json(request):
        response = JSONResponse({"detail": "The server could not do this."}, status_code=500)
    else:
        response = HTMLResponse(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went '
            "wrong</title></head><body><h1>Something went wrong</h1><p>Please try again in a "
            'moment.</p><p><a href="/">Go to the home page</a></p>'
            "</body></html>",
            status_code=500,
        )
    add_security_headers(response.headers, request.url.path)
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _server_error)

    @app.exception_handler(BenzotaperError)
    async def _benzotaper(request: Request, exc: BenzotaperError) -> Response:
        status, headers = exc.http_status, exc.http_headers()
        if _wants_json(request):
            if status == 422:
                body: dict[str, Any] = {"detail": error_detail(exc)}
            elif status >= 500:  # a 503 (plan budget) says to try again; a 500 says nothing
                body = {"detail": exc.message if status == 503 else "The server could not do this."}
            else:
                body = {"detail": exc.message}
            return JSONResponse(body, status_code=status, headers=headers)
        if status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        message = None if status == 500 else exc.message
        resp = render(request, "error.html", {"status": status, "message": message}, status)
        resp.headers.update(headers)
        return resp

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        detail = _readable(list(exc.errors()))
        if _wants_json(request):
            return JSONResponse({"detail": detail}, status_code=422)
        message = "; ".join(f"{'.'.join(map(str, d['loc'][1:]))}: {d['msg']}" for d in detail)
        return render(request, "error.html", {"status": 422, "message": message}, 422)

    @app.exception_handler(ValidationError)
    async def _pydantic(request: Request, exc: ValidationError) -> Response:
        """A model validated inside a route (e.g. a journal entry given as a document)."""
        detail = _readable([{**e, "loc": ["body", *e.get("loc", ())]} for e in exc.errors()])
        if _wants_json(request):
            return JSONResponse({"detail": detail}, status_code=422)
        message = "; ".join(f"{'.'.join(map(str, d['loc'][1:]))}: {d['msg']}" for d in detail)
        return render(request, "error.html", {"status": 422, "message": message}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 400:  # a body that cannot be parsed is bad input like any other
            msg = "The request body could not be read: send valid JSON (UTF-8) or form data."
            if _wants_json(request):
                item = {"loc": ["body"], "msg": msg, "type": "body_unreadable"}
                return JSONResponse({"detail": [item]}, status_code=422)
            return render(request, "error.html", {"status": 422, "message": msg}, 422)
        if _wants_json(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=headers
            )
        if exc.status_code == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        resp = render(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.detail},
            status_code=exc.status_code,
        )
        if headers:
            resp.headers.update(headers)
        return resp


__all__ = ["InputError", "error_detail", "install_error_handlers", "status_for"]
