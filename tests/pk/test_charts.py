"""Charts are valid SVG/PNG, deterministic, and carry labelled axes and the caveats."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from benzotaper import charts
from benzotaper.catalogue import Catalogue
from benzotaper.errors import InputError
from benzotaper.pk import Context, TimedDose
from tests.pk.plans import diazepam_taper, make_plan

SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_text(data: bytes) -> str:
    root = ET.fromstring(data)
    assert root.tag == f"{SVG_NS}svg"
    return " ".join("".join(el.itertext()) for el in root.iter(f"{SVG_NS}text"))


def test_plan_chart_svg_is_valid_deterministic_and_labelled(test_catalogue: Catalogue) -> None:
    plan = diazepam_taper(10, cuts=3, days=14)
    data = charts.plan_chart(plan, test_catalogue)
    assert data == charts.plan_chart(plan, test_catalogue)  # same bytes every time
    text = svg_text(data)
    for label in ("Diazepam equivalent", "(mg/day)", "occupancy (%)", "Date", "prescriber"):
        assert label in text
    assert "Scheduled dose" in text and "daily range" in text
    assert b"<dc:date>" not in data  # no creation date in the metadata


@pytest.mark.parametrize(("size", "width"), [("phone", 800), ("print", 2250)])
def test_plan_chart_png_sizes(test_catalogue: Catalogue, size: str, width: int) -> None:
    data = charts.plan_chart(diazepam_taper(8, 2, 7), test_catalogue, fmt="png", size=size)  # type: ignore[arg-type]
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    assert image.size[0] == width
    assert image.size[1] > image.size[0] if size == "phone" else image.size[1] < image.size[0]


def test_fluctuation_chart_compares_lorazepam_and_diazepam(ctx: Context) -> None:
    before = (TimedDose(480, "lorazepam", 1.0), TimedDose(1200, "lorazepam", 1.0))
    after = (TimedDose(480, "diazepam", 10.0), TimedDose(1200, "diazepam", 10.0))
    text = svg_text(charts.fluctuation_chart(ctx, before, after, labels=("Lorazepam", "Diazepam")))
    assert "Time of day (h)" in text and "Diazepam equivalent" in text
    assert "Lorazepam: swing" in text and "Diazepam: swing" in text


def test_crossover_chart_from_a_plan(test_catalogue: Catalogue) -> None:
    plan = make_plan(
        [("08:00", "lorazepam", 1.0), ("20:00", "lorazepam", 1.0)],
        [
            (
                7,
                [
                    ("08:00", "lorazepam", 0.5),
                    ("20:00", "lorazepam", 0.5),
                    ("08:00", "diazepam", 5.0),
                    ("20:00", "diazepam", 5.0),
                ],
            ),
            (14, [("08:00", "diazepam", 10.0), ("20:00", "diazepam", 10.0)]),
        ],
    )
    plan.steps[0].phase = "crossover"
    text = svg_text(charts.crossover_chart(plan, test_catalogue))
    assert "Before (lorazepam)" in text and "After (diazepam)" in text


def test_crossover_chart_refuses_a_plan_without_crossover(test_catalogue: Catalogue) -> None:
    with pytest.raises(InputError, match="no crossover"):
        charts.crossover_chart(diazepam_taper(), test_catalogue)


def test_short_simulation_draws_every_point(test_catalogue: Catalogue) -> None:
    plan = diazepam_taper(10, cuts=1, days=2)  # 6 days + 14 days after: under three weeks
    ctx = Context.for_plan(test_catalogue, plan)
    text = svg_text(charts.plan_chart(plan, test_catalogue, ctx=ctx))
    assert "Simulated level" in text and "daily range" not in text


def test_unknown_format_is_refused(test_catalogue: Catalogue) -> None:
    with pytest.raises(InputError, match="svg or png"):
        charts.plan_chart(diazepam_taper(), test_catalogue, fmt="pdf")  # type: ignore[arg-type]


def test_axes_positions_are_rounded_after_the_layout() -> None:
    """kiwisolver's layout varies in the last bit from call to call; rounded positions keep the
    bytes of the same chart the same (one chart in six differed before)."""
    fig, axes, _ = charts._figure("phone", 2)
    axes[0].set_ylabel("Diazepam equivalent (mg/day)")
    fig.draw_without_rendering()
    for ax in axes:
        corners = ax.get_position().get_points()
        assert (corners == corners.round(9)).all()
        assert ax.get_in_layout()
    assert isinstance(fig.get_layout_engine(), charts.SteadyLayout)
