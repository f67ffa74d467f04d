"""Scale scoring against the published scoring rules, and honest 'not established' bands."""

from __future__ import annotations

import pytest

from benzotaper.catalogue import Catalogue
from benzotaper.errors import InputError
from benzotaper.journal.adaptive import default_rules
from benzotaper.journal.scales import (
    ScaleBook,
    check_quick,
    default_scales,
    parse_items,
    parse_quick,
    score,
)


@pytest.fixture(scope="module")
def book() -> ScaleBook:
    return default_scales()


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands_follow_spitzer_2006(book: ScaleBook, total: int, band: str) -> None:
    items = [3] * (total // 3) + ([total % 3] if total % 3 else [])
    items += [0] * (7 - len(items))
    s = score(book, "gad-7", items)
    assert (s.total, s.band, s.band_established) == (total, band, True)
    assert "spitzer2006" in s.sources


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "minimal"),
        (5, "mild"),
        (10, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (24, "severe"),
    ],
)
def test_phq9_bands_follow_kroenke_2001(book: ScaleBook, total: int, band: str) -> None:
    items = [3] * (total // 3) + ([total % 3] if total % 3 else [])
    items += [0] * (8 - len(items)) + [0]  # item 9 stays 0
    s = score(book, "phq-9", items)
    assert (s.total, s.band, s.crisis) == (total, band, False)


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_always_raises_crisis_even_with_a_minimal_total(
    book: ScaleBook, item9: int
) -> None:
    s = score(book, "phq-9", [0] * 8 + [item9])
    assert s.band == "minimal"
    assert s.crisis is True
    assert s.crisis_message and "988" in s.crisis_message


def test_ciwa_b_totals_22_items_0_to_4_and_has_no_established_band(book: ScaleBook) -> None:
    s = score(book, "ciwa-b", [4] * 22)
    assert (s.total, s.max_total) == (88, 88)
    s = score(book, "ciwa-b", [1] * 10 + [0] * 12)
    assert s.total == 10
    assert s.band is None and s.band_established is False
    assert "not" in s.band_note.lower() and "unverified" in s.band_note


def test_bwsq_has_no_cut_off(book: ScaleBook) -> None:
    s = score(book, "bwsq", [2] * 20)
    assert (s.total, s.max_total, s.band) == (40, 40, None)
    assert "cut-off" in s.band_note


@pytest.mark.parametrize(
    ("scale", "items", "message"),
    [
        ("ciwa-b", [0] * 21, "needs 22 item scores, got 21"),
        ("ciwa-b", [5] + [0] * 21, "item 1: 5 is outside 0-4"),
        ("gad-7", [0] * 6 + [4], "item 7: 4 is outside 0-3"),
        ("bwsq", [3] + [0] * 19, "item 1: 3 is outside 0-2"),
        ("hads", [0], "Unknown scale"),
    ],
)
def test_bad_scores_are_refused(
    book: ScaleBook, scale: str, items: list[int], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        score(book, scale, items)


def test_parsing_item_lists_and_quick_ratings(book: ScaleBook) -> None:
    assert parse_items("0, 1,2 ,3") == [0, 1, 2, 3]
    with pytest.raises(InputError, match="whole numbers"):
        parse_items("1,two")
    assert check_quick(book, parse_quick("anxiety=5, insomnia=7")) == {"anxiety": 5, "insomnia": 7}
    with pytest.raises(InputError, match="Unknown symptom"):
        check_quick(book, {"vertigo_x": 1})
    with pytest.raises(InputError, match="outside 0-10"):
        check_quick(book, {"tremor": 11})
    with pytest.raises(InputError, match="name=score"):
        parse_quick("anxiety")


def test_quick_checkin_covers_the_named_symptoms(book: ScaleBook) -> None:
    assert {"anxiety", "insomnia", "tremor", "nausea"} <= set(book.quick.keys)
    assert {"seizure", "hallucinations", "confusion", "suicidal_thoughts"} <= set(book.danger.keys)


def test_every_source_in_scales_and_rules_resolves(book: ScaleBook, catalogue: Catalogue) -> None:
    keys = {book.quick.source, book.danger.source}
    for d in book.scales.values():
        keys |= {d.source, *(b.source for b in d.bands), *(b.source for b in d.quoted_bands)}
        if d.crisis_source:
            keys.add(d.crisis_source)
    rules = default_rules()
    keys |= set(rules.sources())
    keys |= {v.source for v in rules.policy.__dict__.values()}
    keys |= {rules.resume.percent_factor.source, rules.resume.max_every_days.source}
    missing = keys - set(catalogue.references)
    assert not missing


def test_unverified_wording_uses_neutral_labels(book: ScaleBook) -> None:
    assert book.scales["ciwa-b"].item_labels[0] == "Item 1"
    assert len(book.scales["ciwa-b"].item_labels) == 22
    assert book.scales["phq-9"].item_labels[8].startswith("Thoughts that you would be better off")
