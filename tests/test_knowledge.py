"""The one strict loader: every data file loaded and source-checked once, passed into the core."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from benzotaper.catalogue import loader
from benzotaper.catalogue.loader import DATA_DIR
from benzotaper.errors import CatalogueError
from benzotaper.knowledge import Knowledge, cited_sources, default_knowledge, load_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest

FILES = {
    "pacing": "rules/pacing.toml",
    "risk": "rules/risk.toml",
    "crossover": "rules/crossover.toml",
    "adaptive": "rules/adaptive.toml",
    "scales": "scales.toml",
    "pk_assumptions": "pk_assumptions.toml",
    "occupancy": "occupancy.toml",
    "home_methods": "rules/home_methods.toml",
}
REQUEST = PlanRequest.model_validate({"regimen": [{"drug": "diazepam", "mg": 10, "time": "08:00"}]})


def test_every_file_is_loaded_with_its_version(knowledge: Knowledge) -> None:
    versions = knowledge.versions()
    assert set(versions) == {"catalogue", *FILES}
    assert all(v for v in versions.values())
    assert versions["catalogue"] == knowledge.catalogue.version


def test_every_cited_source_resolves(knowledge: Knowledge) -> None:
    for name in ("pacing", "risk", "crossover", "adaptive", "scales", "pk", "occupancy", "home"):
        keys = [key for _, key in cited_sources(getattr(knowledge, name))]
        assert keys, f"{name} cites no source"
        assert set(keys) <= set(knowledge.catalogue.references)


def test_plans_carry_every_file_version(knowledge: Knowledge) -> None:
    plan = make_plan(REQUEST, knowledge, today=dt.date(2027, 1, 4))
    assert plan.summary.rule_versions == knowledge.versions()


def test_knowledge_is_immutable(knowledge: Knowledge) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        knowledge.risk = knowledge.risk  # type: ignore[misc]
    assert default_knowledge() is default_knowledge()


def test_the_core_reads_no_file(knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the planning core opened a data file")

    monkeypatch.setattr(loader, "read_toml", refuse)
    request = REQUEST.model_copy(
        update={"person": REQUEST.person.model_copy(update={"age": 70, "opioids": True})}
    )
    plan = make_plan(request, knowledge, today=dt.date(2027, 1, 4))
    assert plan.steps[-1].phase == "stop"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(DATA_DIR, root)
    return root


def _cites(line: str) -> bool:
    return not line.lstrip().startswith("#") and re.search(r'sources? = \[?"', line) is not None


@pytest.mark.parametrize("name", sorted(FILES))
def test_an_unknown_source_in_any_file_is_refused(data_copy: Path, name: str) -> None:
    path = data_copy / FILES[name]
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if _cites(line))
    lines[at] = re.sub(r'(source = "|sources = \[")', r"\1no-such-", lines[at], count=1)
    broken = "\n".join(lines)
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_knowledge(data_copy)
    assert FILES[name] in str(info.value) or path.name in str(info.value)
    assert "no-such-" in str(info.value)


def test_a_malformed_file_names_file_and_field(data_copy: Path) -> None:
    path = data_copy / "occupancy.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\nsurprise = 1\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"occupancy\.toml: surprise: unknown field"):
        load_knowledge(data_copy)


def test_a_copy_of_the_shipped_data_loads_the_same(data_copy: Path, knowledge: Knowledge) -> None:
    """The files read again strictly give what the edges' knowledge holds, each part read from
    its own pickle in the snapshot when first used."""
    loaded = load_knowledge(data_copy)
    assert loaded.versions() == knowledge.versions()
    for name in ("pacing", "risk", "crossover", "adaptive", "scales", "pk", "occupancy", "home"):
        assert getattr(loaded, name) == getattr(knowledge, name), name
