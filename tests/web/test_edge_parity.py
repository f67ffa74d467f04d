"""The three edges agree: the same entries through the CLI, the pages and the API give the same
stored rows, the same status and the same refusals (SQLite: all three edges call the journal
service, which tests/journal runs on PostgreSQL too).

Each edge gets its own person (the CLI's local user in its own database; a page user and an
API user in the web app's), the same plan, then the same day of journal: a quick check-in, a
GAD-7, a sleep diary night, a note and the morning dose taken. All three clocks are set to the
same moment.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.web import WebSettings
from benzotaper.web.routes.journal_edit import form_of
from tests.cli import Ran, run_cli

from .conftest import Visitor

NOW = dt.datetime.combine(dt.date.today(), dt.time(9, 30), tzinfo=dt.UTC)
TODAY = NOW.date()
YESTERDAY = TODAY - dt.timedelta(days=1)
START = TODAY - dt.timedelta(days=3)
TAKES = ["diazepam 10 mg at 08:00", "diazepam 5 mg at 22:00"]
REQUEST = {
    "regimen": [
        {"drug": "diazepam", "mg": 10, "time": "08:00"},
        {"drug": "diazepam", "mg": 5, "time": "22:00"},
    ],
    "person": {"age": 45, "years_on_drug": 3},
    "preferences": {"start": START.isoformat(), "percent": 10, "every_days": 14},
}
SLEEP = {
    "bed_time": "23:00",
    "sol_min": "30",
    "waso_min": "20",
    "final_wake_time": "06:30",
    "out_of_bed_time": "07:00",
}
GAD7 = [1, 2, 1, 0, 2, 1, 1]
NOTE = "Walked by the river."


@pytest.fixture
def clocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's and the web app's clocks at the same moment."""
    monkeypatch.setattr("benzotaper.cli.journal.clock", lambda: NOW.replace(tzinfo=None))
    monkeypatch.setattr("benzotaper.web.deps.now_for", lambda person: NOW)


def cli(url: str, *args: str) -> Ran:
    return run_cli(*args, env={"BENZOTAPER_DATABASE_URL": url})


# ----------------------------------------------------------------------------- the three edges


def through_cli(url: str) -> None:
    ok = [
        cli(url, "plan", "--take", TAKES[0], "--take", TAKES[1], "--start", START.isoformat(),
            "--percent", "10", "--every", "14", "--age", "45", "--years", "3", "--save"),
        cli(url, "checkin", "--quick", "anxiety=3,insomnia=5", "--date", YESTERDAY.isoformat()),
        cli(url, "checkin", "--gad7", ",".join(map(str, GAD7))),
        cli(url, "sleep", "--bed", SLEEP["bed_time"], "--sol", SLEEP["sol_min"], "--waso",
            SLEEP["waso_min"], "--wake", SLEEP["final_wake_time"], "--out",
            SLEEP["out_of_bed_time"]),
        cli(url, "note", NOTE),
        cli(url, "take", "--planned", "08:00"),
    ]  # fmt: skip
    assert [r.returncode for r in ok] == [0] * len(ok), [r.stderr for r in ok]


def through_pages(v: Visitor) -> None:
    form = {
        "drug_0": "diazepam",
        "dose_0": "10 mg",
        "time_0": "08:00",
        "drug_1": "diazepam",
        "dose_1": "5 mg",
        "time_1": "22:00",
        "strategy": "percent",
        "market": "us",
        "days_per_week": "7",
        "previous_attempts": "0",
        "age": "45",
        "years_on_drug": "3",
        "start": START.isoformat(),
        "percent": "10",
        "every_days": "14",
    }
    assert v.form("/plan/save", form).status_code == 200  # follows to My plan
    checkin = {"day": YESTERDAY.isoformat(), "q_anxiety": "3", "q_insomnia": "5"}
    assert v.form("/journal/checkin", checkin).status_code == 200
    items = {f"item_{i}": str(x) for i, x in enumerate(GAD7, start=1)}
    assert v.form("/journal/scales/gad-7", items).status_code == 200
    assert v.form("/journal/sleep", SLEEP).status_code == 200
    assert v.form("/journal/note", {"note_text": NOTE}).status_code == 200
    take = {"drug": "diazepam", "planned_time": "08:00", "status": "taken"}
    assert v.form("/today/take", take).status_code == 200


