"""The plan contract: what a taper request holds and what a plan is.

Every adapter (CLI, storage, web, exports, simulation) reads these models, so fields are only
ever added, never renamed. JSON field names follow the issue tracker's contract.

No ``from __future__ import annotations`` in the model modules (this one, rules, risk,
home_methods, crossover_rules): pydantic would compile and evaluate every field's annotation
string when it builds the models, on every start of ``benzotaper plan`` (~25 M instructions).
"""

import datetime as dt
import re
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal, Self, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.fields import FieldInfo

from benzotaper.catalogue.models import Form, Market
from benzotaper.isodate import ISODate
from benzotaper.limits import (
    MAX_CUSTOM_STEPS,
    MAX_HOLDS,
    MAX_REGIMEN_ROWS,
    Name,
    Reason,
    ShortText,
)
from benzotaper.planning.bounds import MIN_PERCENT, MIN_STEP_MG

DISCLAIMER = (
    "This plan is decision support, not medical advice. Agree it, and every change to it, with "
    "your prescriber before acting on it. Never stop a benzodiazepine or Z-drug abruptly."
)

Strategy = Literal["percent", "linear", "ashton-bands", "hyperbolic", "custom"]
Pace = Literal["slow", "moderate", "fast"]
Phase = Literal[
    "crossover", "stabilise", "taper", "hold", "final", "stop", "maintain", "reinstatement"
]
#: Ways of making the small doses at the end of a taper when the person's products cannot.
TailRoute = Literal[
    "liquid", "diazepam", "nights", "compounded", "maintain", "home-liquid", "scale"
]
#: The routes the planner may choose by itself, in the order of data/rules/pacing.toml [tail].
TAIL_ROUTES: tuple[TailRoute, ...] = ("nights", "liquid", "diazepam", "compounded", "maintain")
#: Small doses made at home (planning/home_methods.py): only when the person opts in.
HomeRoute = Literal["home-liquid", "scale"]
HOME_ROUTES: tuple[HomeRoute, ...] = ("home-liquid", "scale")
Severity = Literal["info", "caution", "danger"]
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _new_list() -> list[Any]:
    """The default factory of this module's list fields. Not ``list`` itself: these models are
    built when the module is imported (every start of ``benzotaper plan``), and pydantic then
    inspects each factory's signature, a builtin's through ``tokenize`` and its large regex
    (~30 M instructions). The data-file models elsewhere (``Strict``: rules, home_methods) are
    built only when they first validate, so they keep ``list``."""
    return []


def _new_dict() -> dict[Any, Any]:
    """The default factory of this module's dict fields (why not ``dict``: ``_new_list``)."""
    return {}


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """An instance from values the planner made itself from validated data (steps, lines to
        dispense), without validating them again: plans are made often, and pydantic's own
        ``model_construct`` is slower than validation. Missing fields take their defaults (in
        field order, after the values given, as validation would place them)."""
        return cls.trusted_from(values)

    @classmethod
    def trusted_from(cls, values: dict[str, Any]) -> Self:
        """``trusted`` from a dict of values, which the instance keeps as its own."""
        defaults = _defaults(cls)
        if len(values) < len(defaults):
            for name, make, shared in defaults:
                if name not in values:
                    values[name] = shared if make is None else make()
        made = cls.__new__(cls)
        _set = object.__setattr__
        _set(made, "__dict__", values)
        every = _EVERY[cls]
        _set(
            made,
            "__pydantic_fields_set__",
            every.copy() if len(values) == len(every) else set(values),
        )
        _set(made, "__pydantic_extra__", None)
        _set(made, "__pydantic_private__", None)
        return made


#: per model class, each field in order: (name, None, its default) when the default can be
#: shared between instances (immutable), else (name, what makes it afresh, None)
_Default = tuple[str, Callable[[], Any] | None, Any]
_DEFAULTS: dict[type[BaseModel], list[_Default]] = {}
_SHARED = (type(None), bool, int, float, str, tuple, frozenset)


#: per model class, the names of all its fields
_EVERY: dict[type[BaseModel], set[str]] = {}


