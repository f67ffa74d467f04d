"""Pharmacokinetic simulation: levels, diazepam-equivalent activity and estimated occupancy."""

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
