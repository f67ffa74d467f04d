"""The drug catalogue: data files in ``benzotaper/data`` read into typed, sourced models."""

from benzotaper.catalogue.catalogue import (
    DIAZEPAM,
    Catalogue,
    Provenance,
    iter_sourced,
    normalise_name,
    provenance,
)
from benzotaper.catalogue.loader import default_catalogue, load_catalogue
from benzotaper.catalogue.models import (
    MARKETS,
    Drug,
    DrugClass,
    Equivalent,
    Form,
    Market,
    Metabolite,
    Pharmacokinetics,
    Product,
    Reference,
    Sourced,
    Split,
    Use,
)

__all__ = [
    "DIAZEPAM",
    "MARKETS",
    "Catalogue",
    "Drug",
    "DrugClass",
    "Equivalent",
    "Form",
    "Market",
    "Metabolite",
    "Pharmacokinetics",
    "Product",
    "Provenance",
    "Reference",
    "Sourced",
    "Split",
    "Use",
    "default_catalogue",
    "iter_sourced",
    "load_catalogue",
    "normalise_name",
    "provenance",
]
