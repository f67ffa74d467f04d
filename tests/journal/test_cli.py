"""Journal commands on a tmp SQLite file, in-process (tests/cli.py) with the test's clock; the
interactive check-in through the real entry point."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benzotaper.catalogue import default_catalogue
from benzotaper.cli import app
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from tests.cli import Ran, run_cli
from tests.journal.conftest import Clock
from tests.journal.factory import request, stub_plan

BIN = Path(sys.executable).with_name("benzotaper")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


def cli(url: str, *args: str, ok: bool = True) -> Ran:
    """In-process; tests that write with dates take the ``clock`` fixture."""
    proc = run_cli(*args, env={"BENZOTAPER_DATABASE_URL": url})
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


run = cli


def journal_on(url: str, clock: Clock | None = None) -> JournalService:
    db = Database(url)
    db.upgrade()
    return JournalService(db, default_catalogue(), now=clock or Clock())


def seed_plan(url: str) -> None:
    journal = journal_on(url)
    journal.save_plan(journal.local_user(), stub_plan(request(10)), reason="first")
    journal.db.dispose()


def test_a_day_of_journal_commands(url: str, tmp_path: Path, clock: Clock) -> None:
    assert "No saved plan" in run(url, "status").stdout
    seed_plan(url)
    today = run(url, "today", "--date", "2026-01-16").stdout
    assert "4.5" in today and "2.25 × 2 mg tablet" in today and "prescriber" in today

    run(url, "take", "--date", "2026-01-16", "--time", "08:05")
    run(url, "take", "--date", "2026-01-16", "--missed")
    taken = json.loads(
        run(
            url,
            "take",
            "--date",
            "2026-01-16",
            "--extra",
            "--mg",
            "1",
            "--drug",
            "diazepam",
            "--json",
        ).stdout
    )
    assert taken["entry"]["entry"]["status"] == "extra"

    out = json.loads(
        run(
            url,
            "checkin",
            "--date",
            "2026-01-16",
            "--ciwa-b",
            ",".join(["1"] * 22),
            "--quick",
            "anxiety=5,insomnia=7",
            "--gad7",
            "3,3,3,3,3,0,0",
            "--json",
        ).stdout
    )
    assert out["scores"]["ciwa-b"]["total"] == 22 and out["scores"]["ciwa-b"]["band"] is None
    assert out["scores"]["gad-7"]["band"] == "severe"
    assert out["entry"]["entry"]["quick"] == {"anxiety": 5, "insomnia": 7}

    sleep = run(
        url,
        "sleep",
        "--date",
        "2026-01-16",
        "--bed",
        "23:00",
        "--sol",
        "40",
        "--waso",
        "30",
        "--wake",
        "06:00",
        "--out",
        "06:30",
    ).stdout
    sleep = " ".join(sleep.split())
    assert "efficiency 77.8%" in sleep and "below the 85% target" in sleep
    run(url, "note", "--date", "2026-01-16", "--kind", "medicine", "melatonin", "--dose", "2 mg")

    st = json.loads(run(url, "status", "--on", "2026-01-16", "--json").stdout)
    assert st["plan_version"] == 1 and st["current_step"] == 1
    assert st["next_cut"] == "2026-01-29" and st["hold"] is False and st["hold_reason"] is None
    assert st["latest_scores"]["gad-7"]["total"] == 15
    assert st["latest_sleep"]["metrics"]["se_percent"] == 77.8
    day = st["adherence"]["days"][-1]
    assert (day["planned"], day["taken"], day["missed"], day["extra"]) == (2, 1, 1, 1)

    hist = json.loads(run(url, "history", "--date", "2026-01-16", "--json").stdout)
    assert [e["kind"] for e in hist["entries"]] == [
        "dose",
        "dose",
        "dose",
        "checkin",
        "sleep",
        "medicine",
    ]

    # export, then import into an empty database: the export is identical
    exported = tmp_path / "journal.json"
    run(url, "export-data", "--output", str(exported))
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    assert (
        "Imported 6 entries and 1 plan versions" in run(other, "import-data", str(exported)).stdout
    )
    assert run(other, "export-data").stdout == exported.read_text()
    refused = run(other, "import-data", str(exported), ok=False)
    assert refused.returncode == 1 and "already has data" in refused.stderr


def test_danger_signs_show_urgent_care(url: str, clock: Clock) -> None:
    seed_plan(url)
    out = " ".join(
        run(url, "checkin", "--date", "2026-01-16", "--danger", "seizure").stdout.split()
    )
    assert "URGENT" in out and "999" in out and "not changed automatically" in out
    st = json.loads(run(url, "status", "--on", "2026-01-17", "--json").stdout)
    assert st["hold"] is True and "Danger sign" in st["hold_reason"]
    assert st["plan_version"] == 1  # nothing changed on its own


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["checkin", "--ciwa-b", "1,2,3"], "CIWA-B needs 22 item scores, got 3"),
        (["checkin", "--quick", "anxiety=11"], "anxiety: 11 is outside 0-10"),
        (["checkin", "--danger", "headache"], "Unknown danger sign 'headache'"),
        (["checkin"], "Give at least one of"),
        (["take", "--date", "2026-13-01", "--mg", "1", "--drug", "x"], "YYYY-MM-DD"),
        (["take", "--mg", "1"], "Give --drug"),
        (["sleep", "--bed", "23:00", "--wake", "6:00", "--out", "07:00"], "HH:MM"),
        (["import-data", "/nonexistent.json"], "Cannot read"),
    ],
)
def test_bad_input_gets_a_clear_error(
    url: str, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # in-process (same app object as the entry point) to keep the suite quick
    monkeypatch.setenv("BENZOTAPER_DATABASE_URL", url)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_bad_database_url_is_a_clear_error() -> None:
    proc = run("mysql://nobody@nowhere/x", "status", ok=False)
    assert proc.returncode == 1 and "Unsupported database" in proc.stderr


def test_plan_save_then_high_checkins_hold_and_move_the_next_cut(url: str, clock: Clock) -> None:
    clock.at(dt.date(2026, 1, 16))
    saved = run(
        url,
        "plan",
        "--take",
        "diazepam 5 mg at 08:00",
        "--take",
        "diazepam 5 mg at 20:00",
        "--start",
        "2026-01-01",
        "--percent",
        "10",
        "--every",
        "14",
        "--save",
        "--reason",
        "agreed with Dr X",
        "--format",
        "json",
    )
    assert json.loads(saved.stdout)["summary"]["start"] == "2026-01-01"  # stdout stays JSON
    assert "Saved as plan version 1" in saved.stderr
    before = json.loads(run(url, "status", "--on", "2026-01-16", "--json").stdout)
    assert before["plan_version"] == 1 and before["next_cut"] == "2026-01-29"

    from tests.journal.test_adaptive import ciwa

    journal = journal_on(url, clock)
    me = journal.local_user()
    for i in range(8, 15):  # a calm week before the cut on 15 January
        journal.record(me, ciwa(4), day=dt.date(2026, 1, i))
    journal.db.dispose()
    high = ",".join(["4"] * 6 + ["0"] * 16)
    run(url, "checkin", "--date", "2026-01-16", "--ciwa-b", high)
    clock.at(dt.date(2026, 1, 17))
    out = run(url, "checkin", "--date", "2026-01-17", "--ciwa-b", high).stdout
    assert "HOLD" in out and "New plan version 2" in out

    st = json.loads(run(url, "status", "--on", "2026-01-17", "--json").stdout)
    assert st["plan_version"] == 2 and st["hold"] is True
    assert st["next_cut"] > "2026-01-29" and "Hold continues" in st["hold_reason"]
    # one next-cut date, in `today` and in `status` alike
    for command in (["today"], ["status"]):
        text = run(url, *command, "--date" if command == ["today"] else "--on", "2026-01-17")
        dates = {d for d in re.findall(r"\d{4}-\d\d-\d\d", text.stdout) if d > "2026-01-17"}
        assert dates == {st["next_cut"]}, text.stdout
    hist = json.loads(run(url, "history", "--date", "2026-01-17", "--json").stdout)
    assert [(v["version"], v["origin"], v["active"]) for v in hist["plan_versions"]] == [
        (1, "user", False),
        (2, "adaptive", True),
    ]
    assert hist["plan_versions"][0]["reason"] == "agreed with Dr X"
    assert "Significant withdrawal symptoms" in hist["plan_versions"][1]["reason"]


def run_with_input(url: str, answers: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENZOTAPER_DATABASE_URL": url, "COLUMNS": "200"}
    proc = subprocess.run(
        [str(BIN), *args],
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.both_backends  # the one real CLI process on PostgreSQL (tests/conftest.py)
def test_interactive_checkin_offers_every_scale(database_url: str) -> None:
    """Through the real entry point, answers on stdin; prompts on stderr with --json."""
    answers = [
        "quick, ciwa-b, BWSQ, gad7, phq-9",
        *["6", "8", "", "", "", "", "", ""],  # anxiety, insomnia, skip six
        "y",  # rate the other symptoms too
        *["4", *[""] * 11],  # palpitations
        "5",  # out of range for a CIWA-B item: asked again
        *["1"] * 22,
        "x",  # not a number: asked again
        *["2"] * 20,
        *["1"] * 7,
        *["0"] * 8,
        "1",  # PHQ-9 item 9: crisis information at once
        *["n"] * 5,  # no danger signs
    ]
    proc = run_with_input(database_url, answers, "checkin", "-i", "--json")
    out = json.loads(proc.stdout)  # stdout is only the JSON
    entry = out["entry"]["entry"]
    assert entry["quick"] == {"anxiety": 6, "insomnia": 8, "palpitations": 4}
    assert entry["danger_signs"] == []
    totals = {k: (v["total"], v["band"]) for k, v in out["scores"].items()}
    assert totals == {
        "ciwa-b": (22, None),
        "bwsq": (40, None),
        "gad-7": (7, "mild"),
        "phq-9": (1, "minimal"),
    }
    assert out["scores"]["phq-9"]["crisis"] is True
    assert "5 is outside 0-4" in proc.stderr and "'x' is not a whole number" in proc.stderr
    crisis = out["scores"]["phq-9"]["crisis_message"]
    assert "Samaritans" in crisis
    prompts_before_danger = proc.stderr[: proc.stderr.index("Since your last check-in")]
    assert crisis in " ".join(prompts_before_danger.split())  # shown at once, not only after


def test_interactive_phq9_item_9_always_shows_crisis_information(database_url: str) -> None:
    answers = ["phq-9", *["0"] * 8, "2", *["n"] * 5]  # total 2: "minimal", item 9 = 2
    out = run_with_input(database_url, answers, "checkin", "-i").stdout
    text = " ".join(out.split())
    assert "PHQ-9: 2/27 (minimal)" in text
    assert "988" in text and "Samaritans on 116 123" in text and "prescriber" in text


def test_interactive_checkin_cut_short_saves_nothing(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENZOTAPER_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["checkin", "-i"], input="gad-7\n1\n1\n")
    assert result.exit_code == 2
    assert "nothing was saved" in result.stderr
    journal = journal_on(url)
    assert journal.entries(journal.local_user()) == []
    journal.db.dispose()
