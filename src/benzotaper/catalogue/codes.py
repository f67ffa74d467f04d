"""Products by their national drug codes: an RxNorm RxCUI (US) or a dm+d id (UK) → the product.

An EHR names a medicine by code. This index answers "which catalogue product is RxCUI 197901?"
and is built once per catalogue; a code used twice stops the loader
(:func:`benzotaper.catalogue.loader.check_codes_unique`), so each code leads to one product.
"""

from __future__ import annotations

from dataclasses import dataclass

from benzotaper.catalogue.catalogue import Catalogue
from benzotaper.catalogue.models import Drug, Product

#: FHIR code system URIs: RxNorm as HL7 names it; dm+d as HL7 UK's UK Core names it (its
#: ValueSet UKCore-MedicationCode 2.3.0 takes VMP and AMP ids from system https://dmd.nhs.uk).
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DMD = "https://dmd.nhs.uk"
#: SNOMED CT: dm+d ids are SNOMED CT UK Drug Extension concepts, and some EHRs send that system.
SNOMED = "http://snomed.info/sct"


@dataclass(frozen=True)
class CodedProduct:
    """One product found by its code, with the drug it belongs to."""

    drug: Drug
    product: Product
    system: str
    code: str
    display: str
    unverified: bool


def _index(catalogue: Catalogue) -> dict[tuple[str, str], CodedProduct]:
    found: dict[tuple[str, str], CodedProduct] = {}
    for drug in catalogue.drugs.values():
        for product in drug.products:
            for system, code in ((RXNORM, product.rxnorm), (DMD, product.dmd)):
                if code is None:
                    continue
                for one in code.all_codes:  # an earlier dm+d id still names the product
                    found[(system, one)] = CodedProduct(
                        drug, product, system, one, code.display, code.unverified
                    )
    return found


#: id(catalogue) → (the catalogue, its index); the catalogue is kept so its id stays its own.
_CACHE: dict[int, tuple[Catalogue, dict[tuple[str, str], CodedProduct]]] = {}


def _cached(catalogue: Catalogue) -> dict[tuple[str, str], CodedProduct]:
    hit = _CACHE.get(id(catalogue))
    if hit is None or hit[0] is not catalogue:
        if len(_CACHE) > 8:  # tests build many catalogues; keep the cache small
            _CACHE.clear()
        hit = _CACHE[id(catalogue)] = (catalogue, _index(catalogue))
    return hit[1]


def product_by_code(catalogue: Catalogue, system: str, code: str) -> CodedProduct | None:
    """The product an RxNorm or dm+d code names, or None when the catalogue does not know it.

    A dm+d id sent under the SNOMED CT system is looked up as dm+d (they are the same ids)."""
    if system == SNOMED:
        system = DMD
    return _cached(catalogue).get((system, code.strip()))


def is_known_system(system: str | None) -> bool:
    """Whether benzotaper reads codes of this system (anything else is read by its text)."""
    return system in (RXNORM, DMD, SNOMED)
