"""The validated snapshot of the data files: read back only while the files are unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benzotaper.snapshot import CACHE_ENV, _key, snapshot


class Parsed(list[str]):
    """A stand-in for a loaded catalogue: what the strict loader built."""


def test_a_changed_file_runs_the_loader_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    data, code = tmp_path / "data", tmp_path / "code"
    data.mkdir()
    code.mkdir()
    (data / "drug.toml").write_text("half_life = 20\n")
    builds: list[str] = []

    def load() -> Parsed:
        builds.append((data / "drug.toml").read_text())
        return Parsed(builds)

    first = snapshot("t", load, Parsed, data=data, code=code)
    again = snapshot("t", load, Parsed, data=data, code=code)
    assert len(builds) == 1 and again == first  # the second start read the snapshot
    (data / "drug.toml").write_text("half_life = 200\n")
    _key.cache_clear()  # as a new process would
    changed = snapshot("t", load, Parsed, data=data, code=code)
    assert len(builds) == 2 and changed[-1] == "half_life = 200\n"
    [kept] = (tmp_path / "cache").glob("*/t-*.pickle")  # the stale snapshot is gone
    os.chmod(kept, 0o666)  # anyone could have written it: never read back
    snapshot("t", load, Parsed, data=data, code=code)
    assert len(builds) == 3


def test_no_home_means_no_snapshot_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server account without a home directory still starts (the loader runs every time)."""
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def homeless() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(homeless))
    built = snapshot("t", lambda: Parsed(["built"]), Parsed, data=tmp_path, code=tmp_path)
    assert built == ["built"]
