"""The taper story from a saved journal (SQLite and PostgreSQL): what actually happened.

A person starts on the hand-made plan (lorazepam 2 mg/day, crossover to diazepam, a 14-day hold
from 29 December) and is re-planned on 1 January, three days into that hold, from diazepam
16 mg/day. The story must tell the doses actually in force, the hold as it actually happened
(3 days, not the 14 planned), progress from the very first start, and the doses logged today.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from tests.journal.rows import SeedStore

from benzotaper.catalogue import Catalogue
from benzotaper.exports import story_markdown, story_text
from benzotaper.exports._common import step_on
from benzotaper.journal.entries import DoseEntry
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import Administration, Plan, PlanRequest, Preferences
from benzotaper.storage import Database

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

REPLAN = dt.date(2027, 1, 1)
TODAY = dt.date(2027, 2, 15)


def _replanned(catalogue: Catalogue) -> Plan:
    request = PlanRequest(
        regimen=[
            Administration(drug="diazepam", mg=8, time="08:00"),
            Administration(drug="diazepam", mg=8, time="20:00"),
        ],
        preferences=Preferences(start=REPLAN),
    )
    return make_plan(request, default_knowledge(), today=REPLAN)


@pytest.fixture
def saved(db: Database, handmade: Plan, catalogue: Catalogue) -> tuple[SeedStore, int]:
    store = SeedStore(db)
    me = store.create_user(email="story@example.org", display_name="Jane Q")
    store.save_plan(me, handmade, reason="first plan", effective_from=handmade.summary.start)
    store.save_plan(
        me, _replanned(catalogue), reason="Kept waking at 3am in Leeds", effective_from=REPLAN
    )
    for time in ("08:05", "20:10"):
        store.add_entry(me, TODAY, DoseEntry(drug="diazepam", mg=7, time=time))
    store.add_entry(me, TODAY - dt.timedelta(days=1), DoseEntry(drug="diazepam", mg=9))
    store.add_entry(me, TODAY, DoseEntry(status="missed", drug="diazepam", mg=0))
    return store, me


@pytest.mark.parametrize("render", [story_markdown, story_text])
def test_story_tells_what_actually_happened(
    saved: tuple[SeedStore, int], handmade: Plan, render: object
) -> None:
    store, me = saved
    versions = store.plan_versions(me)
    active = store.active_plan(me)
    assert active is not None and [v.version for v in versions] == [1, 2]
    text = render(  # type: ignore[operator]
        active.plan, today=TODAY, versions=versions, journal=store.entries(me)
    )
    # started on the first plan's regimen, not the re-plan's
    assert "lorazepam 2 mg/day (≈ 20 mg diazepam equivalent)" in text
    # the hold as it happened: 29-31 December, then the re-plan took over
    assert "1 so far (3 days)" in text
    # the first plan's steps up to the re-plan, then the new plan's
    assert re.search(r"diazepam 18 mg \(\d wk hold\)", text)
    assert "diazepam 15.5 mg" in text and "diazepam 16 mg (2 wk)" not in text
    # now: the re-plan's step on today, progress from the very first start (20 mg DE)
    step = step_on(active.plan, TODAY)
    assert step is not None
    done = round(100 * (20 - step.diazepam_equivalent_mg) / 20)
    week = (TODAY - handmade.summary.start).days // 7 + 1
    assert f"week {week} of" in text
    assert f"(step {step.index + 1} of {len(active.plan.steps)})" in text
    assert f"diazepam {step.daily_mg['diazepam']:g} mg/day, {done}% done" in text
    # the doses logged today (taken only), summed per drug
    assert "logged today: diazepam 14 mg" in text


@pytest.mark.parametrize("render", [story_markdown, story_text])
def test_story_from_the_journal_stays_anonymous(
    saved: tuple[SeedStore, int], render: object
) -> None:
    store, me = saved
    active = store.active_plan(me)
    assert active is not None
    text = render(  # type: ignore[operator]
        active.plan, today=TODAY, versions=store.plan_versions(me), journal=store.entries(me)
    )
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\b(19|20)\d{2}\b", text), "no dates or years"
    for private in ("Jane", "story@example.org", "Leeds", "3am", "waking"):
        assert private not in text
    assert "prescriber" in text


def test_without_the_journal_the_plan_alone_is_told(
    saved: tuple[SeedStore, int], handmade: Plan
) -> None:
    """The same plan without its history: the 14-day planned hold, progress from its own start."""
    text = story_text(handmade, today=dt.date(2027, 2, 1))
    assert "1 so far (14 days)" in text and "logged today" not in text
