"""The taper story: anonymised, forum-style, consistent with the plan; and the progress chart."""

from __future__ import annotations

import datetime as dt
import io
import re

import matplotlib.image
import pytest

from benzotaper.exports import progress_chart, story_markdown, story_text
from benzotaper.planning.models import Plan

DURING = dt.date(2027, 2, 1)  # week 9, diazepam 14 mg/day after a hold


@pytest.fixture
def plan(handmade: Plan) -> Plan:
    """These tests check the hand-made plan's known details."""
    return handmade


@pytest.mark.parametrize("render", [story_markdown, story_text])
def test_story_says_where_the_taper_is(plan: Plan, render: object) -> None:
    text = render(plan, today=DURING)  # type: ignore[operator]
    assert "lorazepam 2 mg/day" in text
    assert "diazepam 14 mg/day, 30% done" in text  # (20 - 14) / 20
    assert "week 9 of 43" in text
    assert "1 so far (14 days)" in text
    assert "hold" in text
    assert "prescriber" in text


@pytest.mark.parametrize("render", [story_markdown, story_text])
def test_story_is_anonymous(plan: Plan, render: object) -> None:
    text = render(plan, today=DURING)  # type: ignore[operator]
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\b(19|20)\d{2}\b", text), "no dates or years"
    months = "January February March April May June July August September October November December"
    for month in months.split():
        assert month[:3] not in text


def test_markdown_and_text_forms(plan: Plan) -> None:
    md = story_markdown(plan, today=DURING)
    txt = story_text(plan, today=DURING)
    assert md.startswith("**My taper**") and "- **Now:**" in md
    assert "**" not in txt and "→" not in txt


def test_story_before_and_after(plan: Plan) -> None:
    assert "not started" in story_text(plan, today=plan.summary.start - dt.timedelta(days=3))
    done = story_text(plan, today=plan.summary.end + dt.timedelta(days=30))
    assert "taper complete, 100% done" in done and "Ahead" not in done


@pytest.mark.parametrize("today", [None, DURING])
def test_progress_chart_is_a_readable_png(plan: Plan, today: dt.date | None) -> None:
    data = progress_chart(plan, today=today)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert image.shape[0] > 200 and image.shape[1] > 500


def test_progress_chart_svg(plan: Plan) -> None:
    assert b"<svg" in progress_chart(plan, fmt="svg")
