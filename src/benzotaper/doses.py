"""Reading a dose a person typed ("0.5 mg", "500 mcg"); refusing those that cannot be right."""

from __future__ import annotations

import re

from benzotaper.catalogue.models import Drug
from benzotaper.errors import DoseError

#: Software policy, not a clinical figure: a daily dose above this many times the drug's
#: labelled maximum is taken to be a typing or unit mistake and refused. Doses between the
#: label maximum and this limit are accepted with a danger warning by the planner.
IMPLAUSIBLE_FACTOR = 3.0

_UNITS_TO_MG = {
    "mg": 1.0,
    "milligram": 1.0,
    "milligrams": 1.0,
    "mcg": 0.001,
    "ug": 0.001,
    "µg": 0.001,
    "μg": 0.001,
    "microgram": 0.001,
    "micrograms": 0.001,
    "g": 1000.0,
    "gram": 1000.0,
    "grams": 1000.0,
}
_VOLUME_UNITS = {"ml", "l", "cc", "drop", "drops"}
_COUNT_UNITS = {"tab", "tabs", "tablet", "tablets", "pill", "pills", "cap", "caps", "capsule"}
_DOSE_RE = re.compile(r"^\s*(?P<num>[+-]?\d+(?:[.,]\d+)?|[+-]?\.\d+)\s*(?P<unit>[^\d\s]*)\s*$")


def parse_dose(text: str) -> float:
    """The dose in mg, or a DoseError that says exactly what is wrong with the text."""
    match = _DOSE_RE.match(text)
    if not match:
        raise DoseError(f"Cannot read the dose {text!r}: write a number and a unit, e.g. '0.5 mg'.")
    num_text, unit = match["num"], match["unit"].lower()
    if "," in num_text:
        raise DoseError(
            f"Cannot read the dose {text!r}: use a decimal point, e.g. "
            f"'{num_text.replace(',', '.')} {unit or 'mg'}'."
        )
    value = float(num_text)
    if not unit:
        raise DoseError(f"The dose {text!r} has no unit: write it with one, e.g. '{num_text} mg'.")
    if unit in _VOLUME_UNITS:
        raise DoseError(
            f"{text!r} is a volume, not a dose: give the dose in mg "
            "(the strength of oral solutions differs between products)."
        )
    if unit in _COUNT_UNITS:
        raise DoseError(
            f"{text!r} counts tablets, not mg: give the dose in mg (tablet strengths differ)."
        )
    if unit not in _UNITS_TO_MG:
        raise DoseError(f"Unknown unit {unit!r} in {text!r}: use mg, mcg (micrograms) or g.")
    if value <= 0:
        raise DoseError(f"The dose must be more than zero, not {text!r}.")
    return value * _UNITS_TO_MG[unit]


def check_plausible(drug: Drug, daily_mg: float, typed: str | None = None) -> None:
    """Refuse a daily dose so far above the label maximum that it must be a mistake."""
    if daily_mg <= 0:
        raise DoseError(f"The dose of {drug.name} must be more than zero.")
    if implausible(drug, daily_mg):
        shown = f"{typed} ({daily_mg:g} mg)" if typed else f"{daily_mg:g} mg"
        hint = ""
        if daily_mg / 1000 <= drug.max_daily_mg.high:
            hint = f" Did you mean {daily_mg / 1000:g} mg (not g)?"
        raise DoseError(
            f"{shown} of {drug.name} a day is far above any plausible dose "
            f"(labelled maximum {drug.max_daily_mg.high:g} mg/day). Please check the amount "
            f"and unit.{hint} If it is right, this needs a specialist, not a self-guided plan."
        )


def implausible(drug: Drug, daily_mg: float) -> bool:
    """Above ``IMPLAUSIBLE_FACTOR`` times the labelled maximum: taken to be a mistake."""
    return daily_mg > drug.max_daily_mg.high * IMPLAUSIBLE_FACTOR


def above_label_maximum(drug: Drug, daily_mg: float) -> bool:
    return daily_mg > drug.max_daily_mg.high


_LEADING_DOSE = re.compile(
    r"^\s*(?P<dose>[+-]?(?:\d+(?:[.,]\d+)?|\.\d+)\s*[^\d\s]*)\s+(?P<drug>\D.*?)\s*$"
)
_TRAILING_DOSE = re.compile(
    r"^\s*(?P<drug>.*?\D)\s+(?P<dose>[+-]?(?:\d+(?:[.,]\d+)?|\.\d+)\s*[^\d\s]*)\s*$"
)


def split_drug_dose(text: str) -> tuple[str, str]:
    """Split "alprazolam 1 mg" or "2 g clonazepam" into (drug text, dose text)."""
    for pattern in (_TRAILING_DOSE, _LEADING_DOSE):
        match = pattern.match(text)
        if match and match["drug"].strip():
            drug = match["drug"].strip()
            if drug.lower() in _UNITS_TO_MG:
                break
            return drug, match["dose"].strip()
    raise DoseError(
        f"Cannot read {text!r}: write a drug and a daily dose with a unit, e.g. 'alprazolam 1 mg'."
    )
