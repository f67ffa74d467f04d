"""FHIR export of the journal: check-ins stored on SQLite and PostgreSQL, read back from FHIR.

The Bundle is parsed by fhir.resources (R4B and R5) from its JSON text; every
QuestionnaireResponse is compared, answer by answer, with what the journal stored, and every
score Observation with the sum of those stored answers.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from fhir.resources.bundle import Bundle as BundleR5
from fhir.resources.R4B.bundle import Bundle as BundleR4B
from tests.journal.rows import SeedStore

from benzotaper.catalogue import Catalogue
from benzotaper.errors import ExportError
from benzotaper.exports import (
    FHIR_VERSIONS,
    FhirVersion,
    answer_problems,
    check_codes,
    code_problems,
    plan_fhir_json,
    regimen_from_fhir,
    unit_problems,
)
from benzotaper.exports.fhir_codes import LOINC, OBSERVATION_CATEGORY, UCUM
from benzotaper.exports.fhir_journal import QUESTIONNAIRE_BASE, SCORE_SYSTEM
from benzotaper.journal.entries import CheckinEntry, DoseEntry, NoteEntry
from benzotaper.journal.scales import default_scales
from benzotaper.planning.models import Administration, Plan
from benzotaper.storage import Database
from benzotaper.storage.journal import EntryRecord

pytestmark = pytest.mark.both_backends  # the backend policy: tests/conftest.py

BUNDLE = {"r4b": BundleR4B, "r5": BundleR5}
SCALE_FIELD = {"ciwa-b": "ciwa_b", "bwsq": "bwsq", "gad-7": "gad7", "phq-9": "phq9"}


def _journal(db: Database, plan: Plan) -> tuple[SeedStore, int]:
    """A person with the plan saved and a varied journal, including an edit and a deletion."""
    store = SeedStore(db)
    me = store.create_user(email="fhir@example.org", display_name="F")
    store.save_plan(me, plan, reason="first plan", effective_from=plan.summary.start)
    day = plan.summary.start
    ciwa = [i % 5 for i in range(22)]
    bwsq = [i % 3 for i in range(20)]
    store.add_entry(me, day, DoseEntry(drug="lorazepam", mg=1, time="08:00"))
    store.add_entry(
        me,
        day + dt.timedelta(days=2),
        CheckinEntry(
            time="09:30",
            ciwa_b=ciwa,
            bwsq=bwsq,
            quick={"anxiety": 6, "tremor": 2},
            danger_signs=["confusion"],
        ),
    )
    first = store.add_entry(
        me, day + dt.timedelta(days=9), CheckinEntry(gad7=[1] * 7, phq9=[0] * 9)
    )
    # an edit: only the newest revision may be exported (PHQ-9 item 9 above 0 now)
    store.edit_entry(me, first.uid, CheckinEntry(gad7=[2] * 7, phq9=[1] * 8 + [1]))
    gone = store.add_entry(me, day + dt.timedelta(days=10), CheckinEntry(ciwa_b=[4] * 22))
    store.delete_entry(me, gone.uid)
    store.add_entry(me, day + dt.timedelta(days=11), NoteEntry(note="a private note"))
    return store, me


def _resources(data: dict[str, Any], rtype: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (e["fullUrl"], e["resource"])
        for e in data["entry"]
        if e["resource"]["resourceType"] == rtype
    ]


@pytest.mark.parametrize("version", FHIR_VERSIONS)
def test_journal_bundle_matches_what_the_journal_stored(
    db: Database, handmade: Plan, full_catalogue: Catalogue, version: FhirVersion
) -> None:
    store, me = _journal(db, handmade)
    entries = store.entries(me)
    text = plan_fhir_json(handmade, version, catalogue=full_catalogue, journal=entries)

    parsed = BUNDLE[version].model_validate_json(text)  # independent parse of the JSON text
    assert parsed.type == "collection"
    data = json.loads(text)
    assert code_problems(data, version) == []
    assert unit_problems(data) == []
    assert answer_problems(data) == []
    urls = [e["fullUrl"] for e in data["entry"]]
    assert len(urls) == len(set(urls))
    patient = data["entry"][0]["resource"]
    assert patient["resourceType"] == "Patient" and "name" not in patient
    assert "a private note" not in text and "fhir@example.org" not in text

    # what the journal stored, read back from the database (not from the export code)
    stored: list[tuple[EntryRecord, str, list[int]]] = []
    for record in store.entries(me, kind="checkin"):
        assert isinstance(record.entry, CheckinEntry)
        for scale, field in SCALE_FIELD.items():
            items = getattr(record.entry, field)
            if items is not None:
                stored.append((record, scale, items))
    assert sorted(s for _, s, _ in stored) == ["bwsq", "ciwa-b", "gad-7", "phq-9"]

    responses = _resources(data, "QuestionnaireResponse")
    observations = _resources(data, "Observation")
    questionnaires = {r["url"]: r for _, r in _resources(data, "Questionnaire")}
    book = default_scales()
    for record, scale, items in stored:
        url = QUESTIONNAIRE_BASE + scale
        matching = [
            (u, r)
            for u, r in responses
            if r["questionnaire"] == f"{url}|{book.version}"
            and r["authored"] == record.day.isoformat()
        ]
        assert len(matching) == 1, (scale, record.day)
        response_url, response = matching[0]
        assert response["status"] == "completed"
        assert response["subject"]["reference"] == data["entry"][0]["fullUrl"]
        answers = [a["valueInteger"] for item in response["item"] for a in item["answer"]]
        assert len(response["item"]) == len(items) == book.scales[scale].item_count  # type: ignore[index]
        assert answers == items
        assert [i["linkId"] for i in response["item"]] == [str(n) for n in range(1, len(items) + 1)]
        assert url in questionnaires

        scores = [
            o for _, o in observations if o.get("derivedFrom") == [{"reference": response_url}]
        ]
        assert len(scores) == 1
        obs = scores[0]
        assert obs["status"] == "final"
        assert obs["effectiveDateTime"] == record.day.isoformat()
        assert obs["valueQuantity"] == {
            "value": sum(items),
            "unit": "{score}",
            "system": UCUM,
            "code": "{score}",
        }
        assert obs["category"][0]["coding"][0] == {
            "system": OBSERVATION_CATEGORY,
            "code": "survey",
            "display": "Survey",
        }
        systems = {c["system"]: c["code"] for c in obs["code"]["coding"]}
        assert systems[SCORE_SYSTEM] == f"{scale}-total"
        loinc = {"gad-7": "70274-6", "phq-9": "44261-6"}.get(scale)
        assert systems.get(LOINC) == loinc  # none invented for CIWA-B or BWSQ

    # the edited check-in is exported once, as edited; the deleted one not at all
    gad = [r for _, r in responses if r["questionnaire"].startswith(QUESTIONNAIRE_BASE + "gad-7")]
    assert len(gad) == 1 and {a["valueInteger"] for i in gad[0]["item"] for a in i["answer"]} == {2}
    ciwa = [r for _, r in responses if r["questionnaire"].startswith(QUESTIONNAIRE_BASE + "ciwa-b")]
    assert len(ciwa) == 1
    phq = next(o for _, o in observations if o["code"]["text"].startswith("PHQ-9"))
    assert "item 9" in phq["note"][0]["text"]

    # quick ratings: one Observation with a component per rated symptom, no invented total
    quick = [o for _, o in observations if o["code"]["text"] == "Quick check-in"]
    assert len(quick) == 1 and "valueQuantity" not in quick[0]
    rated = {
        c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in quick[0]["component"]
    }
    assert rated == {"quick-anxiety": 6, "quick-tremor": 2}

    # danger signs: one Observation, a true component per sign the person ticked
    (danger,) = [o for _, o in observations if o["code"]["text"] == "Danger signs reported"]
    assert (
        danger["valueBoolean"] is True
        and danger["effectiveDateTime"]
        == (handmade.summary.start + dt.timedelta(days=2)).isoformat()
    )
    assert [(c["code"]["coding"][0]["code"], c["valueBoolean"]) for c in danger["component"]] == [
        ("danger-confusion", True)
    ]


@pytest.mark.parametrize("version", FHIR_VERSIONS)
def test_questionnaires_follow_the_scale_definitions(
    db: Database, handmade: Plan, version: FhirVersion
) -> None:
    store, me = _journal(db, handmade)
    data = json.loads(plan_fhir_json(handmade, version, journal=store.entries(me)))
    book = default_scales()
    questionnaires = {r["url"]: r for _, r in _resources(data, "Questionnaire")}
    for scale in ("ciwa-b", "bwsq", "gad-7", "phq-9"):
        q = questionnaires[QUESTIONNAIRE_BASE + scale]
        d = book.scales[scale]  # type: ignore[index]
        assert q["status"] == "active" and q["version"] == book.version
        assert [i["type"] for i in q["item"]] == ["integer"] * d.item_count
        bounds = {
            (e["url"].rsplit("/", 1)[1], e["valueInteger"])
            for i in q["item"]
            for e in i["extension"]
        }
        assert bounds == {("minValue", d.item_min), ("maxValue", d.item_max)}
        assert all(i["required"] for i in q["item"])
    assert len(questionnaires[QUESTIONNAIRE_BASE + "ciwa-b"]["item"]) == 22
    assert len(questionnaires[QUESTIONNAIRE_BASE + "bwsq"]["item"]) == 20
    systems = _resources(data, "CodeSystem")
    assert len(systems) == 1 and systems[0][1]["url"] == SCORE_SYSTEM
    codes = {c["code"] for c in systems[0][1]["concept"]}
    for _, obs in _resources(data, "Observation"):
        component_codes = [c["code"]["coding"] for c in obs.get("component", [])]
        for coding in [*obs["code"]["coding"], *(c for cs in component_codes for c in cs)]:
            assert coding["system"] in (SCORE_SYSTEM, LOINC)
            if coding["system"] == SCORE_SYSTEM:
                assert coding["code"] in codes


@pytest.mark.parametrize("version", FHIR_VERSIONS)
def test_plan_round_trip_still_works_with_the_journal(
    db: Database, handmade: Plan, full_catalogue: Catalogue, version: FhirVersion
) -> None:
    store, me = _journal(db, handmade)
    text = plan_fhir_json(handmade, version, catalogue=full_catalogue, journal=store.entries(me))
    first = handmade.steps[0]
    assert regimen_from_fhir(text, full_catalogue) == sorted(
        (Administration(drug=d.drug, mg=d.mg, time=d.time) for d in first.doses if d.mg > 0),
        key=lambda a: (a.time, a.drug),
    )


def test_no_checkins_no_questionnaires(handmade: Plan) -> None:
    class Row:
        uid, day, entry = "x", handmade.summary.start, DoseEntry(drug="lorazepam", mg=1)

    data = json.loads(plan_fhir_json(handmade, "r5", journal=[Row()]))
    types = {e["resource"]["resourceType"] for e in data["entry"]}
    assert types == {"Patient", "MedicationRequest"}


@pytest.mark.parametrize("version", FHIR_VERSIONS)
def test_answer_and_unit_checks_catch_what_fhir_resources_accepts(
    db: Database, handmade: Plan, version: FhirVersion
) -> None:
    store, me = _journal(db, handmade)
    good = json.loads(plan_fhir_json(handmade, version, journal=store.entries(me)))
    model = BUNDLE[version]

    def response_of(data: dict[str, Any], scale: str) -> dict[str, Any]:
        return next(
            r
            for _, r in _resources(data, "QuestionnaireResponse")
            if r["questionnaire"].startswith(QUESTIONNAIRE_BASE + scale)
        )

    bad = copy.deepcopy(good)
    response_of(bad, "ciwa-b")["item"][0]["answer"] = [{"valueInteger": 5}]  # CIWA-B is 0-4
    response_of(bad, "bwsq")["item"][1]["answer"] = [{"valueString": "2"}]
    del response_of(bad, "gad-7")["item"][3]
    model.model_validate(bad)  # fhir.resources accepts all of it
    problems = answer_problems(bad)
    assert len(problems) == 3, problems
    assert any("outside 0-4" in p for p in problems)
    assert any("does not fit item type 'integer'" in p for p in problems)
    assert any("required items unanswered: 4" in p for p in problems)
    with pytest.raises(ExportError):
        check_codes(bad, version)

    bad = copy.deepcopy(good)
    obs = next(r for _, r in _resources(bad, "Observation"))
    obs["category"][0]["coding"][0]["code"] = "mood"
    obs["status"] = "done"
    obs["valueQuantity"]["code"] = obs["valueQuantity"]["unit"] = "points"
    model.model_validate(bad)
    assert len(code_problems(bad, version)) == 2
    assert len(unit_problems(bad)) == 1


def test_r4_us_core_variant_codes_steps_with_rxnorm_and_scores_with_loinc(
    db: Database, plan: Plan, full_catalogue: Catalogue
) -> None:
    """The R4 export: validated with the R4B model (fhir.resources has no R4 one), one draft
    MedicationRequest per step coded with the product's RxNorm clinical drug where one coded
    product makes the step, and the journal's PHQ-9 / GAD-7 totals with their LOINC codes."""
    store, me = _journal(db, plan)
    text = plan_fhir_json(plan, "r4", catalogue=full_catalogue, journal=store.entries(me))
    BundleR4B.model_validate_json(text)
    data = json.loads(text)
    assert code_problems(data, "r4b") == [] and answer_problems(data) == []
    requests = [r for _, r in _resources(data, "MedicationRequest")]
    taking = [s for s in plan.steps if any(d.mg > 0 for d in s.doses)]
    assert len(requests) == sum(len({d.drug for d in s.doses if d.mg > 0}) for s in taking)
    for request in requests:
        assert request["status"] == "draft"
        assert request["meta"]["profile"] == [
            "http://hl7.org/fhir/us/core/StructureDefinition/us-core-medicationrequest"
        ]
        assert len({d["sequence"] for d in request["dosageInstruction"]}) == 1
        coding = request["medicationCodeableConcept"].get("coding")
        if coding:
            assert coding[0]["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"
            assert coding[0]["code"].isdigit()
    assert any("coding" in r["medicationCodeableConcept"] for r in requests)
    loinc = {
        c["code"]
        for _, o in _resources(data, "Observation")
        for c in o["code"]["coding"]
        if c["system"] == LOINC
    }
    assert loinc == {"70274-6", "44261-6"}
