"""Estimated GABA-A receptor occupancy from a diazepam-equivalent dose (Emax/Hill model).

One model serves both the hyperbolic taper (equal steps of occupancy) and the simulation
(occupancy over time), so the two always agree. Its parameters are a labelled assumption:
no primary source publishes them for benzodiazepines (see data/occupancy.toml).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from benzotaper.catalogue.loader import DATA_DIR, read_toml, validate
from benzotaper.catalogue.models import Sourced, Strict

if TYPE_CHECKING:  # numpy is imported only by the simulation (planning never needs it)
    import numpy as np
    from numpy.typing import NDArray


class OccupancyModel(Strict):
    """Occ(D) = Emax·Dⁿ / (ED50ⁿ + Dⁿ), D in mg diazepam-equivalent, Occ in percent."""

    version: str
    emax_percent: Sourced
    ed50_mg: Sourced
    hill: Sourced
    assumption: bool = True
    label: str = Field(min_length=1)

    def occupancy(self, diazepam_equivalent_mg: float) -> float:
        d = max(diazepam_equivalent_mg, 0.0)
        n, ed50, emax = self.hill.mid, self.ed50_mg.mid, self.emax_percent.mid
        if d == 0:
            return 0.0
        return float(emax * d**n / (ed50**n + d**n))

    def occupancy_array(self, diazepam_equivalent_mg: NDArray[np.float64]) -> NDArray[np.float64]:
        """The same curve over many values at once (the simulation's time series)."""
        import numpy as np

        d = np.maximum(np.asarray(diazepam_equivalent_mg, dtype=float), 0.0)
        n, ed50, emax = self.hill.mid, self.ed50_mg.mid, self.emax_percent.mid
        dn = d**n
        result: NDArray[np.float64] = emax * dn / (ed50**n + dn)
        return result

    def dose_for(self, occupancy_percent: float) -> float:
        """Inverse: the DE dose that gives ``occupancy_percent`` (0 ≤ occ < Emax)."""
        n, ed50, emax = self.hill.mid, self.ed50_mg.mid, self.emax_percent.mid
        if occupancy_percent <= 0:
            return 0.0
        if occupancy_percent >= emax:
            raise ValueError(f"occupancy must be below Emax ({emax}%)")
        return float(ed50 * (occupancy_percent / (emax - occupancy_percent)) ** (1 / n))

    def with_overrides(
        self, ed50_mg: float | None = None, hill: float | None = None
    ) -> OccupancyModel:
        """The same model with user-given parameters, labelled as the user's."""
        update: dict[str, Sourced] = {}
        if ed50_mg is not None:
            update["ed50_mg"] = Sourced(low=ed50_mg, high=ed50_mg, source="user-override")
        if hill is not None:
            update["hill"] = Sourced(low=hill, high=hill, source="user-override")
        return self.model_copy(update=update)


def load_occupancy_model(path: Path | None = None) -> OccupancyModel:
    """Read and validate the occupancy assumption (sources are checked by ``knowledge``)."""
    file = path or DATA_DIR / "occupancy.toml"
    return validate(OccupancyModel, read_toml(file), file.name)
