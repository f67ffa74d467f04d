"""How the CLI words the journal's notices: the plain words, with the CLI's own option names
where a notice asks the person to do something."""

from __future__ import annotations

from benzotaper.errors import BenzotaperError
from benzotaper.journal.notices import Notice
from benzotaper.journal.wording import notice_text

#: Notices whose remedy is an option of a command.
_CLI_WORDS = {
    "dose_no_target": "No planned dose left for this day: give --mg (and --drug) or --extra.",
    "dose_no_drug": "Give --drug: there is no planned dose to take it from.",
    "no_plan": "No saved plan: make one with `benzotaper plan ... --save`.",
    "checkin_empty": "Nothing to record: give at least one of --ciwa-b, --bwsq, --gad7, --phq9, "
    "--quick, --danger.",
    "missed_and_extra": "A dose is either --missed or --extra, not both.",
}


def words(n: Notice) -> str:
    if n.kind == "consider_previous_dose":
        return (
            f"{notice_text(n)} Once agreed with your prescriber: "
            'benzotaper reinstate --reason "..."'
        )
    if n.kind == "dose_not_planned_at":
        return f"No dose is planned at {n.values['time']} on {n.values['day']}."
    return _CLI_WORDS.get(n.kind) or notice_text(n)


def describe(exc: BenzotaperError) -> str:
    """An error's message for the terminal: journal refusals and questions in the CLI's words."""
    notices: list[Notice] = list(getattr(exc, "problems", None) or [])
    questions: list[Notice] = list(getattr(exc, "questions", None) or [])
    if questions:
        return " ".join(words(q) for q in questions) + " If so, run it again with --confirm."
    if notices:
        return " ".join(words(n) for n in notices)
    return exc.message
