"""The journal service: every journal use-case, for every edge (CLI, pages, API).

Use::

    journal = JournalService(Database(), default_catalogue())
    me = journal.local_user()
    journal.save_plan(me, plan, reason="agreed with Dr X")
    journal.take(me)                                        # the next planned dose, now
    done = journal.record(me, {"kind": "checkin", "quick": {"anxiety": 6}})
    done.review.decision                                    # the adaptive rules' answer
    journal.status(me)                                      # where the person stands today

Each use-case is one transaction, opened here and nowhere else: the entry is checked
(``journal.validation``: dates, sleep arithmetic, scale items, text limits, dose amounts),
stored, and the adaptive rules reviewed (``services.review``) before anything is committed, so
a refused entry leaves nothing behind and a check-in and the hold it calls for arrive together.
A dose that differs from the plan or goes above the labelled maximum is a question
(:class:`~benzotaper.errors.ConfirmationRequired`), recorded only when asked again with
``confirm=True``. Every change is reviewed the same way: a correction or a retraction can start,
extend or lift a hold.

"Today" is the service's clock (``now``; the CLI's local time, the web's per-person time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from benzotaper.catalogue import Catalogue
from benzotaper.errors import (
    ConfirmationRequired,
    EntryError,
    InputError,
    NotFoundError,
    UnknownDrugError,
)
from benzotaper.journal.adaptive import AdaptiveRules
from benzotaper.journal.entries import (
    CheckinEntry,
    DoseEntry,
    JournalEntry,
    SleepEntry,
    UnreadableEntry,
)
from benzotaper.journal.matching import match_doses
from benzotaper.journal.notices import Notice, notice
from benzotaper.journal.paging import Newest, Page, check_limit, key_of, page_of
from benzotaper.journal.reinstate import reinstated_request
from benzotaper.journal.scales import ScaleBook, ScaleScore, try_score
from benzotaper.journal.sleep import SleepMetrics, sleep_metrics
from benzotaper.journal.status import Status, compute_status
from benzotaper.journal.timeline import planned_doses
from benzotaper.journal.validation import (
    EntryContext,
    dose_questions,
    entry_problems,
    parse_entry,
)
from benzotaper.journal.wording import notice_text
from benzotaper.knowledge import Knowledge, knowledge_for
from benzotaper.limits import ENTRIES_PAGE_DEFAULT, EXPORT_CHECKINS_MAX, EXPORT_CHUNK
from benzotaper.planning.models import Dose, PersonFactors, Plan, PlanRequest
from benzotaper.services import summary
from benzotaper.services.review import Planner, Review, Reviewer
from benzotaper.storage import care, summaries
from benzotaper.storage.engine import Database
from benzotaper.storage.journal import EntryRecord, JournalRepository, PlanRecord, VersionInfo

#: Policy: the longest reason kept for a correction or retraction.
MAX_REASON = 1000


class Recorded(BaseModel):
    """What a change did: the stored revision, what it replaced, what it derived, the review."""

    entry: EntryRecord
    replaces: str | None = None
    scores: dict[str, ScaleScore] = Field(default_factory=dict)
    sleep: SleepMetrics | None = None
    notices: list[Notice] = Field(default_factory=list)
    review: Review = Field(default_factory=Review)


class TodayDose(BaseModel):
    """A planned dose of the day and what was recorded for it."""

    dose: Dose
    status: Literal["open", "taken", "missed"]
    entry_uid: str | None = None
    recorded: DoseEntry | None = None


class Today(BaseModel):
    """What to take on a day: the planned doses (each matched to what was recorded), the extra
    doses recorded, and the status of that day (hold, next cut, messages)."""

    day: dt.date
    doses: list[TodayDose]
    extras: list[EntryRecord]
    plan_end: dt.date | None
    status: Status


class PlanState(BaseModel):
    """A person's plan as their plan page shows it: the status, the active version and every
    version's facts (oldest first), read together."""

    status: Status
    active: PlanRecord | None
    versions: list[VersionInfo]


_T = TypeVar("_T")


def _local_now() -> dt.datetime:
    return dt.datetime.now()


