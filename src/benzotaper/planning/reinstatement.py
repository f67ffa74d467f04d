"""A return to an earlier dose ("reinstatement"): the one rise a plan may contain.

With ``preferences.reinstate`` the request's regimen is the earlier, better-tolerated dose and
``from_daily_mg`` the lower dose in force before it. The plan then starts with one step at the
regimen's dose for ``reinstate.days`` days, phase ``reinstatement``, whose ``change_percent``
is the rise against ``from_daily_mg`` (positive: the label every edge words), before the first
cut. The rise itself happens between plan versions (this plan starts at the earlier dose), so
the plan's own steps still never rise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from benzotaper.planning.equivalents import cut_percent, de_of
from benzotaper.planning.holds import Draft
from benzotaper.planning.models import Reinstatement, Step
from benzotaper.planning.realisers import Realiser
from benzotaper.planning.regimen import Slot
from benzotaper.planning.taper import Opening


def first_draft(
    doses: Mapping[Slot, float], reinstate: Reinstatement, makers: Mapping[str, Realiser]
) -> Draft:
    """The step at the earlier dose that comes before the first cut."""
    return Draft(
        dict(doses), reinstate.days, "reinstatement", note(reinstate, reinstate.days), makers
    )


def opening(reinstate: Reinstatement) -> Opening:
    """That step, asked of the taper loop, which takes it at the doses made (and lengthens it
    when the doses made are below those taken, so the pace holds)."""
    return Opening("reinstatement", reinstate.days, lambda days: note(reinstate, days))


def note(reinstate: Reinstatement, days: int) -> str:
    return f"Back to an earlier dose for {days} days before the next cut: {reinstate.reason}"


def labelled(
    steps: Sequence[Step], first: int, reinstate: Reinstatement, factors: Mapping[str, float]
) -> list[Step]:
    """``steps`` with step ``first`` labelled as the return: phase ``reinstatement`` (also when
    a hold begins on its first day) and the rise against the dose in force before it."""
    out = list(steps)
    if first >= len(out):
        return out
    step = out[first]
    known = {d: mg for d, mg in reinstate.from_daily_mg.items() if d in factors}
    before = de_of(known, factors)
    rise = None if before <= 0 else round(cut_percent(before, step.diazepam_equivalent_mg), 1)
    out[first] = step.model_copy(update={"phase": "reinstatement", "change_percent": rise})
    return out
