"""Learn pages: every page loads, cites resolvable sources, and ends with the prescriber."""

from __future__ import annotations

from pathlib import Path

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.content import LEARN_DIR, LearnPage, load_learn_pages
from benzotaper.errors import CatalogueError

REQUIRED = {
    "warning-signs",
    "withdrawal-symptoms",
    "last-milligrams",
    "switching-to-diazepam",
    "sleep-without-pills",
    "older-adults",
    "supports-and-adjuncts",
    "rebound-anxiety",
    "protracted-withdrawal",
    "the-end-of-a-taper",
    "pregnancy",
}

PAGES = load_learn_pages()


def test_every_required_page_loads_in_order() -> None:
    assert {p.slug for p in PAGES} == REQUIRED
    assert [p.order for p in PAGES] == sorted(p.order for p in PAGES)
    assert PAGES[0].slug == "warning-signs"  # safety first


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.slug)
def test_every_source_resolves(page: LearnPage, catalogue: Catalogue) -> None:
    assert page.sources
    for key in page.sources:
        assert key in catalogue.references, key


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.slug)
def test_every_page_ends_with_the_prescriber(page: LearnPage) -> None:
    last_paragraph = page.body_markdown.strip().split("\n\n")[-1]
    assert "prescriber" in last_paragraph.lower()
    assert "agreed" in last_paragraph.lower()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.slug)
def test_pages_are_short_and_plain(page: LearnPage) -> None:
    assert len(page.body_markdown.split()) < 700, "keep pages short"
    assert not page.body_markdown.lstrip().startswith("+++")
    assert "<" not in page.body_markdown, "Markdown only, no HTML"
    assert page.summary.endswith(".")


def test_warning_signs_give_the_emergency_numbers() -> None:
    body = next(p for p in PAGES if p.slug == "warning-signs").body_markdown
    for needle in ("911", "988", "999", "111", "seizure", "confusion", "hallucinations",
                   "harming yourself", "breathing"):  # fmt: skip
        assert needle in body


def test_adjunct_page_is_honest_about_weak_evidence() -> None:
    body = next(p for p in PAGES if p.slug == "supports-and-adjuncts").body_markdown
    assert "Gabapentin" in body and "little good trial" in body
    assert "very low" in body


def _write(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "learn"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text)
    return d


GOOD = (
    '+++\ntitle = "A page"\nsummary = "One sentence."\norder = 1\n'
    'sources = ["ashton2002"]\n+++\nBody.\n'
)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "a.md",
            GOOD.replace("order = 1\n", 'order = 1\nauthor = "x"\n'),
            "learn/a.md: author: unknown field",
        ),
        (
            "a.md",
            GOOD.replace('"ashton2002"', '"ashton2003"'),
            "learn/a.md: sources[0]: source 'ashton2003' is not in references.toml",
        ),
        (
            "a.md",
            GOOD.replace("+++\nBody", "Body"),
            "learn/a.md: front matter has no closing '+++' line",
        ),
        ("a.md", "Body only\n", "learn/a.md: must start with a '+++' line"),
        (
            "a.md",
            GOOD.replace("order = 1", "order = one"),
            "learn/a.md: front matter is not valid TOML",
        ),
        ("a.md", GOOD.replace("Body.\n", ""), "learn/a.md: the page has no text"),
        ("a.md", GOOD.replace('sources = ["ashton2002"]', "sources = []"), "learn/a.md: sources:"),
        ("Bad_Name.md", GOOD, "learn/Bad_Name.md: slug:"),
    ],
)
def test_broken_pages_are_refused_with_file_and_field(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    d = _write(tmp_path, name, text)
    with pytest.raises(CatalogueError) as exc:
        load_learn_pages(d, references={"ashton2002"})
    assert str(exc.value).startswith(message)


def test_a_good_page_loads_from_any_directory(tmp_path: Path) -> None:
    d = _write(tmp_path, "a.md", GOOD)
    (page,) = load_learn_pages(d, references={"ashton2002"})
    assert page == LearnPage(
        slug="a", title="A page", summary="One sentence.", order=1,
        sources=["ashton2002"], body_markdown="Body.\n",
    )  # fmt: skip


def test_the_shipped_directory_is_inside_the_package() -> None:
    assert LEARN_DIR.is_dir() and (LEARN_DIR / "warning-signs.md").is_file()


def body(slug: str) -> str:
    return " ".join(next(p for p in PAGES if p.slug == slug).body_markdown.split())


def test_occupancy_figure_is_labelled_an_assumption() -> None:
    text = body("last-milligrams")
    assert "80%" in text and "assumption from a secondary summary" in text


def test_older_adults_quote_the_guideline() -> None:
    text = body("older-adults")
    assert '"unless there are compelling reasons for continuation"' in text
    assert "whatever the reason" not in text


def test_end_of_taper_covers_every_route_honestly() -> None:
    text = body("the-end-of-a-taper").lower()
    for route in ("oral liquid", "switching to diazepam", "medication-free nights", "compounded",
                  "home methods", "lowest dose reached"):  # fmt: skip
        assert route in text, route
    assert "not licensed" in text and "3% to 99%" in text and "shaken well" in text


def test_pregnancy_page_follows_the_guideline() -> None:
    text = body("pregnancy").lower()
    assert "breastfeeding is encouraged" in text and "do not stop it suddenly" in text
    assert "maternity team" in text
