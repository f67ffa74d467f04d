"""SMART App Launch 2 against the test EHR: EHR and standalone launch, PKCE, patient context,
the regimen read from FHIR, the plan sent back as draft MedicationRequests (or downloaded)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import requests
from fhir.resources.R4B.medicationrequest import MedicationRequest as R4BMedicationRequest

from benzotaper.catalogue import Catalogue
from benzotaper.ehr.fetch import fetcher
from benzotaper.ehr.hooks import answer
from benzotaper.ehr.rules import default_ehr_rules
from benzotaper.ehr.smart import can_write_medication_requests
from benzotaper.planning.risk import default_risk_rules
from tests.ehr.conftest import Clinic
from tests.ehr.fake_ehr import Token
from tests.ehr.samples import PATIENT_ID

#: Policy for the test: a shared 2-core machine can be slow (the builder's first chart warms up).
TIMEOUT = 180


def _chart_launch_url(session: requests.Session, clinic: Clinic) -> str:
    page = session.get(f"{clinic.ehr}/chart", timeout=TIMEOUT).text
    assert "a slow taper is ready" in page and "draft orders attached" in page
    match = re.search(r"class='launch' href='([^']+)'", page)
    assert match
    return match.group(1).replace("&amp;", "&")


def _approve(session: requests.Session, page: requests.Response) -> requests.Response:
    assert page.status_code == 200 and "Test EHR" in page.text, page.text
    action = re.search(r"action='([^']+)'", page.text)
    assert action
    return session.post(page.url.split("/authorize")[0] + action.group(1).replace("&amp;", "&"),
                        timeout=TIMEOUT)  # fmt: skip


def test_ehr_launch_reads_the_regimen_and_sends_the_plan_back(clinic: Clinic) -> None:
    session = requests.Session()
    authorize = session.get(_chart_launch_url(session, clinic), timeout=TIMEOUT)
    assert "code_challenge_method=S256" in authorize.url and "launch=" in authorize.url
    assert "aud=" in authorize.url
    app = _approve(session, authorize)
    assert app.url.startswith(f"{clinic.benzotaper}/smart/app"), app.url
    assert "Lorazepam 1 mg at 08:00" in app.text and "Lorazepam 1 mg at 20:00" in app.text
    assert "Age 72" in app.text
    assert "Send to the EHR as draft orders" in app.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', app.text)
    assert token
    form = {"csrf_token": token.group(1), "action": "send", "pace": ""}
    sent = session.post(f"{clinic.benzotaper}/smart/send", timeout=TIMEOUT, data=form)
    assert sent.status_code == 200, sent.text
    assert "draft MedicationRequest(s) were created" in sent.text
    created = clinic.state.created
    assert len(created) >= 3
    for resource in created:
        assert resource["status"] == "draft"
        assert resource["subject"] == {"reference": f"Patient/{PATIENT_ID}"}
        R4BMedicationRequest.model_validate({k: v for k, v in resource.items() if k != "id"})
    sequences = [r["dosageInstruction"][0]["sequence"] for r in created]
    assert sequences == sorted(sequences)
    builder = session.get(f"{clinic.benzotaper}/smart/builder", timeout=TIMEOUT)
    assert builder.status_code == 200 and "Filled in from the EHR record" in builder.text
    assert 'value="lorazepam' in builder.text.lower() or "Lorazepam" in builder.text


def test_standalone_launch_and_read_only_scope_offer_the_download(
    read_only_clinic: Clinic,
) -> None:
    clinic = read_only_clinic
    session = requests.Session()
    authorize = session.get(
        f"{clinic.benzotaper}/smart/launch", params={"iss": f"{clinic.ehr}/fhir"}, timeout=TIMEOUT
    )
    assert "launch%2Fpatient" in authorize.url or "launch/patient" in authorize.url
    app = _approve(session, authorize)
    assert "Lorazepam 1 mg at 08:00" in app.text
    assert "Send to the EHR" not in app.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', app.text)
    assert token
    download = session.post(f"{clinic.benzotaper}/smart/send", timeout=TIMEOUT,
                            data={"csrf_token": token.group(1), "action": "send"})  # fmt: skip
    assert download.headers["content-type"].startswith("application/fhir+json")
    bundle: dict[str, Any] = download.json()
    assert bundle["resourceType"] == "Bundle" and bundle["entry"]
    assert clinic.state.created == []


def test_a_wrong_state_or_an_unknown_launch_is_refused(clinic: Clinic) -> None:
    session = requests.Session()
    r = session.get(f"{clinic.benzotaper}/smart/callback",
                    params={"code": "x", "state": "y"}, timeout=TIMEOUT)  # fmt: skip
    assert r.status_code == 400 and "did not complete" in r.text
    authorize = session.get(f"{clinic.benzotaper}/smart/launch",
                            params={"iss": f"{clinic.ehr}/fhir", "launch": "nope"},
                            timeout=TIMEOUT)  # fmt: skip
    assert authorize.status_code == 400  # the EHR refuses an unknown launch
    r = session.get(f"{clinic.benzotaper}/smart/launch", params={"iss": "ftp://x"}, timeout=TIMEOUT)
    assert r.status_code == 422


def test_cds_fetches_what_prefetch_lacks_from_the_fhir_server(
    clinic: Clinic, catalogue: Catalogue
) -> None:
    clinic.state.tokens["cds-token"] = Token("cds-token", "patient/Patient.r "
                                             "patient/MedicationRequest.rs patient/Condition.rs",
                                             PATIENT_ID)  # fmt: skip
    body = {
        "hook": "patient-view", "hookInstance": "i-1",
        "context": {"patientId": PATIENT_ID, "userId": "Practitioner/dr-1"},
        "fhirServer": f"{clinic.ehr}/fhir",
        "fhirAuthorization": {"access_token": "cds-token", "token_type": "Bearer",
                              "expires_in": 300, "scope": "patient/*.read", "subject": "bt"},
    }  # fmt: skip
    r = requests.post(f"{clinic.benzotaper}/cds-services/benzotaper-patient-view", json=body,
                      timeout=TIMEOUT)  # fmt: skip
    assert r.status_code == 200, r.text
    assert any("Age 72" in c["summary"] for c in r.json()["cards"])
    # a server not in BENZOTAPER_CDS_FHIR_SERVERS is never asked
    out = answer("benzotaper-patient-view", {**body, "prefetch": None}, catalogue,
                 default_ehr_rules(), default_risk_rules(), today=dt.date.today(),
                 app_url="x", source_url="y", fetch=fetcher(body))  # fmt: skip
    assert out["cards"]


@pytest.mark.parametrize(
    ("scope", "writes"),
    [("patient/MedicationRequest.rs", False), ("patient/MedicationRequest.c", True),
     ("user/MedicationRequest.write", True), ("patient/*.cruds", True),
     ("patient/Patient.c", False), ("patient/MedicationRequest.read", False)],
)  # fmt: skip
def test_write_scopes(scope: str, writes: bool) -> None:
    assert can_write_medication_requests(scope) is writes
