"""The plan builder's form: what a person typed ↔ a PlanRequest, with every problem in words.

The form keeps every value as typed, so a page that fails validation is shown again with the
person's own entries and a message beside each problem (nothing is lost).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from benzotaper.catalogue import Catalogue
from benzotaper.doses import parse_dose
from benzotaper.errors import BenzotaperError
from benzotaper.limits import MAX_REGIMEN_ROWS
from benzotaper.planning.factors import number_factors, yes_no_factors
from benzotaper.planning.models import PlanRequest, Preferences

#: How many dose rows the form accepts: the request's own bound (benzotaper.limits).
MAX_ROWS = MAX_REGIMEN_ROWS
STRATEGIES = [
    ("percent", "Percent of the current dose (cuts shrink as the dose falls)"),
    ("hyperbolic", "Hyperbolic (equal steps of estimated receptor effect; slower at the end)"),
    ("linear", "Fixed amount per step"),
    ("ashton-bands", "Ashton / NICE CKS diazepam bands"),
]
PACES = [
    ("", "As the risk assessment suggests"),
    ("slow", "Slow"),
    ("moderate", "Moderate"),
    ("fast", "Fast"),
]
#: The yes/no questions about the person, as declared on PersonFactors (name, label).
FLAGS = [(f.name, f.label) for f in yes_no_factors()]
#: The number questions about the person (age, years, days a week, attempts), as declared.
NUMBERS = number_factors()
#: The tail routes in plain words (the planner returns them as data: RouteChange.route).
TAILS = [
    ("auto", "Choose for me (the first that works)"),
    ("nights", "Medication-free nights (sleeping tablets taken at night)"),
    ("liquid", "The medicine's own oral liquid"),
    ("diazepam", "Switch to diazepam for the last part"),
    ("compounded", "Made up by a compounding pharmacy"),
    ("maintain", "Keep the lowest dose reached and review it"),
]
TAIL_OFF = [t for t in TAILS if t[0] not in ("auto", "maintain")]
_FIELD_NAMES = {
    **{f.name: f.label for f in NUMBERS},
    "percent": "Percent per cut",
    "every_days": "Days between cuts",
    "step_mg": "Amount per cut",
    "start": "Start date",
    "dispense_days": "Days per prescription",
    "reason": "Reason for going faster",
    "max_percent_per_14_days": "Largest cut allowed",
    "tablet_weight_mg": "Weight of one tablet",
    "home_vehicle": "Suspending vehicle",
}


@dataclass
class PlanForm:
    """The form as typed, the request made from it (if valid), and what is wrong with it."""

    values: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # field name → message
    request: PlanRequest | None = None

    @property
    def ok(self) -> bool:
        return self.request is not None and not self.problems


DEFAULT_VALUES = {
    "strategy": "percent",
    "pace": "",
    "market": "us",
    **{f.name: f"{f.default:g}" for f in NUMBERS if f.default is not None},
    "source": "",
    "crossover": "",
    "tail": "auto",
}


def empty_form() -> PlanForm:
    return PlanForm(values=dict(DEFAULT_VALUES), rows=[{"drug": "", "dose": "", "time": "08:00"}])


#: The home-method questions (planning/home_methods.py): opt-in only, never preset.
HOME_FIELDS = ("home_liquid", "home_vehicle", "scale", "tablet_weight_mg")


def _home_values(prefs: Preferences) -> dict[str, str]:
    out = {"home_liquid": "on" if prefs.home_liquid else "", "scale": "on" if prefs.scale else ""}
    out["home_vehicle"] = prefs.home_vehicle or ""
    weight = prefs.tablet_weight_mg
    out["tablet_weight_mg"] = "" if weight is None else f"{weight:g}"
    return out


def _home_prefs(v: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"home_liquid": bool(v.get("home_liquid")), "scale": bool(v.get("scale"))}
    if v.get("home_vehicle"):
        out["home_vehicle"] = v["home_vehicle"]
    weight = _number(v.get("tablet_weight_mg") or "", "tablet_weight_mg", errors)
    if weight is not None:
        out["tablet_weight_mg"] = weight
    return out


def from_request(request: PlanRequest) -> PlanForm:
    """A form filled in from a stored request (to change a saved plan, or a suggestion)."""
    p, prefs = request.person, request.preferences
    values = dict(DEFAULT_VALUES)
    for factor in NUMBERS:
        number = getattr(p, factor.name)
        values[factor.name] = "" if number is None else f"{number:g}"
    values.update(
        {
            "strategy": prefs.strategy if prefs.strategy != "custom" else "percent",
            "pace": prefs.pace or "",
            "percent": "" if prefs.percent is None else f"{prefs.percent:g}",
            "every_days": "" if prefs.every_days is None else str(prefs.every_days),
            "market": prefs.market,
            "source": prefs.source or "",
            "crossover": prefs.crossover or "",
            "start": "" if prefs.start is None else prefs.start.isoformat(),
        }
    )
    if prefs.liquid:
        values["liquid"] = "on"
    if prefs.compounded:
        values["compounded"] = "on"
    if prefs.override is not None:
        values["override"] = "on"
        values["reason"] = prefs.override.reason
        values["max_percent_per_14_days"] = f"{prefs.override.max_percent_per_14_days:g}"
    values.update(_home_values(prefs))
    values["tail"] = prefs.tail
    for route in prefs.tail_off:
        values[f"no_tail_{route}"] = "on"
    flags = {name for name, _ in FLAGS if getattr(p, name)}
    rows = [{"drug": a.drug, "dose": f"{a.mg:g} mg", "time": a.time} for a in request.regimen]
    return PlanForm(values=values, rows=rows, flags=flags)


def as_data(form: PlanForm) -> dict[str, str]:
    """The form's values as the field names a browser would post (the inverse of parse_form)."""
    data = dict(form.values)
    for i, row in enumerate(form.rows):
        for key, value in row.items():
            data[f"{key}_{i}"] = value
    for flag in form.flags:
        data[flag] = "on"
    return {k: v for k, v in data.items() if v}


