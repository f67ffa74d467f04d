"""OpenAPI descriptions of the error answers, declared on every endpoint that can give them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Message(BaseModel):
    """A plain-language explanation of why the request was refused."""

    detail: str


class Problem(BaseModel):
    """One thing wrong with the input: where (``loc``), what (``msg``) and a machine code."""

    loc: list[str | int]
    msg: str
    type: str
    ctx: dict[str, Any] | None = None


class Problems(BaseModel):
    """Why the input cannot be used as it is (HTTP 422)."""

    detail: list[Problem]


#: FastAPI's type for a route's ``responses``.
Responses = dict[int | str, dict[str, Any]]

NOT_FOUND_404: dict[str, Any] = {"model": Message, "description": "No such record (or not yours)."}
CSRF_403: dict[str, Any] = {
    "model": Message,
    "description": "Missing or wrong CSRF token (send the X-CSRF-Token header), or not allowed.",
}
AUTH_401: dict[str, Any] = {"model": Message, "description": "Not signed in."}
INPUT_422: dict[str, Any] = {
    "model": Problems,
    "description": "The input cannot be used as it is; each item of detail says what and where.",
}
CONFLICT_409: dict[str, Any] = {
    "model": Message,
    "description": "Changed by someone else meanwhile (or already retracted): reload and retry.",
}
RATE_429: dict[str, Any] = {"model": Message, "description": "Too many attempts; try again later."}
