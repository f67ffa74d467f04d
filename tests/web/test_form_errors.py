"""Every form that fails validation comes back with what was typed and a message by the field."""

from __future__ import annotations

import re

import pytest

from .conftest import Visitor
from .test_plans import FORM


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def beside(page: str, key: str, text: str) -> None:
    """``key``'s control is marked invalid and points at an error message containing ``text``."""
    assert re.search(rf'id="{key}"[^>]*aria-describedby="[^"]*\b{key}-err"', page), key
    match = re.search(rf'<p class="error" id="{key}-err">([^<]*)</p>', page)
    assert match and text in match.group(1), (key, match and match.group(1))


def test_checkin_errors_sit_beside_their_fields(visitor: Visitor) -> None:
    visitor.signup("checkin-err@example.org")
    data = {
        "day": "2999-01-01",
        "q_anxiety": "4",
        "q_sweating": "11",  # under "More symptoms": out of range
        "d_confusion": "on",
        "note": "kept text",
    }
    r = visitor.form("/journal/checkin", data)
    assert r.status_code == 422
    beside(r.text, "day", "is in the future")
    beside(r.text, "q_sweating", "choose a number from 0 to 10")
    assert 'value="2999-01-01"' in r.text and "kept text" in r.text
    assert re.search(r'id="q_anxiety".*?<option value="4" selected>', r.text, re.S)
    assert re.search(r'name="d_confusion" value="on" checked', r.text)
    assert "<details open><summary>More symptoms" in r.text  # the wrong answer is visible


def test_all_22_ciwa_b_answers_are_kept_when_one_is_missing(visitor: Visitor) -> None:
    visitor.signup("ciwa-err@example.org")
    answers = {f"item_{i}": str(i % 5) for i in range(1, 23) if i != 17}
    r = visitor.form("/journal/scales/ciwa-b", answers)
    assert r.status_code == 422
    for key, value in answers.items():
        assert re.search(rf'name="{key}" value="{value}" checked', r.text), key
    beside(r.text, "item_17", "please choose an answer")
    assert r.text.count('class="error"') == 1


def test_sleep_diary_errors_sit_beside_their_fields(visitor: Visitor) -> None:
    visitor.signup("sleep-err@example.org")
    data = {
        "bed_time": "25:00",
        "sol_min": "lots",
        "final_wake_time": "07:00",
        "out_of_bed_time": "07:10",
        "alcohol_drinks": "99",
        "note": "restless",
    }
    r = visitor.form("/journal/sleep", data)
    assert r.status_code == 422
    beside(r.text, "bed_time", "Went to bed: time must be HH:MM")
    beside(r.text, "sol_min", "Minutes to fall asleep: enter a whole number")
    beside(r.text, "alcohol_drinks", "Alcoholic drinks: enter a number at most 50")
    for value in ("25:00", "lots", "07:10", "99"):
        assert f'value="{value}"' in r.text
    assert "restless" in r.text
    assert "<details open><summary>Naps" in r.text


def test_builder_errors_are_tied_to_their_fields(visitor: Visitor) -> None:
    r = visitor.form("/plan/new", {**FORM, "age": "old", "start": "tomorrow", "dose_1": "x"})
    assert r.status_code == 422
    beside(r.text, "age", "Age: enter a whole number")
    beside(r.text, "start", "Start date: enter a date as YYYY-MM-DD")
    beside(r.text, "dose_1", "")
