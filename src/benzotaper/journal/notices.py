"""What the journal tells a person, as data: a kind, the values that fill it in, the field it
concerns and its sources. Each edge words a notice itself (``journal.wording`` gives the plain
words the pages and the API use; the CLI adds its option names), so no CLI flag, raw source key
or page wording is ever built in the core.

Kinds (``values`` in brackets):

Refusals of an entry (``EntryError.problems``):
  ``date_in_future`` [day, today] · ``date_before_window`` [day, earliest, plan_start]
  ``text_too_long`` [length, limit] · ``invalid_value`` [message]
  ``sleep_no_time_in_bed`` [] · ``sleep_woke_before_sleep`` []
  ``sleep_latency_exceeds_night`` [sol_min, waso_min, night_min]
  ``checkin_empty`` [] · ``dose_implausible`` [drug, mg, max_daily_mg]
  ``dose_no_target`` [day] · ``dose_no_drug`` [] · ``dose_not_planned_at`` [time, day]
  ``missed_and_extra`` []
Questions before recording a dose (``ConfirmationRequired.questions``):
  ``dose_differs_from_plan`` [drug, mg, planned_mg, time] · ``dose_not_in_plan`` [drug, mg]
  ``dose_above_label_max`` [drug, day_total_mg, max_daily_mg]
  ``dose_already_recorded`` [drug, time, status]
The adaptive decision and status (``Decision.notices``, ``Status.notices``):
  ``urgent_danger_sign`` [day, signs] · ``crisis_support`` [] · ``consider_previous_dose``
  [daily_mg, because (severe|persisting), hold_days] · ``replan_refused`` [message] · ``no_plan`` []
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

NoticeSeverity = Literal["info", "caution", "danger"]


class Notice(BaseModel):
    """One thing to tell the person: ``kind`` says what, ``values`` fill it in."""

    kind: str
    severity: NoticeSeverity = "info"
    field: str | None = Field(default=None, description="The input it concerns, if any")
    values: dict[str, Any] = Field(default_factory=dict)
    sources: list[str] = Field(default_factory=list)


def notice(
    kind: str,
    severity: NoticeSeverity = "info",
    *,
    field: str | None = None,
    sources: list[str] | None = None,
    **values: Any,
) -> Notice:
    return Notice(kind=kind, severity=severity, field=field, values=values, sources=sources or [])
