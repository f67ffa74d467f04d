"""Learn pages: short Markdown texts with TOML front matter, checked as strictly as the catalogue.

Each page is ``content/learn/<slug>.md``::

    +++
    title = "Why the last milligrams go slower"
    summary = "One sentence."
    order = 20
    sources = ["asam2025", "psychsnaps-horowitz"]
    +++
    Markdown body ...

The loader only reads and validates; rendering the Markdown is the web layer's choice.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field

from benzotaper.catalogue.loader import validate
from benzotaper.catalogue.models import SourceKey, Strict
from benzotaper.errors import CatalogueError

LEARN_DIR = Path(str(resources.files("benzotaper") / "content" / "learn"))

_FENCE = "+++"

Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]


class FrontMatter(Strict):
    """What a page declares about itself; unknown keys are errors."""

    title: Annotated[str, Field(min_length=3)]
    summary: Annotated[str, Field(min_length=10)]
    order: int
    sources: Annotated[list[SourceKey], Field(min_length=1)]


class LearnPage(Strict):
    """One page, ready for any renderer: the Markdown body is kept as written."""

    slug: Slug
    title: str
    summary: str
    order: int
    sources: list[str]
    body_markdown: str


def parse_page(text: str, slug: str, where: str) -> LearnPage:
    """Split front matter from body and validate both; errors name the file and field."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != _FENCE:
        raise CatalogueError(f"{where}: must start with a '+++' line (TOML front matter)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == _FENCE)
    except StopIteration:
        raise CatalogueError(f"{where}: front matter has no closing '+++' line") from None
    try:
        meta = tomllib.loads("".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{where}: front matter is not valid TOML: {exc}") from None
    front = validate(FrontMatter, meta, where)
    body = "".join(lines[end + 1 :]).strip()
    if not body:
        raise CatalogueError(f"{where}: the page has no text after the front matter")
    return validate(
        LearnPage,
        {"slug": slug, **front.model_dump(), "body_markdown": body + "\n"},
        where,
    )


def load_learn_pages(
    directory: Path | None = None, references: Collection[str] | None = None
) -> list[LearnPage]:
    """Every page in ``directory`` (default: the shipped pages), sorted by ``order`` then slug.

    ``references`` are the known source keys (default: those in the shipped references.toml).
    """
    root = directory or LEARN_DIR
    if references is None:
        from benzotaper.catalogue import default_catalogue

        references = default_catalogue().references.keys()
    known = set(references)
    pages: list[LearnPage] = []
    for path in sorted(root.glob("*.md")):
        where = f"learn/{path.name}"
        page = parse_page(path.read_text(encoding="utf-8"), path.stem, where)
        for i, key in enumerate(page.sources):
            if key not in known:
                raise CatalogueError(
                    f"{where}: sources[{i}]: source {key!r} is not in references.toml"
                )
        pages.append(page)
    if not pages:
        raise CatalogueError(f"{root}: no learn pages found")
    orders = [p.order for p in pages]
    if len(orders) != len(set(orders)):
        raise CatalogueError(f"{root}: two pages share the same 'order'")
    return sorted(pages, key=lambda p: (p.order, p.slug))


__all__ = ["FrontMatter", "LearnPage", "load_learn_pages", "parse_page"]
