"""The OpenAPI schema describes every /api answer: typed bodies and every status code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import Visitor

#: Operations anyone may call (no sign-in, so no 401).
PUBLIC = {
    ("get", "/api/session"),
    ("post", "/api/session"),
    ("delete", "/api/session"),
    ("post", "/api/users"),
    ("get", "/api/catalogue"),
    ("get", "/api/catalogue/{name}"),
    ("get", "/api/references"),
    ("post", "/api/convert"),
    ("get", "/api/learn"),
    ("get", "/api/learn/{slug}"),
    ("post", "/api/plan"),
    ("post", "/api/compare"),
    ("post", "/api/simulate"),
}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def spec(app_client: TestClient) -> dict[str, Any]:
    data: dict[str, Any] = app_client.get("/api/openapi.json").json()
    return data


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, ops in spec["paths"].items()
        if path.startswith("/api/")
        for method, op in ops.items()
    ]


def test_every_api_operation_declares_its_status_codes(spec: dict[str, Any]) -> None:
    missing: list[str] = []
    for method, path, op in operations(spec):
        codes = set(op["responses"])
        where = f"{method.upper()} {path}"
        if not any(c.startswith("2") for c in codes):
            missing.append(f"{where}: no success answer")
        if method in ("post", "put", "patch", "delete") and "403" not in codes:
            missing.append(f"{where}: CSRF refusal (403) not declared")
        if op.get("parameters") or op.get("requestBody"):
            if "422" not in codes:
                missing.append(f"{where}: bad input (422) not declared")
            else:
                schema = op["responses"]["422"]["content"]["application/json"]["schema"]
                if schema != {"$ref": "#/components/schemas/Problems"}:
                    missing.append(f"{where}: 422 body is {schema}, not Problems")
        if (method, path) not in PUBLIC and "401" not in codes:
            missing.append(f"{where}: not signed in (401) not declared")
        if "{" in path and "404" not in codes:
            missing.append(f"{where}: unknown or someone else's id (404) not declared")
        for code, answer in op["responses"].items():
            if code == "204" or (path.endswith("/export") and code == "200"):
                continue
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            if not schema:
                missing.append(f"{where} {code}: body not described")
    assert missing == [], "\n".join(missing)


def test_status_is_typed_in_the_schema(spec: dict[str, Any]) -> None:
    for path in ("/api/status", "/api/patients/{patient_id}/status"):
        ok = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"] == {"$ref": "#/components/schemas/Status"}, path
    props = spec["components"]["schemas"]["Status"]["properties"]
    for name in ("hold", "hold_reason", "next_cut", "latest_scores", "messages", "disclaimer"):
        assert name in props, name


def test_status_answer_matches_the_model(visitor: Visitor) -> None:
    visitor.signup("typed@example.org")
    body = visitor.client.get("/api/status").json()
    assert body["hold"] is False and body["plan_version"] is None
    assert "prescriber" in body["disclaimer"]


def test_api_docs_page_is_local_and_has_no_inline_script(app_client: TestClient) -> None:
    r = app_client.get("/api/docs")
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.S)
    assert scripts and all('src="/static/' in attrs and body == "" for attrs, body in scripts)
    assert "http" not in "".join(re.findall(r'(?:src|href)="([^"]*)"', r.text))
    for asset in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/api-docs.js",
    ):
        assert app_client.get(asset).status_code == 200, asset
