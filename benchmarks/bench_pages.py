"""Server time and weight of the pages a person opens every day (issue 14's page goals).

Sets up, in one process, a patient with a two-year plan that started a year ago and a year of
journal (two doses, a check-in and a sleep-diary night a day, written through the journal
service as the app writes them: each entry checked, linked to the plan version, the adaptive
rules reviewed), shared with a clinician. Then asks each page through the real app in-process
(Starlette's TestClient: every middleware, the session, the database; no network):

- My plan, Today, Journal (the patient), the clinician's patient view, the builder's live
  preview (an htmx POST of the same regimen);
- once cold (first request of the process for that page: plan versions parsed, templates
  compiled) and ``--runs`` times warm: p50 and p99 in ms;
- the page weight: the HTML in KiB as sent (pages are not compressed), images (charts) apart,
  as they are separate requests.

Goals: every page < 100 ms at the server, < 60 KiB. The load average is printed with the
figures: on a shared machine compare runs made at the same time, not across days.

    .venv/bin/python benchmarks/bench_pages.py [--runs 40]

Last line: ``pages_worst_p50_ms=<x> pages_worst_p99_ms=<y> pages_worst_kib=<z>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from bench_load import PREVIEW_FORM
from benzotaper.errors import EntryError
from benzotaper.journal.entries import CheckinEntry, SleepEntry
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest
from benzotaper.services.journal import JournalService
from benzotaper.storage import Database
from benzotaper.web import WebSettings, create_app

PASSWORD = "correct horse battery staple"
TODAY = dt.date.today()
PLAN_START = TODAY - dt.timedelta(days=365)
REGIMEN = [
    {"drug": "diazepam", "mg": 10, "time": "08:00"},
    {"drug": "diazepam", "mg": 10, "time": "20:00"},
]


@dataclass
class Page:
    name: str
    method: str
    path: str
    client: TestClient


def csrf(client: TestClient) -> str:
    token: str = client.get("/api/session").json()["csrf_token"]
    return token


def signup(client: TestClient, email: str, role: str) -> int:
    r = client.post(
        "/api/users",
        json={"email": email, "password": PASSWORD, "role": role, "display_name": role.title()},
        headers={"X-CSRF-Token": csrf(client)},
    )
    r.raise_for_status()
    user_id: int = r.json()["user"]["id"]
    return user_id


def write_year(db: Database, patient_id: int) -> None:
    """A two-year plan started a year ago, and a year of journal, through the journal service."""
    journal = JournalService(db, default_knowledge())
    request = PlanRequest.model_validate(
        {
            "regimen": REGIMEN,
            "person": {"age": 50, "years_on_drug": 5},
            "preferences": {"start": PLAN_START.isoformat(), "pace": "slow"},
        }
    )
    plan = make_plan(request, default_knowledge(), today=PLAN_START)
    journal.save_plan(patient_id, plan, reason="bench")
    print(f"plan: {plan.summary.start} to {plan.summary.end}, {len(plan.steps)} steps")
    t0 = time.perf_counter()
    for i in range(365):
        day = PLAN_START + dt.timedelta(days=i)
        for t in ("08:00", "20:00"):
            try:
                journal.take(patient_id, planned_time=t, day=day, time=t)
            except EntryError:  # no dose planned at that time any more
                journal.take(patient_id, status="extra", drug="diazepam", mg=1, day=day)
        quick = {"anxiety": i % 4, "insomnia": 2}
        journal.record(patient_id, CheckinEntry(quick=quick), day=day)
        sleep = SleepEntry(
            bed_time="23:00",
            sol_min=20,
            waso_min=20,
            final_wake_time="07:00",
            out_of_bed_time="07:10",
        )
        journal.record(patient_id, sleep, day=day)
    print(f"journal: 1460 entries written in {time.perf_counter() - t0:.1f} s")


def share(patient: TestClient, clinician: TestClient) -> None:
    code = patient.post("/api/shares", headers={"X-CSRF-Token": csrf(patient)}).json()["code"]
    r = clinician.post(
        "/api/patients", json={"code": code}, headers={"X-CSRF-Token": csrf(clinician)}
    )
    r.raise_for_status()


def ask(page: Page, token: str) -> tuple[float, float, int]:
    """One request: server time and CPU time in ms (in-process, so no network; CPU time is
    what the request cost, whatever else the machine runs) and the body's bytes."""
    t0, c0 = time.perf_counter(), time.process_time()
    if page.method == "GET":
        r = page.client.get(page.path)
    else:
        r = page.client.post(
            page.path, data={**PREVIEW_FORM, "csrf_token": token}, headers={"HX-Request": "true"}
        )
    ms, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
    if r.status_code != 200:
        raise SystemExit(f"{page.name}: {page.path} answered {r.status_code}")
    return ms, cpu, len(r.content)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def assets(client: TestClient, html: str) -> float:
    """KiB of the page's own CSS and JS as sent (gzipped; cached by the browser after once)."""
    total = 0
    for src in sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html))):
        r = client.get(src, headers={"Accept-Encoding": "gzip"})
        total += int(r.headers.get("content-length", len(r.content)))
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="warm requests per page")
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'pages.sqlite3'}"
    settings = WebSettings(database_url=url, push_reminders=False, login_max_failures=1000)
    app = create_app(settings)
    with TestClient(app) as patient, TestClient(app) as clinician:
        patient_id = signup(patient, f"pat-{os.urandom(4).hex()}@example.org", "patient")
        signup(clinician, f"doc-{os.urandom(4).hex()}@example.org", "clinician")
        write_year(app.state.db, patient_id)
        share(patient, clinician)
        pages = [
            Page("My plan", "GET", "/my-plan", patient),
            Page("Today", "GET", "/today", patient),
            Page("Journal", "GET", "/journal", patient),
            Page("patient view", "GET", f"/clinician/patients/{patient_id}", clinician),
            Page("preview", "POST", "/plan/preview", patient),
        ]
        token = csrf(patient)
        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f}")
        print(
            f"\n{'page':13s} {'cold':>7s} | server {'p50':>7s} {'p99':>7s} | "
            f"CPU {'p50':>7s} {'p99':>7s} | {'KiB':>6s}"
        )
        worst = (0.0, 0.0, 0.0)
        for page in pages:
            cold, _, size = ask(page, token)
            runs = [ask(page, token) for _ in range(args.runs)]
            wall, cpu = [r[0] for r in runs], [r[1] for r in runs]
            p50, p99 = statistics.median(wall), pct(wall, 0.99)
            kib = size / 1024
            print(
                f"{page.name:13s} {cold:5.0f}ms | {p50:12.0f}ms {p99:6.0f}ms | "
                f"{statistics.median(cpu):9.0f}ms {pct(cpu, 0.99):6.0f}ms | {kib:6.1f}"
            )
            worst = (max(worst[0], p50), max(worst[1], p99), max(worst[2], kib))
        static = assets(patient, patient.get("/my-plan").text)
        print(f"\nCSS+JS of a page (gzipped, cached after the first page): {static:.1f} KiB")
        load = os.getloadavg()
        print(f"load average after: {load[0]:.2f} {load[1]:.2f}")
    print(
        f"pages_worst_p50_ms={worst[0]:.0f} pages_worst_p99_ms={worst[1]:.0f} "
        f"pages_worst_kib={worst[2]:.1f}"
    )


if __name__ == "__main__":
    main()
