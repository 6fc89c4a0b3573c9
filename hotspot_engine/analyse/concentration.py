"""How concentrated serious violence is: share of SV (or harm) in a share of the area.

Cells are sorted by their value, highest first, and the cumulative share of cells is set against
the cumulative share of the value: the concentration (Lorenz) curve of crime-and-place research
(e.g. the Southend trial's "41% of harm in 2.6% of the area"). The Gini coefficient is the usual
one, ``sum_i sum_j |x_i - x_j| / (2 n^2 mean)``, here read off the curve as ``2 * area - 1``.

Sparse counts look concentrated even by chance: 5,000 incidents scattered at random over 44,000
cells give a Gini of about 0.90, because most cells must be empty. So the curve comes with its
chance twin (:func:`chance_concentration`: the expected curve of the same number of incidents
scattered at random over the same cells), and the Gini with the generalised Gini of Bernasco &
Steenbeek (2017), which measures against the most equal spread the data allow (each incident in
a cell of its own when incidents are fewer than cells) instead of against perfect equality.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special


@dataclass(frozen=True)
class Concentration:
    """cell_share and value_share are the curve's points, from (0, 0) to (1, 1), cells sorted by
    value descending; ``gini`` is 0 when every cell has the same value and (n-1)/n when one cell
    holds everything."""

    cell_share: np.ndarray
    value_share: np.ndarray
    gini: float
    total: float
    n_cells: int

    def value_share_in_top(self, area_share: float) -> float:
        """Share of the value held by the top ``area_share`` of cells (linear between cells)."""
        if self.total <= 0:
            return 0.0
        return float(np.interp(float(area_share), self.cell_share, self.value_share))

    def cells_for_share(self, value_share: float) -> int:
        """Fewest cells that together hold at least ``value_share`` of the value."""
        if self.total <= 0 or value_share <= 0:
            return 0
        # A tiny tolerance so that 0.5 of a total made of floats is reached by the cells that hold it.
        return int(np.searchsorted(self.value_share[1:], min(float(value_share), 1.0) * (1 - 1e-12)) + 1)

    def area_share_for(self, value_share: float) -> float:
        """Share of the area (cells) needed to hold ``value_share`` of the value."""
        return self.cells_for_share(value_share) / self.n_cells if self.n_cells else 0.0

    def summary(self, area_shares: tuple[float, ...] = (0.01, 0.05), value_shares: tuple[float, ...] = (0.5,)) -> str:
        """One plain sentence, e.g. '41% of harm in the top 2.6% of the area; 50% in 1.2% ...'."""
        parts = [f"{self.value_share_in_top(a):.0%} in the top {a:.0%} of the area" for a in area_shares]
        parts += [f"{v:.0%} in {self.area_share_for(v):.1%} of the area" for v in value_shares]
        return "; ".join(parts) + f" (Gini {self.gini:.2f})"


def generalised_gini(gini: float, incidents: float, n_cells: int) -> float:
    """Bernasco & Steenbeek's (2017) generalised Gini: the Gini against maximal equality given the
    data. With N incidents in n > N cells the most equal spread (N cells with one each) has Gini
    1 - N/n, and the generalised Gini rescales so that spread reads 0 and one cell holding
    everything reads (N - 1)/N: ``(G - (1 - N/n)) / (N/n)``. Equal to G when N >= n."""
    if n_cells <= 0 or incidents <= 0:
        return 0.0
    share = min(float(incidents) / n_cells, 1.0)
    return float(max(0.0, (gini - (1.0 - share)) / share))


def chance_concentration(incidents: int, n_cells: int) -> Concentration:
    """The expected concentration curve of ``incidents`` scattered uniformly at random over
    ``n_cells`` cells: cell counts Poisson with mean incidents / n_cells (the multinomial's limit
    for many cells), cells sorted busiest first. Computed from the Poisson probabilities, so it is
    the same on every run; the curve's points are at the count boundaries (k or more incidents)."""
    n = int(n_cells)
    total = float(incidents)
    if n <= 0 or total <= 0:
        return concentration(np.zeros(max(n, 0)))
    mean = total / n
    top = int(max(10, mean + 12 * np.sqrt(mean) + 10))
    k = np.arange(top, -1, -1, dtype=float)  # busiest first
    pmf = np.exp(k * np.log(mean) - mean - special.gammaln(k + 1))
    cell_share = np.concatenate([[0.0], np.cumsum(pmf)])
    value_share = np.concatenate([[0.0], np.cumsum(k * pmf) / mean])
    cell_share /= cell_share[-1]
    value_share /= value_share[-1]
    area = np.trapezoid(value_share, cell_share)
    return Concentration(cell_share, value_share, float(2 * area - 1), total, n)


def concentration(values: np.ndarray) -> Concentration:
    """Concentration curve and Gini of non-negative values, one per cell (zeros included: the
    study area's empty cells are part of the area)."""
    values = np.asarray(values, dtype=float).ravel()
    if values.size and (not np.isfinite(values).all() or values.min() < 0):
        raise ValueError("concentration: values must be finite and non-negative")
    n = values.size
    total = float(values.sum())
    cell_share = np.arange(n + 1) / max(n, 1)
    if n == 0 or total <= 0:
        return Concentration(cell_share, cell_share.copy(), 0.0, total, n)
    ordered = np.sort(values)[::-1]
    value_share = np.concatenate([[0.0], np.cumsum(ordered) / total])
    value_share[-1] = 1.0
    area = np.trapezoid(value_share, cell_share)
    return Concentration(cell_share, value_share, float(2 * area - 1), total, n)


__all__ = ["Concentration", "concentration", "chance_concentration", "generalised_gini"]
