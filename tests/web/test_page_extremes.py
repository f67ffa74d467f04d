"""Every form the pages post, with extreme numbers and NUL characters: never a server error.

``test_schemathesis.py`` fuzzes the JSON API from its OpenAPI schema; the pages' forms are not
in that schema. Here the forms are read from the pages themselves (a patient's Today, Journal,
sleep diary, scales, builder, converter and account; a clinician's list and patient view), so a
field added to a page is fuzzed without touching this test. Each form is posted with its
fields as the page fills them, then with every number in it (and the builder's numbers, which
its options show) set to each of the values that broke planning and storage before, then with
a NUL in each text. Whatever the answer (a page naming the problem, a redirect), it is not 5xx.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

import pytest

from .conftest import Visitor
from .test_journal import plan_started

#: The values that broke planning and storage before (test_schemathesis.EXTREMES), and more a
#: form can carry as text: overflow to infinity, not-a-number, a negative, a huge integer.
EXTREMES = ("0.0001", "1e9", "-0", "-0.0", "1e309", "nan", "inf", "-1", "9" * 30)
#: The builder's numbers shown only with some options (a strategy, an override, home liquid).
BUILDER_NUMBERS = (
    "percent",
    "every_days",
    "step_mg",
    "dispense_days",
    "max_percent_per_14_days",
    "tablet_weight_mg",
)
BUILDER_OPTIONS = {
    "strategy": "linear",
    "override": "on",
    "reason": "agreed with my prescriber",
    "home_liquid": "on",
    "scale": "on",
}
#: Forms that end the session or need the password: fuzzing them only signs the visitor out.
NOT_FUZZED = ("/logout", "/account/sessions/end", "/account/password", "/account/delete")
#: Form fields that are not the visitor's input.
HIDDEN = ("csrf_token", "form_token")


class Form:
    def __init__(self, action: str) -> None:
        self.action = action
        self.fields: dict[str, str] = {}
        self.numbers: set[str] = set()
        self.texts: set[str] = set()


class Forms(HTMLParser):
    """The POST forms of a page: each field with the value the page gives it (checked boxes and
    the first submit button only), which of them are numbers and which free text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            post = a.get("method", "get").lower() == "post"
            self._form = Form(a["action"]) if post and a["action"] not in NOT_FUZZED else None
            if self._form is not None:
                self.forms.append(self._form)
            return
        form, name = self._form, a.get("name", "")
        if form is None or not name or name in HIDDEN or tag not in ("input", "textarea", "select"):
            return
        kind = a.get("type", tag)
        if kind in ("checkbox", "radio") and "checked" not in a:
            return
        if kind == "submit" and name in form.fields:
            return
        form.fields[name] = a.get("value", "")
        typed_number = _is_number(form.fields[name]) and kind not in ("submit", "radio")
        if kind == "number" or typed_number:
            form.numbers.add(name)
        elif kind in ("text", "textarea", "search") or tag == "textarea":
            form.texts.add(name)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def forms_of(visitor: Visitor, pages: list[str]) -> list[Form]:
    found: dict[str, Form] = {}
    for page in pages:
        r = visitor.client.get(page)
        assert r.status_code == 200, (page, r.status_code)
        parser = Forms()
        parser.feed(r.text)
        for form in parser.forms:
            found.setdefault(form.action, form)
    return list(found.values())


def fuzz(
    visitor: Visitor, form: Form, extra: dict[str, str] | None = None, *, each: bool = True
) -> list[str]:
    """Post ``form`` as the page fills it, with each extreme in every number at once and (with
    ``each``) in one number at a time (a form refusing one field may never reach the code
    that reads the next), with a NUL in each text; the cases that answered 5xx."""
    base = {**form.fields, **(extra or {})}
    numbers = sorted(form.numbers | ({*BUILDER_NUMBERS} if extra else set()))
    cases = [("as filled", base)]
    cases += [(f"numbers={x}", {**base, **dict.fromkeys(numbers, x)}) for x in EXTREMES]
    if each:
        cases += [(f"{n}={x}", {**base, n: x}) for n in numbers for x in EXTREMES]
    cases += [(f"NUL in {name}", {**base, name: "a\x00b"}) for name in sorted(form.texts)]
    failed = []
    for what, data in cases:
        r = visitor.form(form.action, data, follow_redirects=False)
        if r.status_code >= 500:
            failed.append(f"{form.action} {what}: {r.status_code}")
    return failed


def test_every_page_form_of_a_patient_takes_extremes_without_a_server_error(
    visitor: Visitor,
) -> None:
    visitor.signup("extremes@example.org")
    assert visitor.api("POST", "/api/plans", json=plan_started(10)).status_code == 201
    pages = ["/today", "/my-plan", "/journal", "/journal/sleep", "/plan/new", "/convert"]
    pages += ["/account", "/journal/scales/gad-7", "/journal/scales/ciwa-b"]
    forms = forms_of(visitor, pages)
    actions = {f.action for f in forms}
    assert {"/today/take", "/journal/checkin", "/journal/sleep", "/plan/new"} <= actions
    failed = []
    for form in forms:
        if form.action == "/plan/new":  # the builder: its own posts, with its options on too
            rows = {"drug_0": "diazepam", "dose_0": "10 mg", "time_0": "08:00"}
            for action in ("/plan/preview", "/plan/compare", "/plan/new", "/plan/save"):
                form.action = action  # one number at a time on the preview only (it plans)
                failed += fuzz(visitor, form, rows, each=False)
                options = {**rows, **BUILDER_OPTIONS}
                failed += fuzz(visitor, form, options, each=action == "/plan/preview")
        else:
            failed += fuzz(visitor, form)
    assert failed == []


def test_every_page_form_of_a_clinician_takes_extremes_without_a_server_error(
    make_visitor: Callable[[], Visitor],
) -> None:
    patient, doctor = make_visitor(), make_visitor()
    patient_id = patient.signup("their-patient@example.org")
    assert patient.api("POST", "/api/plans", json=plan_started(10)).status_code == 201
    code = patient.api("POST", "/api/shares").json()["code"]
    doctor.signup("their-doctor@example.org", role="clinician")
    assert doctor.api("POST", "/api/patients", json={"code": code}).status_code == 201
    forms = forms_of(doctor, ["/clinician", f"/clinician/patients/{patient_id}"])
    actions = {f.action for f in forms}
    assert {"/clinician/redeem", f"/clinician/patients/{patient_id}/reinstate"} <= actions
    failed = [case for form in forms for case in fuzz(doctor, form)]
    assert failed == []


@pytest.mark.parametrize("value", ["1e309", "nan"])
def test_the_parser_finds_numbers_and_texts(value: str) -> None:
    """The fuzzer itself: a number, a text, an unchecked box left out, hidden ones kept out."""
    parser = Forms()
    parser.feed(
        '<form method="post" action="/x"><input type="hidden" name="csrf_token" value="t">'
        f'<input type="number" name="n" value="{value}"><input type="text" name="t" value="a">'
        '<input type="checkbox" name="c" value="on"><textarea name="note"></textarea></form>'
        '<form method="post" action="/logout"><input type="text" name="x"></form>'
    )
    [form] = parser.forms
    assert (form.action, form.fields) == ("/x", {"n": value, "t": "a", "note": ""})
    assert form.numbers == {"n"} and form.texts == {"t", "note"}
