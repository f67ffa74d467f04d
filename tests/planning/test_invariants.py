"""Issue 12's hard invariants, with hypothesis, over the regimens people really take.

Every catalogue drug sold in the market, both markets, one to four dose-times, doses from the
smallest a product makes up to the labelled maximum a day: a plan is always produced (0
refusals), no single cut is above 25% of the current dose unless it is at most 1 mg
diazepam-equivalent, the rate stays within 25% per 14 days, the last dose before a stop is at most
1 mg diazepam-equivalent (or the plan ends with a labelled maintain-and-review step), and the
risk flags are on every plan.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from planhelpers import check_guardrails, plan_for

from benzotaper.catalogue import default_catalogue
from benzotaper.planning import dispensing
from benzotaper.planning.home_methods import HomeMethodRefused

CAT = default_catalogue()
TIMES = ["07:00", "08:00", "12:00", "13:00", "17:00", "18:00", "22:00", "23:00"]


def _grid(drug_id: str, market: str) -> list[float]:
    """Doses one dose-time can take with the person's own products (a liquid if that is all)."""
    drug = CAT.drugs[drug_id]
    only_liquid = all(p.form.is_liquid for p in drug.products_in(market))  # type: ignore[arg-type]
    f = dispensing.formulary(drug, market, liquid=only_liquid, compounded=False)  # type: ignore[arg-type]
    return dispensing.achievable_doses(f, drug.max_daily_mg.high)


SOLD = {
    m: sorted(
        d.id for d in CAT if any(not p.form.value.startswith("extended") for p in d.products_in(m))
    )  # type: ignore[arg-type]
    for m in ("us", "uk")
}
GRIDS = {(d, m): _grid(d, m) for m in SOLD for d in SOLD[m]}


@st.composite
def regimens(draw: st.DrawFn) -> tuple[str, list[tuple[str, float, str]]]:
    market = draw(st.sampled_from(["us", "uk"]))
    drug = draw(st.sampled_from(SOLD[market]))
    times = sorted(draw(st.lists(st.sampled_from(TIMES), min_size=1, max_size=4, unique=True)))
    budget = CAT.drugs[drug].max_daily_mg.high
    takes = []
    for time in times:
        fits = [g for g in GRIDS[(drug, market)] if g <= budget + 1e-9]
        if not fits:
            break
        mg = draw(st.sampled_from(fits))
        budget -= mg
        takes.append((drug, mg, time))
    return market, takes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(regimens(), st.sampled_from(["slow", "moderate", "fast"]))
def test_every_regimen_gets_a_plan_that_keeps_the_invariants(
    reg: tuple[str, list[tuple[str, float, str]]], pace: str
) -> None:
    market, takes = reg
    person = {"age": 80, "falls": True, "pregnant": False, "opioids": True}
    plan = plan_for(CAT, *takes, market=market, pace=pace, person=person)  # never raises
    check_guardrails(plan, CAT)
    flags = {w.code for w in plan.risk.flags}
    assert flags and flags <= {w.code for w in plan.warnings}


OPTIONAL_ROUTES = ["nights", "liquid", "diazepam", "compounded"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    regimens(),
    st.sampled_from(["auto", *OPTIONAL_ROUTES, "maintain"]),
    st.sets(st.sampled_from(OPTIONAL_ROUTES)),
)
def test_every_tail_route_choice_keeps_the_invariants_and_every_warning(
    reg: tuple[str, list[tuple[str, float, str]]], tail: str, off: set[str]
) -> None:
    """Whatever route is asked for or switched off, the plan keeps the invariants, never takes a
    route switched off, and carries every risk flag (pregnancy, seizures) with its sources."""
    market, takes = reg
    off.discard(tail)
    person = {"pregnant": True, "seizures": True}
    plan = plan_for(CAT, *takes, market=market, tail=tail, tail_off=sorted(off), person=person)
    check_guardrails(plan, CAT)
    # a drug sold only as a liquid is measured from it whatever is switched off (no preference)
    assert not {r.route for r in plan.routes if r.preference} & off
    if tail == "maintain" and plan.routes:
        # asked for no route: only maintain-and-review, except that a drug sold only as a liquid
        # is measured from its own liquid (the product itself, no preference) and may reach zero
        own_liquid = [r for r in plan.routes if r.route == "liquid" and not r.preference]
        others = [r.route for r in plan.routes if r not in own_liquid]
        assert others in ([], ["maintain"])
        assert plan.ends_with == ("maintain" if others else "stop")
    flags = {(w.code, tuple(w.sources)) for w in plan.risk.flags}
    codes = {code for code, _ in flags}
    assert "risk.pregnancy" in codes and codes & {"risk.seizures", "risk.seizures_high_dose"}
    assert flags <= {(w.code, tuple(w.sources)) for w in plan.warnings}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    regimens(),
    st.sampled_from(["home-liquid", "scale"]),
    st.integers(min_value=40, max_value=300),
)
def test_home_methods_keep_the_invariants_and_every_warning(
    reg: tuple[str, list[tuple[str, float, str]]], route: str, tablet_mg: int
) -> None:
    """Opted in to a home method (a named vehicle, or a scale and the tablet's weight), every
    plan keeps the invariants, its home doses are on reliable marks (planhelpers), and the only
    refusal is a drug with no plain tablet or capsule to make the dose from."""
    market, takes = reg
    home = (
        {"home_liquid": True, "home_vehicle": "a suspending vehicle"}
        if route == "home-liquid"
        else {"scale": True, "tablet_weight_mg": tablet_mg}
    )
    person = {"pregnant": True, "seizures": True}
    try:
        plan = plan_for(CAT, *takes, market=market, person=person, **home)
    except HomeMethodRefused as exc:
        assert exc.reason == "no-tablet"
        return
    check_guardrails(plan, CAT)
    codes = {w.code for w in plan.warnings}
    assert "risk.pregnancy" in codes
    assert all(
        f"tail-{r.route}" in codes for r in plan.routes if r.route in ("home-liquid", "scale")
    )
