"""CDS Hooks patient-view answer time: the 72-year-old on lorazepam 1 mg twice daily, prefetch
only (no FHIR server), through the whole app (HTTP in-process: routing, JSON, reading the FHIR
data, the plan, the cards with their draft MedicationRequests).

CDS clients wait a few hundred ms; the target is a median under 100 ms. Baseline in the same
process: making the same plan alone (``make_plan``), so the ratio shows what the hook adds.
Prints the figures and, last, ``cds_patient_view_median_ms=<x>``.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from benzotaper.catalogue import default_catalogue
from benzotaper.knowledge import knowledge_for
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import Administration, PersonFactors, PlanRequest, Preferences
from benzotaper.web import WebSettings, create_app

RUNS = 60
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def request_body(today: dt.date) -> dict[str, Any]:
    request = {
        "resourceType": "MedicationRequest", "id": "lorazepam-bid", "status": "active",
        "intent": "order", "subject": {"reference": "Patient/p72"},
        "authoredOn": (today - dt.timedelta(days=430)).isoformat(),
        "medicationCodeableConcept": {"coding": [
            {"system": RXNORM, "code": "197901", "display": "lorazepam 1 MG Oral Tablet"}]},
        "dosageInstruction": [{
            "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d",
                                  "timeOfDay": ["08:00:00", "20:00:00"]}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet",
                                              "system": "http://unitsofmeasure.org",
                                              "code": "{tbl}"}}]}],
    }  # fmt: skip
    born = today.replace(year=today.year - 72) - dt.timedelta(days=30)
    return {
        "hook": "patient-view", "hookInstance": "bench",
        "context": {"patientId": "p72", "userId": "Practitioner/1"},
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": "p72", "birthDate": born.isoformat()},
            "medications": {"resourceType": "Bundle", "type": "searchset",
                            "entry": [{"resource": request}]},
            "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
        },
    }  # fmt: skip


def timed(run: Any) -> list[float]:
    run()  # warm-up: first call loads the catalogue, rules and FHIR models
    out = []
    for _ in range(RUNS):
        start = time.perf_counter()
        run()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    today = dt.date.today()
    catalogue = default_catalogue()
    body = request_body(today)
    plan_request = PlanRequest(
        regimen=[Administration(drug="lorazepam", mg=1, time=t) for t in ("08:00", "20:00")],
        person=PersonFactors(age=72, years_on_drug=1.18),
        preferences=Preferences(start=today + dt.timedelta(days=1)),
    )
    knowledge = knowledge_for(catalogue)
    baseline = timed(lambda: make_plan(plan_request, knowledge, today=today))
    with tempfile.TemporaryDirectory() as tmp:
        settings = WebSettings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        with TestClient(create_app(settings)) as client:

            def call() -> None:
                r = client.post("/cds-services/benzotaper-patient-view", json=body)
                assert r.status_code == 200 and r.json()["cards"], r.text

            hook = timed(call)
    median, p95 = statistics.median(hook), sorted(hook)[int(RUNS * 0.95) - 1]
    base = statistics.median(baseline)
    print(f"make_plan alone (baseline): median {base:.1f} ms")
    print(f"patient-view over HTTP:     median {median:.1f} ms, p95 {p95:.1f} ms, "
          f"max {max(hook):.1f} ms ({RUNS} runs)")  # fmt: skip
    print(f"ratio to baseline: {median / base:.1f}x; target median < 100 ms: "
          f"{'met' if median < 100 else 'NOT met'}")  # fmt: skip
    print(f"cds_patient_view_median_ms={median:.1f}")


if __name__ == "__main__":
    main()
