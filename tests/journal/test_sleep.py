"""Sleep diary metrics (Consensus Sleep Diary definitions)."""

from __future__ import annotations

import pytest

from benzotaper.errors import InputError
from benzotaper.journal.entries import SleepEntry
from benzotaper.journal.sleep import sleep_metrics


def test_metrics_across_midnight() -> None:
    e = SleepEntry(
        bed_time="22:30",
        try_sleep_time="23:00",
        sol_min=30,
        awakenings=2,
        waso_min=40,
        final_wake_time="06:30",
        out_of_bed_time="07:00",
    )
    m = sleep_metrics(e)
    assert m.tib_min == 8 * 60 + 30  # 22:30 -> 07:00
    assert m.tst_min == 7 * 60 + 30 - 30 - 40  # 23:00 -> 06:30 minus SOL and WASO
    assert m.se_percent == round(380 / 510 * 100, 1)
    assert m.meets_target is False


def test_efficient_night_meets_the_85_percent_target() -> None:
    e = SleepEntry(
        bed_time="23:00", sol_min=10, waso_min=10, final_wake_time="07:00", out_of_bed_time="07:10"
    )
    m = sleep_metrics(e)
    assert (m.tib_min, m.tst_min) == (490, 460)
    assert m.meets_target and m.se_percent >= 85


def test_impossible_nights_are_refused() -> None:
    with pytest.raises(InputError, match="check the times"):
        sleep_metrics(
            SleepEntry(
                bed_time="23:00",
                sol_min=300,
                waso_min=300,
                final_wake_time="06:00",
                out_of_bed_time="06:30",
            )
        )
    with pytest.raises(ValueError, match="HH:MM"):
        SleepEntry(bed_time="25:00", sol_min=0, final_wake_time="06:00", out_of_bed_time="06:30")
