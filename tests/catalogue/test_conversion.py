from __future__ import annotations

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.conversion import convert
from benzotaper.errors import UnknownSourceError


def test_diazepam_to_itself_is_identity(catalogue: Catalogue) -> None:
    result = convert(catalogue, "diazepam", 12.5)
    assert result.dose_mg == 12.5
    assert result.range_mg == (12.5, 12.5)
    assert result.source == catalogue.default_source


def test_unknown_source_is_refused_with_a_hint(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownSourceError, match="ashton2002"):
        convert(catalogue, "diazepam", 5, source="ashton2003")
