"""Building a PlanRequest from what a person typed at the command line (flags, a regimen file).

It lives with the CLI because its errors name the flag that sets each field (``--percent``);
the pages and the API build their requests from their own forms and schemas and word errors
themselves. Pydantic's messages become InputErrors (exit status 2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from benzotaper.catalogue import Catalogue
from benzotaper.doses import parse_dose
from benzotaper.errors import InputError, RegimenError
from benzotaper.planning.factors import person_factors
from benzotaper.planning.models import Administration, CustomStep, Hold, PlanRequest
from benzotaper.planning.regimen import parse_take

_FIELD_NAMES = {
    "every_days": "--every (days)",
    "percent": "--percent",
    "step_mg": "--step-mg",
    "max_percent_per_14_days": "--override-max-percent",
    "reason": "--override-reason",
    "dispense_days": "--dispense-days",
    "market": "--market",
    "pace": "--pace",
    "strategy": "--strategy",
    "dose_time_rule": "--cut-order",
    "crossover": "--crossover",
    "source": "--source",
}


def _field_names() -> dict[str, str]:
    """Field → the CLI flag that sets it (person factors: from their one declaration)."""
    return {**{f.name: f.flag for f in person_factors()}, **_FIELD_NAMES}


def input_error(exc: ValidationError, where: str = "") -> InputError:
    parts = []
    names = _field_names()
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        name = names.get(loc[-1], ".".join(loc)) if loc else "(input)"
        parts.append(f"{name}: {err['msg']}")
    prefix = f"{where}: " if where else ""
    return InputError(prefix + "; ".join(parts))


def parse_date(text: str, what: str = "date") -> dt.date:
    """A typed date, inside the calendar window (``benzotaper.dates``)."""
    from benzotaper.dates import in_calendar

    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"Cannot read the {what} {text!r}: write it as YYYY-MM-DD.") from None
    return in_calendar(day, what)


def parse_hold(text: str) -> Hold:
    """'2027-01-15:14' → hold the dose for 14 days from 15 January 2027."""
    date_text, sep, days_text = text.rpartition(":")
    if not sep or not days_text.strip().isdigit():
        raise InputError(f"Cannot read the hold {text!r}: write DATE:DAYS, e.g. 2027-01-15:14.")
    try:
        return Hold(start=parse_date(date_text, "hold date"), days=int(days_text))
    except ValidationError as exc:
        raise input_error(exc, f"hold {text!r}") from None


def parse_custom(text: str, catalogue: Catalogue) -> CustomStep:
    """'2027-01-18 diazepam 9 mg' → from 18 January 2027, diazepam 9 mg a day (custom schedule)."""
    date_text, _, rest = text.strip().partition(" ")
    parts = rest.strip().rsplit(" ", 2)
    example = "write DATE DRUG DAILY-DOSE, e.g. '2027-01-18 diazepam 9 mg'"
    if len(parts) == 3:
        drug, dose = parts[0], f"{parts[1]} {parts[2]}"
    elif len(parts) == 2:
        drug, dose = parts
    else:
        raise InputError(f"Cannot read the schedule step {text!r}: {example}.")
    mg = 0.0 if dose.replace(" ", "").lower() in ("0", "0mg") else parse_dose(dose)
    return CustomStep(
        start=parse_date(date_text, "schedule date"), drug=catalogue.drug(drug).id, daily_mg=mg
    )


def regimen_from_data(data: Any, catalogue: Catalogue, where: str) -> list[Administration]:
    """A regimen file's content: a list (or {"regimen": [...]}) of objects or 'take' strings."""
    items = data.get("regimen") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise RegimenError(
            f"{where}: expected a list of doses, e.g. "
            '[{"drug": "clonazepam", "mg": 0.5, "time": "08:00"}] '
            'or ["clonazepam 0.5 mg at 08:00"].'
        )
    out: list[Administration] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append(parse_take(item, catalogue))
            continue
        try:
            out.append(Administration.model_validate(item))
        except ValidationError as exc:
            raise input_error(exc, f"{where}: item {i + 1}") from None
    return out


def takes(texts: Sequence[str], catalogue: Catalogue) -> list[Administration]:
    return [parse_take(t, catalogue) for t in texts]


def build(model: type[BaseModel], data: dict[str, Any], where: str = "") -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc, where) from None


def build_request(
    regimen: list[Administration], person: dict[str, Any], preferences: dict[str, Any]
) -> PlanRequest:
    """A validated request; ``None`` values mean 'not given' and take the defaults."""
    clean_person = {k: v for k, v in person.items() if v is not None}
    clean_prefs = {k: v for k, v in preferences.items() if v is not None}
    if not regimen:
        raise RegimenError("Give the doses you take now: --take 'clonazepam 0.5 mg at 08:00'.")
    result: PlanRequest = build(
        PlanRequest,
        {"regimen": regimen, "person": clean_person, "preferences": clean_prefs},
    )
    return result
