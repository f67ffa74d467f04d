"""Home methods on the web (issue 12): the builder's opt-in questions, the refusal with its reason
(page and API), and each home dose's recipe and accuracy band on the plan page."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from .conftest import Visitor


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'web.sqlite3'}"


ROW = {"drug_0": "lorazepam", "dose_0": "1 mg", "time_0": "22:00", "market": "us"}
REQUEST = {"regimen": [{"drug": "lorazepam", "mg": 1, "time": "22:00"}]}


def test_builder_asks_the_home_questions_and_refuses_lorazepam_in_water(
    visitor: Visitor,
) -> None:
    page = visitor.client.get("/plan/new").text
    for name in ("home_liquid", "home_vehicle", "scale", "tablet_weight_mg"):
        assert f'name="{name}"' in page
    r = visitor.form("/plan/new", {**ROW, "home_liquid": "on"})
    assert r.status_code == 422
    text = html.unescape(r.text)
    assert "almost insoluble in water" in text and "suspending vehicle" in text
    assert 'name="home_liquid" value="on" aria-describedby="home-hint" checked' in text


def test_a_weighed_home_dose_shows_its_recipe_and_band(visitor: Visitor) -> None:
    r = visitor.form("/plan/new", {**ROW, "scale": "on", "tablet_weight_mg": "120"})
    assert r.status_code == 200
    text = html.unescape(r.text)
    assert "weigh 24 mg of the powder" in text and "the dose taken may be" in text
    assert "a crushed tablet weighed at home (not a licensed method)" in text


def test_api_refuses_with_the_reason_and_documents_the_options(
    visitor: Visitor, app_client: TestClient
) -> None:
    body = {**REQUEST, "preferences": {"home_liquid": True}}
    r = visitor.api("POST", "/api/plan", json=body)
    assert r.status_code == 422 and "insoluble" in r.text
    ok = visitor.api(
        "POST",
        "/api/plan",
        json={**REQUEST, "preferences": {"scale": True, "tablet_weight_mg": 120}},
    )
    assert ok.status_code == 200
    pieces = [p for s in ok.json()["steps"] for d in s["doses"] for p in d["make_up"]]
    home = [p["home"] for p in pieces if p["home"]]
    assert home and all(h["accuracy"]["basis"] == "scale-readability" for h in home)
    props = app_client.get("/api/openapi.json").json()["components"]["schemas"]["Preferences"][
        "properties"
    ]
    for name in ("home_liquid", "scale", "home_vehicle", "tablet_weight_mg"):
        assert "description" in props[name] or "anyOf" in props[name], name
    assert "prescriber" in props["home_liquid"]["description"]
