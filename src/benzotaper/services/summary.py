"""Status from a bounded read: the stored summary (``storage.summaries``), kept by the journal
service in the same transaction as each change.

Status reads the check-ins the adaptive decision looks at (``adaptive.checkin_ranges``: days,
not the whole journal) plus, for the latest scores, the newest check-in with each scale
and with quick ratings, and the oldest check-in (the decision asks whether anything was recorded
before the plan's first cut). Those few rows are the summary's *slots*: kept up to date after
each record (a newer check-in takes its slots), correction or retraction (a slot whose check-in
was replaced is found again from the journal), so status costs the same at 100 or 100,000
entries. A day before the newest slot (``status?on=`` in the past) or a person without a summary
reads the whole journal, as before; both ways give the same ``Status`` (tested).

The clinician list's alerts are stored with the slots (as of the person's day when computed); a
list shows a row's stored alerts when they were computed that day, and recomputes them when not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from benzotaper.journal.adaptive import AdaptiveRules, checkin_ranges
from benzotaper.journal.adherence import day_adherence, with_days
from benzotaper.journal.alerts import alert_level, alerts_from_status, card_facts
from benzotaper.journal.entries import CheckinEntry, DoseEntry, SleepEntry, read_entry
from benzotaper.journal.scales import ScaleBook, try_score
from benzotaper.journal.status import (
    Status,
    StatusInputs,
    adherence_start,
    compute_status,
    latest_sleep,
)
from benzotaper.lru import LRU
from benzotaper.services.review import Checkins, checkins, hold_since
from benzotaper.storage import summaries
from benzotaper.storage.journal import EntryRecord, JournalRepository, PlanRecord, VersionInfo
from benzotaper.storage.summaries import JournalSummary, Slot
from benzotaper.storage.tables import User

#: The active plan and every version's facts, as a use-case has read them.
Known = tuple[PlanRecord | None, list[VersionInfo] | None]
#: How many of the newest sleep-diary documents status looks through for a readable night.
NIGHTS = 14
FIRST, QUICK = "first", "quick"


def entry_slots(entry: CheckinEntry, book: ScaleBook) -> list[str]:
    """The slots a check-in can fill: each scale it scores, and ``quick`` if it has ratings."""
    keys = [k for k, items in entry.scales().items() if try_score(book, k, items) is not None]
    return [*keys, QUICK] if entry.quick else keys


def full_slots(s: Session, user_id: int, book: ScaleBook) -> dict[str, Slot]:
    """The slots found from the whole journal (a first summary, or a slot's check-in replaced)."""
    slots: dict[str, Slot] = {}
    for row_id, uid, day, data in summaries.current_checkins(s, user_id):
        entry = read_entry(data, "checkin")
        if not isinstance(entry, CheckinEntry):
            continue
        slot = Slot(uid=uid, id=row_id, day=day)
        slots.setdefault(FIRST, slot)
        for key in entry_slots(entry, book):
            slots[key] = slot
    return slots


def _next_slots(
    s: Session, user_id: int, book: ScaleBook, rec: EntryRecord, replaced: str | None
) -> dict[str, Slot]:
    row = summaries.load(s, user_id)
    if row is None:
        return full_slots(s, user_id, book)
    slots = summaries.slots_of(row)
    if replaced is not None and any(v.uid == replaced for v in slots.values()):
        return full_slots(s, user_id, book)
    if isinstance(rec.entry, CheckinEntry) and not rec.deleted:
        new = Slot(uid=rec.uid, id=summaries.row_id(s, rec.uid), day=rec.day)
        for key in entry_slots(rec.entry, book):
            if key not in slots or new.key > slots[key].key:
                slots[key] = new
        if FIRST not in slots or new.key < slots[FIRST].key:
            slots[FIRST] = new
    return slots


def after_change(
    s: Session, user_id: int, book: ScaleBook, rec: EntryRecord, replaced: str | None
) -> None:
    """Bring the slots up to date after entry ``rec`` was stored (``replaced``: the uid of the
    revision it replaces); the alerts follow with :func:`store_alerts` once reviewed."""
    summaries.save(s, user_id, _next_slots(s, user_id, book, rec, replaced))


def plan_saved(s: Session, user_id: int, book: ScaleBook) -> None:
    """Count a new plan version as a change (a first plan, before anything was recorded, makes
    the person's summary row)."""
    if not summaries.touch(s, user_id):
        summaries.save(s, user_id, full_slots(s, user_id, book))


#: A clinician's card of a person: alerts, facts (dose, next cut, hold), most urgent level.
Card = tuple[list[dict[str, Any]], dict[str, Any], int]


def card(status: Status) -> Card:
    """The clinician list's card of a status: alerts, facts, most urgent level (JSON-ready)."""
    alerts = alerts_from_status(status)
    dumped = [a.model_dump(mode="json") for a in alerts]
    return dumped, card_facts(status), alert_level(alerts)


def store_alerts(
    s: Session, user_id: int, status: Status, read: tuple[dt.date, Checkins] | None = None
) -> None:
    """The card of ``status`` in the person's summary; the status is remembered under the
    change it ends (the page read next after a write finds it), and so are ``read``, the
    check-ins the change's review read on that day (the next change's review may reuse them)."""
    row = summaries.load(s, user_id)
    assert row is not None
    row.alerts, row.facts, row.alert_level = card(status)
    row.computed_on = status.on
    s.flush()  # the row's revision and time of change are final for this change
    stamp = (row.revision, row.updated_at)
    _KEPT.put(_key(s, user_id, stamp, (STATUS, status.on)), status)
    if read is not None:
        _KEPT.put(_key(s, user_id, stamp, (CHECKINS, status.on)), read)


# ----------------------------------------------------------------------------- remembered

#: Policy: answers read from a person's journal (status, Today) kept per process.
KEPT = 4096
_KEPT: LRU[tuple[Any, ...], Any] = LRU(KEPT)
T = TypeVar("T")


#: What ``remembered`` keeps a status under (with its day): ``store_alerts`` keeps a write's.
STATUS = "status"
#: What a write's review read is kept under (with its day): every check-in from a day on.
CHECKINS = "review-checkins"


def _key(
    s: Session, user_id: int, stamp: tuple[int, dt.datetime], what: tuple[Any, ...]
) -> tuple[Any, ...]:
    """The key of an answer: which database ``s`` reads (a process may hold several: tests,
    tools), the person, their summary stamp, and what was asked."""
    return (s.get_bind().engine.url, user_id, *stamp, *what)


#: Policy: lists of a person's recent entries (the Journal page's, the patient view's) kept per
#: process, apart from the smaller answers above (a list of two weeks is ~100 KB).
RECENT_KEPT = 512
RECENT: LRU[tuple[Any, ...], Any] = LRU(RECENT_KEPT)


def remembered(
    s: Session,
    user_id: int,
    what: tuple[Any, ...],
    make: Callable[[], T],
    kept: LRU[tuple[Any, ...], Any] = _KEPT,
    *,
    stamp: tuple[int, dt.datetime] | None = None,
) -> T:
    """``make()``, or what it answered before for the person's journal as it stands now.

    An answer read from the journal changes only when the journal or the plans do, and each
    such change moves the person's summary stamp (``summaries.stamp``): the stamp, read in the
    caller's transaction, keys the answer, so every worker process sees a change at once. A
    person without a summary (rows seeded or imported outside the service) is read each time.
    ``stamp``: the person's stamp when the caller has read it in ``s`` already.
    Answers are shared between requests: callers must not change them."""
    stamp = stamp or summaries.stamp(s, user_id)
    if stamp is None:
        return make()
    key = _key(s, user_id, stamp, what)
    found = kept.get(key)
    if found is None:
        found = make()
        kept.put(key, found)
    return cast(T, found)


# ----------------------------------------------------------------------------- status


def status_inputs(
    repo: JournalRepository,
    user_id: int,
    on: dt.date,
    rules: AdaptiveRules,
    known: Known | None = None,
    read: tuple[dt.date, Checkins] | None = None,
) -> StatusInputs:
    """What status reads for ``on``: bounded by days, not by the size of the journal.
    ``known``: the active plan and the version list (None: not read yet), when the caller has
    them as they stand; ``read``: every current check-in from a day to ``on``, when the
    caller's review has just read them for that plan (``Reviewer.read``)."""
    active, infos = known or (repo.active_plan(user_id), None)
    since = hold_since(infos or repo.version_infos(user_id)) if active is not None else None
    night = latest_night(repo, user_id, on)
    doses: list[tuple[dt.date, DoseEntry]] = []
    if active is not None:
        rows = repo.documents(user_id, kind="dose", start=adherence_start(active.plan, on), end=on)
        doses = [(d, e) for d, e in rows if isinstance(e, DoseEntry)]
    return StatusInputs(
        on=on,
        active=active,
        hold_since=since,
        checkins=_checkins(repo, user_id, on, active, since, rules, read),
        latest_sleep=night,
        doses=doses,
    )


def latest_night(
    repo: JournalRepository, user_id: int, on: dt.date
) -> tuple[dt.date, SleepEntry] | None:
    """The newest night up to ``on`` this version can read (an unreadable document is
    skipped)."""
    sleep = repo.documents(user_id, kind="sleep", end=on, newest_first=True, limit=NIGHTS)
    return next(((d, e) for d, e in sleep if isinstance(e, SleepEntry)), None)


def _checkins(
    repo: JournalRepository,
    user_id: int,
    on: dt.date,
    active: PlanRecord | None,
    since: dt.date | None,
    rules: AdaptiveRules,
    read: tuple[dt.date, Checkins] | None = None,
) -> Checkins:
    """The decision's days of check-ins and the slots' check-ins, in the journal's order; the
    whole journal's when there is no summary or ``on`` is before a slot's day. With ``read``
    (every check-in from a day on, which covers the decision's days), only the slots' rows
    before that day are read."""
    row = summaries.load(repo.s, user_id)
    slots = summaries.slots_of(row) if row is not None else None
    if slots is None or any(v.day > on for v in slots.values()):
        return checkins(repo, user_id, None, on)
    if read is not None:
        start, found = read
        older = repo.entries_by_uid(
            user_id, sorted({v.uid for v in slots.values() if v.day < start})
        )
        return [*((r.day, r.entry) for r in older if isinstance(r.entry, CheckinEntry)), *found]
    ranges = checkin_ranges(active.plan, on, rules, since) if active is not None else []
    rows = [r for a, b in ranges for r in repo.entries(user_id, kind="checkin", start=a, end=b)]
    seen = {r.uid for r in rows}
    rows += repo.entries_by_uid(user_id, sorted({v.uid for v in slots.values()} - seen))
    # a slot's row lies outside every range: no day holds rows of two queries, so a stable
    # sort by day keeps each day's rows in the order they were entered
    rows.sort(key=lambda r: r.day)
    return [(r.day, r.entry) for r in rows if isinstance(r.entry, CheckinEntry)]


def status_of(
    repo: JournalRepository,
    user_id: int,
    on: dt.date,
    rules: AdaptiveRules,
    book: ScaleBook,
    known: Known | None = None,
    read: tuple[dt.date, Checkins] | None = None,
) -> Status:
    return compute_status(status_inputs(repo, user_id, on, rules, known, read), rules, book)


# ----------------------------------------------------------------------------- after a change

#: The kinds of entry status does not read: other medicines, events, notes.
UNREAD_KINDS = frozenset({"medicine", "event", "note"})
#: The kinds of entry that are no check-in (an unreadable document may have been one).
NOT_CHECKINS = UNREAD_KINDS | {"dose", "sleep"}


def kept(s: Session, user_id: int, what: tuple[Any, ...]) -> Any | None:
    """What this process remembers under ``what`` for the person's journal as it stands in
    this transaction (read before a change moves the stamp); None when not remembered."""
    row = summaries.load(s, user_id)
    if row is None:
        return None
    return _KEPT.get(_key(s, user_id, (row.revision, row.updated_at), what))


def kept_status(s: Session, user_id: int, on: dt.date) -> Status | None:
    found = kept(s, user_id, (STATUS, on))
    return found if isinstance(found, Status) else None


def kept_checkins(s: Session, user_id: int, on: dt.date) -> tuple[dt.date, Checkins] | None:
    """The check-ins the last review on ``on`` read (``Reviewer.read``), if this process
    remembers them for the journal as it stands: a change that is no check-in leaves them."""
    found = kept(s, user_id, (CHECKINS, on))
    return found if isinstance(found, tuple) else None


def status_after(
    repo: JournalRepository,
    user_id: int,
    before: Status,
    rec: EntryRecord,
    days: Iterable[dt.date],
    active: PlanRecord | None,
    doses: list[DoseEntry] | None = None,
) -> Status | None:
    """The status after the change ``rec`` (on ``days``: its day, and the day a correction
    moved it from), derived from ``before`` (the status on the same day just before the change,
    with the same plan version) when the change moves one part of it only: a note, event or
    other medicine moves nothing, a dose that day's adherence, a sleep-diary night the latest
    night. None: compute it again (a check-in can change the decision; an unreadable document).
    ``doses``: the dose entries of the day of ``rec`` after the change, when the caller has
    them (not read again).

    The same answer as :func:`status_of` (``tests/journal/test_summary.py``): the decision and
    the latest scores read check-ins only, adherence doses only, the latest night nights only.
    """
    if before.plan_uid != (active.uid if active is not None else None):
        return None
    if rec.kind in UNREAD_KINDS:
        return before
    if rec.kind == "sleep":
        night = latest_sleep(latest_night(repo, user_id, before.on))
        return before.model_copy(update={"latest_sleep": night})
    if rec.kind != "dose":
        return None
    period = before.adherence
    if period is None or active is None:
        return before  # no plan, or it starts later: no dose counts yet
    changed = []
    for day in sorted(set(days)):
        if period.start <= day <= period.end:
            found = doses if doses is not None and day == rec.day else None
            if found is None:
                rows = repo.documents(user_id, kind="dose", start=day, end=day)
                found = [e for _, e in rows if isinstance(e, DoseEntry)]
            changed.append(day_adherence(active.plan, day, found))
    if not changed:
        return before
    return before.model_copy(update={"adherence": with_days(period, changed)})


def status_after_checkins(
    repo: JournalRepository,
    user_id: int,
    before: Status,
    known: Known,
    rules: AdaptiveRules,
    book: ScaleBook,
    read: tuple[dt.date, Checkins] | None,
) -> Status | None:
    """The status after a change to the check-ins, from ``before`` (as :func:`status_after`):
    the parts that read check-ins (the decision, hold, next cut, latest scores, notices) made
    again on the check-ins the review has just read (``read``), the adherence and the latest
    night, which read none, kept. None without ``read`` or with another plan version."""
    active, infos = known
    if read is None or before.plan_uid != (active.uid if active is not None else None):
        return None
    since = hold_since(infos or repo.version_infos(user_id)) if active is not None else None
    inputs = StatusInputs(
        on=before.on,
        active=active,
        hold_since=since,
        checkins=_checkins(repo, user_id, before.on, active, since, rules, read),
        latest_sleep=None,
        doses=(),
    )
    fresh = compute_status(inputs, rules, book)
    kept = {"adherence": before.adherence, "latest_sleep": before.latest_sleep}
    return fresh.model_copy(update=kept)


# ----------------------------------------------------------------------------- backfill


def backfill(
    s: Session,
    load: Callable[[], tuple[AdaptiveRules, ScaleBook]],
    *,
    after: int = 0,
    limit: int | None = None,
) -> list[int]:
    """A summary for the people with a plan or an entry and none yet, by id from ``after``, at
    most ``limit`` of them (``storage.migrate`` calls it in batches, one transaction each, after
    the migration that added the table; ``load`` gives the rules, read only if someone needs a
    summary). Their alerts are computed for their own today. Returns their ids, in order."""
    from benzotaper.storage.tables import Entry, PlanVersion

    has_data = or_(
        select(PlanVersion.id).where(PlanVersion.user_id == User.id).exists(),
        select(Entry.id).where(Entry.user_id == User.id).exists(),
    )
    stmt = (
        select(User.id, User.time_zone)
        .where(User.id > after, has_data)
        .where(~select(JournalSummary.user_id).where(JournalSummary.user_id == User.id).exists())
        .order_by(User.id)
        .limit(limit)
    )
    users = s.execute(stmt).all()
    if not users:
        return []
    rules, book = load()
    repo = JournalRepository(s)
    for user_id, tz in users:
        summaries.save(s, user_id, full_slots(s, user_id, book))
        today = dt.datetime.now(ZoneInfo(tz or "UTC")).date()
        store_alerts(s, user_id, status_of(repo, user_id, today, rules, book))
    s.flush()
    return [user_id for user_id, _ in users]
