"""Which drug (and product) a FHIR MedicationRequest or MedicationStatement names.

EHRs name medicines in three ways, read here in this order:

1. a code benzotaper knows: an RxNorm RxCUI (US Core) or a dm+d id (UK Core), matched to one
   catalogue product, so its strength is known too;
2. the concept's text or a coding's display (``"lorazepam 1 MG Oral Tablet"``, ``"Ativan"``),
   matched by name like anything a person types;
3. a Medication resource, contained (``#id``) or in the same Bundle, read the same way.

A code of a known system that the catalogue lacks is not guessed from: it is reported, and the
text is tried instead (``MedicationRef.unknown_codes`` says which codes were passed over).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from benzotaper.catalogue import Catalogue
from benzotaper.catalogue.codes import CodedProduct, is_known_system, product_by_code
from benzotaper.errors import ImportFormatError, UnknownDrugError

#: An RxNorm name's ingredient: the words before the first number ("zolpidem tartrate 10 MG…").
_LEADING_WORDS = re.compile(r"^\s*(?:24 HR\s+)?([A-Za-z][A-Za-z -]*?)\s+\d")


@dataclass(frozen=True)
class MedicationRef:
    """What a resource says it is: the drug id, the product when a code named one."""

    drug: str
    coded: CodedProduct | None = None
    unknown_codes: list[str] = field(default_factory=list)


def _concept(resource: Mapping[str, Any], medications: Mapping[str, Any]) -> Mapping[str, Any]:
    concept = resource.get("medicationCodeableConcept")
    medication = resource.get("medication")
    if concept is None and isinstance(medication, Mapping):
        concept = medication.get("concept")  # R5 CodeableReference
        reference = medication.get("reference")
    else:
        reference = resource.get("medicationReference")
    if concept is not None:
        return dict(concept)
    ref = (reference or {}).get("reference", "") if isinstance(reference, Mapping) else ""
    target = _resolve(ref, resource, medications)
    if target is None:
        raise ImportFormatError(
            f"{resource['resourceType']} names its drug only by reference to a Medication "
            f"resource ({ref or 'no reference'}) that is not in what was sent; give the drug as "
            "a code or text (medication concept), or send the Medication too."
        )
    return dict(target.get("code") or {})


def _resolve(
    ref: str, resource: Mapping[str, Any], medications: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    if ref.startswith("#"):
        for contained in resource.get("contained", []):
            if contained.get("resourceType") == "Medication" and contained.get("id") == ref[1:]:
                return dict(contained)
        return None
    found = medications.get(ref)
    return dict(found) if isinstance(found, Mapping) else None


def _ingredients(display: str) -> list[str]:
    """'zolpidem tartrate 10 MG Oral Tablet' → ['zolpidem tartrate', 'zolpidem']; nothing for a
    combination product ('… / clidinium bromide …'), which is not one drug of the catalogue."""
    match = _LEADING_WORDS.match(display)
    if match is None or " / " in display:
        return []
    words = match.group(1).strip()
    return [words, words.split(" ")[0]]


def identify(
    resource: Mapping[str, Any], catalogue: Catalogue, medications: Mapping[str, Any]
) -> MedicationRef:
    """The drug a resource names; raises UnknownDrugError (with suggestions) or
    ImportFormatError when nothing in it can be matched exactly."""
    concept = _concept(resource, medications)
    codings = [c for c in concept.get("coding", []) if isinstance(c, Mapping)]
    unknown: list[str] = []
    for coding in codings:
        system, code = coding.get("system"), coding.get("code")
        if not is_known_system(system) or not isinstance(code, str):
            continue
        found = product_by_code(catalogue, str(system), code)
        if found is not None:
            return MedicationRef(found.drug.id, found)
        unknown.append(f"{code} ({system})")
    names: list[Any] = []
    for text in [concept.get("text"), *(c.get("display") for c in codings)]:
        names += [text, *(_ingredients(text) if isinstance(text, str) else [])]
    names += [c.get("code") for c in codings if not is_known_system(c.get("system"))]
    names = [n for n in names if isinstance(n, str) and n.strip()]
    if not names:
        what = f"codes {', '.join(unknown)} are" if unknown else "medication has"
        raise ImportFormatError(
            f"The {what} not in benzotaper's catalogue and there is no text to read the drug from."
        )
    for name in names:  # the text or any display/code the catalogue knows
        try:
            return MedicationRef(catalogue.drug(name).id, None, unknown)
        except UnknownDrugError:
            continue  # try the next name; the first one is reported below
    catalogue.drug(names[0])  # raises UnknownDrugError with suggestions
    raise AssertionError("unreachable")  # pragma: no cover
