"""Each folder in broken/ overlays one deliberately broken file on a small valid catalogue."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benzotaper.catalogue import load_catalogue
from benzotaper.errors import CatalogueError

BROKEN = Path(__file__).parent / "broken"
CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir() and not p.name.startswith("_"))


def test_the_base_itself_is_valid() -> None:
    cat = load_catalogue(BROKEN / "_base")
    assert sorted(cat.drugs) == ["diazepam", "lorazepam"]


def test_every_required_fault_has_a_case() -> None:
    assert set(CASES) >= {
        "bad_toml",
        "unknown_field",
        "missing_source",
        "low_above_high",
        "liquid_with_strength",
        "er_split",
        "id_mismatch",
        "duplicate_brand",
    }


@pytest.mark.parametrize("case", CASES)
def test_broken_data_gives_the_exact_error(case: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(BROKEN / "_base", data)
    shutil.copytree(BROKEN / case, data, dirs_exist_ok=True)
    (data / "expected.txt").unlink()
    expected = (BROKEN / case / "expected.txt").read_text().strip()
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(data)
    assert str(exc.value) == expected
