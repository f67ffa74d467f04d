"""Properties every report must have, on random clinics (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from benzotaper.measures import (
    Factors,
    PatientRecord,
    Period,
    Run,
    clinic_report,
    default_measure_book,
)
from benzotaper.measures.compute import dbo_members
from benzotaper.measures.facts import clinic_facts
from benzotaper.measures.model import ClinicData
from benzotaper.measures.timeline import OPEN_END
from tests.measures import oracle

DOSES = st.sampled_from([0.0, 0.0, 0.5, 2.5, 5.0, 7.5, 10.0, 20.0])
DAY0 = dt.date(2024, 6, 1).toordinal()


@st.composite
def records(draw: st.DrawFn, pid: int) -> PatientRecord:
    start = DAY0 + draw(st.integers(0, 900))
    runs: list[Run] = []
    for _ in range(draw(st.integers(0, 8))):
        length = draw(st.integers(1, 200))
        hold, switch, keep = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
        runs.append(Run(start, start + length - 1, draw(DOSES), draw(DOSES), hold, switch, keep))
        start += length
    if draw(st.booleans()) and runs:
        last = runs[-1]
        runs[-1] = Run(
            last.start, OPEN_END, last.benzo, last.z, last.hold, last.switch, last.maintain
        )
    factors = sorted(
        (
            Factors(
                DAY0 + draw(st.integers(0, 1000)),
                draw(st.none() | st.integers(12, 100)),
                draw(st.booleans()),
                draw(st.booleans()),
                draw(st.booleans()),
                draw(st.booleans()),
            )
            for _ in range(draw(st.integers(0, 3)))
        ),
        key=lambda f: f.on,
    )
    logged = draw(st.none() | st.integers(DAY0, DAY0 + 1200))
    return PatientRecord(
        patient_id=pid,
        runs=tuple(runs),
        start_benzo=draw(DOSES),
        start_z=draw(DOSES),
        factors=tuple(factors),
        dose_logged_after_zero=logged,
    )


@st.composite
def clinics(draw: st.DrawFn) -> list[PatientRecord]:
    n = draw(st.integers(0, 12))
    return [draw(records(pid)) for pid in range(n)]


periods = st.builds(
    lambda start, length: Period(
        dt.date.fromordinal(DAY0 + start), dt.date.fromordinal(DAY0 + start + length)
    ),
    st.integers(0, 700),
    st.integers(0, 500),
)


@settings(max_examples=50, deadline=None)
@given(clinics(), periods)
def test_counts_nest_and_rates_stay_in_range(clinic: list[PatientRecord], period: Period) -> None:
    report = clinic_report(clinic, period, default_measure_book())
    for m in report.measures:
        for r in m.rates:
            assert r.numerator >= 0 or m.scoring != "proportion"
            assert 0 <= r.denominator <= r.initial_population <= len(clinic), (m.id, r)
            if r.unit == "proportion":
                assert r.numerator <= r.denominator, (m.id, r)
                assert (r.score is None) == (r.denominator == 0)
                assert r.score is None or 0.0 <= r.score <= 1.0
            elif r.score is not None:
                assert r.score >= 0
    dae = next(m for m in report.measures if m.id == "dae")
    z, bzd, total = (r.numerator for r in dae.rates)
    assert max(z, bzd) <= total <= z + bzd


@settings(max_examples=50, deadline=None)
@given(clinics(), periods)
def test_dbo_thresholds_nest(clinic: list[PatientRecord], period: Period) -> None:
    book = default_measure_book()
    lo, hi = period.start.toordinal(), period.end.toordinal()
    facts = clinic_facts(ClinicData.from_records(clinic), lo, hi, 30, [182, 365])
    members = dbo_members(facts, book.measure("dbo"))
    assert members["dbo-10"] <= members["denominator"]
    assert members["dbo-50"] <= members["dbo-25"] <= members["dbo-20"] <= members["dbo-10"]


@settings(max_examples=20, deadline=None)
@given(clinics(), periods, st.randoms(use_true_random=False))
def test_order_of_patients_does_not_matter(
    clinic: list[PatientRecord], period: Period, rnd: object
) -> None:
    book = default_measure_book()
    shuffled = list(clinic)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert clinic_report(clinic, period, book) == clinic_report(shuffled, period, book)


@settings(max_examples=80, deadline=None)
@given(clinics(), periods)
def test_facts_match_the_reference(clinic: list[PatientRecord], period: Period) -> None:
    """The numpy facts equal the plain one-patient-at-a-time reference (tests/measures/oracle)."""
    lo, hi = period.start.toordinal(), period.end.toordinal()
    fast = clinic_facts(ClinicData.from_records(clinic), lo, hi, 30, [182, 365])
    slow = [oracle.patient_facts(r, lo, hi, 30, [182, 365]) for r in clinic]
    assert len(fast) == len(slow)
    for f, g in zip(fast, slow, strict=True):
        for name in f.__slots__:
            a, b = getattr(f, name), getattr(g, name)
            if isinstance(a, float) and isinstance(b, float):
                assert abs(a - b) <= 1e-9 * max(1.0, abs(b)), (name, f, g)
            else:
                assert a == b, (name, f, g)
