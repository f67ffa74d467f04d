"""No abrupt stop: a plan that could only end by stopping a substantial dose is refused.

UK lorazepam (1 mg unscored, 2.5 mg scored; no liquid) used to give one -50% cut and then a stop
from 1 mg lorazepam (10 mg diazepam-equivalent), with only a warning.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from benzotaper.catalogue import default_catalogue
from benzotaper.cli import app
from benzotaper.errors import AbruptStopError, RegimenError
from benzotaper.knowledge import default_knowledge
from benzotaper.planning.engine import make_plan
from benzotaper.planning.models import PlanRequest
from benzotaper.planning.rules import default_pacing_rules
from benzotaper.planning.stopguard import AbruptStop

CAT = default_catalogue()
KNOWLEDGE = default_knowledge()
TODAY = dt.date(2027, 1, 4)
LORAZEPAM_UK = ["--take", "lorazepam 1 mg at 08:00", "--take", "lorazepam 1 mg at 22:00"]


def request(takes: list[tuple[str, float, str]], **prefs: object) -> PlanRequest:
    return PlanRequest.model_validate(
        {
            "regimen": [{"drug": d, "mg": mg, "time": t} for d, mg, t in takes],
            "preferences": {"start": TODAY, **prefs},
        }
    )


LORAZEPAM = [("lorazepam", 1.0, "08:00"), ("lorazepam", 1.0, "22:00")]


def test_uk_lorazepam_is_refused_with_the_ways_that_exist() -> None:
    with pytest.raises(AbruptStopError) as info:
        make_plan(request(LORAZEPAM, market="uk"), KNOWLEDGE, today=TODAY)
    err = info.value
    assert isinstance(err, RegimenError)  # exit status 2 in the CLI
    assert isinstance(err.stop, AbruptStop)
    assert err.stop.last_mg == 1.0 and err.stop.last_de == pytest.approx(10.0)
    assert err.stop.start_de == pytest.approx(20.0)
    assert "never proposes" in err.message and "25%" in err.message
    # Computed from the catalogue: no UK lorazepam liquid, so --liquid is not offered.
    assert not any(p.form.is_liquid for p in CAT.drug("lorazepam").products_in("uk"))
    assert not any(o.startswith("--liquid") for o in err.options)
    assert any(o.startswith("--crossover diazepam") for o in err.options)
    assert any(o.startswith("--compounded") for o in err.options)
    # Every way offered really gives a plan.
    for option in err.options:
        flag = option.split(":")[0].split()
        update: dict[str, object] = {
            "--crossover": {"crossover": "diazepam"},
            "--compounded": {"compounded": True},
            "--market": {"market": flag[-1]},
            "--liquid": {"liquid": True},
        }[flag[0]]
        plan = make_plan(request(LORAZEPAM, **{"market": "uk", **update}), KNOWLEDGE, today=TODAY)
        assert plan.steps[-1].phase == "stop"


def test_offered_liquid_only_where_sold() -> None:
    # US alprazolam: an oral concentrate is sold; 0.25 mg once a day cannot end small on tablets.
    with pytest.raises(AbruptStopError) as info:
        make_plan(request([("alprazolam", 0.25, "22:00")], market="us"), KNOWLEDGE, today=TODAY)
    assert any(p.form.is_liquid for p in CAT.drug("alprazolam").products_in("us"))
    assert any(o.startswith("--crossover diazepam") for o in info.value.options)


def test_a_small_overshoot_keeps_the_danger_warning() -> None:
    # US clonazepam ends at 0.125 mg (2.5 mg DE): over the 1 mg jump-off but within 25% of 20 mg.
    plan = make_plan(
        request([("clonazepam", 0.5, "08:00"), ("clonazepam", 0.5, "22:00")], market="us"),
        KNOWLEDGE,
        today=TODAY,
    )
    last = [s for s in plan.steps if s.phase != "stop"][-1]
    assert last.daily_mg["clonazepam"] == 0.125
    assert any(w.code == "jump-off-too-high" and w.severity == "danger" for w in plan.warnings)


def test_stopping_from_the_jump_off_dose_is_never_refused() -> None:
    # Diazepam 2 mg: the last dose (1 mg) is half the start but within the 1 mg jump-off dose.
    plan = make_plan(request([("diazepam", 2.0, "22:00")], pace="moderate"), KNOWLEDGE, today=TODAY)
    rules = default_pacing_rules()
    last = [s for s in plan.steps if s.phase != "stop"][-1]
    assert last.diazepam_equivalent_mg <= rules.jump_off.limit(False)


def test_cli_refuses_with_exit_2_and_the_reason() -> None:
    result = CliRunner().invoke(app, ["plan", *LORAZEPAM_UK, "--market", "uk"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "stopping abruptly" in text and "--crossover diazepam" in text
    assert "Traceback" not in text


def test_compare_shows_refused_rows_as_not_possible() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["compare", *LORAZEPAM_UK, "--market", "uk", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    direct = [r for r in rows if r["route"] == "direct taper"]
    crossover = [r for r in rows if r["route"] != "direct taper"]
    assert direct and all(not r["possible"] and "at once" in r["reason"] for r in direct)
    assert crossover and all(r["possible"] for r in crossover)
    table = runner.invoke(app, ["compare", *LORAZEPAM_UK, "--market", "uk"], terminal_width=200)
    assert table.exit_code == 0
    assert "not possible" in table.output and "ways forward" in table.output


def test_custom_strategy_without_a_schedule_is_a_clear_error() -> None:
    result = CliRunner().invoke(
        app, ["plan", "--take", "diazepam 10 mg at 08:00", "--strategy", "custom"]
    )
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "custom" in text and "schedule" in text
    assert "not a stepwise strategy" not in text
