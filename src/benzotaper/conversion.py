"""Dose equivalence through diazepam, per source, with the spread across every source."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from benzotaper.catalogue import DIAZEPAM, Catalogue, Drug, Equivalent
from benzotaper.doses import check_plausible
from benzotaper.errors import RegimenError, UnknownSourceError

DISCLAIMER = (
    "Equivalent doses are approximate and tables disagree. Agree any switch or change "
    "with your prescriber before acting on it."
)

Amount = float | tuple[float, float]


def _round(x: float) -> float:
    return round(x, 4)


def _amount(low: float, high: float) -> float | list[float]:
    return _round(low) if abs(high - low) < 1e-9 else [_round(low), _round(high)]


class Conversion(BaseModel):
    """The answer to "how much X equals this much Y", with its provenance."""

    model_config = ConfigDict(frozen=True)

    from_drug: str
    from_mg: float
    to_drug: str
    dose_mg: float
    source: str
    source_reason: str
    range_mg: tuple[float, float]
    by_source: dict[str, float | list[float]]
    diazepam_equivalent_mg: float
    catalogue_version: str
    disclaimer: str = DISCLAIMER


def _per_source(drug: Drug, source: str) -> Equivalent | None:
    if drug.id == DIAZEPAM:
        # Diazepam is the reference: 10 mg is 10 mg in every table.
        return drug.equivalent(source) or Equivalent(value=10, source=source)  # type: ignore[call-arg]
    return drug.equivalent(source)


def _convert_range(mg: float, src: Equivalent, dst: Equivalent) -> tuple[float, float]:
    """Interval arithmetic: mg of src drug → mg of dst drug, both per 10 mg diazepam."""
    low = mg * dst.low / src.high
    high = mg * dst.high / src.low
    return low, high


def _convert_point(mg: float, src: Equivalent, dst: Equivalent) -> float:
    return mg * dst.mid / src.mid


def convert(
    catalogue: Catalogue,
    drug: str,
    mg: float,
    to: str = DIAZEPAM,
    source: str | None = None,
) -> Conversion:
    """Convert ``mg`` of ``drug`` to ``to`` using ``source`` (default: the catalogue's)."""
    src_drug = catalogue.drug(drug)
    dst_drug = catalogue.drug(to)
    check_plausible(src_drug, mg)
    chosen = source or catalogue.default_source
    catalogue.reference(chosen)  # unknown keys get a clear error with close matches

    by_source: dict[str, float | list[float]] = {}
    lows: list[float] = []
    highs: list[float] = []
    for key in catalogue.equivalence_sources():
        a, b = _per_source(src_drug, key), _per_source(dst_drug, key)
        if a is None or b is None:
            continue
        low, high = _convert_range(mg, a, b)
        by_source[key] = _amount(low, high)
        lows.append(low)
        highs.append(high)

    a, b = _per_source(src_drug, chosen), _per_source(dst_drug, chosen)
    fallback_note = ""
    if (a is None or b is None) and source is None:
        # The default table lacks this drug: use the first documented fallback that has both.
        for key in catalogue.fallback_sources:
            fa, fb = _per_source(src_drug, key), _per_source(dst_drug, key)
            if fa is not None and fb is not None:
                missing = src_drug.name if a is None else dst_drug.name
                fallback_note = (
                    f" {catalogue.default_source} gives no equivalent for {missing}, "
                    f"so {key} was used (the first fallback source that covers both drugs)."
                )
                chosen, a, b = key, fa, fb
                break
    if not by_source:
        raise UnknownSourceError(
            f"No equivalence table covers both {src_drug.name} and {dst_drug.name}. "
            "Convert each to diazepam separately, and ask your prescriber or pharmacist."
        )
    if a is None or b is None:
        missing = src_drug.name if a is None else dst_drug.name
        usable = ", ".join(by_source) or "none"
        raise UnknownSourceError(
            f"Source {chosen!r} gives no equivalent for {missing}. "
            f"Sources that cover both: {usable}."
        )
    dose = _convert_point(mg, a, b)
    de = mg * 10 / a.mid  # every equivalent is stated per 10 mg diazepam
    reason = (
        catalogue.default_source_reason
        if source is None
        else "Chosen by you; the range across all sources is shown beside it."
    )
    reason += fallback_note
    if a.is_range or b.is_range:
        reason += " This source gives a range; its midpoint is used."
    return Conversion(
        from_drug=src_drug.id,
        from_mg=mg,
        to_drug=dst_drug.id,
        dose_mg=_round(dose),
        source=chosen,
        source_reason=reason,
        range_mg=(_round(min(lows)), _round(max(highs))),
        by_source=by_source,
        diazepam_equivalent_mg=_round(de),
        catalogue_version=catalogue.version,
    )


def diazepam_equivalent(
    catalogue: Catalogue, drug: str, mg: float, source: str | None = None
) -> float:
    """mg of diazepam equal to ``mg`` of ``drug`` by one source (the default if None)."""
    return convert(catalogue, drug, mg, DIAZEPAM, source).dose_mg


class TotalEquivalent(BaseModel):
    """A whole regimen (several drugs) as one diazepam-equivalent daily total."""

    model_config = ConfigDict(frozen=True)

    dose_mg: float
    source: str
    range_mg: tuple[float, float]
    parts: list[Conversion]
    catalogue_version: str
    disclaimer: str = DISCLAIMER


def total_equivalent(
    catalogue: Catalogue,
    doses: Sequence[tuple[str, float]],
    source: str | None = None,
) -> TotalEquivalent:
    """Sum several drugs' doses in diazepam equivalents; the range sums each drug's spread."""
    if not doses:
        raise RegimenError("Give at least one drug and dose to total.")
    parts = [convert(catalogue, name, mg, DIAZEPAM, source) for name, mg in doses]
    return TotalEquivalent(
        dose_mg=_round(sum(p.dose_mg for p in parts)),
        source=source or catalogue.default_source,
        range_mg=(
            _round(sum(p.range_mg[0] for p in parts)),
            _round(sum(p.range_mg[1] for p in parts)),
        ),
        parts=parts,
        catalogue_version=catalogue.version,
    )