def _defaults(cls: type[BaseModel]) -> list[_Default]:
    found = _DEFAULTS.get(cls)
    if found is None:
        found = _DEFAULTS[cls] = [
            _default(name, info) for name, info in cls.__pydantic_fields__.items()
        ]
        _EVERY[cls] = set(cls.__pydantic_fields__)
    return found


def _default(name: str, info: FieldInfo) -> _Default:
    factory = info.default_factory
    if factory is None and isinstance(info.default, _SHARED):
        return (name, None, info.default)
    if factory is not None and not info.default_factory_takes_validated_data:
        # called directly: pydantic's get_default inspects the factory's signature on each call
        return (name, cast(Callable[[], Any], factory), None)
    return (name, partial(info.get_default, call_default_factory=True), None)


# ----------------------------------------------------------------------------- input


class Administration(Model):
    """One drug at one time of day, e.g. clonazepam 0.5 mg at 08:00."""

    drug: Name = Field(min_length=1, description="Catalogue id, generic or brand name")
    mg: float = Field(gt=0)
    time: str = Field(description="HH:MM, 24-hour clock")

    @field_validator("time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _TIME_RE.match(v):
            raise ValueError(f"time must be HH:MM on the 24-hour clock, not {v!r}")
        return v


def factor(
    default: Any,
    *,
    flags: str | tuple[str, ...],
    label: str,
    description: str,
    widget: Literal["select"] | None = None,
    **limits: Any,
) -> Any:
    """A person factor, declared once: the edges take their CLI flag(s), form label and help
    from here (``planning.factors``), and the API schema shows them (``x-cli-flags``,
    ``x-form-label``)."""
    names = (flags,) if isinstance(flags, str) else flags
    extra: dict[str, Any] = {"x-cli-flags": list(names), "x-form-label": label}
    if widget is not None:
        extra["x-form-widget"] = widget
    return Field(default, description=description, json_schema_extra=extra, **limits)


class PersonFactors(Model):
    """What the risk assessment and pacing need to know about the person.

    Every field is declared with ``factor``: the CLI options of ``plan``/``compare``/``export``,
    the web builder's questions and the API schema all come from this one declaration.
    """

    age: int | None = factor(
        None, flags="--age", label="Age", description="Age in years.", ge=12, le=120
    )
    years_on_drug: float | None = factor(
        None,
        flags="--years",
        label="Years taking it",
        description="Years on the drug (0.5 = 6 months).",
        ge=0,
        le=80,
    )
    days_per_week: int = factor(
        7,
        flags="--days-per-week",
        label="Days a week",
        description="Days a week it is taken (1-7).",
        widget="select",
        ge=1,
        le=7,
    )
    previous_attempts: int = factor(
        0,
        flags="--previous-attempts",
        label="Earlier attempts to stop",
        description="How many earlier attempts to stop (0-50).",
        ge=0,
        le=50,
    )
    seizures: bool = factor(
        False,
        flags="--seizures",
        label="I have had a seizure (fit) at some time",
        description="History of seizures.",
    )
    complicated_withdrawal: bool = factor(
        False,
        flags="--complicated-withdrawal",
        label="Stopping or cutting down before gave me a seizure, confusion (delirium) or "
        "hallucinations",
        description="A previous complicated withdrawal (seizure, delirium or hallucinations).",
    )
    alcohol: bool = factor(
        False,
        flags="--alcohol",
        label="I drink alcohol most days, or have had problems with alcohol",
        description="Alcohol use disorder or heavy use.",
    )
    other_substance_use: bool = factor(
        False,
        flags="--other-substance-use",
        label="I have had problems with other drugs (not alcohol), now or recently",
        description="Another substance use disorder (besides alcohol).",
    )
    opioids: bool = factor(
        False,
        flags="--opioids",
        label="I take opioids (for example strong painkillers)",
        description="Also takes opioids (painkillers or any other).",
    )
    opioid_agonist_treatment: bool = factor(
        False,
        flags="--opioid-agonist-treatment",
        label="I take buprenorphine or methadone as treatment for opioid use",
        description="On opioid agonist treatment (buprenorphine or methadone): not to be "
        "disrupted.",
    )
    other_sedatives: bool = factor(
        False,
        flags="--other-sedatives",
        label="I take other medicines that make me sleepy (for example gabapentin, pregabalin, "
        "sleeping tablets or sedating antihistamines)",
        description="Other sedating medicines, e.g. gabapentinoids (gabapentin, pregabalin).",
    )
    suicidality: bool = factor(
        False,
        flags="--suicidality",
        label="I have thoughts of ending my life or harming myself at the moment",
        description="Current suicidal thoughts, self-harm or another imminent risk of harm.",
    )
    pregnant: bool = factor(
        False,
        flags="--pregnant",
        label="I am pregnant or could become pregnant",
        description="Pregnant (or could become pregnant).",
    )
    breastfeeding: bool = factor(
        False, flags="--breastfeeding", label="I am breastfeeding", description="Breastfeeding."
    )
    psychiatric: bool = factor(
        False,
        flags="--psychiatric",
        label="I have a mental-health condition (for example depression or PTSD)",
        description="A serious psychiatric illness (e.g. depression, PTSD).",
    )
    bipolar: bool = factor(
        False, flags="--bipolar", label="I have bipolar disorder", description="Bipolar disorder."
    )
    liver_impairment: bool = factor(
        False, flags="--liver", label="I have liver problems", description="Liver impairment."
    )
    sleep_apnoea: bool = factor(
        False,
        flags=("--sleep-apnoea", "--sleep-apnea"),
        label="I have sleep apnoea",
        description="Sleep apnoea.",
    )
    falls: bool = factor(
        False,
        flags="--falls",
        label="I have fallen in the past year",
        description="Falls in the past year.",
    )
    dementia: bool = factor(
        False,
        flags="--dementia",
        label="I have been told I have dementia or memory problems (cognitive impairment)",
        description="Dementia or cognitive impairment, diagnosed (the AGS Beers Criteria 2023 "
        "advise avoiding benzodiazepines and Z-drugs with it).",
    )
    pdmp_checked: bool = factor(
        False,
        flags="--pdmp-checked",
        label="For prescribers: I have checked the prescription drug monitoring programme (PDMP)",
        description="The prescriber has reviewed the prescription drug monitoring programme "
        "(PDMP); without it, plans carry a reminder.",
    )


class Override(Model):
    """An explicit, recorded decision to exceed the guideline's maximum pace."""

    reason: Reason = Field(min_length=10)
    max_percent_per_14_days: float = Field(gt=0, le=100)


class Hold(Model):
    """Keep the dose steady from ``start`` for ``days`` days (the schedule shifts later)."""

    start: ISODate
    days: int = Field(ge=1, le=365)
    reason: Reason = ""


class Reinstatement(Model):
    """A return to an earlier, better-tolerated dose: the plan's first step keeps that dose for
    ``days`` days (phase ``reinstatement``, the one rise a plan may contain, labelled as such),
    then the taper resumes. The 2025 Joint Guideline lists a return to the previous dose among
    the responses to significant withdrawal, less often than a pause (source ``asam2025``)."""

    from_daily_mg: dict[Name, Annotated[float, Field(ge=0)]] = Field(
        max_length=MAX_REGIMEN_ROWS,
        description="The daily dose in force before the return (drug id -> mg a day)",
    )
    days: int = Field(ge=1, le=90, description="Days at the earlier dose before the next cut")
    reason: Reason = Field(min_length=1)
    by: Literal["patient", "clinician"] = Field(
        default="patient", description="Who asked for it (the adaptive rules only propose it)"
    )
    proposed: bool = Field(
        default=False, description="The journal's adaptive rules had proposed it at the time"
    )


class CustomStep(Model):
    """One row of a user-given schedule (strategy ``custom``): daily mg of one drug from a date."""

    start: ISODate
    drug: Name
    daily_mg: float = Field(ge=0)


class Preferences(Model):
    strategy: Strategy = "percent"
    pace: Pace | None = None  # None: follows from the risk assessment
    percent: float | None = Field(default=None, ge=MIN_PERCENT, le=50)
    every_days: int | None = Field(default=None, ge=1, le=120)
    step_mg: float | None = Field(default=None, ge=MIN_STEP_MG)
    market: Market = "us"
    liquid: bool = False
    compounded: bool = False
    start: ISODate | None = None  # None: the caller supplies today (the core never reads a clock)
    dispense_days: int = Field(default=28, ge=1, le=180)
    holds: list[Hold] = Field(default_factory=_new_list, max_length=MAX_HOLDS)
    final_slow_section: bool = True
    crossover: Name | None = None
    source: Name | None = None  # equivalence source key; None: catalogue default
    override: Override | None = None
    custom_steps: list[CustomStep] = Field(default_factory=_new_list, max_length=MAX_CUSTOM_STEPS)
    dose_time_rule: Literal["daytime-first", "night-first", "largest-first", "across"] | None = (
        None  # None: the pacing rules' default (across every dose-time for short-acting drugs)
    )
    multi_drug: Literal["sequential", "proportional"] | None = None
    tail: TailRoute | Literal["auto"] = Field(
        default="auto",
        description="How to make the small doses at the end when the products cannot: auto "
        "(the first that works, in the order of the pacing rules) or one route",
    )
    tail_off: list[TailRoute] = Field(
        default_factory=_new_list,
        max_length=len(get_args(TailRoute)),
        description="Routes the person or prescriber does not want",
    )
    micro: bool = Field(
        default=False,
        description="Micro-tapering (community practice, not a guideline method): a small cut "
        "every day or every few days, a share of the current dose, measured with an oral liquid "
        "(the drug's own, or diazepam oral solution after a switch to diazepam, or another "
        "measured route allowed). `percent` is then the most the cuts may add up to in any 14 "
        "days (default: the pace's, e.g. 10% per 14 days; the 2025 joint guideline: typically not "
        "more than 25% every 2 weeks) and `every_days` the days between cuts (default: 1, or a "
        "few days so that the plan stays within 365 steps). Strategy percent only.",
    )
    home_liquid: bool = Field(
        default=False,
        description="Opt in to making small doses at home as a liquid: a tablet made up in water "
        "(or the named suspending vehicle) and a measured volume removed or taken. Not a licensed "
        "method: agree it with the prescriber. Refused for a drug practically insoluble in water "
        "unless home_vehicle names a suspending vehicle.",
    )
    scale: bool = Field(
        default=False,
        description="Opt in to weighing a portion of a crushed tablet on a milligram scale "
        "(needs tablet_weight_mg). Not a licensed method: agree it with the prescriber.",
    )
    home_vehicle: ShortText | None = Field(
        default=None,
        description="A suspending vehicle to make the home liquid in (e.g. one a pharmacist "
        "advises), for a drug that does not dissolve in water",
    )
    tablet_weight_mg: float | None = Field(
        default=None,
        gt=0,
        le=5000,
        description="The weight of one whole tablet in mg, weighed on the person's scale (for "
        "scale): weighed portions must be at least ten times the scale's readability",
    )
    reinstate: Reinstatement | None = Field(
        default=None, description="Start with a labelled return to an earlier dose"
    )
    nightly_mg: float | None = Field(
        default=None,
        gt=0,
        description="Start on a weekly pattern (medication-free nights), as a plan on that "
        "route is resumed or returned to: the dose taken on the nights with a dose; the "
        "regimen's one dose is then the pattern's average a day, made as whole nights of it",
    )
    occupancy_ed50_mg: float | None = Field(default=None, gt=0, le=100)
    occupancy_hill: float | None = Field(default=None, gt=0, le=5)

    def home_routes(self) -> list[HomeRoute]:
        """The home methods opted in to (``tail="home-liquid"`` or ``"scale"`` counts as opting
        in), in the order they are tried (planning/home_methods.py)."""
        out: list[HomeRoute] = []
        if self.home_liquid or self.tail == "home-liquid":
            out.append("home-liquid")
        if self.scale or self.tail == "scale":
            out.append("scale")
        return out


class PlanRequest(Model):
    """Everything needed to make a plan; stored with the plan so it can be made again."""

    regimen: list[Administration] = Field(min_length=1, max_length=MAX_REGIMEN_ROWS)
    person: PersonFactors = PersonFactors()
    preferences: Preferences = Preferences()


# ----------------------------------------------------------------------------- output


class Accuracy(Model):
    """How far the dose taken may be from the dose intended, in percent of it, and why."""

    low_percent: float
    high_percent: float
    basis: Literal["dispersed-tablets", "scale-readability"]
    sources: list[str] = Field(default_factory=_new_list)


class HomeRecipe(Model):
    """How one dose is made at home from one tablet: as data, each edge words it.

    Liquid: ``tablets`` of ``tablet_mg`` made up to ``volume_ml`` of ``vehicle``; then either
    take ``measure_ml`` (``measure`` "take") or remove ``measure_ml`` and take the rest
    ("remove"), measured with a ``syringe_ml`` oral syringe (marks every ``graduation_ml``;
    ``fills`` > 1: several fills). Scale: one tablet of ``tablet_weight_mg`` crushed, and
    ``weigh_mg`` of the powder taken. ``mg`` is the drug in that portion (the intended dose).
    """

    method: Literal["liquid", "scale"]
    tablets: int = 1
    tablet_mg: float
    mg: float
    vehicle: str | None = None
    dissolves: bool | None = None
    volume_ml: float | None = None
    measure: Literal["take", "remove"] | None = None
    measure_ml: float | None = None
    syringe_ml: float | None = None
    graduation_ml: float | None = None
    fills: int | None = None
    tablet_weight_mg: float | None = None
    weigh_mg: float | None = None
    readability_mg: float | None = None
    accuracy: Accuracy
    sources: list[str] = Field(default_factory=_new_list)


class Piece(Model):
    """Part of one administration: so many tablets (whole or split) or mL of one product."""

    product: str = Field(description="Human label, e.g. '2 mg tablet'")
    form: Form
    strength_mg: float | None = None
    mg_per_ml: float | None = None
    quantity: float = Field(gt=0, description="Tablets (0.5 = half) or mL")
    unit: Literal["tablet", "capsule", "mL"]
    mg: float
    text: str = Field(description="What to take, e.g. '½ × 2 mg tablet'")
    home: HomeRecipe | None = Field(
        default=None,
        description="For a dose made at home (home liquid or scale): the recipe and its "
        "accuracy band, as data (planning/home_methods.py)",
    )


class Dose(Model):
    time: str
    drug: str
    mg: float = Field(ge=0)
    target_mg: float | None = None
    make_up: list[Piece] = Field(default_factory=_new_list)
    on_days: list[int] | None = Field(
        default=None,
        description="Days of each week of the step (0 = the step's first day, ... 6) on which "
        "this dose is taken; null: every day. A weekly pattern (medication-free nights) has one "
        "Dose per amount at the same time.",
    )

    def taken_on(self, day_of_step: int) -> bool:
        """Whether this dose is taken on the step's ``day_of_step``-th day (0 = first)."""
        return self.on_days is None or day_of_step % 7 in self.on_days


class Step(Model):
    index: int = Field(ge=0)
    # computed, not typed: a step beyond the calendar window is the plan-length bound's to
    # refuse (planning.bounds.check_plan), with its own message
    start: dt.date
    end: dt.date = Field(description="Last day of the step (inclusive)")
    phase: Phase
    doses: list[Dose]
    daily_mg: dict[str, float]
    diazepam_equivalent_mg: float
    change_percent: float | None = None  # vs the previous step's DE, negative for a cut
    note: str | None = None
    cuts: list[str] = Field(
        default_factory=_new_list,
        description="Drug ids whose daily dose this step lowers (crossover steps: none)",
    )
    percent_14_days: float | None = Field(
        default=None,
        description="Micro-tapering plans: the cuts of the 14 days up to this step's first day, "
        "together, as % of the diazepam-equivalent dose taken 14 days before (at most the "
        "percent per 14 days chosen); null in other plans",
    )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def weekly(self) -> bool:
        """A weekly pattern: ``daily_mg`` and the DE are averages over each week."""
        return any(d.on_days is not None for d in self.doses)

    def weekdays(self, dose: Dose) -> list[int]:
        """The days of the week (0 = Monday) a patterned dose is taken; [] for every day."""
        if dose.on_days is None:
            return []
        return sorted((self.start + dt.timedelta(days=d)).weekday() for d in dose.on_days)

    def doses_on(self, day: dt.date) -> list[Dose]:
        """The doses taken on ``day`` (a date within the step), honouring weekly patterns."""
        offset = (day - self.start).days
        return [d for d in self.doses if d.taken_on(offset)]


class RouteChange(Model):
    """A tail route the plan takes: from which step, why, and what it needs from the prescriber.

    Data, not wording for one edge: ``preference`` is the change to the request that switches the
    route off (or, for maintain, that would avoid it), which each edge words in its own terms.
    """

    route: TailRoute
    drug: str = Field(description="Drug id whose tail takes the route")
    step: int = Field(ge=0, description="Index of the first step on the route")
    start: ISODate
    chosen: Literal["auto", "asked"] = "auto"
    reason: str
    prescription: str = Field(description="What must be prescribed or agreed for it")
    preference: dict[str, Any] = Field(default_factory=_new_dict)
    sources: list[str] = Field(default_factory=_new_list)


class WayForward(Model):
    """A change to the request that gives a plan reaching zero (offered with a maintain step)."""

    kind: TailRoute | Literal["crossover", "market"]
    preference: dict[str, Any]
    reason: str
    sources: list[str] = Field(default_factory=_new_list)


class PlanWarning(Model):
    code: str
    severity: Severity
    message: str
    sources: list[str] = Field(default_factory=_new_list)
    preference: dict[str, Any] = Field(
        default_factory=_new_dict,
        description="The change to the request this warning suggests (each edge words it)",
    )


class DispenseLine(Model):
    """Quantity of one product for one dispensing interval (or the whole plan)."""

    period_start: dt.date
    period_end: dt.date
    drug: str
    product: str
    form: Form
    strength_mg: float | None = None
    mg_per_ml: float | None = None
    quantity: float
    unit: Literal["tablet", "capsule", "mL"]


class RiskAssessment(Model):
    level: Literal["rare", "lower", "moderate", "high"]
    diazepam_equivalent_mg: float
    dose_band: Literal["low", "moderate", "high"]
    dose_band_diazepam_equivalent_mg: float | None = Field(
        default=None,
        description="The DE the band was judged on, in the guideline's own equivalents",
    )
    dose_band_sources: list[str] = Field(
        default_factory=_new_list,
        description="Equivalence sources used for the band (and Table 2's own example, if used)",
    )
    recommended_pace: Pace
    specialist_care: bool
    reasons: list[str] = Field(default_factory=_new_list)
    flags: list[PlanWarning] = Field(default_factory=_new_list)


class Summary(Model):
    start: dt.date
    end: dt.date
    weeks: float
    steps: int
    strategy: Strategy
    pace: Pace | None
    market: Market
    equivalence_source: str
    starting_diazepam_equivalent_mg: float
    parameters: dict[str, Any] = Field(default_factory=_new_dict)
    override: Override | None = None
    catalogue_version: str
    rule_versions: dict[str, str] = Field(
        default_factory=_new_dict,
        description="Version of each data file that made the plan (catalogue, pacing, risk, ...)",
    )


class Plan(Model):
    summary: Summary
    steps: list[Step]
    warnings: list[PlanWarning] = Field(default_factory=_new_list)
    dispense: list[DispenseLine] = Field(default_factory=_new_list)
    dispense_total: list[DispenseLine] = Field(default_factory=_new_list)
    risk: RiskAssessment
    request: PlanRequest
    routes: list[RouteChange] = Field(default_factory=_new_list)
    ways_forward: list[WayForward] = Field(default_factory=_new_list)
    disclaimer: str = DISCLAIMER

    @property
    def ends_with(self) -> Literal["stop", "maintain"]:
        """How the plan ends: a stop from a small dose, or maintain and review."""
        return "maintain" if self.steps and self.steps[-1].phase == "maintain" else "stop"
