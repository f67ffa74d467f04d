"""Trend chart for the journal: symptoms and sleep against the dose, as an SVG image.

Drawn with matplotlib's object API (no pyplot, safe in a server). Colour-blind-safe colours
with distinct markers; the values come from the journal library (scores, sleep metrics) and
the plan (the daily diazepam-equivalent of each day's step).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from benzotaper.services.journal import JournalService
from benzotaper.storage.journal import EntryRecord

#: Policy: the trend chart shows this many days.
TREND_DAYS = 42
_CHARTED = ("checkin", "sleep")
_BLUE, _ORANGE, _GREEN, _BLACK = "#0072B2", "#D55E00", "#009E73", "#000000"


def has_data(
    journal: JournalService,
    user_id: int,
    today: dt.date,
    days: int = TREND_DAYS,
    recent: Sequence[EntryRecord] = (),
) -> bool:
    """Whether the chart has anything to draw (a check-in or a sleep diary in its days).

    ``recent``: entries of the last days up to ``today`` the page has read already; one of
    them answers without reading the journal again (the usual case for someone using it)."""
    if any(r.kind in _CHARTED for r in recent):
        return True
    start = today - dt.timedelta(days=days - 1)
    return any(journal.entries(user_id, kind=k, start=start, end=today) for k in _CHARTED)


def chart_svg(
    journal: JournalService, user_id: int, today: dt.date, days: int = TREND_DAYS
) -> bytes | None:
    from matplotlib.figure import Figure

    from benzotaper.journal.entries import CheckinEntry, SleepEntry
    from benzotaper.journal.sleep import sleep_metrics
    from benzotaper.journal.timeline import step_on

    start = today - dt.timedelta(days=days - 1)
    quick: dict[dt.date, int] = {}
    ciwa: dict[dt.date, int] = {}
    sleep: dict[dt.date, float] = {}
    for r in journal.entries(user_id, start=start, end=today):
        if isinstance(r.entry, CheckinEntry):
            if r.entry.quick:
                quick[r.day] = max(quick.get(r.day, 0), max(r.entry.quick.values()))
            if r.entry.ciwa_b:
                ciwa[r.day] = sum(r.entry.ciwa_b)
        elif isinstance(r.entry, SleepEntry):
            metrics = sleep_metrics(r.entry)  # None: a night whose times do not add up
            if metrics is not None:
                sleep[r.day] = metrics.se_percent
    if not (quick or ciwa or sleep):
        return None
    active = journal.active_plan(user_id)
    dose_days: list[dt.date] = []
    dose: list[float] = []
    if active is not None:
        for i in range(days):
            day = start + dt.timedelta(days=i)
            step = step_on(active.plan, day)
            if step is not None:
                dose_days.append(day)
                dose.append(step.diazepam_equivalent_mg)

    fig = Figure(figsize=(6.4, 6.0), layout="constrained")
    ax_dose, ax_sym, ax_sleep = fig.subplots(3, 1, sharex=True)
    ax_dose.step(dose_days, dose, where="post", color=_BLACK, linewidth=2)
    ax_dose.set_ylabel("Dose\n(mg diazepam-eq./day)")
    ax_dose.set_ylim(bottom=0)
    if quick:
        ax_sym.plot(
            list(quick), list(quick.values()), "o-", color=_ORANGE, label="Worst symptom (0-10)"
        )
    if ciwa:
        ax_ciwa = ax_sym.twinx()
        ax_ciwa.plot(list(ciwa), list(ciwa.values()), "s--", color=_BLUE, label="CIWA-B total")
        ax_ciwa.set_ylabel("CIWA-B total")
        ax_ciwa.set_ylim(bottom=0)
        ax_ciwa.legend(loc="upper right", fontsize=9)
    ax_sym.set_ylabel("Symptom rating")
    ax_sym.set_ylim(0, 10.5)
    if quick:
        ax_sym.legend(loc="upper left", fontsize=9)
    ax_sleep.plot(list(sleep), list(sleep.values()), "^-", color=_GREEN)
    ax_sleep.axhline(85, color=_GREEN, linestyle=":", linewidth=1)
    ax_sleep.set_ylabel("Sleep efficiency (%)")
    ax_sleep.set_ylim(0, 100)
    ax_sleep.set_xlim(start, today + dt.timedelta(days=1))
    for ax in (ax_dose, ax_sym, ax_sleep):
        ax.grid(True, alpha=0.3)
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