#: The hidden field that carries a plan built while logged out through login or registration.
PENDING_FIELD = "pending_plan"
#: Policy: the largest pending-plan text accepted (a full form is about 2 000 characters).
PENDING_MAX = 20_000


def dump_pending(form: PlanForm) -> str:
    """The plan form as JSON for a hidden field (stateless: nothing is stored before login)."""
    return json.dumps(as_data(form), separators=(",", ":"), sort_keys=True)


def load_pending(text: str) -> dict[str, str] | None:
    """The form values carried in ``text``, or None if it is not what dump_pending writes."""
    if not text or len(text) > PENDING_MAX:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or len(data) > 200:
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return None
    return data


def _first(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value.strip()[:500] if isinstance(value, str) else ""


def _number(text: str, key: str, errors: dict[str, str], integer: bool = False) -> float | None:
    if not text:
        return None
    try:
        return int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        errors[key] = f"{_FIELD_NAMES.get(key, key)}: enter {kind}, not {text!r}."
        return None


def _iso_date(text: str, key: str, errors: dict[str, str]) -> str | None:
    from benzotaper.isodate import iso_date

    if not text:
        return None
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        errors[key] = f"{_FIELD_NAMES.get(key, key)}: enter a date as YYYY-MM-DD."
        return None
    try:
        return iso_date(text).isoformat()
    except ValueError as exc:  # outside the dates benzotaper accepts (a year typed wrong)
        errors[key] = f"{_FIELD_NAMES.get(key, key)}: {exc}."
        return None


def parse_form(form: Mapping[str, Any], catalogue: Catalogue) -> PlanForm:
    """Read the builder form; ``request`` is set only when everything could be read."""
    from benzotaper.planning.regimen import parse_time

    out = PlanForm()
    keys = [k for k, _ in FLAGS]
    out.flags = {k for k in keys if _first(form, k)}
    for key in (
        *(f.name for f in NUMBERS),
        "strategy",
        "pace",
        "percent",
        "every_days",
        "market",
        "source",
        "crossover",
        "start",
        "liquid",
        "compounded",
        "override",
        "reason",
        "max_percent_per_14_days",
        "tail",
        *(f"no_tail_{r}" for r, _ in TAIL_OFF),
        *HOME_FIELDS,
    ):
        out.values[key] = _first(form, key)
    for key, default in DEFAULT_VALUES.items():
        out.values[key] = out.values.get(key) or default

    regimen: list[dict[str, Any]] = []
    for i in range(MAX_ROWS):
        row = {k: _first(form, f"{k}_{i}") for k in ("drug", "dose", "time")}
        if not any(row.values()):
            continue
        out.rows.append(row)
        n = len(out.rows) - 1
        item: dict[str, Any] = {}
        try:
            item["drug"] = catalogue.drug(row["drug"]).id if row["drug"] else None
            if item["drug"] is None:
                out.errors[f"drug_{n}"] = "Enter the medicine's name."
        except BenzotaperError as exc:
            out.errors[f"drug_{n}"] = exc.message
        try:
            item["mg"] = parse_dose(row["dose"]) if row["dose"] else None
            if item["mg"] is None:
                out.errors[f"dose_{n}"] = "Enter the dose, e.g. 0.5 mg."
        except BenzotaperError as exc:
            out.errors[f"dose_{n}"] = exc.message
        try:
            item["time"] = parse_time(row["time"]) if row["time"] else None
            if item["time"] is None:
                out.errors[f"time_{n}"] = "Enter the time you take it, e.g. 08:00."
        except BenzotaperError as exc:
            out.errors[f"time_{n}"] = exc.message
        regimen.append(item)
    if not out.rows:
        out.rows.append({"drug": "", "dose": "", "time": "08:00"})
        out.errors["drug_0"] = "Enter at least one medicine you take now."
    if _first(form, "action") == "add-row" and len(out.rows) < MAX_ROWS:
        out.rows.append({"drug": "", "dose": "", "time": ""})

    v = out.values
    person: dict[str, Any] = {k: True for k in out.flags}
    for factor in NUMBERS:
        num = _number(v[factor.name], factor.name, out.errors, factor.kind == "int")
        if num is not None:
            person[factor.name] = num
    prefs: dict[str, Any] = {
        "strategy": v["strategy"],
        "market": v["market"],
        "liquid": bool(v["liquid"]),
        "compounded": bool(v["compounded"]),
    }
    if v["pace"]:
        prefs["pace"] = v["pace"]
    if v["source"]:
        prefs["source"] = v["source"]
    if v["crossover"]:
        prefs["crossover"] = v["crossover"]
    prefs["tail"] = v["tail"]
    prefs["tail_off"] = [r for r, _ in TAIL_OFF if v.get(f"no_tail_{r}")]
    prefs.update(_home_prefs(v, out.errors))
    for key, integer in (("percent", False), ("every_days", True)):
        num = _number(v[key], key, out.errors, integer)
        if num is not None:
            prefs[key] = num
    start = _iso_date(v["start"], "start", out.errors)
    if start:
        prefs["start"] = start
    if v["override"]:
        pct = _number(v["max_percent_per_14_days"], "max_percent_per_14_days", out.errors)
        prefs["override"] = {"reason": v["reason"], "max_percent_per_14_days": pct}

    if out.errors:
        return out
    try:
        out.request = PlanRequest.model_validate(
            {"regimen": regimen, "person": person, "preferences": prefs}
        )
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            key = loc[-1] if loc else "form"
            name = _FIELD_NAMES.get(key, key.replace("_", " "))
            out.errors[key] = f"{name}: {err['msg']}."
    return out
