"""One error tree for the whole package: every class says how each edge answers it.

Each class carries its HTTP status (``http_status``) and CLI exit status (``exit_code``), so the
web app and the CLI each map errors in one place, by reading these attributes, never by a chain
of ``isinstance`` checks. Exit status 2 means "input a person can correct"; 1 anything else.

BenzotaperError                       HTTP  exit
├── CatalogueError                     500   1   the data files are broken (names file and field)
├── InputError                         422   2   something typed cannot be used as it is
│   ├── UnknownDrugError               422   2   no such drug; carries close matches
│   │   └── AmbiguousDrugError         422   2   as close to two drugs (look-alike names)
│   ├── DoseError                      422   2   missing/unknown unit, zero, negative, implausible
│   ├── UnknownSourceError             422   2   no such equivalence source key
│   ├── UnknownProductError            422   2   no such market or product
│   ├── RegimenError                   422   2   a regimen or schedule that cannot be planned
│   ├── PlanTooLargeError              422   2   a plan beyond the bounds (length, steps, start)
│   ├── HomeMethodRefused              422   2   a home method opted in that the drug cannot use
│   ├── ImportFormatError              422   2   an imported file holds what cannot be used
│   ├── DateRangeError                 422   2   a date outside the window benzotaper accepts
│   ├── EntryError                     422   2   a journal entry refused; carries its problems
│   ├── ConfirmationRequired           422   2   an entry that needs a "yes, really" first
│   ├── AccountError                   422   2   registration or login refused (web)
│   ├── RateLimitedError               429   2   too many attempts; carries Retry-After (web)
│   ├── ShareError                     422   2   an invite code that cannot be used (web)
│   └── SuggestionError                422   2   a clinician's suggestion refused (web)
├── GuardrailError                     422   2   a plan would break a safety rule
│   └── ScheduleError                  422   2   a custom schedule breaks the pacing
├── PlanBudgetError                    503   1   making a plan took longer than its time budget
├── SimulationError                    422   1   the catalogue lacks what a simulation needs
├── ConflictError                      409   2   changed by someone else meanwhile: reload, redo
├── AccessError                        403   1   not allowed (web)
│   ├── LoginRequired                  401   1   not signed in (pages redirect to the login)
│   └── CsrfError                      403   1   a form or request without its CSRF token
├── StorageError                       500   1   the journal database refused a request
│   └── NotFoundError                  404   2   no such record (or not yours)
└── ExportError                        500   1   an export cannot be produced (font missing...)

The web's own classes (AccountError, ShareError, ...) live in their modules and derive from
these; this tree lists them so it stays the one picture of every error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class BenzotaperError(Exception):
    """Root of every error benzotaper raises on purpose."""

    code = "error"
    http_status = 500
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def http_headers(self) -> dict[str, str]:
        """Extra response headers this error calls for (e.g. Retry-After)."""
        return {}


class CatalogueError(BenzotaperError):
    code = "catalogue_invalid"


class InputError(BenzotaperError):
    """Input that cannot be used as it is. ``field``: the input it concerns, when known."""

    code = "invalid_input"
    http_status = 422
    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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


class DateRangeError(InputError):
    """A date outside the window benzotaper accepts for that field (see ``benzotaper.dates``)."""

    code = "date_out_of_range"


class EntryError(InputError):
    """A journal entry that cannot be recorded. ``problems``: every reason, each a
    ``journal.notices.Notice`` (kind, field, values), so each edge words them itself."""

    code = "invalid_entry"

    def __init__(self, message: str, *, problems: Sequence[Any] = (), field: str | None = None):
        super().__init__(message, field=field)
        self.problems = list(problems)


class ConfirmationRequired(InputError):
    """Recorded only after the person confirms (e.g. a dose above the plan): ``questions`` are
    ``journal.notices.Notice`` items; send the same entry again with ``confirm`` to record it."""

    code = "confirmation_required"

    def __init__(self, message: str, *, questions: Sequence[Any] = ()):
        super().__init__(message)
        self.questions = list(questions)


class PlanTooLargeError(InputError):
    """The plan asked for would be longer, or have more steps or holds, than the software
    limits allow (planning/bounds.py); the message names the limit."""

    code = "plan_too_large"


class PlanBudgetError(BenzotaperError):
    """Making a plan took longer than its time budget (planning/bounds.py); try again."""

    code = "plan_budget"
    http_status = 503


class GuardrailError(BenzotaperError):
    code = "guardrail"
    http_status = 422
    exit_code = 2


class SimulationError(BenzotaperError):
    code = "simulation_unavailable"
    http_status = 422


class ConflictError(BenzotaperError):
    """What was changed has been changed by someone else meanwhile (or was already retracted):
    reload and try again. Nothing was written."""

    code = "conflict"
    http_status = 409
    exit_code = 2


class AccessError(BenzotaperError):
    code = "forbidden"
    http_status = 403


class LoginRequired(AccessError):
    code = "login_required"
    http_status = 401


class CsrfError(AccessError):
    code = "csrf"


class StorageError(BenzotaperError):
    code = "storage"


class NotFoundError(StorageError):
    code = "not_found"
    http_status = 404
    exit_code = 2


class ExportError(BenzotaperError):
    code = "export_failed"