class _Unit:
    """One use-case's transaction: the repository, and what it has read once of the person's
    plans (valid until the review saves a new version, which is the unit's last step)."""

    def __init__(self, repo: JournalRepository, user_id: int) -> None:
        self.repo, self.user_id = repo, user_id
        #: The dose entries of a day as this unit read them before its change, in the
        #: journal's order (``take`` and a dose's questions read them; status after a new dose
        #: is that list and the dose, not a third read).
        self.doses: dict[dt.date, list[DoseEntry]] = {}

    @cached_property
    def active(self) -> PlanRecord | None:
        """The active version, found in :attr:`infos` (a write reads both: one query)."""
        info = next((v for v in self.infos if v.active), None)
        return self.repo.with_plan(info) if info is not None else None

    @cached_property
    def infos(self) -> list[VersionInfo]:
        return self.repo.version_infos(self.user_id)


class JournalService:
    """Every journal use-case; each method is one transaction."""

    def __init__(
        self,
        db: Database,
        knowledge: Knowledge | Catalogue,
        *,
        planner: Planner | None = None,
        now: Callable[[], dt.datetime] = _local_now,
    ) -> None:
        """``knowledge``: what benzotaper knows (a bare catalogue gets the shipped rules);
        ``planner``: makes the plan of a modified request (default: the planning engine);
        ``now``: the clock, whose date is "today" (a person's own time zone on the web)."""
        if isinstance(knowledge, Catalogue):
            knowledge = knowledge_for(knowledge)
        self.db = db
        self.knowledge = knowledge
        self.catalogue = knowledge.catalogue
        self.rules: AdaptiveRules = knowledge.adaptive
        self.book: ScaleBook = knowledge.scales
        self.planner = planner or self._make_plan
        self.now = now
        #: A read transaction the caller opened (``reading``), with the people checked in it
        #: and their summary stamps read in it.
        self._reading: tuple[Session, set[int]] | None = None
        self._stamps: dict[int, tuple[int, dt.datetime] | None] = {}

    def _make_plan(self, request: PlanRequest, day: dt.date) -> Plan:
        from benzotaper.planning.engine import make_plan

        return make_plan(request, self.knowledge, today=day)

    def today_date(self) -> dt.date:
        return self.now().date()

    @contextmanager
    def _change(self, user_id: int) -> Iterator[_Unit]:
        """A write use-case's transaction, with the person's row lock."""
        with self._unit(user_id, write=True) as repo:
            yield _Unit(repo, user_id)

    @contextmanager
    def reading(self, session: Session, known: Iterable[int] = ()) -> Iterator[None]:
        """Run the read use-cases called inside in ``session``, a read transaction the caller
        opened (``db.read()``): a page that reads several answers (a clinician's look at a
        patient) pays for one transaction, and reads them as of one moment. Writes still open
        their own. ``known``: people the caller found in ``session`` already (not looked up
        again). Each person's summary stamp is read once in it (its reads change nothing)."""
        self._reading = (session, set(known))
        self._stamps = {}
        try:
            yield
        finally:
            self._reading = None
            self._stamps = {}

    def _stamp(self, repo: JournalRepository, user_id: int) -> tuple[int, dt.datetime] | None:
        """The person's summary stamp (``summaries.stamp``), read once inside ``reading``: a
        page that reads several answers of one person read it for each (a statement each)."""
        if self._reading is None:
            return summaries.stamp(repo.s.connection(), user_id)  # a read: nothing to flush
        if user_id not in self._stamps:
            self._stamps[user_id] = summaries.stamp(repo.s.connection(), user_id)
        return self._stamps[user_id]

    @contextmanager
    def _unit(
        self, user_id: int | None, *, write: bool, check: bool = True
    ) -> Iterator[JournalRepository]:
        """One transaction (the only place journal use-cases open one): a read is read-only
        (it never waits for, or blocks, a writer); a write takes the person's row lock first,
        so their changes run one after another. ``check=False``: the caller checks that the
        person exists itself (a read). A read inside ``reading`` uses its transaction (and
        checks each person once)."""
        if self._reading is not None and not write:
            session, checked = self._reading
            repo = JournalRepository(session)
            if user_id is not None and check and user_id not in checked:
                repo.require_user(user_id)
                checked.add(user_id)
            yield repo
            return
        with self.db.transaction() if write else self.db.read() as session:
            repo = JournalRepository(session)
            if user_id is not None and (write or check):
                (repo.lock_user if write else repo.require_user)(user_id)
            yield repo

    # ------------------------------------------------------------------ people

    def local_user(self) -> int:
        """The CLI's single local person (created on first use)."""
        with self._unit(None, write=True) as repo:
            return repo.local_user()

    def create_user(
        self, *, email: str | None = None, display_name: str = "", role: str = "patient"
    ) -> int:
        with self._unit(None, write=True) as repo:
            return repo.create_user(email=email, display_name=display_name, role=role)

    def profile(self, user_id: int) -> PersonFactors | None:
        with self._unit(user_id, write=False) as repo:
            return repo.profile(user_id)

    # ------------------------------------------------------------------ plans

    def save_plan(
        self, user_id: int, plan: Plan, *, reason: str = "", origin: str = "user"
    ) -> PlanRecord:
        """Keep ``plan`` as the person's active plan (a new version; the earlier ones stay).

        Saving the plan that is already active again changes nothing (a form sent twice)."""
        with self._unit(user_id, write=True) as repo:
            active = repo.active_plan(user_id)
            if active is not None and active.plan == plan:
                return active
            if repo.profile(user_id) != plan.request.person:
                repo.set_profile(user_id, plan.request.person)
            default = "New plan" if active is None else "New plan made by the user"
            saved = repo.save_plan(
                user_id,
                plan,
                reason=reason.strip()[:MAX_REASON] or default,
                origin=origin,
                effective_from=plan.summary.start,
            )
            self._plan_saved(repo, user_id)
            return saved

    def reinstate(
        self, user_id: int, *, reason: str, by: Literal["patient", "clinician"] = "patient"
    ) -> PlanRecord:
        """Return to the last well-tolerated dose from today, as the person (or, on the CLI, the
        prescriber beside them) asks: a new plan
        version (origin ``reinstatement``) that holds the dose in force before the most recent
        cut, then resumes with smaller cuts (``journal.reinstate``). Made only when asked; the
        adaptive rules only propose it (decision kind ``return``)."""
        why = _reason(reason, required=True)
        with self._change(user_id) as unit:
            return self._reinstated(unit, why, by=by)

    def reinstate_for_patient(
        self, clinician_id: int, patient_id: int, *, reason: str, action: str
    ) -> PlanRecord:
        """The same return, asked by a prescriber the patient shares with: the share is checked
        (NotFoundError without one, as if the patient did not exist) and the audit row the
        patient sees (``action``, with the new version) is written in the same transaction as
        the new plan version, so neither can be kept without the other. ``self``'s clock must
        be the patient's (their "today")."""
        why = _reason(reason, required=True)
        with (
            self._change(patient_id) as unit,
            care.looking(unit.repo.s, clinician_id, patient_id, action) as look,
        ):
            saved = self._reinstated(unit, why, by="clinician")
            look.detail = f"plan version {saved.version}"
        return saved

    def _reinstated(
        self, unit: _Unit, why: str, *, by: Literal["patient", "clinician"]
    ) -> PlanRecord:
        active = unit.active
        if active is None:
            raise NotFoundError("No saved plan: there is no dose to return to.")
        info = next((v for v in unit.infos if v.active), None)
        proposed = bool(info and info.decision and info.decision.kind == "return")
        today = self.today_date()
        request = reinstated_request(
            active.request, active.plan, today, self.rules, reason=why, by=by, proposed=proposed
        )
        plan = self.planner(request, today)
        who = "the prescriber" if by == "clinician" else "the person"
        saved = unit.repo.save_plan(
            unit.user_id,
            plan,
            reason=f"Return to an earlier dose, asked by {who}: {why}",
            origin="reinstatement",
            effective_from=today,
        )
        self._plan_saved(unit.repo, unit.user_id)
        return saved

    def active_plan(self, user_id: int) -> PlanRecord | None:
        with self._unit(user_id, write=False) as repo:
            return repo.active_plan(user_id)

    def plan_versions(self, user_id: int) -> list[PlanRecord]:
        with self._unit(user_id, write=False) as repo:
            return repo.plan_versions(user_id)

    def version_infos(self, user_id: int) -> list[VersionInfo]:
        with self._unit(user_id, write=False) as repo:
            return repo.version_infos(user_id)

    def plan_version(self, user_id: int, uid: str) -> PlanRecord:
        with self._unit(user_id, write=False) as repo:
            return repo.plan_version(user_id, uid)

    # ------------------------------------------------------------------ reading

    def entries(
        self,
        user_id: int,
        *,
        kind: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        every_revision: bool = False,
    ) -> list[EntryRecord]:
        with self._unit(user_id, write=False) as repo:
            return repo.entries(
                user_id, kind=kind, start=start, end=end, every_revision=every_revision
            )

    def entries_page(
        self,
        user_id: int,
        *,
        kind: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        every_revision: bool = False,
        after: str | None = None,
        limit: int = ENTRIES_PAGE_DEFAULT,
    ) -> Page[EntryRecord]:
        """One page of :meth:`entries` (at most ``limit``, after the cursor ``after``) and the
        cursor of the next: what every listing (API, CLI) answers instead of the whole journal
        (see :mod:`benzotaper.journal.paging`). Bad ``limit`` or cursor: InputError."""
        check_limit(limit)
        key = key_of(after) if after is not None else None
        with self._unit(user_id, write=False) as repo:
            rows = repo.entries_after(
                user_id,
                kind=kind,
                start=start,
                end=end,
                every_revision=every_revision,
                after=key,
                limit=limit + 1,
            )
        return page_of(rows, limit)

    def iter_entries(
        self,
        user_id: int,
        *,
        kind: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> Iterator[EntryRecord]:
        """Every current entry, read a page of ``EXPORT_CHUNK`` at a time (a read transaction
        each), for files written as they are read (constant memory, whatever the journal)."""
        after: str | None = None
        while True:
            page = self.entries_page(
                user_id, kind=kind, start=start, end=end, after=after, limit=EXPORT_CHUNK
            )
            yield from page.items
            if page.next_cursor is None:
                return
            after = page.next_cursor

    def checkins_for_export(
        self, user_id: int, *, start: dt.date | None = None, end: dt.date | None = None
    ) -> Newest[EntryRecord]:
        """The newest ``EXPORT_CHECKINS_MAX`` check-ins from ``start`` to ``end``, oldest first
        (what a FHIR Bundle carries), and the day of the newest one left out, if any."""
        with self._unit(user_id, write=False) as repo:
            rows = repo.entries(
                user_id,
                kind="checkin",
                start=start,
                end=end,
                newest_first=True,
                limit=EXPORT_CHECKINS_MAX + 1,
            )
        left_out = rows[EXPORT_CHECKINS_MAX].day if len(rows) > EXPORT_CHECKINS_MAX else None
        return Newest(rows[:EXPORT_CHECKINS_MAX][::-1], left_out)

    def recent_entries(self, user_id: int, start: dt.date, end: dt.date) -> list[EntryRecord]:
        """The current entries from ``start`` to ``end`` (as :meth:`entries`), remembered for
        the journal as it stands (``summary.remembered``): the Journal page and the clinician's
        patient view show the last two weeks on every visit. Shared: callers must not change
        the list."""
        with self._unit(user_id, write=False) as repo:
            return summary.remembered(
                repo.s,
                user_id,
                ("entries", start, end),
                lambda: repo.entries(user_id, start=start, end=end),
                summary.RECENT,
                stamp=self._stamp(repo, user_id),
            )

    def entry(self, user_id: int, uid: str) -> EntryRecord:
        with self._unit(user_id, write=False) as repo:
            return repo.entry(user_id, uid)

    def history(self, user_id: int, uid: str) -> tuple[list[EntryRecord], set[str]]:
        """Every revision of the entry ``uid`` belongs to, and which of them were replaced."""
        with self._unit(user_id, write=False) as repo:
            return repo.entry_history(user_id, uid), repo.superseded_uids(user_id)

    def superseded_uids(self, user_id: int) -> set[str]:
        with self._unit(user_id, write=False) as repo:
            return repo.superseded_uids(user_id)

    def status(self, user_id: int, on: dt.date | None = None) -> Status:
        """Where the person stands on ``on`` (default today); reading never fails on what is
        stored."""
        return self._read(user_id, on, summary.STATUS, self._status)

    def plan_state(self, user_id: int, on: dt.date | None = None) -> PlanState:
        """Status on ``on`` (default today), the active plan and the versions, in one read."""
        return self._read(user_id, on, "plan", self._plan_state)

    def today(self, user_id: int, on: dt.date | None = None) -> Today:
        """The day's planned doses with what was recorded for each (the one dose matcher)."""
        return self._read(user_id, on, "today", self._today)

    def _read(
        self,
        user_id: int,
        on: dt.date | None,
        what: str,
        make: Callable[[JournalRepository, int, dt.date], _T],
    ) -> _T:
        """``make``'s answer on ``on`` (default today), in one read unit, as remembered for the
        journal as it stands (``summary.remembered``: a write leaves it for the pages read next)."""
        day = on or self.today_date()
        with self._unit(user_id, write=False, check=False) as repo:
            stamp = self._stamp(repo, user_id)
            if stamp is None:  # a summary is its person's (a foreign key): only without one
                repo.require_user(user_id)  # is it asked whether they exist
                return make(repo, user_id, day)
            return summary.remembered(
                repo.s, user_id, (what, day), lambda: make(repo, user_id, day), stamp=stamp
            )

    def _status(
        self,
        repo: JournalRepository,
        user_id: int,
        day: dt.date,
        known: summary.Known | None = None,
    ) -> Status:
        inputs = summary.status_inputs(repo, user_id, day, self.rules, known)
        return compute_status(inputs, self.rules, self.book)

    def _remembered_status(
        self, repo: JournalRepository, user_id: int, day: dt.date, known: summary.Known
    ) -> Status:
        """The status on ``day`` within another read, under the key ``status`` uses."""
        return summary.remembered(
            repo.s, user_id, (summary.STATUS, day), lambda: self._status(repo, user_id, day, known)
        )

    def _plan_state(self, repo: JournalRepository, user_id: int, day: dt.date) -> PlanState:
        active, versions = repo.active_plan(user_id), repo.version_infos(user_id)
        status = self._remembered_status(repo, user_id, day, (active, versions))
        return PlanState(status=status, active=active, versions=versions)

    def _today(self, repo: JournalRepository, user_id: int, day: dt.date) -> Today:
        active = repo.active_plan(user_id)
        status = self._remembered_status(repo, user_id, day, (active, None))
        records = repo.entries(user_id, kind="dose", start=day, end=day)
        plan = active.plan if active is not None else None
        planned = planned_doses(plan, day) if plan is not None else []
        recorded = [(r.uid, r.entry) for r in records if isinstance(r.entry, DoseEntry)]
        matched = match_doses(planned, recorded)
        extras = {uid for uid, _ in matched.extras}
        return Today(
            day=day,
            doses=[
                TodayDose(dose=s.dose, status=s.status, entry_uid=s.key, recorded=s.entry)
                for s in matched.slots
            ],
            extras=[r for r in records if r.uid in extras],
            plan_end=plan.summary.end if plan is not None else None,
            status=status,
        )

    def day_problems(self, user_id: int, day: dt.date) -> list[Notice]:
        """Why an entry could not be dated ``day`` (a form shows it with its other errors)."""
        from benzotaper.journal.validation import date_problems

        with self._unit(user_id, write=False) as repo:
            return date_problems(day, self._context(_Unit(repo, user_id), day, None))

    # ------------------------------------------------------------------ writing

    def record(
        self,
        user_id: int,
        entry: JournalEntry | Mapping[str, Any],
        *,
        day: dt.date | None = None,
        confirm: bool = False,
    ) -> Recorded:
        """Check, store and review one new entry (default day: today). A check-in made today
        without a time gets the time it was made."""
        when = day or self.today_date()
        with self._change(user_id) as unit:
            new = self._checked(unit, entry, when, None, confirm)
            now = self.now()
            if isinstance(new, CheckinEntry) and new.time is None and when == now.date():
                new = new.model_copy(update={"time": now.strftime("%H:%M")})
            return self._done(unit, self._add(unit, when, new), None)

    def take(
        self,
        user_id: int,
        *,
        planned_time: str | None = None,
        drug: str | None = None,
        mg: float | None = None,
        status: Literal["taken", "missed", "extra"] = "taken",
        time: str | None = None,
        note: str = "",
        day: dt.date | None = None,
        confirm: bool = False,
    ) -> Recorded:
        """Record a planned dose as taken or missed (the one at ``planned_time``, else the
        next one not yet recorded), or an extra dose; amounts default to the plan's."""
        when = day or self.today_date()
        with self._change(user_id) as unit:
            drug_id = self._drug_id(drug) if drug else None
            data = self._dose_data(unit, when, planned_time, drug_id, mg, status)
            if time is None and status != "missed":
                now = self.now()
                time = now.strftime("%H:%M") if when == now.date() else data["planned_time"]
            data |= {"time": time if status != "missed" else None, "note": note}
            new = self._checked(unit, data, when, None, confirm)
            return self._done(unit, self._add(unit, when, new), None)

    def correct(
        self,
        user_id: int,
        uid: str,
        changes: JournalEntry | Mapping[str, Any],
        *,
        day: dt.date | None = None,
        reason: str = "",
        confirm: bool = False,
    ) -> Recorded:
        """Append a corrected revision of entry ``uid`` (the earlier one stays in its history).

        ``changes``: a whole entry, or the fields to change. ConflictError when ``uid`` is no
        longer the entry's newest revision (changed or retracted meanwhile)."""
        why = _reason(reason, required=False)
        with self._change(user_id) as unit:
            old = unit.repo.entry(user_id, uid)
            if old.deleted or isinstance(old.entry, UnreadableEntry):
                raise InputError(
                    f"Entry {old.uid[:8]} cannot be corrected"
                    + (" (it is a retraction)." if old.deleted else "; retract it instead.")
                )
            if isinstance(changes, Mapping):
                changes = {**old.entry.model_dump(), **changes, "kind": old.kind}
            when = day or old.day
            new = self._checked(unit, changes, when, old.uid, confirm)
            if new == old.entry and when == old.day:
                raise InputError("Nothing changes: the entry already says that.")
            rec = unit.repo.revise(user_id, old.uid, new, when, reason=why)
            return self._done(unit, rec, old.uid, old.day)

    def retract(self, user_id: int, uid: str, *, reason: str) -> Recorded:
        """Withdraw entry ``uid`` (e.g. entered twice): it leaves the journal, not the history;
        the rules are reviewed again (a hold it started is lifted)."""
        why = _reason(reason, required=True)
        with self._change(user_id) as unit:
            rec = unit.repo.revise(user_id, uid, None, None, reason=why)
            return self._done(unit, rec, rec.supersedes_uid)

    # ------------------------------------------------------------------ helpers

    def _drug_id(self, name: str) -> str:
        try:
            return self.catalogue.drug(name).id
        except UnknownDrugError as exc:
            problem = notice(
                "dose_unknown_drug", "caution", field="drug", name=name, suggestions=exc.suggestions
            )
            raise EntryError(exc.message, problems=[problem], field="drug") from None

    def _add(self, unit: _Unit, day: dt.date, entry: JournalEntry) -> EntryRecord:
        """Store a new entry, linked to the plan version in force when it was recorded."""
        linked = unit.active.uid if unit.active else None
        return unit.repo.add_entry(unit.user_id, day, entry, plan_version_uid=linked)

    def _context(
        self, unit: _Unit, day: dt.date, exclude: str | None, *, doses: bool = False
    ) -> EntryContext:
        """What checking an entry on ``day`` needs; the day's doses (without ``exclude``) only
        with ``doses``: the questions about a dose are their one reader."""
        infos = unit.infos
        recorded = []
        if doses:
            if exclude is None:  # a new dose: no uid needed, the documents alone
                if day not in unit.doses:
                    rows = unit.repo.documents(unit.user_id, kind="dose", start=day, end=day)
                    unit.doses[day] = [e for _, e in rows if isinstance(e, DoseEntry)]
                recorded = unit.doses[day]
            else:
                records = unit.repo.entries(unit.user_id, kind="dose", start=day, end=day)
                recorded = [
                    r.entry for r in records if isinstance(r.entry, DoseEntry) and r.uid != exclude
                ]
        maxima = {d.id: d.max_daily_mg.high for d in self.catalogue}
        return EntryContext(
            today=self.today_date(),
            book=self.book,
            first_plan_start=min((v.effective_from for v in infos), default=None),
            plan=unit.active.plan if unit.active else None,
            max_daily_mg=maxima,
            day_doses=recorded,
        )

    def _checked(
        self,
        unit: _Unit,
        entry: JournalEntry | Mapping[str, Any],
        day: dt.date,
        exclude: str | None,
        confirm: bool,
    ) -> JournalEntry:
        """The entry, checked: problems refuse it, questions wait for ``confirm``."""
        new = parse_entry(entry) if isinstance(entry, Mapping) else entry
        if isinstance(new, DoseEntry):
            new = new.model_copy(update={"drug": self._drug_id(new.drug)})
        asks = isinstance(new, DoseEntry) and not confirm
        ctx = self._context(unit, day, exclude, doses=asks)
        problems = entry_problems(new, day, ctx)
        if problems:
            raise EntryError(
                " ".join(notice_text(p, self.book) for p in problems),
                problems=problems,
                field=problems[0].field,
            )
        if isinstance(new, DoseEntry) and asks:
            questions = dose_questions(new, day, ctx)
            if questions:
                raise ConfirmationRequired(
                    " ".join(notice_text(q, self.book) for q in questions), questions=questions
                )
        return new

    def _dose_data(
        self,
        unit: _Unit,
        day: dt.date,
        planned_time: str | None,
        drug: str | None,
        mg: float | None,
        status: str,
    ) -> dict[str, Any]:
        """The dose entry ``take`` records: the planned dose it is, and the amounts."""
        planned = planned_doses(unit.active.plan, day) if unit.active else []
        recorded = [
            (r.uid, r.entry)
            for r in unit.repo.entries(unit.user_id, kind="dose", start=day, end=day)
            if isinstance(r.entry, DoseEntry)
        ]
        unit.doses[day] = [e for _, e in recorded]
        matched = match_doses(planned, recorded)
        slot = None
        if status != "extra":
            if planned_time:
                slot = matched.slot_at(planned_time, drug)
                if slot is None:
                    problem = notice(
                        "dose_not_planned_at",
                        "caution",
                        field="planned_time",
                        time=planned_time,
                        day=day,
                    )
                    raise EntryError(notice_text(problem), problems=[problem], field="planned_time")
            else:
                slot = next(
                    (
                        s
                        for s in matched.slots
                        if s.status == "open" and drug in (None, s.dose.drug)
                    ),
                    None,
                )
        target = slot.dose if slot else None
        if (mg is None or drug is None) and target is None:
            kind = "dose_no_target" if mg is None else "dose_no_drug"
            problem = notice(kind, "caution", field="mg" if mg is None else "drug", day=day)
            raise EntryError(notice_text(problem), problems=[problem], field=problem.field)
        amount = mg if mg is not None else (target.mg if target else 0.0)
        return {
            "kind": "dose",
            "status": status,
            "drug": drug or (target.drug if target else ""),
            "mg": 0.0 if status == "missed" else amount,
            "planned_time": target.time if target else None,
            "planned_mg": target.mg if target else None,
        }

    def _done(
        self,
        unit: _Unit,
        rec: EntryRecord,
        replaces: str | None,
        moved_from: dt.date | None = None,
    ) -> Recorded:
        """The one review after every change, and what the entry derives (scores, sleep).
        ``moved_from``: the day a correction moved the entry from."""
        today = self.today_date()
        before = summary.kept_status(unit.repo.s, unit.user_id, today)
        reviewer = self.reviewer()
        if rec.kind in summary.NOT_CHECKINS:  # the check-ins are as the last review read them
            reviewer.kept = summary.kept_checkins(unit.repo.s, unit.user_id, today)
        summary.after_change(unit.repo.s, unit.user_id, self.book, rec, replaces)
        review = reviewer.review(unit.repo, unit.user_id, today, (unit.active, unit.infos))
        days = {rec.day} if moved_from is None else {rec.day, moved_from}
        status = self._status_after(unit, rec, days, today, before, reviewer, review)
        summary.store_alerts(unit.repo.s, unit.user_id, status, reviewer.read)
        scores: dict[str, ScaleScore] = {}
        sleep: SleepMetrics | None = None
        notices: list[Notice] = []
        if isinstance(rec.entry, CheckinEntry) and not rec.deleted:
            for scale, items in rec.entry.scales().items():
                scored = try_score(self.book, scale, items)
                if scored is not None:
                    scores[scale] = scored
            if rec.entry.danger_signs:
                notices.append(notice("urgent_danger_sign", "danger"))
            if any(s.crisis for s in scores.values()):
                notices.append(notice("crisis_support", "danger"))
        if isinstance(rec.entry, SleepEntry) and not rec.deleted:
            sleep = sleep_metrics(rec.entry)
        return Recorded(
            entry=rec, replaces=replaces, scores=scores, sleep=sleep, notices=notices, review=review
        )

    def _status_after(
        self,
        unit: _Unit,
        rec: EntryRecord,
        days: set[dt.date],
        today: dt.date,
        before: Status | None,
        reviewer: Reviewer,
        review: Review,
    ) -> Status:
        """Today's status after the change ``rec`` (on ``days``) and its review: derived from
        ``before``, the status before the change, when the change moves one part of it only
        (``summary.status_after``; a check-in: the parts that read check-ins made again,
        ``summary.status_after_checkins``); else computed, on the check-ins the review has just
        read when it left the plan as it was."""
        if review.new_version is not None or review.lifted:
            return summary.status_of(unit.repo, unit.user_id, today, self.rules, self.book)
        known = (unit.active, unit.infos)
        if before is not None:
            read = unit.doses.get(rec.day)
            doses = None
            if read is not None and isinstance(rec.entry, DoseEntry) and days == {rec.day}:
                doses = [*read, rec.entry]  # a new dose: the day's as read, then this one
            derived = summary.status_after(
                unit.repo, unit.user_id, before, rec, days, unit.active, doses
            )
            if derived is None and rec.kind == "checkin":
                derived = summary.status_after_checkins(
                    unit.repo, unit.user_id, before, known, self.rules, self.book, reviewer.read
                )
            if derived is not None:
                return derived
        return summary.status_of(
            unit.repo, unit.user_id, today, self.rules, self.book, known, reviewer.read
        )

    def _plan_saved(self, repo: JournalRepository, user_id: int) -> None:
        """The summary after a new plan version (its alerts change; its slots do not)."""
        summary.plan_saved(repo.s, user_id, self.book)
        self._store_alerts(repo, user_id)

    def _store_alerts(self, repo: JournalRepository, user_id: int) -> None:
        """The person's alerts after a new plan version, for the clinician list (same
        transaction)."""
        status = summary.status_of(repo, user_id, self.today_date(), self.rules, self.book)
        summary.store_alerts(repo.s, user_id, status)

    def reviewer(self) -> Reviewer:
        return Reviewer(self.rules, self.book, self.planner)


def _reason(text: str, *, required: bool) -> str:
    text = text.strip()
    if required and not text:
        raise InputError("Say why (the reason is kept in the entry's history).", field="reason")
    if len(text) > MAX_REASON:
        raise InputError(
            f"The reason is {len(text)} characters long; at most {MAX_REASON}.", field="reason"
        )
    return text
