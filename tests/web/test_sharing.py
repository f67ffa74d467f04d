"""Sharing by invite code, revocation, the audit log, and that nobody reads what is not theirs."""

from __future__ import annotations

import re

import pytest

from .conftest import Visitor

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py


def _invite(patient: Visitor) -> str:
    r = patient.api("POST", "/api/shares")
    assert r.status_code == 201
    code: str = r.json()["code"]
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    return code


def test_invite_redeem_view_revoke(make_visitor) -> None:  # type: ignore[no-untyped-def]
    patient, clinician = make_visitor(), make_visitor()
    pid = patient.signup("pat@example.org", name="Pat")
    clinician.signup("doc@example.org", role="clinician", name="Dr Doc")

    # No share yet: the patient does not exist as far as the clinician can tell.
    assert clinician.client.get(f"/api/patients/{pid}").status_code == 404
    assert clinician.client.get(f"/clinician/patients/{pid}").status_code == 404

    code = _invite(patient)
    r = clinician.api("POST", "/api/patients", json={"code": code.lower().replace("-", " ")})
    assert r.status_code == 201 and r.json()["id"] == pid
    assert [p["id"] for p in clinician.client.get("/api/patients").json()] == [pid]
    page = clinician.client.get(f"/clinician/patients/{pid}")
    assert page.status_code == 200 and "Pat" in page.text

    # A code works once.
    other = make_visitor()
    other.signup("doc2@example.org", role="clinician")
    assert other.api("POST", "/api/patients", json={"code": code}).status_code == 422

    # The patient sees the share and who looked.
    shares = patient.client.get("/api/shares").json()
    assert shares[0]["status"] == "active" and shares[0]["clinician"] == "Dr Doc"
    account = patient.client.get("/account").text
    assert "Dr Doc (name not verified)" in account and "opened your plan and journal" in account
    # the clinician's list shows alerts: that look is audited too (page and API)
    assert "saw you in their patient list (with your alerts), through the API" in account

    # Revoke: access ends at once.
    r = patient.api("DELETE", f"/api/shares/{shares[0]['id']}")
    assert r.status_code == 204
    assert clinician.client.get(f"/api/patients/{pid}").status_code == 404
    assert clinician.client.get("/api/patients").json() == []


def test_revoke_from_the_account_page(make_visitor) -> None:  # type: ignore[no-untyped-def]
    patient, clinician = make_visitor(), make_visitor()
    pid = patient.signup("pat2@example.org")
    clinician.signup("doc3@example.org", role="clinician")
    page = patient.form("/account/invites", {})
    code = re.search(r'id="invite-code">([^<]+)<', page.text)
    assert code
    r = clinician.form("/clinician/redeem", {"code": code.group(1)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/clinician/patients/{pid}"
    share_id = patient.client.get("/api/shares").json()[0]["id"]
    r = patient.form(f"/account/shares/{share_id}/revoke", {}, follow_redirects=False)
    assert r.status_code == 303
    assert clinician.client.get(f"/clinician/patients/{pid}").status_code == 404


def test_bad_code_keeps_input(make_visitor) -> None:  # type: ignore[no-untyped-def]
    clinician = make_visitor()
    clinician.signup("doc4@example.org", role="clinician")
    r = clinician.form("/clinician/redeem", {"code": "AAAA-BBBB-CCCC"})
    assert r.status_code == 422 and "not valid" in r.text and 'value="AAAA-BBBB-CCCC"' in r.text


def test_another_patients_share_id_is_404(make_visitor) -> None:  # type: ignore[no-untyped-def]
    a, b = make_visitor(), make_visitor()
    a.signup("a@example.org")
    b.signup("b@example.org")
    _invite(a)
    a_share = a.client.get("/api/shares").json()[0]["id"]
    assert b.api("DELETE", f"/api/shares/{a_share}").status_code == 404
    assert b.form(f"/account/shares/{a_share}/revoke", {}).status_code == 404
    assert a.client.get("/api/shares").json()[0]["status"] == "pending"


def test_roles_are_enforced(make_visitor) -> None:  # type: ignore[no-untyped-def]
    patient, clinician, anon = make_visitor(), make_visitor(), make_visitor()
    patient.signup("role-p@example.org")
    clinician.signup("role-c@example.org", role="clinician")
    assert patient.client.get("/api/patients").status_code == 403
    assert patient.client.get("/clinician").status_code == 403
    assert clinician.api("POST", "/api/shares").status_code == 403
    assert anon.client.get("/api/patients").status_code == 401
    assert anon.client.get("/api/shares").status_code == 401


def test_path_ids_are_bounded(make_visitor) -> None:  # type: ignore[no-untyped-def]
    clinician = make_visitor()
    clinician.signup("bound@example.org", role="clinician")
    for bad in ("0", "-1", str(2**31), str(2**70), "abc"):
        assert clinician.client.get(f"/api/patients/{bad}").status_code == 422


def test_invite_code_is_shown_once_and_a_reload_makes_no_other(make_visitor) -> None:  # type: ignore[no-untyped-def]
    """Post/Redirect/Get: the code rides a signed one-time cookie to the account page."""
    patient, other = make_visitor(), make_visitor()
    patient.signup("once@example.org")
    other.signup("nosy@example.org")
    r = patient.form("/account/invites", {}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account?invite=1#invite"
    stolen = r.cookies["flash"]
    page = patient.client.get(r.headers["location"]).text
    assert re.search(r'id="invite-code">[A-Z2-9-]{14}<', page)
    again = patient.client.get("/account?invite=1").text  # a reload: the code is gone
    assert 'id="invite-code"' not in again and "can only be shown once" in again
    assert len(patient.client.get("/api/shares").json()) == 1
    # the cookie is signed for the patient's session: in another browser it shows nothing
    other.client.cookies.set("flash", stolen)
    assert 'id="invite-code"' not in other.client.get("/account?invite=1").text
