"""A progress chart (daily diazepam equivalent per week of the plan) as PNG or SVG bytes.

Used by the taper story, and by the prescriber sheet when no pharmacokinetic chart is given.
The x axis counts weeks from the start rather than dates, so a shared image stays anonymous.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from benzotaper.planning.models import Plan


def _week(plan: Plan, day: dt.date) -> float:
    return (day - plan.summary.start).days / 7


def progress_chart(
    plan: Plan, *, today: dt.date | None = None, fmt: Literal["png", "svg"] = "png"
) -> bytes:
    """Daily diazepam equivalent as a step line, holds shaded, ``today`` marked."""
    xs: list[float] = []
    ys: list[float] = []
    for step in plan.steps:
        xs += [_week(plan, step.start), _week(plan, step.end + dt.timedelta(days=1))]
        ys += [step.diazepam_equivalent_mg] * 2
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=110)
    try:
        ax.plot(xs, ys, color="#1f5f99", linewidth=2, label="daily dose (diazepam equivalent)")
        ax.fill_between(xs, ys, color="#1f5f99", alpha=0.12)
        for step in plan.steps:
            if step.phase == "hold":
                ax.axvspan(
                    _week(plan, step.start),
                    _week(plan, step.end + dt.timedelta(days=1)),
                    color="#f0a030",
                    alpha=0.25,
                    label="hold",
                )
        if today is not None and plan.summary.start <= today <= plan.summary.end:
            ax.axvline(_week(plan, today), color="#b41414", linestyle="--", label="today")
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        # above the axes, beside the title: never over the line (a flat dose at the top)
        ax.legend(
            unique.values(),
            unique.keys(),
            loc="lower right",
            bbox_to_anchor=(1, 1),
            ncols=len(unique),
            borderaxespad=0.2,
            fontsize=8,
            frameon=False,
        )
        ax.set_xlabel("weeks from the start")
        ax.set_ylabel("mg diazepam equivalent / day")
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
        ax.set_title("Taper progress", fontsize=10, loc="left")
        fig.tight_layout()
        buf = io.BytesIO()
        meta = {"Software": None} if fmt == "png" else {"Date": None}
        fig.savefig(buf, format=fmt, metadata=meta)
    finally:
        plt.close(fig)
    return buf.getvalue()
