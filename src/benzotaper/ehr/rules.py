"""The EHR rules file (``data/ehr.toml``): how a fact is recognised in FHIR data.

Loaded strictly, once per process, like every data file: unknown keys or a source missing from
``references.toml`` stop the loader with the file and field named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import Field

from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import SourceKey, Strict
from benzotaper.errors import CatalogueError


class Coded(Strict):
    system: str
    code: str
    display: str


class Opioids(Strict):
    ingredients: list[str] = Field(min_length=1)
    source: SourceKey


class Finding(Strict):
    """How a finding (falls, dementia) is recognised in a coded concept: codes or words."""

    codes: list[Coded]
    note: str
    text_pattern: str

    def recorded_in(self, concept: Mapping[str, Any]) -> bool:
        """Whether a CodeableConcept records this finding: one of the codes, or its words."""
        codings = concept.get("coding", []) or []
        if any(
            coding.get("system") == c.system and coding.get("code") == c.code
            for coding in codings
            for c in self.codes
        ):
            return True
        words = [concept.get("text"), *(c.get("display") for c in codings)]
        pattern = re.compile(self.text_pattern, re.IGNORECASE)
        return any(isinstance(w, str) and pattern.search(w) for w in words)


class EhrRules(Strict):
    version: str
    opioids: Opioids
    falls: Finding
    dementia: Finding

    def opioid_in(self, text: str) -> str | None:
        """The opioid ingredient a medication's name mentions, if any (whole words)."""
        low = text.lower()
        return next(
            (i for i in self.opioids.ingredients if re.search(rf"\b{re.escape(i)}\b", low)), None
        )


def load_ehr_rules(references: Mapping[str, object] | None = None) -> EhrRules:
    rules = validate(EhrRules, read_toml(DATA_DIR / "ehr.toml"), "ehr.toml")
    if references is None:
        from benzotaper.catalogue.loader import default_catalogue

        references = default_catalogue().references
    if rules.opioids.source not in references:
        raise CatalogueError(f"ehr.toml: opioids.source {rules.opioids.source!r} is unknown")
    return rules


@lru_cache(maxsize=1)
def default_ehr_rules() -> EhrRules:
    return load_ehr_rules()
