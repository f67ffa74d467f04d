"""The loaded catalogue: look-ups by any name a person might type, with close-match hints."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from pydantic import BaseModel

from benzotaper.catalogue.models import Drug, Reference, Sourced
from benzotaper.errors import AmbiguousDrugError, UnknownDrugError, UnknownSourceError

DIAZEPAM = "diazepam"


def normalise_name(text: str) -> str:
    """Fold case, accents-free spacing and punctuation so 'Xanax XR' and 'xanax-xr' meet."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


#: Policy: a typed name this many edits or fewer from a drug's name could be meant for it.
#: Aliases of one drug must be closer to its own names than to any other drug's name within
#: this radius, and a name within it of two drugs is refused (look-alikes: issue 12).
LOOKALIKE_EDITS = 3
#: Words that say what form or salt a name is, not which drug (ignored when comparing names).
_FORM_WORDS = frozenset(
    {"tablet", "tablets", "hydrochloride", "hcl", "tartrate", "dipotassium", "er", "xr", "odt"}
)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), the usual typo measure."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def core_name(text: str) -> str:
    """A normalised name without form or salt words ('zolpidem tartrate' → 'zolpidem')."""
    words = [w for w in normalise_name(text).split(" ") if w not in _FORM_WORDS]
    return " ".join(words) or normalise_name(text)


@dataclass(frozen=True)
class Catalogue:
    """Drugs, references and the equivalence source used when none is chosen."""

    version: str
    default_source: str
    default_source_reason: str
    drugs: Mapping[str, Drug]
    references: Mapping[str, Reference]
    #: Tried in order when the default source gives no equivalent for a drug (e.g. midazolam).
    fallback_sources: tuple[str, ...] = ()
    _names: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for drug in self.drugs.values():
            for name in (drug.id, drug.name, *drug.all_brands, *drug.aliases):
                self._names.setdefault(normalise_name(name), drug.id)

    def drug(self, name: str) -> Drug:
        """Find a drug by generic name, brand, alias or common misspelling.

        Only names in the catalogue match; anything else is refused with the closest names,
        and a name about as close to two drugs (e.g. 'clobazepam': clonazepam or clobazam?)
        is refused naming both, never guessed.
        """
        key = normalise_name(name)
        if key in self._names:
            return self.drugs[self._names[key]]
        # "Xanax XR", "alprazolam er": fall back on the first word when it alone is known
        first = key.split(" ")[0] if key else ""
        if (
            first in self._names
            and key.split(" ")[1:]
            and all(
                w in {"xr", "er", "sr", "cr", "odt", "tablet", "tablets", "intensol"}
                for w in key.split(" ")[1:]
            )
        ):
            return self.drugs[self._names[first]]
        close = self.lookalikes(name)
        if len(close) > 1:
            raise AmbiguousDrugError(name, close)
        raise UnknownDrugError(name, self.suggest(name))

    def distances(self, name: str) -> dict[str, int]:
        """Drug id → edit distance from ``name`` to the nearest of that drug's names."""
        key = core_name(name)
        out: dict[str, int] = {}
        for known, drug_id in self._names.items():
            d = edit_distance(key, core_name(known))
            if d < out.get(drug_id, d + 1):
                out[drug_id] = d
        return out

    def lookalikes(self, name: str, limit: int = 4) -> list[str]:
        """Drugs ``name`` could be a misspelling of, nearest first: those within the look-alike
        radius at the nearest distance (and one edit farther when the nearest is one edit)."""
        ranked = sorted((d, drug_id) for drug_id, d in self.distances(name).items())
        if not ranked or ranked[0][0] > LOOKALIKE_EDITS:
            return []
        best = ranked[0][0]
        reach = min(best + 1 if best <= 1 else best, LOOKALIKE_EDITS)
        return [i for d, i in ranked if d <= reach][:limit]

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Generic names of the closest matches (brand and alias spellings count)."""
        hits = difflib.get_close_matches(normalise_name(name), list(self._names), n=10, cutoff=0.7)
        out: list[str] = []
        for hit in hits:
            generic = self.drugs[self._names[hit]].id
            if generic not in out:
                out.append(generic)
        return out[:limit]

    def reference(self, key: str) -> Reference:
        try:
            return self.references[key]
        except KeyError:
            close = difflib.get_close_matches(key, list(self.references), n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise UnknownSourceError(f"Unknown source key {key!r}.{hint}") from None

    def equivalence_sources(self) -> list[str]:
        """Source keys that give at least one diazepam equivalent, in a stable order."""
        seen: dict[str, None] = {}
        for drug in self.drugs.values():
            for eq in drug.equivalents:
                seen.setdefault(eq.source, None)
        return list(seen)

    def __iter__(self) -> Iterator[Drug]:
        return iter(self.drugs.values())

    def __len__(self) -> int:
        return len(self.drugs)


def iter_sourced(obj: object, path: str = "") -> Iterator[tuple[str, Sourced]]:
    """Every sourced number inside a model, with a dotted path, for provenance checks."""
    if isinstance(obj, Sourced):
        yield path, obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from iter_sourced(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from iter_sourced(item, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from iter_sourced(v, f"{path}.{k}")


class Provenance(NamedTuple):
    """How many of a drug's facts (sourced numbers and products) were checked at a source."""

    verified: int
    unverified: int
    unverified_paths: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.verified + self.unverified


def provenance(drug: Drug) -> Provenance:
    """Count verified and unverified facts of one drug, naming the unverified ones."""
    flagged = [path for path, fact in iter_sourced(drug) if fact.unverified]
    flagged += [f"products[{i}]" for i, p in enumerate(drug.products) if p.unverified]
    total = sum(1 for _ in iter_sourced(drug)) + len(drug.products)
    return Provenance(total - len(flagged), len(flagged), tuple(flagged))
