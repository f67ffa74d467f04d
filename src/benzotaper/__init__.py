"""benzotaper: plan, follow and adapt a safe benzodiazepine or Z-drug taper with your prescriber."""

from benzotaper.catalogue import Catalogue, Drug, default_catalogue, load_catalogue
from benzotaper.conversion import Conversion, convert, diazepam_equivalent, total_equivalent
from benzotaper.doses import parse_dose
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

__version__ = "0.1.0"

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
