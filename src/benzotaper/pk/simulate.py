"""Simulate a plan or a bare regimen: levels of each species, DE activity and occupancy.

Time 0 is midnight at the start of the first day; the grid step is the requested resolution,
refined to the greatest common divisor with every dose's minute of the day, so each dose falls
exactly on a grid point and the result is exact there (see ``linear``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from benzotaper.catalogue.catalogue import Catalogue
from benzotaper.errors import RegimenError
from benzotaper.occupancy import OccupancyModel
from benzotaper.pk.assumptions import PkAssumptions
from benzotaper.pk.linear import FloatArray, periodic_state, respond
from benzotaper.pk.model import DrugModel, ParameterUsed, build_drug_model
from benzotaper.planning.models import Administration, Plan

MINUTES_PER_DAY = 1440

#: Said by every output that shows levels: there is no volume of distribution in the model.
UNITS_NOTE = (
    "Levels are in relative units (mg of drug in the body; no volume of distribution is "
    "modelled). Diazepam-equivalent activity is scaled so that, at steady state, its daily "
    "average equals the regimen's daily diazepam-equivalent dose (mg/day). Occupancy is an "
    "estimate from an assumed Emax model."
)
DISCLAIMER = (
    "This simulation is a model with stated assumptions, not a measurement. Agree any change "
    "to your medicine with your prescriber before acting on it."
)


@dataclass(frozen=True)
class TimedDose:
    """One dose taken every day of a segment: minute of the day, catalogue drug id, mg."""

    minute: int
    drug: str
    mg: float


@dataclass(frozen=True)
class Segment:
    """The same daily doses from ``start`` to ``end`` (inclusive)."""

    start: dt.date
    end: dt.date
    doses: tuple[TimedDose, ...]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Simulation:
    """Arrays on the time grid (hours since ``start`` midnight) and their provenance."""

    start: dt.date
    dt_h: float
    t_h: FloatArray
    levels: dict[str, FloatArray]  # "drug" or "drug → metabolite": relative units (mg in body)
    activity_de_mg: FloatArray  # diazepam-equivalent activity, mg/day scale
    occupancy_percent: FloatArray
    scheduled_de_mg: FloatArray  # the daily DE dose of the day each point falls in
    models: dict[str, DrugModel]
    parameters: tuple[ParameterUsed, ...]
    notes: tuple[str, ...]
    occupancy_label: str
    equivalence_source: str

    @property
    def days(self) -> float:
        return len(self.t_h) * self.dt_h / 24.0

    def datetimes(self) -> list[dt.datetime]:
        origin = dt.datetime.combine(self.start, dt.time())
        return [origin + dt.timedelta(hours=float(h)) for h in self.t_h]


def parse_minute(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def resolve_doses(catalogue: Catalogue, regimen: Sequence[Administration]) -> tuple[TimedDose, ...]:
    """Administrations (any drug name) as catalogue ids and minutes of the day."""
    return tuple(
        TimedDose(parse_minute(a.time), catalogue.drug(a.drug).id, a.mg)
        for a in regimen
        if a.mg > 0
    )


def plan_segments(catalogue: Catalogue, plan: Plan) -> list[Segment]:
    """One segment per step, in date order (zero-mg doses dropped)."""
    segments = []
    for step in sorted(plan.steps, key=lambda s: s.start):
        doses = tuple(
            TimedDose(parse_minute(d.time), catalogue.drug(d.drug).id, d.mg)
            for d in step.doses
            if d.mg > 0
        )
        segments.append(Segment(step.start, step.end, doses))
    return segments


@dataclass(frozen=True)
class Context:
    """What every simulation needs besides the doses; built once, reused."""

    catalogue: Catalogue
    assumptions: PkAssumptions
    occupancy: OccupancyModel
    source: str
    age: int | None = None
    _models: dict[str, DrugModel] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def default(
        cls,
        catalogue: Catalogue,
        *,
        source: str | None = None,
        age: int | None = None,
        assumptions: PkAssumptions | None = None,
        occupancy: OccupancyModel | None = None,
    ) -> Context:
        if assumptions is None or occupancy is None:
            from benzotaper.knowledge import default_knowledge

            shipped = default_knowledge()  # loaded and source-checked once per process
            assumptions = assumptions or shipped.pk
            occupancy = occupancy or shipped.occupancy
        else:
            assumptions.check_sources(catalogue)
        chosen = source or catalogue.default_source
        catalogue.reference(chosen)
        return cls(catalogue, assumptions, occupancy, chosen, age)

    @classmethod
    def for_plan(cls, catalogue: Catalogue, plan: Plan, **kwargs: object) -> Context:
        """The plan's own equivalence source and the person's age."""
        return cls.default(
            catalogue,
            source=plan.summary.equivalence_source,
            age=plan.request.person.age,
            **kwargs,  # type: ignore[arg-type]
        )

    def model(self, drug_id: str) -> DrugModel:
        if drug_id not in self._models:
            self._models[drug_id] = build_drug_model(
                self.catalogue.drugs[drug_id], self.assumptions, source=self.source, age=self.age
            )
        return self._models[drug_id]


def grid_minutes(step_minutes: int, minutes: Sequence[int]) -> int:
    """The largest grid step (minutes) that divides the resolution and every dose minute."""
    if step_minutes < 1 or MINUTES_PER_DAY % step_minutes:
        raise RegimenError(f"The time step must divide a day in whole minutes, not {step_minutes}.")
    g = step_minutes
    for m in minutes:
        g = math.gcd(g, m)
    return g


def simulate_segments(
    ctx: Context,
    segments: Sequence[Segment],
    *,
    start: dt.date,
    days: int,
    prior: Sequence[TimedDose] = (),
    step_minutes: int = 15,
) -> Simulation:
    """Simulate ``days`` days from ``start``; ``prior`` doses are assumed taken long enough
    before ``start`` to be at steady state (the person's current regimen)."""
    if days < 1:
        raise RegimenError("Simulate at least one day.")
    for seg in segments:
        if seg.end < seg.start:
            raise RegimenError(f"A step ends ({seg.end}) before it starts ({seg.start}).")
    all_doses = [d for seg in segments for d in seg.doses] + list(prior)
    if not all_doses:
        raise RegimenError("There are no doses to simulate.")
    grid = grid_minutes(step_minutes, [d.minute for d in all_doses])
    per_day = MINUTES_PER_DAY // grid
    steps = days * per_day
    dt_h = grid / 60.0
    drug_ids = sorted({d.drug for d in all_doses})
    models = {drug_id: ctx.model(drug_id) for drug_id in drug_ids}

    trains = {drug_id: np.zeros(steps) for drug_id in drug_ids}
    scheduled = np.zeros(steps)
    for seg in segments:
        first = max((seg.start - start).days, 0)
        last = min((seg.end - start).days, days - 1)
        if last < first:
            continue
        day_starts = np.arange(first, last + 1) * per_day
        daily_de = 0.0
        for dose in seg.doses:
            np.add.at(trains[dose.drug], day_starts + dose.minute // grid, dose.mg)
            daily_de += dose.mg * models[dose.drug].de_per_mg
        scheduled[first * per_day : (last + 1) * per_day] = daily_de

    levels: dict[str, FloatArray] = {}
    activity = np.zeros(steps)
    for drug_id, model in models.items():
        b = model.input_vector
        mine = [d for d in prior if d.drug == drug_id]
        x0 = None
        if mine:
            x0 = periodic_state(
                model.rates,
                b,
                24.0,
                np.array([d.minute / 60.0 for d in mine]),
                np.array([d.mg for d in mine]),
            )
        state = respond(model.rates, dt_h, trains[drug_id], b, x0)[:, 1:]  # gut not reported
        for i, name in enumerate(model.compartments[1:]):
            label = drug_id if name == drug_id else f"{drug_id} → {name}"
            levels[label] = state[:, i]
        activity += state @ model.activity_weights[1:]
    occupancy = ctx.occupancy.occupancy_array(activity)
    notes = [UNITS_NOTE, *(n for m in models.values() for n in m.notes)]
    return Simulation(
        start=start,
        dt_h=dt_h,
        t_h=np.arange(steps, dtype=np.float64) * dt_h,
        levels=levels,
        activity_de_mg=activity,
        occupancy_percent=occupancy,
        scheduled_de_mg=scheduled,
        models=models,
        parameters=tuple(p for m in models.values() for p in m.parameters),
        notes=tuple(notes),
        occupancy_label=ctx.occupancy.label,
        equivalence_source=ctx.source,
    )


def simulate_regimen(
    ctx: Context,
    regimen: Sequence[Administration],
    *,
    days: int,
    start: dt.date,
    steady: bool = False,
    step_minutes: int = 15,
) -> Simulation:
    """A bare regimen taken every day from ``start`` (from nothing, or already at steady state)."""
    doses = resolve_doses(ctx.catalogue, regimen)
    end = start + dt.timedelta(days=days - 1)
    return simulate_segments(
        ctx,
        [Segment(start, end, doses)],
        start=start,
        days=days,
        prior=doses if steady else (),
        step_minutes=step_minutes,
    )


def simulate_plan(
    ctx: Context,
    plan: Plan,
    *,
    tail_days: int = 14,
    step_minutes: int = 15,
    from_steady_state: bool = True,
) -> Simulation:
    """The whole plan plus ``tail_days``; the request's regimen is taken as the steady state
    the person starts from (unless ``from_steady_state`` is False)."""
    segments = plan_segments(ctx.catalogue, plan)
    if not segments:
        raise RegimenError("The plan has no steps to simulate.")
    start = segments[0].start
    days = (max(s.end for s in segments) - start).days + 1 + tail_days
    prior = resolve_doses(ctx.catalogue, plan.request.regimen) if from_steady_state else ()
    return simulate_segments(
        ctx, segments, start=start, days=days, prior=prior, step_minutes=step_minutes
    )
