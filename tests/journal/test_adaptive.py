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
    assert "stable since 2026-01-18" in mid.reason and mid.next_cut_not_before == D(2026, 1, 25)
    assert "2026-01-25" not in mid.reason  # the one next-cut date is the status's, not the text's

    done = decide(held, entries, D(2026, 1, 25), rules, book, hold_since=D(2026, 1, 17))
    assert (done.kind, done.hold, done.replan) == ("resume", False, True)

    few = [e for e in entries if e[0] <= D(2026, 1, 19)]  # calm, but barely recorded
    wait = decide(held, few, D(2026, 1, 25), rules, book, hold_since=D(2026, 1, 17))
    assert wait.kind == "hold" and "only 2 check-ins" in wait.reason and wait.awaiting_checkins

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


def test_a_hold_is_not_stable_the_day_after_bad_days(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    """Four days of 8/10 in a hold, the last one today: symptoms are not "stable since
    tomorrow" (the bug: "stable since 2026-12-01" on 2026-11-30)."""
    high = [(D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]
    first = decide(plan, [*baseline_week(), *high], D(2026, 1, 17), rules, book)
    held = stub_plan(held_request(plan.request, plan, first))
    bad = [(d, CheckinEntry(quick={"anxiety": 8})) for d in days(D(2026, 1, 18), 4)]
    d = decide(held, [*baseline_week(), *high, *bad], D(2026, 1, 21), rules, book, D(2026, 1, 17))
    assert d.kind == "hold" and d.stable_from is None and d.last_symptom_day == D(2026, 1, 21)
    assert "still significant on 2026-01-21" in d.reason and "stable since" not in d.reason
    # no check-in since: the text says so instead of claiming calm days
    later = decide(
        held, [*baseline_week(), *high, *bad], D(2026, 1, 23), rules, book, D(2026, 1, 17)
    )
    assert "no check-in recorded since the symptoms on 2026-01-21" in later.reason
    calm = [*baseline_week(), *high, *bad, (D(2026, 1, 23), CheckinEntry(quick={"anxiety": 2}))]
    d = decide(held, calm, D(2026, 1, 23), rules, book, D(2026, 1, 17))
    assert d.stable_from == D(2026, 1, 23) and "stable since 2026-01-23" in d.reason


def test_two_bad_check_ins_on_one_day_are_one_bad_day(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    same_day = [(D(2026, 1, 16), ciwa(25)), (D(2026, 1, 16), ciwa(27))]
    assert decide(plan, [*baseline_week(), *same_day], D(2026, 1, 16), rules, book).kind == (
        "continue"
    )


@pytest.fixture(scope="module")
def real_plan(catalogue: object) -> Plan:
    """A plan from the real planner: its first step is already a cut (on its first day)."""
    from benzotaper.knowledge import knowledge_for
    from benzotaper.planning.engine import make_plan

    knowledge = knowledge_for(catalogue)  # type: ignore[arg-type]
    plan = make_plan(request(10, start=D(2026, 2, 1)), knowledge, today=D(2026, 2, 1))
    assert plan.steps[0].start == D(2026, 2, 1) and plan.steps[0].change_percent
    return plan


def anxiety(level: int) -> CheckinEntry:
    return CheckinEntry(quick={"anxiety": level})


def test_usual_symptoms_never_start_a_hold_on_the_plans_first_days(
    real_plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    """A person whose usual anxiety is 7/10 (above the 'significant' threshold): check-ins
    before the plan are the baseline, so the same 7s after the first cut are not withdrawal;
    a clear rise over that baseline is."""
    before = [(D(2026, 1, 30), anxiety(7)), (D(2026, 1, 31), anxiety(7))]
    usual = [*before, (D(2026, 2, 1), anxiety(7)), (D(2026, 2, 2), anxiety(7))]
    for day in (D(2026, 2, 1), D(2026, 2, 2)):
        assert decide(real_plan, usual, day, rules, book).kind == "continue"
    risen = [*usual, (D(2026, 2, 3), anxiety(8)), (D(2026, 2, 4), anxiety(8))]
    assert decide(real_plan, risen, D(2026, 2, 4), rules, book).kind == "continue"  # +1 only
    risen = [*usual, (D(2026, 2, 3), anxiety(10)), (D(2026, 2, 4), anxiety(10))]
    d = decide(real_plan, risen, D(2026, 2, 4), rules, book)
    assert d.kind == "return"  # 10 is severe: that threshold is above the usual 7
    assert {f.rule for f in d.findings} == {"severe"}


def test_with_nothing_before_the_plan_its_first_day_is_the_baseline(
    real_plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    first = [(D(2026, 2, 1), anxiety(8)), (D(2026, 2, 1), anxiety(8))]
    assert decide(real_plan, first, D(2026, 2, 1), rules, book).kind == "continue"
    again = [*first, (D(2026, 2, 2), anxiety(8)), (D(2026, 2, 3), anxiety(8))]
    assert decide(real_plan, again, D(2026, 2, 3), rules, book).kind == "continue"
    # before any cut there is nothing to blame: no hold, whatever the scores
    early = [(D(2026, 1, 20), anxiety(9)), (D(2026, 1, 21), anxiety(9))]
    d = decide(real_plan, early, D(2026, 1, 21), rules, book)
    assert d.kind == "continue" and "No cut has taken effect yet" in d.reason


def test_the_checkins_decide_reads_start_at_a_known_day(
    plan: Plan, rules: AdaptiveRules, book: ScaleBook
) -> None:
    """So status can load only the check-ins it needs: the same decision from those alone."""
    from benzotaper.journal.adaptive import checkins_needed_from

    entries = [*baseline_week(), (D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]
    early = [(D(2025, 12, 1), ciwa(40))]  # long before: irrelevant
    for today, since in ((D(2026, 1, 17), None), (D(2026, 1, 24), D(2026, 1, 17))):
        start = checkins_needed_from(plan, today, rules, since)
        some = [(d, e) for d, e in entries if d >= start]
        assert decide(plan, some, today, rules, book, since) == decide(
            plan, early + entries, today, rules, book, since
        )
