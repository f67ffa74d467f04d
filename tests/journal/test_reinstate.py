"""A return to the last well-tolerated dose ("reinstatement"): proposed by the adaptive rules,
made only on request through the service (CLI, API and pages call it), a labelled plan event
that the clinic measures count."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from benzotaper.catalogue import Catalogue
from benzotaper.errors import InputError, NotFoundError
from benzotaper.journal.adaptive import (
    AdaptiveRules,
    decide,
    default_rules,
    held_request,
    resumed_request,
)
from benzotaper.journal.reinstate import reinstated_request
from benzotaper.journal.scales import default_scales
from benzotaper.knowledge import knowledge_for
from benzotaper.measures import Period
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.storage.access import AuditEvent
from benzotaper.storage.measures import clinic_measures
from tests.cli import run_cli
from tests.journal.conftest import Clock
from tests.journal.factory import request, stub_plan
from tests.journal.test_adaptive import baseline_week, ciwa, days
from tests.measures.test_storage import _share
from tests.planning.planhelpers import check_guardrails

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

D = dt.date
START = D(2026, 1, 1)  # 10 mg; cuts on 1 Jan (9 mg) and 15 Jan (8.5 mg: what tablets make)


def real_request(start: dt.date = START) -> PlanRequest:
    return PlanRequest.model_validate(
        {
            "regimen": [{"drug": "diazepam", "mg": 10, "time": "08:00"}],
            "preferences": {"start": start, "percent": 10, "every_days": 14},
        }
    )


@pytest.fixture
def service(db: Database, catalogue: Catalogue, clock: Clock) -> JournalService:
    """The journal service with the real planner (the labelled step is the planner's)."""
    return JournalService(db, catalogue, now=clock)


def saved(service: JournalService, catalogue: Catalogue, start: dt.date = START) -> int:
    me = service.local_user()
    plan = make_plan(real_request(start), knowledge_for(catalogue), today=start)
    service.save_plan(me, plan, reason="agreed")
    return me


def test_rules_propose_a_return_when_a_hold_does_not_settle_symptoms() -> None:
    """Significant symptoms still recorded after a hold of 14 days (the upper bound of the
    deprescribing algorithm's "hold 1-2 weeks"): a return is proposed, the dose is not raised."""
    rules: AdaptiveRules = default_rules()
    book = default_scales()
    plan = stub_plan(request(10))
    high = [(D(2026, 1, 16), ciwa(25)), (D(2026, 1, 17), ciwa(27))]
    first = decide(plan, [*baseline_week(), *high], D(2026, 1, 17), rules, book)
    held = stub_plan(held_request(plan.request, plan, first))
    still = [(d, ciwa(24)) for d in days(D(2026, 1, 18), 12)]
    entries = [*baseline_week(), *high, *still]
    on_13th = decide(held, entries, D(2026, 1, 29), rules, book, hold_since=D(2026, 1, 17))
    assert on_13th.kind == "hold" and on_13th.return_to_daily_mg is None
    on_14th = decide(held, entries, D(2026, 1, 30), rules, book, hold_since=D(2026, 1, 17))
    assert (on_14th.kind, on_14th.return_because, on_14th.hold) == ("return", "persisting", True)
    assert on_14th.return_to_daily_mg == {"diazepam": 10.0}
    assert "proposed for you and your prescriber" in on_14th.reason
    assert "14 days" in on_14th.messages[0] and "does not raise doses" in on_14th.messages[0]
    assert "asam2025" in on_14th.notices[0].sources
    calm = [*baseline_week(), *high, *[(d, ciwa(6)) for d in days(D(2026, 1, 18), 12)]]
    settled = decide(held, calm, D(2026, 1, 30), rules, book, hold_since=D(2026, 1, 17))
    assert settled.kind == "resume"  # a hold that worked is not a reason to go back up


def test_reinstate_is_a_labelled_plan_version_that_resumes_more_slowly(
    service: JournalService, catalogue: Catalogue, clock: Clock
) -> None:
    me = saved(service, catalogue)
    clock.at(D(2026, 1, 20))
    record = service.reinstate(me, reason="Severe insomnia since the cut on 15 Jan")
    assert (record.version, record.origin, record.effective_from) == (
        2,
        "reinstatement",
        clock.now.date(),
    )
    assert "asked by the person" in record.reason and "Severe insomnia" in record.reason
    plan = record.plan
    back, first_cut = plan.steps[0], plan.steps[1]
    assert back.phase == "reinstatement" and back.daily_mg == {"diazepam": 9.0}
    assert back.start == D(2026, 1, 20) and back.days == 14  # deprescribing-algorithm, 2 weeks
    assert back.change_percent == pytest.approx((9.0 - 8.5) / 8.5 * 100, abs=0.1)
    assert first_cut.phase != "reinstatement" and -5.6 <= (first_cut.change_percent or 0) < 0
    assert plan.request.preferences.percent == 5  # half the 10% cuts (resume rules)
    back_to = plan.request.preferences.reinstate
    assert back_to is not None and back_to.from_daily_mg == {"diazepam": 8.5}
    assert (back_to.by, back_to.proposed) == ("patient", False)
    assert [s.index for s in plan.steps if s.phase == "reinstatement"] == [0]
    check_guardrails(plan, catalogue)  # the plan's own steps never rise
    # Made again from its stored request (as a later hold does), it is the same plan.
    again = make_plan(record.request, knowledge_for(catalogue), today=clock.now.date())
    assert again.steps[0] == back
    # Nothing to return to now (no cut since): a second click changes nothing.
    with pytest.raises(InputError, match="no earlier dose"):
        service.reinstate(me, reason="again")
    assert len(service.version_infos(me)) == 2


@pytest.mark.parametrize(
    ("takes", "market"),
    [
        ((("lorazepam", 1.0, "08:00"), ("lorazepam", 1.0, "20:00")), "uk"),
        ((("clonazepam", 0.5, "08:00"), ("clonazepam", 0.5, "21:00")), "us"),
        (
            (
                ("alprazolam", 0.5, "08:00"),
                ("alprazolam", 0.5, "14:00"),
                ("alprazolam", 0.5, "20:00"),
            ),
            "us",
        ),
    ],
)
def test_a_reinstated_plan_keeps_every_invariant(
    catalogue: Catalogue, takes: tuple[tuple[str, float, str], ...], market: str
) -> None:
    """Across drugs and dose-times: the labelled first step, then a taper that reaches zero
    safely (or maintain and review) with every guardrail, made again identically."""
    from tests.planning.planhelpers import plan_for

    knowledge = knowledge_for(catalogue)
    plan = plan_for(catalogue, *takes, market=market)
    cut = next(s for s in plan.steps if s.index > 0 and (s.change_percent or 0) < 0)
    day = cut.start + dt.timedelta(days=3)
    back = reinstated_request(
        plan.request, plan, day, default_rules(), reason="severe", by="patient", proposed=True
    )
    again = make_plan(back, knowledge, today=day)
    check_guardrails(again, catalogue)
    assert again.steps[0].daily_mg == plan.steps[cut.index - 1].daily_mg


def test_a_weekly_pattern_is_returned_to_on_the_same_nights(catalogue: Catalogue) -> None:
    """Medication-free nights (zolpidem, US): the return holds the last well-tolerated weekly
    pattern, the same nights, as the labelled rise, then lowers the average a week again within
    every guardrail; the nights route is not for another drug."""
    from tests.planning.planhelpers import plan_for

    knowledge = knowledge_for(catalogue)
    plan = plan_for(catalogue, ("zolpidem", 10.0, "22:00"), market="us")
    day = plan.steps[2].start + dt.timedelta(days=3)  # after the cut of step 2
    back_to = reinstated_request(
        plan.request, plan, day, default_rules(), reason="x", by="patient", proposed=False
    )
    again = make_plan(back_to, knowledge, today=day)
    back, before = again.steps[0], plan.steps[1]
    assert (back.phase, back.days, back.daily_mg) == ("reinstatement", 14, before.daily_mg)
    assert [(d.mg, d.on_days) for d in back.doses] == [(d.mg, d.on_days) for d in before.doses]
    assert (back.change_percent or 0) > 0 and (again.routes[0].route, again.routes[0].step) == (
        "nights",
        0,
    )
    assert "start-not-realisable" not in {w.code for w in again.warnings}
    check_guardrails(again, catalogue)
    assert make_plan(again.request, knowledge, today=day).steps == again.steps
    # Resumed more slowly from the pattern in force (adaptive rules): from its nights, no rise.
    resumed = make_plan(
        resumed_request(plan.request, plan, day, default_rules()), knowledge, today=day
    )
    now = plan.steps[2]
    assert resumed.summary.starting_diazepam_equivalent_mg == now.diazepam_equivalent_mg
    assert resumed.steps[0].diazepam_equivalent_mg < now.diazepam_equivalent_mg
    check_guardrails(resumed, catalogue)
    lorazepam = back_to.model_dump() | {
        "regimen": [{"drug": "lorazepam", "mg": 0.5, "time": "22:00"}]
    }
    with pytest.raises(InputError, match="one sleeping tablet"):
        make_plan(PlanRequest.model_validate(lorazepam), knowledge, today=day)


def test_a_weekly_plan_is_read_back_with_its_exact_figures(
    service: JournalService, catalogue: Catalogue
) -> None:
    """Stored as JSON (JSONB on PostgreSQL), a weekly plan's exact DEs (e.g. 0.952380952381 for
    0.5 mg on 2 nights a week) come back as made, so its rates, and a return to or resume from
    it, are the same read back as when made."""
    from benzotaper.planning.metrics import rates
    from benzotaper.storage.plancache import PARSED
    from tests.planning.planhelpers import plan_for

    plan = plan_for(
        catalogue, ("lormetazepam", 1.0, "22:00"), market="uk", strategy="ashton-bands", pace="fast"
    )
    assert any(s.weekly for s in plan.steps)
    me = service.local_user()
    service.save_plan(me, plan, reason="agreed")
    PARSED.clear()  # read from the database, not from this worker's parsed versions
    active = service.active_plan(me)
    assert active is not None and active.plan is not plan and active.plan == plan
    assert rates(active.plan) == rates(plan)


def test_reinstate_refusals(service: JournalService, catalogue: Catalogue, clock: Clock) -> None:
    me = service.local_user()
    with pytest.raises(NotFoundError):
        service.reinstate(me, reason="no plan yet")
    me = saved(service, catalogue, start=D(2026, 1, 20))
    clock.at(D(2026, 1, 19))
    with pytest.raises(InputError, match="no earlier dose"):  # the plan has not started
        service.reinstate(me, reason="before the start")
    clock.at(D(2026, 1, 21))
    with pytest.raises(InputError, match="Say why"):
        service.reinstate(me, reason="  ")
    # The first cut was the plan's first step: the dose before it is the starting regimen.
    record = service.reinstate(me, reason="bad first week", by="clinician")
    assert record.plan.steps[0].daily_mg == {"diazepam": 10.0}
    assert "asked by the prescriber" in record.reason


def test_a_proposed_return_is_recorded_as_proposed(
    service: JournalService, catalogue: Catalogue, clock: Clock
) -> None:
    me = saved(service, catalogue)
    clock.at(D(2026, 1, 16))
    service.record(me, {"kind": "checkin", "ciwa_b": [4] * 11 + [0] * 11})  # CIWA-B 44: severe
    status = service.status(me)
    assert status.decision is not None and status.decision.kind == "return"
    assert status.daily_mg == {"diazepam": 8.5}  # proposed, not made
    record = service.reinstate(me, reason="agreed with Dr Lee after severe symptoms")
    reinstate = record.plan.request.preferences.reinstate
    assert reinstate is not None and reinstate.proposed
    assert service.status(me).daily_mg == {"diazepam": 9.0}


def test_the_cli_reinstates_through_the_service(
    tmp_path: Path, catalogue: Catalogue, clock: Clock
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    db = Database(url)
    db.upgrade()
    saved(JournalService(db, catalogue, now=clock), catalogue)
    db.dispose()
    env = {"BENZOTAPER_DATABASE_URL": url}
    clock.at(D(2026, 1, 20))
    done = run_cli("reinstate", "--reason", "severe anxiety", env=env)
    assert done.returncode == 0, done.stderr
    assert "reinstatement, back to Diazepam 9 mg a day (+5.9%) until 2026-02-02" in done.stdout
    assert "resumes on 2026-02-03" in done.stdout and "prescriber" in done.stdout
    status = run_cli("status", env=env).stdout
    assert "(reinstatement)" in status
    again = run_cli("reinstate", "--reason", "again", "--json", env=env)
    assert again.returncode == 2 and "no earlier dose" in again.stderr
    missing = run_cli("reinstate", env=env)
    assert missing.returncode == 2 and "--reason" in missing.stderr
    history = json.loads(run_cli("history", "--json", env=env).stdout)
    assert [v["origin"] for v in history["plan_versions"]] == ["user", "reinstatement"]


def test_clinic_measures_count_the_reinstatement(
    db: Database, catalogue: Catalogue, clock: Clock
) -> None:
    service = JournalService(db, catalogue, now=clock)
    clinician = service.create_user(email="dr@example.org", role="clinician")
    for name, back_up in (("a", True), ("b", False)):
        me = service.create_user(email=f"{name}@example.org")
        clock.at(START)
        plan = make_plan(real_request(), knowledge_for(catalogue), today=START)
        service.save_plan(me, plan, reason="agreed")
        if back_up:
            clock.at(D(2026, 1, 20))
            service.reinstate(me, reason="severe symptoms")
        with db.transaction() as s:
            _share(s, me, clinician)
    report = clinic_measures(db, catalogue, clinician, Period(D(2026, 1, 1), D(2026, 12, 31)))
    rate = next(r for m in report.measures for r in m.rates if r.id == "reinstatements")
    assert (rate.denominator, rate.numerator) == (2, 1)


def test_a_prescribers_return_is_checked_and_audited_with_the_plan(
    db: Database, catalogue: Catalogue, clock: Clock
) -> None:
    """On a patient's behalf: no share, no change (and no audit row); with one, the new version
    and the audit row the patient sees are written in the same transaction."""
    service = JournalService(db, catalogue, now=clock)
    clinician = service.create_user(email="dr@example.org", role="clinician")
    me = service.create_user(email="p@example.org")
    clock.at(START)
    service.save_plan(me, make_plan(real_request(), knowledge_for(catalogue), today=START))
    clock.at(D(2026, 1, 20))
    with pytest.raises(NotFoundError):
        service.reinstate_for_patient(clinician, me, reason="severe", action="plan.reinstate")
    assert [v.origin for v in service.plan_versions(me)] == ["user"]
    with db.transaction() as s:
        _share(s, me, clinician)
    record = service.reinstate_for_patient(clinician, me, reason="severe", action="plan.reinstate")
    assert "asked by the prescriber" in record.reason
    with db.read() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.patient_id == me)).all()
        assert [(r.actor_id, r.action, r.detail) for r in rows] == [
            (clinician, "plan.reinstate", f"plan version {record.version}")
        ]
