"""Look-alike names: no alias is as close to another drug as to its own, and a name close to two
drugs is refused naming both (CLI and API), never read as one of them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.cli import run_cli

from benzotaper.catalogue import Catalogue
from benzotaper.catalogue.catalogue import LOOKALIKE_EDITS, core_name, edit_distance
from benzotaper.errors import AmbiguousDrugError, UnknownDrugError
from benzotaper.web import WebSettings, create_app

#: The look-alike names of issue 12, and the drugs each is close to.
LOOKALIKES = {
    "clobazepam": {"clonazepam", "clobazam"},
    "clobazapam": {"clonazepam", "clobazam"},
    "loprazepam": {"lorazepam", "loprazolam"},
    "ezopiclone": {"eszopiclone", "zopiclone"},
    "midazepam": {"medazepam", "midazolam"},
    "alprazepam": {"alprazolam", "lorazepam"},
}


@pytest.mark.parametrize(("a", "b", "d"), [("clobazepam", "clonazepam", 1), ("", "abc", 3)])
def test_edit_distance(a: str, b: str, d: int) -> None:
    assert edit_distance(a, b) == edit_distance(b, a) == d


def test_no_alias_is_as_near_to_another_drug_as_to_its_own(catalogue: Catalogue) -> None:
    everyone = {d.id: [d.id, d.name, *d.all_brands, *d.aliases] for d in catalogue}
    for drug in catalogue:
        own = [core_name(n) for n in (drug.id, drug.name, *drug.all_brands)]
        for alias in drug.aliases:
            name = core_name(alias)
            mine = min(edit_distance(name, n) for n in own)
            theirs, other = min(
                (edit_distance(name, core_name(n)), other)
                for other, names in everyone.items()
                if other != drug.id
                for n in names
            )
            assert mine < theirs or theirs > LOOKALIKE_EDITS, (
                f"{drug.id}: alias {alias!r} is {mine} edit(s) from its own names but "
                f"{theirs} from {other}"
            )
            assert catalogue.drug(alias).id == drug.id


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_a_name_close_to_two_drugs_is_refused_naming_both(catalogue: Catalogue, name: str) -> None:
    with pytest.raises(AmbiguousDrugError) as info:
        catalogue.drug(name)
    assert LOOKALIKES[name] <= set(info.value.suggestions)
    for drug in LOOKALIKES[name]:
        assert drug in info.value.message


def test_chlordiazepam_is_no_longer_read_as_chlordiazepoxide(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownDrugError):
        catalogue.drug("chlordiazepam")


def test_near_misses_of_one_drug_still_get_suggestions(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownDrugError) as info:
        catalogue.drug("diazepamm")
    assert not isinstance(info.value, AmbiguousDrugError)
    assert info.value.suggestions[0] == "diazepam"
    assert catalogue.drug("clonazepan").id == "clonazepam"  # a listed misspelling


@pytest.mark.parametrize(
    "args",
    [
        ["convert", "clobazepam", "1mg"],
        ["plan", "--take", "clobazepam 10 mg at 08:00"],
        ["compare", "--take", "clobazepam 10 mg at 08:00"],
        ["total", "clobazepam 10 mg"],
    ],
)
def test_cli_refuses_naming_both(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2, result.stdout
    text = " ".join(result.stderr.split())
    assert "clonazepam" in text and "clobazam" in text and "close to more than one" in text


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('lookalike') / 'db.sqlite3'}"
    with TestClient(create_app(WebSettings(database_url=url))) as c:
        yield c  # type: ignore[misc]


def test_api_refuses_naming_both(client: TestClient) -> None:
    csrf = client.get("/api/session").json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    r = client.post("/api/convert", json={"drug": "clobazepam", "dose": "10 mg"}, headers=headers)
    assert r.status_code == 422
    assert "clonazepam" in r.text and "clobazam" in r.text
    body = {"regimen": [{"drug": "clobazepam", "mg": 10, "time": "08:00"}]}
    r = client.post("/api/plan", json=body, headers=headers)
    assert r.status_code == 422
    assert "clonazepam" in r.text and "clobazam" in r.text
