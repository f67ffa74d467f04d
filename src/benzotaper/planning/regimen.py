"""Reading a regimen a person typed ("clonazepam 0.5 mg at 08:00") and checking it can be planned.

Parsing lives in the core (not the CLI) so the web app and the CLI refuse the same mistakes with
the same words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from benzotaper.catalogue import Catalogue, Drug
from benzotaper.doses import above_label_maximum, check_plausible, parse_dose
from benzotaper.errors import RegimenError
from benzotaper.planning.models import Administration

#: Software policy: the clock times used when a person names a time of day instead of a clock time.
NAMED_TIMES = {
    "morning": "08:00",
    "breakfast": "08:00",
    "noon": "12:00",
    "midday": "12:00",
    "lunch": "12:00",
    "afternoon": "15:00",
    "evening": "18:00",
    "dinner": "18:00",
    "night": "22:00",
    "bedtime": "22:00",
}

_DOSE = re.compile(
    r"(?P<dose>(?<![\w.])[+-]?(?:\d+(?:[.,]\d+)?|\.\d+)\s*(?:mg|mcg|µg|μg|ug|g|ml|mL|tablets?|tabs?)\b)",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>am|pm)?$", re.IGNORECASE)


def parse_time(text: str) -> str:
    """'08:00', '8:00', '8am', '10 pm', 'night' → 'HH:MM' (24-hour), or a RegimenError."""
    t = text.strip().lower()
    if t in NAMED_TIMES:
        return NAMED_TIMES[t]
    m = _CLOCK.match(t)
    if not m or (m["m"] is None and m["ampm"] is None):
        raise RegimenError(
            f"Cannot read the time {text!r}: write it as HH:MM on the 24-hour clock (e.g. 08:00 "
            f"or 22:00), as 8am/10pm, or as one of: {', '.join(sorted(set(NAMED_TIMES)))}."
        )
    hour, minute = int(m["h"]), int(m["m"] or 0)
    if m["ampm"]:
        if not 1 <= hour <= 12:
            raise RegimenError(f"Cannot read the time {text!r}: with am/pm the hour is 1-12.")
        hour = hour % 12 + (12 if m["ampm"].lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        raise RegimenError(f"{text!r} is not a time of day (hours 00-23, minutes 00-59).")
    return f"{hour:02d}:{minute:02d}"


def parse_take(text: str, catalogue: Catalogue) -> Administration:
    """One administration from text such as 'clonazepam 0.5 mg at 08:00' or 'Xanax 250mcg 10pm'."""
    example = "e.g. 'clonazepam 0.5 mg at 08:00'"
    found = list(_DOSE.finditer(text))
    if not found:
        raise RegimenError(f"Cannot find a dose in {text!r}: write drug, dose and time, {example}.")
    if len(found) > 1:
        raise RegimenError(
            f"{text!r} holds more than one dose: give each dose-time separately, {example}."
        )
    match = found[0]
    drug_text = text[: match.start()].strip()
    rest = text[match.end() :].strip()
    if not drug_text:
        raise RegimenError(f"{text!r} names no drug: write drug, dose and time, {example}.")
    drug = catalogue.drug(drug_text)
    mg = parse_dose(match["dose"])
    rest = re.sub(r"^(at|@)\s+", "", rest, flags=re.IGNORECASE).strip()
    if not rest:
        raise RegimenError(
            f"{text!r} says when? Add the time you take it, e.g. '{drug_text} "
            f"{match['dose']} at 08:00' (or 'at night')."
        )
    return Administration(drug=drug.id, mg=mg, time=parse_time(rest))


class Slot(NamedTuple):
    """One drug at one time of day in a resolved regimen (a named tuple: plans hash and compare
    slots on every step, and a tuple does both in C)."""

    drug: str
    time: str


def resolve(
    regimen: Sequence[Administration], catalogue: Catalogue
) -> tuple[dict[Slot, float], list[Drug]]:
    """Catalogue ids, one entry per (drug, time), plausibility checked; drugs first-seen first."""
    doses: dict[Slot, float] = {}
    drugs: dict[str, Drug] = {}
    for adm in regimen:
        drug = catalogue.drug(adm.drug)
        slot = Slot(drug.id, adm.time)
        if slot in doses:
            raise RegimenError(
                f"{drug.name} at {adm.time} is listed twice: give the total taken at that time "
                "once."
            )
        doses[slot] = adm.mg
        drugs.setdefault(drug.id, drug)
    for drug in drugs.values():
        check_plausible(drug, daily_total(doses, drug.id))
    return doses, list(drugs.values())


def daily_total(doses: dict[Slot, float], drug: str) -> float:
    return sum(mg for slot, mg in doses.items() if slot.drug == drug)


def over_label(doses: dict[Slot, float], drugs: Iterable[Drug]) -> list[Drug]:
    return [d for d in drugs if above_label_maximum(d, daily_total(doses, d.id))]
