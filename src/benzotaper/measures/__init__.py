"""Clinic quality measures: published deprescribing and safety measures, adapted, and
benzotaper's own taper measures, computed for the patients who share with a clinician.

Pure core (no I/O)::

    from benzotaper.measures import clinic_report, default_measure_book, Period
    report = clinic_report(records, Period.year(2026), default_measure_book())

- :mod:`.timeline`: the dose in force day by day from saved plan versions (:class:`Run`).
- :mod:`.model`: :class:`PatientRecord` / :class:`ClinicData` (input), :class:`ClinicReport`
  (output).
- :mod:`.facts`: the facts of every patient at once (numpy over all runs).
- :mod:`.compute`: HEDIS DBO, DAE, DDE, PQA COB, completion, time to zero, holds,
  reinstatements, still off.
- :mod:`.definitions`: ``data/measures.toml`` (definitions, sources, adaptations), loaded strictly.
- :mod:`.export`: CSV (formula-injection safe) and FHIR MeasureReport.

The database side (reading a clinician's patients in a few bulk queries) is
:mod:`benzotaper.storage.measures`.
"""

from benzotaper.measures.compute import clinic_report
from benzotaper.measures.definitions import MeasureBook, default_measure_book, load_measure_book
from benzotaper.measures.model import (
    ClinicData,
    ClinicReport,
    Factors,
    MeasureResult,
    PatientRecord,
    Period,
    RateResult,
)
from benzotaper.measures.timeline import ClassSplit, Run, StepDose, VersionDoses, in_force_runs

__all__ = [
    "ClassSplit",
    "ClinicData",
    "ClinicReport",
    "Factors",
    "MeasureBook",
    "MeasureResult",
    "PatientRecord",
    "Period",
    "RateResult",
    "Run",
    "StepDose",
    "VersionDoses",
    "clinic_report",
    "default_measure_book",
    "in_force_runs",
    "load_measure_book",
]
