"""Learn pages: the project's short texts, rendered safely, each with its references."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt
from markupsafe import Markup
from pydantic import BaseModel

from benzotaper.catalogue import Reference
from benzotaper.content import LearnPage, load_learn_pages
from benzotaper.web.deps import CatalogueDep
from benzotaper.web.responses import INPUT_422, NOT_FOUND_404
from benzotaper.web.templating import render

router = APIRouter()

#: CommonMark with raw HTML switched off: page text can never inject markup or script.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    "table"
)


@lru_cache(maxsize=1)
def _pages() -> tuple[LearnPage, ...]:
    return tuple(load_learn_pages())


def _page(slug: str) -> LearnPage:
    for page in _pages():
        if page.slug == slug:
            return page
    raise HTTPException(status_code=404, detail="There is no learn page with that name.")


def to_html(markdown: str) -> Markup:
    """Markdown → HTML; safe because raw HTML is disabled and links are validated."""
    return Markup(_md.render(markdown))


class LearnSummary(BaseModel):
    slug: str
    title: str
    summary: str


class LearnOut(LearnSummary):
    body_markdown: str
    body_html: str
    references: list[str]


@router.get("/learn", response_class=HTMLResponse, include_in_schema=False)
def learn_index(request: Request) -> HTMLResponse:
    return render(request, "learn_index.html", {"nav": "learn", "pages": _pages()})


@router.get("/learn/{slug}", response_class=HTMLResponse, include_in_schema=False)
def learn_page(
    request: Request, cat: CatalogueDep, slug: Annotated[str, PathParam(max_length=100)]
) -> HTMLResponse:
    page = _page(slug)
    refs: list[Reference] = [cat.reference(k) for k in page.sources]
    return render(
        request,
        "learn_page.html",
        {"nav": "learn", "page": page, "body": to_html(page.body_markdown), "refs": refs},
    )


@router.get("/api/learn", tags=["learn"], response_model=list[LearnSummary])
def api_learn_index() -> list[LearnSummary]:
    """Every learn page: slug, title and one-sentence summary."""
    return [LearnSummary(slug=p.slug, title=p.title, summary=p.summary) for p in _pages()]


@router.get(
    "/api/learn/{slug}",
    tags=["learn"],
    response_model=LearnOut,
    responses={404: NOT_FOUND_404, 422: INPUT_422},
)
def api_learn_page(
    cat: CatalogueDep, slug: Annotated[str, PathParam(min_length=1, max_length=100)]
) -> LearnOut:
    """One learn page: its Markdown, the same rendered as HTML, and its full references."""
    page = _page(slug)
    return LearnOut(
        slug=page.slug,
        title=page.title,
        summary=page.summary,
        body_markdown=page.body_markdown,
        body_html=str(to_html(page.body_markdown)),
        references=[cat.reference(k).citation() for k in page.sources],
    )
