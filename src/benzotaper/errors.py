"""One error tree for the whole package, so every edge (CLI, web, exports) maps it once.

BenzotaperError
├── CatalogueError            the data files are broken (names file and field)
├── InputError                something a person typed cannot be used as it is
│   ├── UnknownDrugError      no such drug; carries close matches
│   │   └── AmbiguousDrugError  as close to two drugs (look-alike names): names both
│   ├── DoseError             missing/unknown unit, zero, negative, implausible dose
│   ├── UnknownSourceError    no such equivalence source key
│   ├── UnknownProductError   no such market or product
│   ├── RegimenError          a regimen or schedule that cannot be planned
│   ├── PlanTooLargeError     a plan beyond the bounds (length, steps, holds, start date)
│   └── ImportFormatError     an imported file (e.g. FHIR) holds content benzotaper cannot use
├── GuardrailError            a plan would break a safety rule without a recorded override
├── PlanBudgetError           making a plan took longer than its time budget (web: 503)
├── SimulationError           the catalogue lacks what a simulation needs (e.g. a half-life)
├── StorageError              the journal database refused a request
│   └── NotFoundError         no such record (or not yours)
└── ExportError               an export cannot be produced (e.g. its font is missing)
"""

from __future__ import annotations

from collections.abc import Sequence


class BenzotaperError(Exception):
    """Root of every error benzotaper raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CatalogueError(BenzotaperError):
    code = "catalogue_invalid"


class InputError(BenzotaperError):
    code = "invalid_input"


class UnknownDrugError(InputError):
    code = "unknown_drug"

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = list(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"Unknown drug {name!r}.{hint}")


class AmbiguousDrugError(UnknownDrugError):
    """A name about as close to two or more drugs: refused naming them, never guessed."""

    code = "ambiguous_drug"

    def __init__(self, name: str, drugs: Sequence[str]) -> None:
        super().__init__(name, drugs)
        both = ", ".join(drugs[:-1]) + f" and {drugs[-1]}"
        self.message = (
            f"{name!r} is close to more than one drug: {both}. These are different medicines "
            "with different strengths; type the name exactly as it is on the label."
        )
        self.args = (self.message,)


class DoseError(InputError):
    code = "invalid_dose"


class UnknownSourceError(InputError):
    code = "unknown_source"


class UnknownProductError(InputError):
    code = "unknown_product"


class RegimenError(InputError):
    code = "invalid_regimen"


class ImportFormatError(InputError):
    code = "unsupported_import"


class PlanTooLargeError(InputError):
    """The plan asked for would be longer, or have more steps or holds, than the software
    limits allow (planning/bounds.py); the message names the limit."""

    code = "plan_too_large"


class PlanBudgetError(BenzotaperError):
    """Making a plan took longer than its time budget (planning/bounds.py); try again."""

    code = "plan_budget"


class GuardrailError(BenzotaperError):
    code = "guardrail"


class SimulationError(BenzotaperError):
    code = "simulation_unavailable"


class StorageError(BenzotaperError):
    code = "storage"


class NotFoundError(StorageError):
    code = "not_found"


class ExportError(BenzotaperError):
    code = "export_failed"
