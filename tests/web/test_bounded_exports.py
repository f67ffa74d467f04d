"""The API and the pages answer the journal a page (or a bounded export) at a time: listings
paged with a keyset cursor in an RFC 8288 Link header, FHIR downloads bounded to the newest
check-ins with the link to the earlier ones, PDFs kept per plan version and day. The paging
itself runs on both backends in tests/journal/test_paging.py."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from benzotaper.limits import ENTRIES_PAGE_DEFAULT, ENTRIES_PAGE_MAX, EXPORT_CHECKINS_MAX

from .conftest import Visitor
from .test_clinician import _share
from .test_journal import TODAY, plan_started


def _checkins(patient: Visitor, days_ago: list[int]) -> None:
    assert patient.api("POST", "/api/plans", json=plan_started(10)).status_code == 201
    for n in days_ago:
        day = (TODAY - dt.timedelta(days=n)).isoformat()
        entry = {"kind": "checkin", "quick": {"anxiety": 2}}
        r = patient.api("POST", "/api/journal/entries", json={"day": day, "entry": entry})
        assert r.status_code == 201, r.text


def _follow(visitor: Visitor, url: str) -> tuple[list[dict[str, Any]], int]:
    """Every entry, following the Link headers; and how many pages that took."""
    seen: list[dict[str, Any]] = []
    pages = 0
    while True:
        r = visitor.client.get(url)
        assert r.status_code == 200, r.text
        seen += r.json()
        pages += 1
        nxt = r.links.get("next")
        if nxt is None:
            return seen, pages
        assert nxt["url"].startswith(url.split("?")[0] + "?")
        url = nxt["url"]


def test_listings_are_pages_linked_by_rfc8288_headers(make_visitor: Any) -> None:
    patient, clinician = make_visitor(), make_visitor()
    patient.signup("pages@example.org")
    clinician.signup("drpages@example.org", role="clinician")
    _checkins(patient, [4, 3, 2, 1, 0])
    everything = patient.client.get("/api/journal/entries")
    assert "link" not in everything.headers and len(everything.json()) == 5  # one page: as before

    first = patient.client.get("/api/journal/entries?limit=2&kind=checkin")
    assert first.status_code == 200 and len(first.json()) == 2
    assert first.headers["link"].endswith('>; rel="next"')
    seen, pages = _follow(patient, "/api/journal/entries?limit=2&kind=checkin")
    assert pages == 3 and [e["uid"] for e in seen] == [e["uid"] for e in everything.json()]

    pid = _share(patient, clinician)
    theirs, pages = _follow(clinician, f"/api/patients/{pid}/entries?limit=3")
    assert pages == 2 and [e["uid"] for e in theirs] == [e["uid"] for e in everything.json()]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("limit=0", "greater than or equal to 1"),
        (f"limit={ENTRIES_PAGE_MAX + 1}", f"less than or equal to {ENTRIES_PAGE_MAX}"),
        ("limit=x", "valid integer"),
        ("after=nope", "'nope' is not a page cursor"),
        ("after=2026-02-30.1", "is not a page cursor"),
        ("after=" + "1" * 41, "at most 40 characters"),
    ],
)
def test_a_page_out_of_bounds_is_a_clear_422(visitor: Visitor, query: str, said: str) -> None:
    visitor.signup("bounds@example.org")
    r = visitor.client.get(f"/api/journal/entries?{query}")
    assert r.status_code == 422 and said in r.text, r.text


def test_openapi_describes_the_page_parameters_and_the_link_header(visitor: Visitor) -> None:
    spec = visitor.client.get("/api/openapi.json").json()
    for path in ("/api/journal/entries", "/api/patients/{patient_id}/entries"):
        op = spec["paths"][path]["get"]
        params = {p["name"]: p for p in op["parameters"]}
        limit = params["limit"]["schema"]
        assert limit["maximum"] == ENTRIES_PAGE_MAX and limit["default"] == ENTRIES_PAGE_DEFAULT
        assert params["after"]["schema"]["anyOf"][0]["maxLength"] == 40
        assert "Link" in op["responses"]["200"]["headers"]
    export = spec["paths"]["/api/plans/active/export"]["get"]
    assert {"journal_start", "journal_end"} <= {p["name"] for p in export["parameters"]}
    assert "Link" in export["responses"]["200"]["headers"]


def test_fhir_downloads_carry_the_newest_checkins_and_link_the_earlier_ones(
    make_visitor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("benzotaper.services.journal.EXPORT_CHECKINS_MAX", 2)
    patient, clinician = make_visitor(), make_visitor()
    patient.signup("fhirbound@example.org")
    clinician.signup("drfhir@example.org", role="clinician")
    _checkins(patient, [3, 2, 1, 0])
    pid = _share(patient, clinician)
    days = [(TODAY - dt.timedelta(days=n)).isoformat() for n in (3, 2, 1, 0)]
    for who, url in (
        (patient, "/my-plan/export/fhir"),
        (patient, "/api/plans/active/export?format=fhir-r5"),
        (clinician, f"/clinician/patients/{pid}/export/fhir-r4"),
    ):
        r = who.client.get(url)
        assert r.status_code == 200, r.text
        assert _authored(r.content) == days[2:]
        assert r.headers["x-journal-left-out-from"] == days[1]
        earlier = r.links["prev"]["url"]
        assert f"journal_end={days[1]}" in earlier
        rest = who.client.get(earlier)
        assert _authored(rest.content) == days[:2] and "link" not in rest.headers
    for who, page in ((patient, "/my-plan"), (clinician, f"/clinician/patients/{pid}")):
        said = " ".join(who.client.get(page).text.split())
        assert f"the newest {EXPORT_CHECKINS_MAX} check-ins" in said and "journal_end=" in said
    whole = patient.client.get(f"/my-plan/export/fhir?journal_start={days[2]}")
    assert _authored(whole.content) == days[2:] and "link" not in whole.headers


def _authored(content: bytes) -> list[str]:
    return sorted(
        {
            e["resource"]["authored"]
            for e in json.loads(content)["entry"]
            if e["resource"]["resourceType"] == "QuestionnaireResponse"
        }
    )


def test_a_pdf_is_made_once_per_plan_version_and_day(
    visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benzotaper.web import exporting

    made: list[str] = []
    real = exporting.FORMATS["pdf"]

    def counting(*args: Any) -> bytes:
        made.append("pdf")
        return real.make(*args)

    monkeypatch.setitem(
        exporting.FORMATS, "pdf", exporting.Format(**{**vars(real), "make": counting})
    )
    visitor.signup("pdfkept@example.org")
    _checkins(visitor, [1])
    first = visitor.client.get("/my-plan/export/pdf")
    again = visitor.client.get("/api/plans/active/export?format=pdf")
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert made == ["pdf"]
    assert visitor.api("POST", "/api/plans", json=plan_started(5)).status_code == 201
    assert visitor.client.get("/my-plan/export/pdf").content[:4] == b"%PDF"
    assert made == ["pdf", "pdf"]  # a new plan version: a new PDF
