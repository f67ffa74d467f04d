"""OpenAPI descriptions of the error answers, declared on every endpoint that can give them;
and the JSON answer of a model made in the route's own thread."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.responses import Response


def model_json(model: BaseModel) -> Response:
    """``model`` as the JSON FastAPI sends for a route's ``response_model`` (the model's own
    serialiser, by alias), made in the route's thread. A plain ``def`` route that returns the
    model has FastAPI check and serialise it in a second trip to the thread pool (~1 ms of CPU
    per request measured in-process); the route keeps ``response_model`` for its OpenAPI
    description and must return exactly that model's type."""
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


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
