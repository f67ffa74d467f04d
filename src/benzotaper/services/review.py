"""Applying the adaptive rules after a change to the journal (the service's one review).

:func:`review` decides for today on the active plan and, when the decision asks for it, saves a
new plan version made by the planner with the modified request (a hold, a longer hold, or a
slower resumption), with the reason. When the check-ins that started the current hold are gone
(corrected or retracted), the hold is lifted: the plan in force before it is saved again as a
new version (and the rules then run on it as on any day). It never changes a plan after a
danger sign and never raises a dose. It runs inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from pydantic import BaseModel

from benzotaper.errors import BenzotaperError
from benzotaper.journal.adaptive import (
    AdaptiveRules,
    Decision,
    checkins_needed_from,
    decide,
    held_request,
    resumed_request,
)
from benzotaper.journal.entries import CheckinEntry
from benzotaper.journal.notices import notice
from benzotaper.journal.scales import ScaleBook
from benzotaper.journal.wording import worded
from benzotaper.planning.models import Plan, PlanRequest
from benzotaper.storage.journal import JournalRepository, PlanRecord, VersionInfo

#: Makes a plan from a request (the planning engine's make_plan, with the catalogue bound).
Planner = Callable[[PlanRequest, dt.date], Plan]
Checkins = list[tuple[dt.date, CheckinEntry]]
_HOLDING = ("hold", "return")


class Review(BaseModel):
    """What the review after a change did: the decision, and any new plan version."""

    decision: Decision | None = None
    new_version: VersionInfo | None = None
    lifted: bool = False


def hold_chain(infos: Sequence[VersionInfo]) -> list[VersionInfo]:
    """The adaptive hold versions ending at the active one, oldest first (empty: no hold)."""
    by_uid = {v.uid: v for v in infos}
    v = next((v for v in infos if v.active), None)
    chain: list[VersionInfo] = []
    while v is not None and v.decision is not None and v.decision.kind in _HOLDING:
        chain.insert(0, v)
        v = by_uid.get(v.previous_uid) if v.previous_uid else None
    return chain


def hold_since(infos: Sequence[VersionInfo]) -> dt.date | None:
    """The day the current adaptive hold began (None: the active plan is not holding)."""
    chain = hold_chain(infos)
    return chain[0].decision.on if chain and chain[0].decision else None


def checkins(
    repo: JournalRepository, user_id: int, start: dt.date | None, end: dt.date
) -> Checkins:
    rows = repo.documents(user_id, kind="checkin", start=start, end=end)
    return [(day, entry) for day, entry in rows if isinstance(entry, CheckinEntry)]


class Reviewer:
    """The rules, the scale definitions and the planner, bound for one review."""

    def __init__(self, rules: AdaptiveRules, book: ScaleBook, planner: Planner) -> None:
        self.rules, self.book, self.planner = rules, book, planner
        #: The check-ins the last review read: from which day, and every one from it to today
        #: (None: it read none). Status after an unchanged plan reads the same days.
        self.read: tuple[dt.date, Checkins] | None = None
        #: What an earlier review read, when the caller knows the check-ins have not changed
        #: since (a change that is no check-in): used when it starts on the same day.
        self.kept: tuple[dt.date, Checkins] | None = None

    def review(
        self,
        repo: JournalRepository,
        user_id: int,
        today: dt.date,
        known: tuple[PlanRecord | None, list[VersionInfo]] | None = None,
    ) -> Review:
        """``known``: the active plan and the version list, when the caller has just read them
        in this transaction (so they are not read twice)."""
        active, infos = known or (repo.active_plan(user_id), repo.version_infos(user_id))
        if active is None:
            return Review()
        chain = hold_chain(infos)
        since = chain[0].decision.on if chain and chain[0].decision else None
        base = self._base(repo, user_id, chain)
        start = checkins_needed_from(active.plan, today, self.rules, since)
        if since is not None and base is not None:
            start = min(start, checkins_needed_from(base.plan, since, self.rules, None))
        if self.kept is not None and self.kept[0] == start:
            found = self.kept[1]
        else:
            found = checkins(repo, user_id, start, today)
        self.read = (start, found)
        if (
            since is not None
            and base is not None
            and not self._still_called_for(base, found, since)
        ):
            return self._lift(repo, user_id, base, found, today, since)
        decision = decide(active.plan, found, today, self.rules, self.book, since)
        return self._apply(repo, user_id, active, decision, today)

    def _base(
        self, repo: JournalRepository, user_id: int, chain: list[VersionInfo]
    ) -> PlanRecord | None:
        """The plan version in force before the hold began."""
        if not chain or chain[0].previous_uid is None:
            return None
        return repo.plan_version(user_id, chain[0].previous_uid)

    def _still_called_for(self, base: PlanRecord, found: Checkins, since: dt.date) -> bool:
        """Would the check-ins as they stand now have started the hold on its first day?"""
        replay = decide(base.plan, found, since, self.rules, self.book, None)
        return replay.kind in (*_HOLDING, "urgent")

    def _lift(
        self,
        repo: JournalRepository,
        user_id: int,
        base: PlanRecord,
        found: Checkins,
        today: dt.date,
        since: dt.date,
    ) -> Review:
        """Take the hold back: the plan before it, unless today's check-ins call for a new one."""
        fresh = decide(base.plan, found, today, self.rules, self.book, None)
        if fresh.kind == "urgent":  # never change a plan on its own after a danger sign
            return Review(decision=fresh)
        if fresh.replan and fresh.kind in _HOLDING:
            return self._apply(repo, user_id, base, fresh, today, force=True)
        lift = worded(
            Decision(
                kind="lift",
                on=today,
                hold=False,
                replan=True,
                hold_since=since,
                rules_version=self.rules.version,
            ),
            self.book,
        )
        record = repo.save_plan(
            user_id,
            base.plan,
            reason=lift.reason,
            origin="adaptive",
            effective_from=today,
            decision=lift,
        )
        return Review(decision=lift, new_version=record, lifted=True)

    def _apply(
        self,
        repo: JournalRepository,
        user_id: int,
        active: PlanRecord,
        decision: Decision,
        today: dt.date,
        force: bool = False,
    ) -> Review:
        """Save the new plan version the decision asks for (none for urgent care)."""
        if not decision.replan or decision.kind == "urgent":
            return Review(decision=decision, lifted=force)
        if decision.kind == "resume":
            request = resumed_request(active.request, active.plan, today, self.rules)
        else:
            request = held_request(active.request, active.plan, decision)
        try:
            plan = self.planner(request, today)
        except BenzotaperError as exc:
            # e.g. a hold inside a crossover: keep everything as it is and say so
            refused = notice("replan_refused", "caution", message=exc.message)
            kept = worded(
                decision.model_copy(update={"notices": [*decision.notices, refused]}), self.book
            )
            return Review(decision=kept, lifted=force)
        record = repo.save_plan(
            user_id,
            plan,
            reason=decision.reason,
            origin="adaptive",
            effective_from=today,
            decision=decision,
        )
        return Review(decision=decision, new_version=record, lifted=force)
