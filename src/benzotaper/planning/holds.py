"""Drafted steps, their dates, and the holds a person asks for (which push later steps back)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from benzotaper.errors import RegimenError
from benzotaper.planning.models import Hold, Phase
from benzotaper.planning.regimen import Slot
from benzotaper.planning.stepping import unmade

if TYPE_CHECKING:
    from benzotaper.planning.realisers import Realiser

#: Days in a weekly pattern (``realisers.WEEK``, not imported: holds are imported by every plan)
_WEEK = 7
#: An empty mapping nobody can change, the default of the records' mapping fields (the
#: records are tuples: a default is shared by every record that takes it).
EMPTY: Mapping[Any, Any] = MappingProxyType({})


class Draft(NamedTuple):
    """One step before dates are fixed: realised doses per (drug, time), and how long it lasts.

    ``makers`` says how each drug's doses are made in this step (its realiser: the person's
    products or a tail route); a weekly realiser's doses are averages over each week.
    ``week_offset``: the day of its weekly pattern the step starts on (a step a hold splits
    goes on with the pattern where it was, so no week holds more doses than the pattern).
    """

    doses: dict[Slot, float]
    days: int
    phase: Phase
    note: str | None = None
    makers: Mapping[str, Realiser] = EMPTY
    week_offset: int = 0


class Dated(NamedTuple):
    draft: Draft
    start: dt.date

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.draft.days - 1)


def date_steps(drafts: Sequence[Draft], start: dt.date) -> list[Dated]:
    out: list[Dated] = []
    day = start
    for d in drafts:
        out.append(Dated(d, day))
        day += dt.timedelta(days=d.days)
    return out


def apply_holds(
    drafts: Sequence[Draft],
    holds: Sequence[Hold],
    start: dt.date,
    taken: Mapping[Slot, float] = EMPTY,
) -> list[Draft]:
    """Insert each hold into the step it falls in; the dose of that day is kept, later steps wait.

    A hold on the day of a cut keeps the new (cut) dose; on the first day of a switch to
    another drug (a crossover step), the doses before it, and the switch waits
    (``_before_switch``; ``taken``: the doses the drafts start from); on the first day of a
    return to an earlier dose, it lengthens the return (``_longer_return``). Holds before the plan
    starts or after the last dose are refused: there is nothing to hold.
    """
    result = list(drafts)
    for hold in sorted(holds, key=lambda h: h.start):
        dated = date_steps(result, start)
        if hold.start < start:
            raise RegimenError(
                f"The hold on {hold.start.isoformat()} is before the first cut "
                f"({start.isoformat()}): holds apply to the taper, not to the days before it or "
                "to a crossover."
            )
        index = next(
            (i for i, d in enumerate(dated) if d.start <= hold.start <= d.end),
            None,
        )
        if index is None or dated[index].draft.phase == "stop":
            last = max((d.end for d in dated if d.draft.phase != "stop"), default=start)
            raise RegimenError(
                f"The hold on {hold.start.isoformat()} is after the last dose "
                f"({last.isoformat()}): there is no dose left to hold."
            )
        step = dated[index]
        before = (hold.start - step.start).days
        why = f"Hold for {hold.days} days" + (f": {hold.reason}" if hold.reason else "")
        if before == 0 and step.draft.phase == "crossover":
            result.insert(index, _before_switch(result, index, taken, hold, why))
            continue
        if before == 0 and step.draft.phase == "reinstatement":
            result[index] = _longer_return(step.draft, hold, why)
            continue
        result[index : index + 1] = _split(step.draft, before, hold, why)
    return result


def _split(draft: Draft, before: int, hold: Hold, why: str) -> list[Draft]:
    """A step a hold falls in: its days before the hold, the hold, then its days after.

    A weekly pattern (medication-free nights) runs on through the hold and the rest of the
    step, and the rest ends with a whole week, so the next step starts its pattern on its first
    day as it would have: no seven days in a row hold more doses than one week of a pattern.
    (Restarted after the hold, the nights with a dose came together: 10 mg on seven nights in
    a row, from a pattern of 10 mg on six nights and 5 mg on one.)"""
    pieces: list[Draft] = []
    if before > 0:
        pieces.append(draft._replace(days=before))
    week = (draft.week_offset + before) % _WEEK
    pieces.append(draft._replace(days=hold.days, phase="hold", note=why, week_offset=week))
    after = draft.days - before
    if any(draft.makers[s.drug].weekly for s, mg in draft.doses.items() if mg > 0):
        after += -hold.days % _WEEK  # the rest ends on the pattern's last day, as before
    note = draft.note if before == 0 else "Continues after the hold."
    rest = (week + hold.days) % _WEEK
    pieces.append(draft._replace(days=after, note=note, week_offset=rest))
    return pieces


def _before_switch(
    drafts: Sequence[Draft], index: int, taken: Mapping[Slot, float], hold: Hold, why: str
) -> Draft:
    """A hold on the first day of a switch step keeps the doses before it (the plan's first
    step: those ``taken``, when the switch's products make them). Held at the switch's new
    doses, the hold step itself would make the switch, without the crossover's words (which
    dose-time changes to what, when to review), and a dose-time would rise outside a switch."""
    note = f"{why}. The switch waits until after it."
    if index:
        prev = drafts[index - 1]
        week = (prev.week_offset + prev.days) % _WEEK
        return prev._replace(days=hold.days, phase="hold", note=note, week_offset=week)
    first = drafts[0]
    if taken and all(
        s.drug in first.makers and not unmade(mg, first.makers[s.drug].grid)
        for s, mg in taken.items()
    ):
        return Draft(dict(taken), hold.days, "hold", note, first.makers)
    raise RegimenError(
        f"The hold on {hold.start.isoformat()} falls on the first day of the switch the plan "
        "starts with, whose doses taken now no product allowed makes, so they cannot be kept: "
        "move the hold to a later day."
    )


def _longer_return(draft: Draft, hold: Hold, why: str) -> Draft:
    """A hold from the first day of a return to an earlier dose (reinstatement): the return's
    one step, labelled as the rise, lasts the hold's days longer. Split into a hold and the
    rest, the rise came in a step that said only "Hold" (the engine labels the first as the
    return), and the return's own words followed in a second step at the same dose."""
    days = draft.days + hold.days
    said = f"{why} ({days} days at this dose in all)."
    note = draft.note if draft.note is None or draft.note.endswith(".") else draft.note + "."
    return draft._replace(days=days, note=" ".join(filter(None, [note, said])))


def merge_same(drafts: Sequence[Draft]) -> list[Draft]:
    """Consecutive steps with the same doses and phase become one (no cut that changes nothing)."""
    out: list[Draft] = []
    for d in drafts:
        if out and out[-1].phase == d.phase and d.phase != "stop" and out[-1].doses == d.doses:
            out[-1] = out[-1]._replace(days=out[-1].days + d.days)
        else:
            out.append(d)
    return out
