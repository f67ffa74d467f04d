"""The dose actually in force, day by day, from a patient's saved plan versions.

A re-plan replaces the rest of the earlier plan: each version is in force from the day it took
effect until the next version did (the first from its own start, or earlier if it was saved
before it began). Before a version's first step the person takes the regimen the version started
from; after its last step, the last step's dose continues (zero once a taper is complete).

The timeline is a tuple of :class:`Run` (days as ordinals, for speed at clinic scale), each split
into its benzodiazepine and Z-drug diazepam-equivalent parts, because the published measures
count the two classes apart (DBO and COB: benzodiazepines only; DAE: one rate each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from benzotaper.catalogue import Catalogue, DrugClass
from benzotaper.errors import BenzotaperError

#: The last run of a timeline lasts "from then on".
OPEN_END: int = dt.date.max.toordinal()
#: Plan phases in which a dose may rise by design (a switch to a long-acting drug).
SWITCH_PHASES = frozenset({"crossover", "stabilise"})
#: The plan's last step when it keeps a dose for review instead of stopping (the planner's
#: "maintain and review" tail route): the dose continues by design after it.
MAINTAIN_PHASE = "maintain"


@dataclass(frozen=True, slots=True)
class Run:
    """Days ``start``..``end`` (ordinals, inclusive) at one daily dose in diazepam equivalents."""

    start: int
    end: int
    benzo: float
    z: float
    hold: bool = False
    switch: bool = False
    maintain: bool = False

    @property
    def total(self) -> float:
        return self.benzo + self.z


@dataclass(frozen=True, slots=True)
class StepDose:
    """One step of a saved plan, as the measures need it."""

    start: dt.date
    end: dt.date
    phase: str
    daily_mg: Mapping[str, float]
    de: float


@dataclass(frozen=True, slots=True)
class VersionDoses:
    """One saved plan version: when it took effect, its steps and the regimen it started from."""

    effective_from: dt.date
    start: dt.date
    steps: Sequence[StepDose]
    starting_mg: Mapping[str, float]
    starting_de: float
    source: str | None = None


class ClassSplit:
    """Splits a day's diazepam equivalent into its benzodiazepine and Z-drug parts.

    A day with one class needs no conversion. A day with both weighs each drug by its own
    diazepam equivalent (the plan's equivalence source) and scales the parts to the day's total,
    so the parts always add up to the plan's own figure. A name the catalogue does not know
    counts as a benzodiazepine (the class the published measures count most).
    """

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._class: dict[str, bool] = {}
        self._factor: dict[tuple[str, str | None], float] = {}

    def is_z(self, drug: str) -> bool:
        found = self._class.get(drug)
        if found is None:
            try:
                found = self.catalogue.drug(drug).drug_class == DrugClass.Z_DRUG
            except BenzotaperError:
                found = False
            self._class[drug] = found
        return found

    def _de_per_mg(self, drug: str, source: str | None) -> float:
        key = (drug, source)
        if key not in self._factor:
            from benzotaper.conversion import diazepam_equivalent

            try:
                self._factor[key] = diazepam_equivalent(self.catalogue, drug, 1.0, source)
            except BenzotaperError:
                self._factor[key] = diazepam_equivalent(self.catalogue, drug, 1.0)
        return self._factor[key]

    def split(
        self, daily_mg: Mapping[str, float], de: float, source: str | None
    ) -> tuple[float, float]:
        """(benzodiazepine, Z-drug) parts of ``de`` for a day of ``daily_mg``."""
        taken = {d: mg for d, mg in daily_mg.items() if mg > 0}
        if de <= 0 or not taken:
            return 0.0, 0.0
        zs = {d for d in taken if self.is_z(d)}
        if not zs:
            return de, 0.0
        if len(zs) == len(taken):
            return 0.0, de
        weights = {d: mg * self._de_per_mg(d, source) for d, mg in taken.items()}
        whole = sum(weights.values()) or 1.0
        z = round(de * sum(weights[d] for d in zs) / whole, 6)
        return round(de - z, 6), z


def _version_runs(v: VersionDoses, since: int, until: int, split: ClassSplit) -> list[Run]:
    out: list[Run] = []
    steps = list(v.steps)
    first = steps[0].start.toordinal() if steps else v.start.toordinal()
    if since < first:
        b, z = split.split(v.starting_mg, v.starting_de, v.source)
        out.append(Run(since, min(until, first - 1), b, z))
    for st in steps:
        lo, hi = max(st.start.toordinal(), since), min(st.end.toordinal(), until)
        if lo <= hi:
            b, z = split.split(st.daily_mg, st.de, v.source)
            phase = st.phase
            out.append(
                Run(lo, hi, b, z, phase == "hold", phase in SWITCH_PHASES, phase == MAINTAIN_PHASE)
            )
    if steps:
        last = steps[-1]
        after = max(last.end.toordinal() + 1, since)
        if after <= until:
            b, z = split.split(last.daily_mg, last.de, v.source)
            out.append(Run(after, until, b, z, maintain=last.phase == MAINTAIN_PHASE))
    return [r for r in out if r.start <= r.end]


def in_force_runs(versions: Sequence[VersionDoses], split: ClassSplit) -> tuple[Run, ...]:
    """The timeline of ``versions`` (oldest saved first), merged where nothing changes."""
    runs: list[Run] = []
    floor = 0
    for i, v in enumerate(versions):
        since = min(v.effective_from, v.start) if i == 0 else v.effective_from
        since_o = max(since.toordinal(), floor)
        if i + 1 < len(versions):
            until = versions[i + 1].effective_from.toordinal() - 1
        else:
            until = OPEN_END
        if until < since_o:
            continue
        floor = until + 1
        runs.extend(_version_runs(v, since_o, until, split))
    return merge_runs(runs)


def merge_runs(runs: Sequence[Run]) -> tuple[Run, ...]:
    """Join touching runs with the same doses and flags (a hold extended by a re-plan stays one)."""
    out: list[Run] = []
    for r in runs:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.end + 1 == r.start
            and (prev.benzo, prev.z, prev.hold, prev.switch, prev.maintain)
            == (r.benzo, r.z, r.hold, r.switch, r.maintain)
        ):
            out[-1] = Run(
                prev.start, r.end, prev.benzo, prev.z, prev.hold, prev.switch, prev.maintain
            )
        else:
            out.append(r)
    return tuple(out)


#: One run as stored and computed on: day ordinals (int32 holds every date), doses in mg
#: diazepam equivalent, flags (1 hold, 2 switch, 4 maintain). Little-endian, so the bytes are
#: portable.
RUN_DTYPE = np.dtype(
    [("start", "<i4"), ("end", "<i4"), ("benzo", "<f8"), ("z", "<f8"), ("flags", "u1")]
)
RunArray = npt.NDArray[np.void]


def runs_array(runs: Sequence[Run]) -> RunArray:
    """The runs as one structured array (:data:`RUN_DTYPE`)."""
    rows = [
        (r.start, r.end, r.benzo, r.z, int(r.hold) | 2 * int(r.switch) | 4 * int(r.maintain))
        for r in runs
    ]
    return np.array(rows, dtype=RUN_DTYPE)


def runs_from_bytes(raw: bytes) -> RunArray:
    """A stored timeline (``runs_array(...).tobytes()``) back as an array, without copying."""
    return np.frombuffer(raw, dtype=RUN_DTYPE)


def decode_runs(array: RunArray) -> tuple[Run, ...]:
    return tuple(
        Run(int(s), int(e), float(b), float(z), bool(f & 1), bool(f & 2), bool(f & 4))
        for s, e, b, z, f in array.tolist()
    )


def first_zero_day(runs: Sequence[Run]) -> int | None:
    """The first day the dose in force reached zero from above zero (touching runs only)."""
    for prev, cur in pairwise(runs):
        if prev.end + 1 == cur.start and prev.total > 1e-9 and cur.total <= 1e-9:
            return cur.start
    return None
