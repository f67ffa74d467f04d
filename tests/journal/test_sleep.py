"""Sleep diary metrics (Consensus Sleep Diary definitions)."""

from __future__ import annotations

import pytest

from benzotaper.journal.entries import SleepEntry
from benzotaper.journal.sleep import sleep_metrics, sleep_problems


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


def night(**kw: object) -> SleepEntry:
    data: dict[str, object] = {
        "bed_time": "23:00",
        "sol_min": 30,
        "final_wake_time": "06:00",
        "out_of_bed_time": "06:30",
    }
    return SleepEntry.model_validate(data | kw)


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        # the night: 30 min to fall asleep and 600 min awake in a 7-hour night
        (night(waso_min=600), "sleep_latency_exceeds_night"),
        (night(sol_min=300, waso_min=300), "sleep_latency_exceeds_night"),
        (night(final_wake_time="23:00", out_of_bed_time="23:00"), "sleep_no_time_in_bed"),
        (night(final_wake_time="23:00", out_of_bed_time="23:30"), "sleep_woke_before_sleep"),
    ],
)
def test_nights_that_do_not_add_up_are_named_and_have_no_metrics(
    entry: SleepEntry, kind: str
) -> None:
    [problem] = sleep_problems(entry)
    assert problem.kind == kind and problem.field
    assert sleep_metrics(entry) is None  # reading a stored one never fails


def test_every_night_that_adds_up_has_efficiency_between_0_and_100() -> None:
    for sol in range(0, 421, 60):
        for waso in range(0, 421 - sol, 60):
            m = sleep_metrics(night(sol_min=sol, waso_min=waso))
            assert m is not None and 0 <= m.se_percent <= 100
            assert m.tib_min >= m.sol_min + m.waso_min


def test_clock_times_must_be_hh_mm() -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        SleepEntry(bed_time="25:00", sol_min=0, final_wake_time="06:00", out_of_bed_time="06:30")
