"""What the measures take (one record per patient) and what they return (counts and scores).

Inputs are plain frozen dataclasses (thousands of patients, built fast); results are pydantic
models, so the JSON API, the CSV and the FHIR MeasureReport all describe the same fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field

from benzotaper.measures.timeline import Run, RunArray, runs_array
from benzotaper.planning.models import DISCLAIMER


class Factors(NamedTuple):
    """Person factors as recorded on day ``on`` (an ordinal): in a saved plan or the profile.

    A named tuple: a clinic has tens of thousands of these, built on every report."""

    on: int
    age: int | None = None
    falls: bool = False
    opioids: bool = False
    seizures: bool = False
    dementia: bool = False


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """One patient: the dose timeline, the regimen they started from, their factors over time.

    ``dose_logged_after_zero`` is the first day (ordinal) after the timeline first reaches zero
    on which the journal has a dose logged as taken (or extra) above 0 mg; None if none.
    """

    patient_id: int
    runs: tuple[Run, ...]
    start_benzo: float = 0.0
    start_z: float = 0.0
    factors: tuple[Factors, ...] = ()
    dose_logged_after_zero: int | None = None


@dataclass
class ClinicData:
    """A clinic as the measures compute on it: per patient, the timeline as one structured
    array (:data:`~benzotaper.measures.timeline.RUN_DTYPE`, as the database keeps it), so
    thousands of timelines need no object per run.
    """

    patient_ids: list[int] = field(default_factory=list)
    runs: list[RunArray] = field(default_factory=list)
    start_benzo: list[float] = field(default_factory=list)
    factors: list[tuple[Factors, ...]] = field(default_factory=list)
    logged_after_zero: list[int | None] = field(default_factory=list)

    def add(
        self,
        patient_id: int,
        runs: RunArray,
        *,
        start_benzo: float = 0.0,
        factors: Sequence[Factors] = (),
        logged_after_zero: int | None = None,
    ) -> None:
        """One patient; ``runs`` in day order."""
        self.patient_ids.append(patient_id)
        self.runs.append(runs)
        self.start_benzo.append(start_benzo)
        self.factors.append(tuple(sorted(factors, key=lambda f: f.on)))
        self.logged_after_zero.append(logged_after_zero)

    @classmethod
    def from_records(cls, records: Iterable[PatientRecord]) -> ClinicData:
        data = cls()
        for r in records:
            data.add(
                r.patient_id,
                runs_array(r.runs),
                start_benzo=r.start_benzo,
                factors=r.factors,
                logged_after_zero=r.dose_logged_after_zero,
            )
        return data

    def __len__(self) -> int:
        return len(self.patient_ids)


@dataclass(frozen=True, slots=True)
class Period:
    """The measurement period, both days included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period must end on or after its start")

    @classmethod
    def year(cls, year: int, today: dt.date | None = None) -> Period:
        """A calendar measurement year (HEDIS and PQA count calendar years), cut at ``today``."""
        end = dt.date(year, 12, 31)
        if today is not None and today < end:
            end = max(today, dt.date(year, 1, 1))
        return cls(dt.date(year, 1, 1), end)


Unit = Literal["proportion", "per patient", "days"]


class RateResult(BaseModel):
    """One rate of a measure, with the counts it comes from (FHIR population names)."""

    id: str
    label: str
    source: str = Field(description="Reference key (GET /api/references) defining this rate")
    primary: bool
    computable: bool = True
    initial_population: int = Field(ge=0)
    denominator: int = Field(ge=0)
    numerator: int = Field(ge=0, description="Counted in the rate (after numerator exclusions)")
    numerator_exclusions: int = Field(
        default=0,
        ge=0,
        description="Met the numerator but left out of it by the measure's own exceptions "
        "(DAE rate 2: an appropriate diagnosis); the denominator keeps them, as NCQA counts, "
        "so score = numerator / denominator",
    )
    events: int | None = Field(default=None, description="Events behind the rate, if counted")
    score: float | None = Field(description="None when there is nothing to divide by")
    unit: Unit


class MeasureResult(BaseModel):
    id: str
    title: str
    steward: str
    kind: Literal["published", "project"] = Field(
        description="'published': benzotaper's adaptation of a published measure"
    )
    scoring: Literal["proportion", "ratio", "continuous"]
    improvement: Literal["increase", "decrease"]
    sources: list[str]
    definition: str
    adaptation: str
    cannot_see: list[str]
    age_unknown: int = Field(
        default=0, ge=0, description="Patients left out because no age is recorded"
    )
    rates: list[RateResult]

    def primary(self) -> RateResult:
        return next(r for r in self.rates if r.primary)


class ClinicReport(BaseModel):
    period_start: dt.date
    period_end: dt.date
    patients: int = Field(ge=0, description="Patients sharing with this clinician")
    patients_with_plan: int = Field(ge=0)
    definitions_version: str
    measures: list[MeasureResult]
    disclaimer: str = DISCLAIMER
