"""Plan builder pages and the planning API: the library's plan, shown and saved as it is."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest
from benzotaper.web.dates import date_range

from .conftest import Visitor


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Pages and pure computations: SQLite only (the storage paths run on both elsewhere)."""
    return sqlite_url


FORM = {
    "drug_0": "Klonopin",
    "dose_0": "0.5 mg",
    "time_0": "08:00",
    "drug_1": "clonazepam",
    "dose_1": "0.5 mg",
    "time_1": "22:00",
    "strategy": "percent",
    "market": "us",
    "days_per_week": "7",
    "previous_attempts": "0",
    "age": "45",
    "years_on_drug": "3",
}
REQUEST: dict[str, Any] = {
    "regimen": [
        {"drug": "clonazepam", "mg": 0.5, "time": "08:00"},
        {"drug": "clonazepam", "mg": 0.5, "time": "22:00"},
    ],
    "person": {"age": 45, "years_on_drug": 3},
}


def test_preview_shows_the_library_plan(visitor: Visitor, catalogue: Catalogue) -> None:
    r = visitor.client.post(
        "/plan/preview", data=FORM, headers={"HX-Request": "true", "X-CSRF-Token": visitor.csrf}
    )
    assert r.status_code == 200 and "<html" not in r.text
    plan = make_plan(
        PlanRequest.model_validate(REQUEST), default_knowledge(), today=dt.date.today()
    )
    for step in plan.steps:  # dates as the reader writes them ("en": Nov 30 – Dec 13, 2026)
        assert date_range(step.start, step.end) in r.text
    for piece in plan.steps[0].doses[0].make_up:
        assert piece.text in r.text
    assert "Agree this plan with your prescriber" in r.text
    # the chart is its own request (drawn when the image is fetched, not with the page)
    src = re.search(r'<img src="(/plan/chart\.svg\?[^"]+)"[^>]* loading="lazy"', r.text)
    assert src is not None, "no lazy chart image in the preview"
    chart = visitor.client.get(html.unescape(src.group(1)))
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in chart.content and len(chart.content) > 5000


def test_preview_of_a_micro_taper_shows_the_cuts_of_14_days(visitor: Visitor) -> None:
    form = {**FORM, "market": "uk", "drug_0": "diazepam", "dose_0": "10 mg", "micro": "on"}
    form.update({"drug_1": "diazepam", "dose_1": "10 mg"})
    r = visitor.client.post(
        "/plan/preview", data=form, headers={"HX-Request": "true", "X-CSRF-Token": visitor.csrf}
    )
    assert r.status_code == 200
    # each micro step says what all the cuts of the 14 days before it came to
    assert re.search(r"cut [\d.]+%; [\d.]+% in the last 14 days", r.text), r.text[:2000]
    assert re.search(r", [\d.]+% in 14 days</span>", r.text)


def test_preview_of_a_route_from_the_start_says_so(visitor: Visitor) -> None:
    """Lorazepam 0.25 mg: no US product makes it, so it is switched to diazepam in the first
    step; the page said it "continues with switching to diazepam for the last part"."""
    form = {**FORM, "drug_0": "lorazepam", "dose_0": "0.25 mg"}
    form.update({"drug_1": "", "dose_1": "", "time_1": ""})
    r = visitor.client.post(
        "/plan/preview", data=form, headers={"HX-Request": "true", "X-CSRF-Token": visitor.csrf}
    )
    assert r.status_code == 200
    text = html.unescape(r.text)
    assert "Lorazepam is tapered with <strong>switching to diazepam</strong>" in text, text
    assert "No product allowed makes the lorazepam dose taken now (0.25 mg at 08:00)" in text
    assert "for the last part" not in text and "next small cut" not in text


def test_builder_errors_keep_every_value(visitor: Visitor) -> None:
    bad = {**FORM, "drug_1": "klonazepxm", "dose_1": "5 tablets", "age": "old"}
    r = visitor.form("/plan/new", bad)
    assert r.status_code == 422
    assert "counts tablets" in r.text and "Age: enter a whole number" in r.text
    for value in ("klonazepxm", "5 tablets", "old", "Klonopin", "22:00"):
        assert f'value="{value}"' in r.text
    assert "Did you mean: clonazepam" in r.text  # the close-match suggestion


def test_add_row_without_javascript(visitor: Visitor) -> None:
    r = visitor.form("/plan/new", {**FORM, "action": "add-row"})
    assert r.status_code == 200
    assert 'name="drug_2"' in r.text and 'value="Klonopin"' in r.text


