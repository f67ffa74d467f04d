"""How much one request may hold: the bounds every edge (CLI, pages, API) shares.

These are software policy, not clinical figures. They exist so that no input, by mistake or on
purpose, can make the server (or the CLI) store megabytes of text, plan for centuries or spin
for minutes. Each bound is far above what a person needs; going past one gives a clear error
naming the limit (HTTP 422, CLI exit status 2) and nothing is stored.

The text types below are what models use for free text: a maximum length and no NUL character
(PostgreSQL cannot store one; SQLite would, silently). Use them for every new text field.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

# ----------------------------------------------------------------------------- text (characters)

#: Names: a drug or medicine as typed, a display name, an event title, a sleep aid.
NAME_MAX = 200
#: A short free-text answer: a dose as typed ("2 mg", "half a tablet").
SHORT_TEXT_MAX = 200
#: Reasons: an override's reason, a hold's reason, why a plan was changed.
REASON_MAX = 1000
#: Notes in the journal, a clinician's message.
NOTE_MAX = 5000
#: An email address (RFC 5321: 64 + 1 + 255).
EMAIL_MAX = 320

# ----------------------------------------------------------------------------- lists

#: Dose rows in one regimen (drug at a time of day): more than anyone takes, fewer than a flood.
MAX_REGIMEN_ROWS = 12
#: Holds in one plan request (one a week for a year).
MAX_HOLDS = 52
#: Days of all holds of one plan together (two years).
MAX_HOLD_DAYS_TOTAL = 730
#: Items of one questionnaire or of the quick check-in (CIWA-B has the most, 22).
MAX_SCALE_ITEMS = 50
#: Rows of a custom schedule (weekly steps for almost ten years).
MAX_CUSTOM_STEPS = 500

# ----------------------------------------------------------------------------- listings, exports

#: Journal entries in one page of a listing (``GET /api/journal/entries``, the clinician's
#: ``/api/patients/{id}/entries``, ``benzotaper history``) when no ``limit`` is given: a month of
#: busy use (doses, check-ins, sleep) in one page of ~150 KB.
ENTRIES_PAGE_DEFAULT = 500
#: The most entries one page may hold (``limit``); more is a 422 / exit 2. The next page is
#: named by the ``Link: <...>; rel="next"`` header (``--after`` in the CLI).
ENTRIES_PAGE_MAX = 1000
#: Check-ins one FHIR Bundle carries (the newest in the date range asked for): a year of daily
#: check-ins. Each becomes up to five validated resources; earlier ones need a date range
#: (``journal_end`` / ``--journal-end``), which the answer names.
EXPORT_CHECKINS_MAX = 366
#: Journal entries read from the database at a time when a file is streamed (journal CSV).
EXPORT_CHUNK = 1000

# ----------------------------------------------------------------------------- requests

#: The largest request body the web app reads (bytes); larger ones get 413 before parsing.
#: Room for a CDS Hooks request with its prefetched FHIR resources; a journal entry is < 10 KiB.
MAX_BODY_BYTES = 1024 * 1024


def no_nul(value: str) -> str:
    """Refuse the NUL character: it cannot be stored (PostgreSQL) and no person types it."""
    if "\x00" in value:
        raise ValueError("text cannot contain the NUL character (\\0)")
    return value


NoNul = AfterValidator(no_nul)
#: Free text types; ``Field(...)`` on top may add a default, a minimum or a description.
Name = Annotated[str, Field(max_length=NAME_MAX), NoNul]
ShortText = Annotated[str, Field(max_length=SHORT_TEXT_MAX), NoNul]
Reason = Annotated[str, Field(max_length=REASON_MAX), NoNul]
Note = Annotated[str, Field(max_length=NOTE_MAX), NoNul]