def through_api(v: Visitor) -> None:
    assert v.api("POST", "/api/plans", json={"request": REQUEST}).status_code == 201
    sent = [
        {"day": YESTERDAY.isoformat(), "entry": {"kind": "checkin",
                                                 "quick": {"anxiety": 3, "insomnia": 5}}},
        {"entry": {"kind": "checkin", "gad7": GAD7}},
        {"entry": {"kind": "sleep", **SLEEP}},
        {"entry": {"kind": "note", "note": NOTE}},
    ]  # fmt: skip
    for body in sent:
        r = v.api("POST", "/api/journal/entries", json=body)
        assert r.status_code == 201, r.text
    r = v.api("POST", "/api/journal/take", json={"planned_time": "08:00"})
    assert r.status_code == 201, r.text


# ----------------------------------------------------------------------------- comparing


def rows(journal: JournalService, user_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The stored entries, as an edge-independent list (day, kind, document)."""
    return sorted(
        (r.day.isoformat(), r.kind, r.entry.model_dump(mode="json"))
        for r in journal.entries(user_id)
    )


def status_of(data: dict[str, Any]) -> dict[str, Any]:
    """A status answer without what differs by database (uids)."""
    return {k: v for k, v in data.items() if k not in ("plan_uid",)}


@pytest.fixture
def web(
    make_visitor: Callable[[], Visitor], settings: WebSettings, clocks: None
) -> Iterator[tuple[Callable[[], Visitor], Database]]:
    """Visitors of one web app with the clocks set, and its database."""
    db = Database(settings.database_url)
    yield make_visitor, db
    db.dispose()


def test_the_same_day_through_each_edge_stores_the_same_and_says_the_same(
    web: tuple[Callable[[], Visitor], Database], databases: Any, catalogue: Any
) -> None:
    make, db = web
    pages, api = make(), make()
    page_user = pages.signup("pages@example.org")
    api_user = api.signup("api@example.org")
    through_pages(pages)
    through_api(api)
    cli_url = databases.new_url()
    through_cli(cli_url)

    cli_db = Database(cli_url)
    try:
        there = JournalService(cli_db, catalogue)
        cli_rows = rows(there, there.local_user())
    finally:
        cli_db.dispose()
    here = JournalService(db, catalogue)
    assert rows(here, page_user) == rows(here, api_user) == cli_rows
    assert [k for _, k, _ in cli_rows] == ["checkin", "checkin", "dose", "note", "sleep"]

    cli_status = json.loads(cli(cli_url, "status", "--json").stdout)
    api_status = api.client.get("/api/status").json()
    page_status = pages.client.get("/api/status").json()
    assert status_of(cli_status) == status_of(api_status) == status_of(page_status)
    assert api_status["adherence"]["days"][-1]["taken"] == 1
    assert api_status["latest_scores"]["gad-7"]["total"] == sum(GAD7)


REFUSED = [
    # (what, CLI args, page (url, form), API body, the words every edge shows)
    (
        "a day in the future",
        ["note", "x", "--date", (TODAY + dt.timedelta(days=2)).isoformat()],
        ("/journal/note", {"note_text": "x", "day": (TODAY + dt.timedelta(days=2)).isoformat()}),
        {"day": (TODAY + dt.timedelta(days=2)).isoformat(), "entry": {"kind": "note", "note": "x"}},
        "is in the future",
    ),
    (
        "a night that does not add up",
        ["sleep", "--bed", "23:00", "--sol", "30", "--waso", "600", "--wake", "06:00",
         "--out", "06:30"],
        ("/journal/sleep", {**SLEEP, "waso_min": "600", "final_wake_time": "06:00",
                            "out_of_bed_time": "06:30"}),
        {"entry": {"kind": "sleep", **SLEEP, "waso_min": 600, "final_wake_time": "06:00",
                   "out_of_bed_time": "06:30"}},
        "add up to more than the 420 minutes",
    ),
    (
        "a note over 5,000 characters",
        ["note", "n" * 5001],
        ("/journal/note", {"note_text": "n" * 5001}),
        {"entry": {"kind": "note", "note": "n" * 5001}},
        "5001 characters long; at most 5000",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("what", "args", "page", "body", "words"), REFUSED)
def test_each_edge_refuses_the_same_entry_with_the_same_words_and_stores_nothing(
    web: tuple[Callable[[], Visitor], Database],
    databases: Any,
    catalogue: Any,
    what: str,
    args: list[str],
    page: tuple[str, dict[str, str]],
    body: dict[str, Any],
    words: str,
) -> None:
    make, db = web
    v = make()
    me = v.signup(f"refused-{len(what)}@example.org")
    cli_url = databases.new_url()
    by_cli = cli(cli_url, *args)
    assert by_cli.returncode == 2 and words in " ".join(by_cli.stderr.split()), by_cli.stderr
    url, form = page
    by_page = v.form(url, form)
    assert by_page.status_code == 422 and words in by_page.text, what
    by_api = v.api("POST", "/api/journal/entries", json=body)
    assert by_api.status_code == 422 and words in by_api.text, by_api.text
    assert JournalService(db, catalogue).entries(me) == []
    cli_db = Database(cli_url)
    try:
        there = JournalService(cli_db, catalogue)
        assert there.entries(there.local_user()) == []
    finally:
        cli_db.dispose()


# ----------------------------------------------------------------------------- take and undo

UNDO = "Undone straight after tapping 'I took it'."  # the Today page's reason (web/today.py)
LESS = "Took 7 mg, not 9"


def plain(text: str) -> str:
    return " ".join(text.split())


def revisions(journal: JournalService, user_id: int) -> list[tuple[Any, ...]]:
    """Every revision (original, retraction, the dose taken again), edge-independent."""
    return sorted(
        (
            r.day.isoformat(),
            r.kind,
            r.deleted,
            r.reason,
            None if r.deleted else json.dumps(r.entry.model_dump(mode="json"), sort_keys=True),
        )
        for r in journal.entries(user_id, every_revision=True)
    )


def test_take_undo_and_take_again_give_the_same_rows_status_and_refusal(
    web: tuple[Callable[[], Visitor], Database], databases: Any, catalogue: Any
) -> None:
    """The morning dose taken, undone, taken again, then tapped once more (refused: already
    recorded) through each edge: the same revisions, the same status, nothing stored twice."""
    make, db = web
    pages, api = make(), make()
    page_user = pages.signup("take-pages@example.org")
    api_user = api.signup("take-api@example.org")
    cli_url = databases.new_url()

    # CLI
    plan = ["plan", "--take", TAKES[0], "--take", TAKES[1], "--start", START.isoformat(),
            "--percent", "10", "--every", "14", "--age", "45", "--years", "3",
            "--save"]  # fmt: skip
    assert cli(cli_url, *plan).returncode == 0
    first = json.loads(cli(cli_url, "take", "--planned", "08:00", "--json").stdout)
    uid = first["entry"]["uid"]
    assert cli(cli_url, "retract", uid[:8], "--reason", UNDO).returncode == 0
    assert cli(cli_url, "take", "--planned", "08:00").returncode == 0
    by_cli = cli(cli_url, "take", "--planned", "08:00")
    assert by_cli.returncode == 2 and "already recorded" in by_cli.stderr, by_cli.stderr
    uid = json.loads(cli(cli_url, "history", "--json").stdout)["entries"][0]["uid"]
    less = ["edit", uid[:8], "--set", "mg=7", "--reason", LESS]
    asked = cli(cli_url, *less)
    assert asked.returncode == 2 and "--confirm" in asked.stderr, asked.stderr
    assert cli(cli_url, *less, "--confirm").returncode == 0

    # pages (Today: tap, undo, tap, tap)
    assert pages.api("POST", "/api/plans", json={"request": REQUEST}).status_code == 201
    take = {"drug": "diazepam", "planned_time": "08:00", "status": "taken"}
    tapped = pages.form("/today/take", take, follow_redirects=False)
    assert tapped.status_code == 303 and "?undo=" in tapped.headers["location"]
    uid = tapped.headers["location"].split("?undo=")[1].split("#")[0]
    assert pages.form(f"/today/undo/{uid}", {}, follow_redirects=False).status_code == 303
    assert pages.form("/today/take", take, follow_redirects=False).status_code == 303
    again = pages.form("/today/take", take)
    assert again.status_code == 200 and "already recorded" in again.text
    uid = JournalService(db, catalogue).entries(page_user, kind="dose")[0].uid
    edit = {**form_of(JournalService(db, catalogue).entry(page_user, uid)), "reason": LESS}
    asked_page = pages.form(f"/journal/entries/{uid}/edit", {**edit, "mg": "7"})
    assert asked_page.status_code == 422 and "Yes, record it" in asked_page.text
    sure = {**edit, "mg": "7", "confirm": "true"}
    assert pages.form(f"/journal/entries/{uid}/edit", sure).status_code == 200

    # API
    assert api.api("POST", "/api/plans", json={"request": REQUEST}).status_code == 201
    r = api.api("POST", "/api/journal/take", json={"planned_time": "08:00"})
    assert r.status_code == 201, r.text
    gone = api.api("DELETE", f"/api/journal/entries/{r.json()['entry']['uid']}?reason={UNDO}")
    assert gone.status_code == 200, gone.text
    assert api.api("POST", "/api/journal/take", json={"planned_time": "08:00"}).status_code == 201
    r = api.api("POST", "/api/journal/take", json={"planned_time": "08:00"})
    assert r.status_code == 422 and "already recorded" in r.text
    uid = JournalService(db, catalogue).entries(api_user, kind="dose")[0].uid
    change = {"entry": {"mg": 7}, "reason": LESS}
    asked_api = api.api("PATCH", f"/api/journal/entries/{uid}", json=change)
    assert asked_api.status_code == 422 and "confirmation_required" in asked_api.text
    done = api.api("PATCH", f"/api/journal/entries/{uid}", json={**change, "confirm": True})
    assert done.status_code == 200, done.text
    # the same question, in the same words, from every edge
    assert plain(asked_api.json()["detail"][0]["msg"]) in plain(asked.stderr)

    cli_db = Database(cli_url)
    try:
        there = JournalService(cli_db, catalogue)
        cli_revisions = revisions(there, there.local_user())
        cli_rows = rows(there, there.local_user())
    finally:
        cli_db.dispose()
    here = JournalService(db, catalogue)
    assert revisions(here, page_user) == revisions(here, api_user) == cli_revisions
    assert [(kind, deleted, why) for _, kind, deleted, why, _ in cli_revisions] == [
        ("dose", False, ""),
        ("dose", False, ""),
        ("dose", False, LESS),
        ("dose", True, UNDO),
    ]
    assert rows(here, page_user) == rows(here, api_user) == cli_rows  # one dose, 7 mg
    cli_status = json.loads(cli(cli_url, "status", "--json").stdout)
    api_status = api.client.get("/api/status").json()
    page_status = pages.client.get("/api/status").json()
    assert status_of(cli_status) == status_of(api_status) == status_of(page_status)
    assert api_status["adherence"]["days"][-1]["taken"] == 1
