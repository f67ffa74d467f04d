"""Pharmacokinetic simulation: levels, diazepam-equivalent activity and estimated occupancy."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benzotaper.pk.assumptions import PkAssumptions, load_pk_assumptions
    from benzotaper.pk.model import DrugModel, ParameterUsed, build_drug_model, ka_from_tmax
    from benzotaper.pk.simulate import (
        DISCLAIMER,
        UNITS_NOTE,
        Context,
        Segment,
        Simulation,
        TimedDose,
        simulate_plan,
        simulate_regimen,
        simulate_segments,
    )

#: Where each public name lives: imported on first use, so loading the PK assumptions (the
#: Knowledge loader, the planner) never pulls in numpy.
_HOME = {
    "PkAssumptions": "assumptions",
    "load_pk_assumptions": "assumptions",
    "DrugModel": "model",
    "ParameterUsed": "model",
    "build_drug_model": "model",
    "ka_from_tmax": "model",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _HOME or name in __all__:
        module = importlib.import_module(f"benzotaper.pk.{_HOME.get(name, 'simulate')}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DISCLAIMER",
    "UNITS_NOTE",
    "Context",
    "DrugModel",
    "ParameterUsed",
    "PkAssumptions",
    "Segment",
    "Simulation",
    "TimedDose",
    "build_drug_model",
    "ka_from_tmax",
    "load_pk_assumptions",
    "simulate_plan",
    "simulate_regimen",
    "simulate_segments",
]
