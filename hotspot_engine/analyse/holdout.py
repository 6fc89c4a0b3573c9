"""Do the hotspots predict? Choose on one window, score on the months after it.

The measures of Chainey, Tompson & Uhlig (2008): hit rate = share of the later period's incidents
inside the chosen cells; area share = the chosen cells' share of the study area; Predictive Accuracy
Index PAI = hit rate / area share. A method is only worth its complexity if it beats the plain
ranking a sceptical analyst tries first: the same number of cells, taken by the window's count
(DOMAIN.md). So every check is reported side by side with that ranking at the same area.

Cells of one H3 resolution differ in area by a few per cent, so area shares are shares of cells.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: The rows of :attr:`Holdout.table`, in order.
HOLDOUT_COLUMNS = ["selection", "cells", "area_km2", "area_share", "incidents_caught", "hit_rate", "pai"]


@dataclass
class Holdout:
    """``table``: one row per selection (columns :data:`HOLDOUT_COLUMNS`); ``window`` and ``test``:
    (first, last) months; ``test_incidents``: incidents in the test months over the study area;
    ``summary``: one plain sentence; ``notes``: what the figures cannot show."""

    table: pd.DataFrame
    window: tuple[str, str]
    test: tuple[str, str]
    test_incidents: int
    summary: str
    notes: list[str] = field(default_factory=list)

    def pai_ratio(self) -> float | None:
        """The method's PAI over the count ranking's (None when the ranking catches nothing)."""
        method, ranking = self.table["pai"].iloc[0], self.table["pai"].iloc[-1]
        return float(method / ranking) if ranking > 0 else None


def ranking_cells(train: pd.DataFrame, n_cells: int, measure: str = "count") -> np.ndarray:
    """The ``n_cells`` cells with the most of the measure in the window (ties: the other measure,
    then the lower id): the plain ranking baseline. ``train``: h3 (hex), count, harm."""
    other = "harm" if measure == "count" else "count"
    order = np.lexsort((train["h3"].astype(str).to_numpy(), -train[other].to_numpy(dtype=float),
                        -train[measure].to_numpy(dtype=float)))
    return train["h3"].astype(str).to_numpy()[order[:n_cells]]


def holdout_scores(cells: pd.DataFrame, test_counts: pd.DataFrame, window: tuple[str, str], test: tuple[str, str],
                   cell_km2: float, measure: str = "count") -> Holdout:
    """Score the hotspots of a result's ``cells`` (h3 hex, count, harm, is_hotspot, next_ranked) on
    ``test_counts`` (h3 hex, count: incidents per cell in the test months) against the plain count
    ranking at the same number of cells. Cells outside the study area are not counted."""
    study = cells["h3"].astype(str).to_numpy()
    caught = pd.Series(test_counts["count"].to_numpy(dtype=float), index=test_counts["h3"].astype(str).to_numpy())
    caught = caught.groupby(level=0).sum().reindex(study, fill_value=0.0)
    total = float(caught.sum())
    hot = study[cells["is_hotspot"].astype(bool).to_numpy()]
    selections = [("hotspots (default test)", hot)]
    if "next_ranked" in cells and cells["next_ranked"].astype(bool).any():
        every = study[(cells["is_hotspot"].astype(bool) | cells["next_ranked"].astype(bool)).to_numpy()]
        selections.append(("hotspots and next ranked", every))
        selections.append((f"cells ranked by {measure}, same area as all areas", ranking_cells(cells, every.size, measure)))
    selections.append((f"cells ranked by {measure}, same area", ranking_cells(cells, hot.size, measure)))
    rows = [_row(name, chosen, caught, total, len(study), cell_km2) for name, chosen in selections]
    table = pd.DataFrame(rows, columns=HOLDOUT_COLUMNS)
    notes = []
    if total == 0:
        notes.append("No incidents in the test months: the hold-out check cannot be scored.")
    elif total < 100:
        notes.append(f"Only {total:,.0f} incidents in the test months: the hit rates move a lot with a few incidents.")
    result = Holdout(table, window, test, int(total), "", notes)
    result.summary = _summary(result)
    return result


def _row(name: str, chosen: np.ndarray, caught: pd.Series, total: float, n_study: int, cell_km2: float) -> list:
    inside = float(caught.reindex(chosen, fill_value=0.0).sum()) if chosen.size else 0.0
    area_share = chosen.size / n_study if n_study else 0.0
    hit = inside / total if total else float("nan")
    pai = hit / area_share if area_share and total else float("nan")
    return [name, int(chosen.size), chosen.size * cell_km2, area_share, int(round(inside)), hit, pai]


def _summary(result: Holdout) -> str:
    table = result.table
    method, ranking = table.iloc[0], table.iloc[-1]
    if result.test_incidents == 0 or method["cells"] == 0:
        return (f"Hold-out check {result.test[0]} to {result.test[1]}: nothing to score "
                f"({'no incidents' if result.test_incidents == 0 else 'no hotspots'}).")
    return (f"Chosen on {result.window[0]} to {result.window[1]}, scored on {result.test[0]} to {result.test[1]} "
            f"({result.test_incidents:,} incidents): the hotspots caught {method['hit_rate']:.1%} in "
            f"{method['area_share']:.2%} of the area (PAI {method['pai']:.1f}); the {int(ranking['cells'])} cells "
            f"with the most incidents caught {ranking['hit_rate']:.1%} (PAI {ranking['pai']:.1f}).")


__all__ = ["Holdout", "HOLDOUT_COLUMNS", "holdout_scores", "ranking_cells"]
