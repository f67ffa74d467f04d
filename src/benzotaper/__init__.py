"""benzotaper: plan, follow and adapt a safe benzodiazepine or Z-drug taper with your prescriber."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from benzotaper.errors import (
    BenzotaperError,
    CatalogueError,
    DoseError,
    GuardrailError,
    InputError,
    RegimenError,
    UnknownDrugError,
    UnknownSourceError,
)

if TYPE_CHECKING:
    from benzotaper.catalogue import Catalogue, Drug, default_catalogue, load_catalogue
    from benzotaper.conversion import Conversion, convert, diazepam_equivalent, total_equivalent
    from benzotaper.doses import parse_dose

__version__ = "0.1.0"

#: The library's names and their modules, imported on first use (PEP 562), so that starting
#: the command line (``benzotaper --help``) does not load the catalogue and pydantic.
_LAZY = {
    "Catalogue": "benzotaper.catalogue",
    "Drug": "benzotaper.catalogue",
    "default_catalogue": "benzotaper.catalogue",
    "load_catalogue": "benzotaper.catalogue",
    "Conversion": "benzotaper.conversion",
    "convert": "benzotaper.conversion",
    "diazepam_equivalent": "benzotaper.conversion",
    "total_equivalent": "benzotaper.conversion",
    "parse_dose": "benzotaper.doses",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'benzotaper' has no attribute {name!r}")


__all__ = [
    "BenzotaperError",
    "Catalogue",
    "CatalogueError",
    "Conversion",
    "DoseError",
    "Drug",
    "GuardrailError",
    "InputError",
    "RegimenError",
    "UnknownDrugError",
    "UnknownSourceError",
    "__version__",
    "convert",
    "default_catalogue",
    "diazepam_equivalent",
    "load_catalogue",
    "parse_dose",
    "total_equivalent",
]
