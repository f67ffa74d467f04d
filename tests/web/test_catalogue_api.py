"""Catalogue and conversion through the API and the pages, against the library's own answers."""

from __future__ import annotations

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.conversion import convert

from .conftest import Visitor


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Pages and pure computations: SQLite only (the storage paths run on both elsewhere)."""
    return sqlite_url


def test_catalogue_lists_every_drug(visitor: Visitor, catalogue: Catalogue) -> None:
    data = visitor.client.get("/api/catalogue").json()
    assert data["catalogue_version"] == catalogue.version
    assert {d["id"] for d in data["drugs"]} == set(catalogue.drugs)
    assert data["default_source"] == catalogue.default_source


def test_drug_by_brand_and_unknown(visitor: Visitor) -> None:
    r = visitor.client.get("/api/catalogue/Valium")
    assert r.status_code == 200 and r.json()["id"] == "diazepam" and r.json()["class"]
    r = visitor.client.get("/api/catalogue/diazapam")
    assert r.status_code == 200  # a known misspelling
    r = visitor.client.get("/api/catalogue/nosuchdrug")
    assert r.status_code == 404 and "Unknown drug" in r.json()["detail"]


def test_convert_matches_library(visitor: Visitor, catalogue: Catalogue) -> None:
    r = visitor.api("POST", "/api/convert", json={"drug": "Valium", "dose": "5 mg"})
    assert r.status_code == 200
    expected = convert(catalogue, "diazepam", 5.0)
    assert r.json()["dose_mg"] == expected.dose_mg
    assert r.json()["range_mg"] == list(expected.range_mg)


def test_convert_errors_are_clear_422(visitor: Visitor) -> None:
    cases = {
        "notadrug": ("5 mg", "Unknown drug"),
        "diazepam": ("5", "has no unit"),
    }
    for drug, (dose, message) in cases.items():
        r = visitor.api("POST", "/api/convert", json={"drug": drug, "dose": dose})
        assert r.status_code == 422
        assert message in r.json()["detail"][0]["msg"]
    r = visitor.api("POST", "/api/convert", json={"drug": "diazepam", "dose": "5 mg", "x": 1})
    assert r.status_code == 422
    r = visitor.api(
        "POST", "/api/convert", json={"drug": "diazepam", "dose": "5 mg", "source": "nope"}
    )
    assert r.status_code == 422 and "Unknown source" in r.json()["detail"][0]["msg"]


def test_convert_page_keeps_input_on_error(visitor: Visitor) -> None:
    r = visitor.form("/convert", {"drug": "diazepam", "dose": "5 tablets"})
    assert r.status_code == 422
    assert "counts tablets" in r.text and 'value="5 tablets"' in r.text
    # htmx gets only the result fragment
    r = visitor.client.post(
        "/convert",
        data={"drug": "Valium", "dose": "10 mg"},
        headers={"HX-Request": "true", "X-CSRF-Token": visitor.csrf},
    )
    assert r.status_code == 200 and "<html" not in r.text and "≈" in r.text


def test_pages_render(visitor: Visitor) -> None:
    for path in ("/", "/drugs", "/drugs/diazepam", "/convert", "/login", "/register", "/healthz"):
        assert visitor.client.get(path).status_code == 200, path
    home = visitor.client.get("/").text
    assert "Never stop abruptly" in home and "prescriber" in home and "seizure" in home
    assert visitor.client.get("/drugs/nosuchdrug").status_code == 404


def test_learn_pages_render_with_references(visitor: Visitor) -> None:
    from benzotaper.content import load_learn_pages

    pages = load_learn_pages()
    index = visitor.client.get("/learn").text
    for p in pages:
        assert f'href="/learn/{p.slug}"' in index
        html = visitor.client.get(f"/learn/{p.slug}").text
        assert "References" in html and p.title.split(":")[0] in html
        assert "<script" not in html.split("</head>")[1]
    api = visitor.client.get(f"/api/learn/{pages[0].slug}").json()
    assert api["references"] and "<h2>" in api["body_html"]
    assert visitor.client.get("/learn/nope").status_code == 404
    assert visitor.client.get("/api/learn/nope").status_code == 404


def test_markdown_raw_html_is_escaped() -> None:
    from benzotaper.web.routes.learn import to_html

    html = str(to_html("Hi <script>alert(1)</script> [x](javascript:alert(1))"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
