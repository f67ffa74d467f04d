"""What a person can record in the journal: one pydantic model per entry kind.

These documents are stored as they were entered (``storage.tables.Entry.data``); scores, sleep
metrics and adherence are always derived from them, never stored in their place.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from benzotaper.limits import MAX_SCALE_ITEMS, Name, Note, ShortText

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

EntryKind = Literal["dose", "checkin", "sleep", "medicine", "event", "note"]
ENTRY_KINDS: tuple[EntryKind, ...] = ("dose", "checkin", "sleep", "medicine", "event", "note")


def check_time(v: str | None) -> str | None:
    if v is not None and not _TIME_RE.match(v):
        raise ValueError(f"time must be HH:MM on the 24-hour clock, not {v!r}")
    return v


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    note: Note = ""


class DoseEntry(_Entry):
    """A dose taken, a planned dose missed, or an extra dose."""

    kind: Literal["dose"] = "dose"
    status: Literal["taken", "missed", "extra"] = "taken"
    drug: Name = Field(min_length=1)
    mg: float = Field(ge=0, le=1000)
    time: str | None = None
    planned_time: str | None = None
    planned_mg: float | None = Field(default=None, ge=0)

    _t = field_validator("time", "planned_time")(check_time)


class CheckinEntry(_Entry):
    """Withdrawal and mood check-in: any of the scales, quick ratings and danger signs."""

    kind: Literal["checkin"] = "checkin"
    time: str | None = None
    ciwa_b: list[int] | None = Field(default=None, max_length=MAX_SCALE_ITEMS)
    bwsq: list[int] | None = Field(default=None, max_length=MAX_SCALE_ITEMS)
    gad7: list[int] | None = Field(default=None, max_length=MAX_SCALE_ITEMS)
    phq9: list[int] | None = Field(default=None, max_length=MAX_SCALE_ITEMS)
    quick: dict[Name, int] = Field(default_factory=dict, max_length=MAX_SCALE_ITEMS)
    danger_signs: list[Name] = Field(default_factory=list, max_length=MAX_SCALE_ITEMS)

    _t = field_validator("time")(check_time)

    def scales(self) -> dict[str, list[int]]:
        """Completed scales by scale id (``ciwa-b``, ``bwsq``, ``gad-7``, ``phq-9``)."""
        pairs = {"ciwa-b": self.ciwa_b, "bwsq": self.bwsq, "gad-7": self.gad7, "phq-9": self.phq9}
        return {k: v for k, v in pairs.items() if v is not None}

    def is_empty(self) -> bool:
        return not self.scales() and not self.quick and not self.danger_signs


class SleepEntry(_Entry):
    """One night of the Consensus Sleep Diary (core items), entered the morning after."""

    kind: Literal["sleep"] = "sleep"
    bed_time: str
    try_sleep_time: str | None = None
    sol_min: int = Field(ge=0, le=1440)
    awakenings: int = Field(default=0, ge=0, le=100)
    waso_min: int = Field(default=0, ge=0, le=1440)
    final_wake_time: str
    out_of_bed_time: str
    quality: int | None = Field(default=None, ge=1, le=5, description="1 very poor - 5 very good")
    naps_min: int = Field(default=0, ge=0, le=1440)
    alcohol_drinks: int = Field(default=0, ge=0, le=50)
    caffeine_drinks: int = Field(default=0, ge=0, le=50)
    sleep_aid: Name = ""

    _t = field_validator("bed_time", "try_sleep_time", "final_wake_time", "out_of_bed_time")(
        check_time
    )


class MedicineEntry(_Entry):
    """Another medicine or aid (e.g. gabapentin, melatonin, a CBT-I session)."""

    kind: Literal["medicine"] = "medicine"
    name: Name = Field(min_length=1)
    category: Literal["medicine", "supplement", "therapy", "other"] = "medicine"
    dose: ShortText = ""
    action: Literal["started", "taken", "stopped", "session"] = "taken"


class EventEntry(_Entry):
    """A life event that may explain a change (illness, bereavement, travel, ...)."""

    kind: Literal["event"] = "event"
    title: Name = Field(min_length=1)


class NoteEntry(_Entry):
    kind: Literal["note"] = "note"
    note: Note = Field(min_length=1)


JournalEntry = Annotated[
    DoseEntry | CheckinEntry | SleepEntry | MedicineEntry | EventEntry | NoteEntry,
    Field(discriminator="kind"),
]
ENTRY_ADAPTER: TypeAdapter[JournalEntry] = TypeAdapter(JournalEntry)
