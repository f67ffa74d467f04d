"""Adaptive rules: holds after significant symptoms, resuming when calm, severe and danger."""

from __future__ import annotations

import datetime as dt

import pytest

from benzotaper.journal.adaptive import (
    AdaptiveRules,
    decide,
    default_rules,
    held_request,
    resumed_request,
)
from benzotaper.journal.entries import CheckinEntry
from benzotaper.journal.scales import ScaleBook, default_scales
from benzotaper.journal.timeline import next_cut
from benzotaper.planning.models import Plan
from tests.journal.factory import request, stub_plan

D = dt.date
CUT = D(2026, 1, 15)  # the stub plan's first cut: 10 -> 9 mg


def ciwa(total: int) -> CheckinEntry:
    items = [4] * (total // 4) + ([total % 4] if total % 4 else [])
    return CheckinEntry(ciwa_b=items + [0] * (22 - len(items)))


def days(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


@pytest.fixture(scope="module")
def rules() -> AdaptiveRules:
    return default_rules()


@pytest.fixture(scope="module")
def book() -> ScaleBook:
    return default_scales()


@pytest.fixture
def plan() -> Plan:
    return stub_plan(request(10))


def baseline_week() -> list[tuple[dt.date, CheckinEntry]]:
    return [(d, ciwa(5)) for d in days(D(2026, 1, 8), 7)]


def test_calm_days_continue_and_show_the_watch_window(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    entries = baseline_week() + [(d, ciwa(6)) for d in days(CUT, 3)]
    d = decide(plan, entries, D(2026, 1, 17), rules, book)
    assert (d.kind, d.hold, d.replan) == ("continue", False, False)
    assert "2026-01-21" in d.reason  # end of the 7-day watch window


def test_one_bad_day_is_not_a_hold(plan: Plan, rules: AdaptiveRules, book: ScaleBook) -> None:
    entries = [*baseline_week(), (D(2026, 1, 16), ciwa(25))]
    assert decide(plan, entries, D(2026, 1, 16), rules, book).kind == "continue"


def test_a_run_of_high_ciwa_b_after_a_cut_holds_and_moves_the_next_cut_later(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    entries = [*baseline_week(), (D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]
    d = decide(plan, entries, D(2026, 1, 17), rules, book)
    assert (d.kind, d.hold, d.replan) == ("hold", True, True)
    assert d.next_cut_not_before == D(2026, 1, 17) + dt.timedelta(days=rules.stable + 1)
    assert "2026-01-15" in d.reason and "CIWA-B 27" in d.reason
    assert "carepatron-ciwa-b" in d.sources and "deprescribing-algorithm" in d.sources

    held = stub_plan(held_request(plan.request, plan, d))
    old_next, new_next = next_cut(plan, d.on), next_cut(held, d.on)
    assert old_next is not None and new_next is not None
    assert new_next.start > old_next.start
    assert new_next.start >= d.next_cut_not_before  # type: ignore[operator]
    # the dose in force today is unchanged by the hold
    assert [s.daily_mg for s in held.steps if s.start <= d.on <= s.end] == [{"diazepam": 9.0}]


def test_a_rise_over_the_pre_cut_baseline_counts_even_below_the_threshold(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    entries = [*baseline_week(), (D(2026, 1, 16), ciwa(16)), (D(2026, 1, 17), ciwa(17))]
    d = decide(plan, entries, D(2026, 1, 17), rules, book)
    assert d.kind == "hold"
    assert "above the pre-cut baseline 5" in d.reason


def test_hold_continues_until_stable_for_n_days_then_resumes_more_slowly(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    high = [(D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]
    calm = [(d, ciwa(6)) for d in days(D(2026, 1, 18), 7)]
    first = decide(plan, [*baseline_week(), *high], D(2026, 1, 17), rules, book)
    held = stub_plan(held_request(plan.request, plan, first))
    entries = baseline_week() + high + calm

    mid = decide(held, entries, D(2026, 1, 24), rules, book, hold_since=D(2026, 1, 17))
    assert (mid.kind, mid.hold, mid.replan) == ("hold", True, False)
    assert "stable since 2026-01-18" in mid.reason and "2026-01-25 at the earliest" in mid.reason

    done = decide(held, entries, D(2026, 1, 25), rules, book, hold_since=D(2026, 1, 17))
    assert (done.kind, done.hold, done.replan) == ("resume", False, True)

    few = [e for e in entries if e[0] <= D(2026, 1, 19)]  # calm, but barely recorded
    wait = decide(held, few, D(2026, 1, 25), rules, book, hold_since=D(2026, 1, 17))
    assert wait.kind == "hold" and "only 2 check-ins" in wait.reason

    resumed = resumed_request(held.request, held, done.on, rules)
    assert resumed.preferences.percent == 5  # half of 10%
    assert resumed.preferences.start == done.on and resumed.preferences.holds == []
    assert sum(a.mg for a in resumed.regimen) == 9.0  # starts from the dose in force


def test_new_symptoms_during_a_hold_extend_it(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    high = [(D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]
    first = decide(plan, [*baseline_week(), *high], D(2026, 1, 17), rules, book)
    held = stub_plan(held_request(plan.request, plan, first))
    later = [(D(2026, 1, 31), ciwa(30))]
    d = decide(held, [*baseline_week(), *high, *later], D(2026, 1, 31), rules, book, D(2026, 1, 17))
    assert d.kind == "hold" and d.next_cut_not_before == D(2026, 2, 8)
    assert d.replan is True  # the held plan would cut on 6 Feb, before 8 Feb
    extended = stub_plan(held_request(held.request, held, d))
    # the first hold ended on 24 Jan: it stays as it was and a second one is added
    holds = extended.request.preferences.holds
    assert [(h.start, h.days) for h in holds] == [(D(2026, 1, 17), 8), (D(2026, 1, 31), 8)]
    nc = next_cut(extended, d.on)
    assert nc is not None and nc.start >= D(2026, 2, 8)


def test_severe_symptoms_suggest_the_previous_dose_but_change_nothing_upwards(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    entries = [*baseline_week(), (D(2026, 1, 16), ciwa(45))]
    d = decide(plan, entries, D(2026, 1, 16), rules, book)
    assert (d.kind, d.hold) == ("return", True)
    assert d.return_to_daily_mg == {"diazepam": 10.0}
    assert "contact your prescriber" in d.messages[0]
    held = stub_plan(held_request(plan.request, plan, d))
    assert all(
        s.diazepam_equivalent_mg <= prev.diazepam_equivalent_mg
        for prev, s in zip(held.steps, held.steps[1:], strict=False)
    )


@pytest.mark.parametrize(
    "entry",
    [
        CheckinEntry(danger_signs=["seizure"]),
        CheckinEntry(danger_signs=["hallucinations"]),
        CheckinEntry(phq9=[0] * 8 + [1]),
    ],
)
def test_danger_signs_mean_urgent_care_and_no_automatic_change(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook, entry: CheckinEntry
) -> None:
    d = decide(plan, [*baseline_week(), (D(2026, 1, 16), entry)], D(2026, 1, 18), rules, book)
    assert (d.kind, d.hold, d.replan) == ("urgent", True, False)
    assert "urgent" in d.messages[0].lower()
    if entry.phq9:
        assert any("988" in m for m in d.messages)


def test_danger_beyond_the_lookback_no_longer_blocks(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    entries = [(D(2026, 1, 2), CheckinEntry(danger_signs=["confusion"]))]
    assert decide(plan, entries, D(2026, 1, 5), rules, book).kind == "urgent"
    assert decide(plan, entries, D(2026, 1, 12), rules, book).kind == "continue"


def test_entries_after_today_are_ignored(plan: Plan, rules: AdaptiveRules, book: ScaleBook) -> None:
    entries = [*baseline_week(), (D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]
    assert decide(plan, entries, D(2026, 1, 16), rules, book).kind == "continue"


def test_quick_checkin_thresholds(plan: Plan, rules: AdaptiveRules, book: ScaleBook) -> None:
    entries = [
        (D(2026, 1, 16), CheckinEntry(quick={"insomnia": 8})),
        (D(2026, 1, 17), CheckinEntry(quick={"anxiety": 7})),
    ]
    assert decide(plan, entries, D(2026, 1, 17), rules, book).kind == "hold"
    severe = [(D(2026, 1, 16), CheckinEntry(quick={"tremor": 9}))]
    assert decide(plan, severe, D(2026, 1, 16), rules, book).kind == "return"


def test_a_hold_covering_the_day_is_extended_not_duplicated(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    high = [(D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]
    first = decide(plan, [*baseline_week(), *high], D(2026, 1, 17), rules, book)
    held = stub_plan(held_request(plan.request, plan, first))
    later = first.model_copy(update={"on": D(2026, 1, 20), "next_cut_not_before": D(2026, 2, 10)})
    again = held_request(held.request, held, later)
    assert [(h.start, h.days) for h in again.preferences.holds] == [(D(2026, 1, 17), 24)]