def test_compare_lists_each_strategy(visitor: Visitor) -> None:
    r = visitor.client.post(
        "/plan/compare", data=FORM, headers={"HX-Request": "true", "X-CSRF-Token": visitor.csrf}
    )
    assert r.status_code == 200
    for label in ("Percent of current dose", "Hyperbolic", "Fixed amount", "Ashton"):
        assert label in r.text
    assert "(your choice)" in r.text


def test_save_by_a_clinician_is_refused_and_keeps_input(make_visitor) -> None:  # type: ignore[no-untyped-def]
    clinician = make_visitor()
    clinician.signup("doc-saves@example.org", role="clinician")
    r = clinician.form("/plan/save", FORM)
    assert r.status_code == 422 and "patient accounts" in r.text and 'value="Klonopin"' in r.text
    patient = make_visitor()
    patient.signup("saver@example.org")
    r = patient.form("/plan/save", FORM, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/my-plan")
    page = patient.client.get(r.headers["location"]).text
    assert "Plan saved" in page and "Now and next" in page
    assert "I took it" in patient.client.get("/today").text
    versions = patient.client.get("/api/plans").json()
    assert len(versions) == 1 and versions[0]["active"]


def test_api_plan_and_compare_and_simulate(visitor: Visitor, catalogue: Catalogue) -> None:
    r = visitor.api("POST", "/api/plan", json=REQUEST)
    assert r.status_code == 200
    expected = make_plan(
        PlanRequest.model_validate(REQUEST), default_knowledge(), today=dt.date.today()
    )
    assert r.json()["steps"] == expected.model_dump(mode="json")["steps"]
    rows = visitor.api("POST", "/api/compare", json=REQUEST).json()
    assert {row["strategy"] for row in rows} == {"percent", "hyperbolic", "linear", "ashton-bands"}
    assert any(row["crossover"] == "diazepam" for row in rows)  # direct vs crossover first
    assert sum(row["chosen"] for row in rows) == 1
    sim = visitor.api(
        "POST", "/api/simulate", json={"regimen": REQUEST["regimen"], "days": 5, "steady": True}
    )
    assert sim.status_code == 200 and len(sim.json()["daily"]) == 5
    assert sim.json()["steady_state"]["de_dose_mg"] > 0


def test_api_plan_bad_input_is_422(visitor: Visitor) -> None:
    cases = [
        {**REQUEST, "regimen": [{"drug": "nosuchdrug", "mg": 1, "time": "08:00"}]},
        {**REQUEST, "regimen": [{"drug": "clonazepam", "mg": 1, "time": "8 o'clock"}]},
        {**REQUEST, "preferences": {"start": 0}},
        {**REQUEST, "regimen": []},
    ]
    for body in cases:
        r = visitor.api("POST", "/api/plan", json=body)
        assert r.status_code == 422, body
        assert r.json()["detail"][0]["msg"]


def test_exports_of_the_saved_plan(visitor: Visitor) -> None:
    visitor.signup("exports@example.org")
    assert visitor.client.get("/api/plans/active/export?format=pdf").status_code == 404
    assert visitor.api("POST", "/api/plans", json={"request": REQUEST}).status_code == 201
    expected = {
        "pdf": ("application/pdf", b"%PDF"),
        "ics": ("text/calendar", b"BEGIN:VCALENDAR"),
        "csv": ("text/csv", b""),
        "fhir": ("application/fhir+json", b"{"),
        "story": ("text/markdown", b""),
    }
    for fmt, (media, start) in expected.items():
        r = visitor.client.get(f"/my-plan/export/{fmt}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(media), fmt
        assert r.content.startswith(start) and "attachment" in r.headers["content-disposition"]
        api = visitor.client.get(f"/api/plans/active/export?format={fmt}")
        assert api.status_code == 200 and api.headers["content-type"].startswith(media)


def test_plan_versions_are_private(make_visitor) -> None:  # type: ignore[no-untyped-def]
    a, b = make_visitor(), make_visitor()
    a.signup("va@example.org")
    b.signup("vb@example.org")
    saved = a.api("POST", "/api/plans", json={"request": REQUEST}).json()
    assert a.client.get(f"/api/plans/{saved['uid']}").status_code == 200
    assert b.client.get(f"/api/plans/{saved['uid']}").status_code == 404
    assert b.client.get("/api/plans").json() == []
    assert b.client.get("/api/plans/not-a-uid").status_code == 422


def test_builder_prefills_from_saved_plan(visitor: Visitor) -> None:
    visitor.signup("prefill@example.org")
    visitor.api("POST", "/api/plans", json={"request": REQUEST})
    page = visitor.client.get("/plan/new?from=active").text
    assert "Filled in from your saved plan" in page
    assert re.search(r'name="dose_1" [^>]*value="0.5 mg"', page)


def test_a_preview_is_planned_once_per_day_request_and_chart(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The builder keeps its previews (the same form is sent on every change and click): the
    same request on the same day with the same chart link is the same plan, kept; another
    day or another dose is planned afresh; a plan above the kept size is made each time."""
    from benzotaper.web import planview

    knowledge, request = default_knowledge(), PlanRequest.model_validate(REQUEST)
    day = dt.date.today() + dt.timedelta(days=3)
    first = planview.propose(request, knowledge, day, "/plan/chart.svg?a")
    assert planview.propose(request, knowledge, day, "/plan/chart.svg?a") is first
    assert first.view.chart == "/plan/chart.svg?a" and first.plan.summary.start == day
    later = planview.propose(request, knowledge, day + dt.timedelta(days=1), "/plan/chart.svg?a")
    assert later.plan.summary.start == day + dt.timedelta(days=1)
    other_link = planview.propose(request, knowledge, day, "/plan/chart.svg?b")
    assert other_link.view.chart == "/plan/chart.svg?b"
    more = REQUEST | {"regimen": [{"drug": "clonazepam", "mg": 2, "time": "08:00"}]}
    bigger = planview.propose(PlanRequest.model_validate(more), knowledge, day, "/c")
    assert bigger.plan.steps[0].daily_mg != first.plan.steps[0].daily_mg
    monkeypatch.setattr(planview, "PROPOSAL_KEPT_STEPS", 1)
    unkept = planview.propose(request, knowledge, day + dt.timedelta(days=2), "/c")
    assert not unkept.kept
    assert planview.propose(request, knowledge, day + dt.timedelta(days=2), "/c") is not unkept


def test_a_kept_preview_reads_as_a_new_one_in_each_locale(visitor: Visitor) -> None:
    headers = {"HX-Request": "true", "X-CSRF-Token": visitor.csrf}
    plan = make_plan(
        PlanRequest.model_validate(REQUEST), default_knowledge(), today=dt.date.today()
    )
    step = plan.steps[1]
    for lang, locale in (("en-US", "en_US"), ("en-GB", "en_GB"), ("en-US", "en_US")):
        first = visitor.client.post(
            "/plan/preview", data=FORM, headers=headers | {"Accept-Language": lang}
        )
        again = visitor.client.post(
            "/plan/preview", data=FORM, headers=headers | {"Accept-Language": lang}
        )
        assert first.status_code == again.status_code == 200 and first.text == again.text
        assert date_range(step.start, step.end, locale) in first.text


def test_api_custom_schedule_last_row(visitor: Visitor) -> None:
    """A schedule whose last row is not zero: the last row lasts as long as its cut needs
    (not an assumed 14 days the rate check refused); a too-large cut names the override."""
    start = dt.date.today()

    def body(*rows: tuple[int, float]) -> dict[str, Any]:
        steps = [
            {
                "start": (start + dt.timedelta(days=n)).isoformat(),
                "drug": "diazepam",
                "daily_mg": mg,
            }
            for n, mg in rows
        ]
        prefs = {"strategy": "custom", "custom_steps": steps, "start": start.isoformat()}
        return {"regimen": [{"drug": "diazepam", "mg": 2, "time": "08:00"}], "preferences": prefs}

    r = visitor.api("POST", "/api/plan", json=body((0, 2), (28, 1)))
    assert r.status_code == 200, r.text
    last, stop = r.json()["steps"][1:]
    assert last["diazepam_equivalent_mg"] == 1 and stop["phase"] == "stop"
    assert dt.date.fromisoformat(last["end"]) - dt.date.fromisoformat(last["start"]) == (
        dt.timedelta(days=27)
    )
    r = visitor.api("POST", "/api/plan", json=body((0, 2), (1, 1), (28, 0.5)))
    assert r.status_code == 422, r.text  # was a 500: the web read the problems as notices
    (problem,) = r.json()["detail"]
    assert "25.9% per 14 days" in problem["msg"]
    assert problem["ctx"]["preference"] == {"override": True}
