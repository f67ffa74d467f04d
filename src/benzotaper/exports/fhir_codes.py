"""FHIR code values that fhir.resources does not check, checked here for R4B and R5.

fhir.resources validates structure and data types, but accepts ``status: "bogus"``. Every
resource benzotaper writes or reads goes through :func:`check_codes`, which walks the JSON and
compares the coded fields we use against the required value sets of each FHIR version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from benzotaper.errors import ExportError

FhirVersion = Literal["r4b", "r5"]
VERSIONS: tuple[FhirVersion, ...] = ("r4b", "r5")
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

#: LOINC total-score codes, as used in HL7's US Core and the MII PRO implementation guides.
#: Only these two could be confirmed; CIWA-B and BWSQ have none here (see fhir_journal).
LOINC_TOTALS: dict[str, tuple[str, str]] = {
    "gad-7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
    "phq-9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
}
#: The UCUM codes benzotaper writes (``{score}`` is a UCUM annotation: a unitless count).
UCUM_CODES = frozenset({"mg", "{score}"})


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STATUS: dict[str, dict[FhirVersion, frozenset[str]]] = {
    "MedicationRequest": {
        "r4b": _codes("active on-hold cancelled completed entered-in-error stopped draft unknown"),
        "r5": _codes(
            "active on-hold ended stopped completed cancelled entered-in-error draft unknown"
        ),
    },
    "MedicationStatement": {
        "r4b": _codes(
            "active completed entered-in-error intended stopped on-hold unknown not-taken"
        ),
        "r5": _codes("recorded entered-in-error draft"),
    },
    "Observation": {
        "r4b": _codes(
            "registered preliminary final amended corrected cancelled entered-in-error unknown"
        ),
        "r5": _codes(
            "registered specimen-in-process preliminary final amended corrected appended "
            "cancelled entered-in-error unknown cannot-be-obtained"
        ),
    },
    "Questionnaire": {v: _codes("draft active retired unknown") for v in VERSIONS},
    "CodeSystem": {v: _codes("draft active retired unknown") for v in VERSIONS},
    "QuestionnaireResponse": {
        v: _codes("in-progress completed amended entered-in-error stopped") for v in VERSIONS
    },
}
_INTENT = _codes(
    "proposal plan order original-order reflex-order filler-order instance-order option"
)
_UNITS_OF_TIME = _codes("s min h d wk mo a")
_CODESYSTEM_CONTENT = _codes("not-present example fragment complete supplement")
_OBSERVATION_CATEGORY = _codes(
    "social-history vital-signs imaging laboratory procedure survey exam therapy activity"
)
#: Questionnaire item type -> the answer value it takes (only the types benzotaper writes).
_ANSWER_KEY = {"integer": "valueInteger", "decimal": "valueDecimal", "string": "valueString"}
_BUNDLE_BASE = (
    "document message transaction transaction-response batch batch-response history "
    "searchset collection"
)
_BUNDLE_TYPE: dict[FhirVersion, frozenset[str]] = {
    "r4b": _codes(_BUNDLE_BASE),
    "r5": _codes(_BUNDLE_BASE + " subscription-notification"),
}
_ITEM_BASE = "group display boolean decimal integer date dateTime time string text url"
_ITEM_TYPE: dict[FhirVersion, frozenset[str]] = {
    "r4b": _codes(_ITEM_BASE + " choice open-choice attachment reference quantity"),
    "r5": _codes(_ITEM_BASE + " question coding attachment reference quantity"),
}


def code_problems(resource: Mapping[str, Any], version: FhirVersion) -> list[str]:
    """Every coded value in ``resource`` (and resources inside it) outside its value set."""
    problems: list[str] = []
    _walk(resource, version, resource.get("resourceType", "?"), problems)
    return problems


def unit_problems(node: object, where: str = "?") -> list[str]:
    """UCUM quantities whose code is not one benzotaper writes (``mg``, ``{score}``).

    Only for what we write: an import reads other mass units itself (``fhir_import``)."""
    problems: list[str] = []
    if isinstance(node, list):
        for item in node:
            problems += unit_problems(item, where)
    elif isinstance(node, Mapping):
        where = node.get("resourceType", where)
        if node.get("system") == UCUM and node.get("code") not in UCUM_CODES:
            _bad(problems, where, "Quantity.code", node.get("code"), UCUM_CODES)
        elif node.get("system") == UCUM and node.get("unit") != node.get("code"):
            problems.append(f"{where}: Quantity.unit {node.get('unit')!r} != its UCUM code")
        for value in node.values():
            problems += unit_problems(value, where)
    return problems


def check_codes(resource: Mapping[str, Any], version: FhirVersion) -> None:
    """Raise ExportError listing every code outside its FHIR value set, and every UCUM unit
    benzotaper does not write (what we export goes through here)."""
    problems = code_problems(resource, version) + unit_problems(resource)
    if problems:
        raise ExportError("Invalid FHIR codes: " + "; ".join(problems))


def _bad(
    problems: list[str], where: str, field: str, value: object, allowed: frozenset[str]
) -> None:
    problems.append(f"{where}.{field} = {value!r} is not one of {', '.join(sorted(allowed))}")


def _walk(node: object, version: FhirVersion, where: str, problems: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, version, where, problems)
        return
    if not isinstance(node, Mapping):
        return
    rtype = node.get("resourceType")
    if isinstance(rtype, str):
        where = rtype
        if rtype in _STATUS and node.get("status") not in _STATUS[rtype][version]:
            _bad(problems, where, "status", node.get("status"), _STATUS[rtype][version])
        if rtype == "MedicationRequest" and node.get("intent") not in _INTENT:
            _bad(problems, where, "intent", node.get("intent"), _INTENT)
        if rtype == "Bundle" and node.get("type") not in _BUNDLE_TYPE[version]:
            _bad(problems, where, "type", node.get("type"), _BUNDLE_TYPE[version])
        if rtype == "Bundle":
            problems.extend(answer_problems(node))
        if rtype == "CodeSystem" and node.get("content") not in _CODESYSTEM_CONTENT:
            _bad(problems, where, "content", node.get("content"), _CODESYSTEM_CONTENT)
    if node.get("system") == OBSERVATION_CATEGORY and node.get("code") not in _OBSERVATION_CATEGORY:
        _bad(problems, where, "category", node.get("code"), _OBSERVATION_CATEGORY)
    for key in ("periodUnit", "durationUnit"):
        if key in node and node[key] not in _UNITS_OF_TIME:
            _bad(problems, where, key, node[key], _UNITS_OF_TIME)
    item = where == "Questionnaire" and "linkId" in node and "type" in node
    if item and node["type"] not in _ITEM_TYPE[version]:
        _bad(problems, where, "item.type", node["type"], _ITEM_TYPE[version])
    for value in node.values():
        if isinstance(value, Mapping | list):
            _walk(value, version, where, problems)


def _bounds(item: Mapping[str, Any]) -> tuple[float | None, float | None]:
    low = high = None
    for ext in item.get("extension", []):
        value = ext.get("valueInteger", ext.get("valueDecimal"))
        if ext.get("url", "").endswith("/minValue"):
            low = value
        elif ext.get("url", "").endswith("/maxValue"):
            high = value
    return low, high


def answer_problems(bundle: Mapping[str, Any]) -> list[str]:
    """Each QuestionnaireResponse in the Bundle against its Questionnaire (also in the Bundle):
    known linkIds, the answer type the item's type calls for, the item's min/max, required items
    answered. fhir.resources checks none of this."""
    resources = [e.get("resource", {}) for e in bundle.get("entry", [])]
    questionnaires = {
        f"{r.get('url')}|{r.get('version')}": r
        for r in resources
        if r.get("resourceType") == "Questionnaire"
    }
    problems: list[str] = []
    for r in resources:
        if r.get("resourceType") != "QuestionnaireResponse":
            continue
        q = questionnaires.get(r.get("questionnaire", ""))
        if q is None:
            problems.append(f"QuestionnaireResponse: no Questionnaire {r.get('questionnaire')!r}")
            continue
        items = {i["linkId"]: i for i in q.get("item", [])}
        answered = set()
        for item in r.get("item", []):
            link = item.get("linkId")
            definition = items.get(link)
            if definition is None:
                problems.append(f"QuestionnaireResponse.item {link!r} is not in {q['url']}")
                continue
            answered.add(link)
            key = _ANSWER_KEY.get(definition["type"])
            low, high = _bounds(definition)
            for answer in item.get("answer", []):
                if key is None or list(answer) != [key]:
                    problems.append(
                        f"QuestionnaireResponse.item {link!r}: answer {answer!r} does not fit "
                        f"item type {definition['type']!r}"
                    )
                    continue
                value = answer[key]
                if (low is not None and value < low) or (high is not None and value > high):
                    problems.append(
                        f"QuestionnaireResponse.item {link!r}: {value} is outside {low}-{high}"
                    )
        missing = [k for k, i in items.items() if i.get("required") and k not in answered]
        if missing:
            problems.append(
                f"QuestionnaireResponse for {q['url']}: required items unanswered: "
                + ", ".join(missing)
            )
    return problems
