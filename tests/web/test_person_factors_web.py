"""The builder's questions and the API schema come from PersonFactors' one declaration."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from benzotaper.planning.factors import number_factors, person_factors, yes_no_factors

from .conftest import Visitor

ROW = {"drug_0": "diazepam", "dose_0": "5 mg", "time_0": "08:00", "years_on_drug": "2"}


def test_builder_asks_every_factor_with_its_label(app_client: TestClient) -> None:
    page = html.unescape(app_client.get("/plan/new").text)
    for factor in yes_no_factors():
        assert f'type="checkbox" name="{factor.name}"' in page
        assert factor.label in page
    for factor in number_factors():
        assert f'name="{factor.name}"' in page and f'<label for="{factor.name}">' in page
        assert factor.label in page


def test_a_ticked_factor_reaches_the_plan_and_its_flag_is_shown(visitor: Visitor) -> None:
    r = visitor.form("/plan/new", {**ROW, "complicated_withdrawal": "on", "suicidality": "on"})
    assert r.status_code == 200
    page = html.unescape(r.text)
    assert "inpatient" in page and "988" in page
    r = visitor.form("/plan/new", {**ROW, "age": "200"})
    assert r.status_code == 422
    assert "Age: Input should be less than or equal to 120" in html.unescape(r.text)


def test_api_schema_carries_flag_label_and_description(app_client: TestClient) -> None:
    schema = app_client.get("/api/openapi.json").json()
    props = schema["components"]["schemas"]["PersonFactors"]["properties"]
    assert list(props) == [f.name for f in person_factors()]
    for factor in person_factors():
        prop = props[factor.name]
        assert prop["description"] == factor.description
        assert prop["x-cli-flags"] == list(factor.flags)
        assert prop["x-form-label"] == factor.label


def test_api_takes_the_new_factors(visitor: Visitor) -> None:
    body = {
        "regimen": [{"drug": "diazepam", "mg": 5, "time": "08:00"}],
        "person": {"years_on_drug": 2, "other_sedatives": True, "pdmp_checked": True},
    }
    r = visitor.api("POST", "/api/plan", json=body)
    assert r.status_code == 200, r.text
    flags = {f["code"] for f in r.json()["risk"]["flags"]}
    assert "risk.other_sedatives" in flags and "risk.pdmp_reminder" not in flags
    body["person"] = {"suicidality": "perhaps"}
    assert visitor.api("POST", "/api/plan", json=body).status_code == 422
