"""Do the hotspots predict? Choose on one window, score on the months after it.

The measures of Chainey, Tompson & Uhlig (2008): hit rate = share of the later period's incidents
inside the chosen cells; area share = the chosen cells' share of the study area; Predictive Accuracy
Index PAI = hit rate / area share. A method is only worth its complexity if it beats the plain
ranking a sceptical analyst tries first: the same number of cells, taken by the window's count
(DOMAIN.md). So every check is reported side by side with that ranking at the same area.

Issue 24 adds PEI (Hunt 2016: the PAI over the best PAI possible at that area), RRI (Levine 2008:
the share caught in the test months over the share caught in the choice window), a 95% interval of
each PAI from test months drawn with replacement, a hit-rate curve from 1% to 10% of the area, and a
kernel density baseline (150 m over cell centres) beside the count ranking. Every selection is scored
by the same code (:func:`hotspot_engine.analyse.predict.score`).

Cells of one H3 resolution differ in area by a few per cent, so area shares are shares of cells.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspot_engine.analyse.predict import CURVE_SHARES, bootstrap_pai, hit_rate_curve, score

#: The columns of :attr:`Holdout.table`, in order.
HOLDOUT_COLUMNS = ["selection", "cells", "area_km2", "area_share", "incidents_caught", "hit_rate", "pai", "pai_low",
                   "pai_high", "pei", "rri"]
#: The columns of :attr:`Holdout.curve`.
CURVE_COLUMNS = ["predictor", "area_share", "cells", "hit_rate", "pai"]


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
    curve: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CURVE_COLUMNS))

    def pai_ratio(self) -> float | None:
        """The method's PAI over the count ranking's (None when the ranking catches nothing)."""
        method, ranking = self.table["pai"].iloc[0], self.table["pai"].iloc[-1]
        return float(method / ranking) if ranking > 0 else None

    def better_baseline_ratio(self) -> float | None:
        """The method's PAI over the better of the baselines at the same area (count ranking, kernel
        density); None when neither catches anything."""
        same = self.table[self.table["selection"].str.endswith(", same area")]
        best = float(same["pai"].max()) if len(same) else float("nan")
        return float(self.table["pai"].iloc[0] / best) if best > 0 else None


def ranking_cells(train: pd.DataFrame, n_cells: int, measure: str = "count") -> np.ndarray:
    """The ``n_cells`` cells with the most of the measure in the window (ties: the other measure,
    then the lower id): the plain ranking baseline. ``train``: h3 (hex), count, harm."""
    other = "harm" if measure == "count" else "count"
    order = np.lexsort((train["h3"].astype(str).to_numpy(), -train[other].to_numpy(dtype=float),
                        -train[measure].to_numpy(dtype=float)))
    return train["h3"].astype(str).to_numpy()[order[:n_cells]]


def holdout_scores(cells: pd.DataFrame, test_counts: pd.DataFrame, window: tuple[str, str], test: tuple[str, str],
                   cell_km2: float, measure: str = "count", baselines: dict[str, np.ndarray] | None = None,
                   test_months: pd.DataFrame | None = None) -> Holdout:
    """Score the hotspots of a result's ``cells`` (h3 hex, count, harm, is_hotspot, next_ranked
    [, predicted]) on ``test_counts`` (h3 hex, count: incidents per cell in the test months) against
    the plain count ranking and the ``baselines`` (name -> risk per cell, aligned with ``cells``) at
    the same number of cells. ``test_months`` (h3, month, count) gives the bootstrap over months.
    Cells outside the study area are not counted."""
    study = cells["h3"].astype(str).to_numpy()
    index = pd.Index(study)
    caught = pd.Series(test_counts["count"].to_numpy(dtype=float), index=test_counts["h3"].astype(str).to_numpy())
    actual = caught.groupby(level=0).sum().reindex(study, fill_value=0.0).to_numpy()
    grid = _month_grid(index, test_months) if test_months is not None and len(test_months) else actual[:, None]
    train = cells["count"].to_numpy(dtype=float)
    total = float(actual.sum())
    hot = cells["is_hotspot"].astype(bool).to_numpy()
    selections = [("hotspots (default test)", hot)]
    if "next_ranked" in cells and cells["next_ranked"].astype(bool).any():
        every = hot | cells["next_ranked"].astype(bool).to_numpy()
        selections.append(("hotspots and next ranked", every))
        selections.append((f"cells ranked by {measure}, same area as all areas",
                           index.isin(ranking_cells(cells, int(every.sum()), measure))))
    for name, risk in (baselines or {}).items():
        selections.append((f"{name}, same area", _top(np.asarray(risk, dtype=float), int(hot.sum()))))
    selections.append((f"cells ranked by {measure}, same area", index.isin(ranking_cells(cells, int(hot.sum()), measure))))
    rows = [_row(name, chosen, actual, grid, train, cell_km2) for name, chosen in selections]
    table = pd.DataFrame(rows, columns=HOLDOUT_COLUMNS)
    risks = {"the method's prediction": cells["predicted"].to_numpy(dtype=float)} if "predicted" in cells else {}
    risks.update({f"cells ranked by {measure}": train, **(baselines or {})})
    curve = pd.DataFrame([[name, s["area_share"], s["cells"], s["hit_rate"], s["pai"]]
                          for name, risk in risks.items() for s in _curve(np.asarray(risk, dtype=float), actual)],
                         columns=CURVE_COLUMNS)
    notes = []
    if total == 0:
        notes.append("No incidents in the test months: the hold-out check cannot be scored.")
    elif total < 100:
        notes.append(f"Only {total:,.0f} incidents in the test months: the hit rates move a lot with a few incidents.")
    if grid.shape[1] < 2:
        notes.append("One test month: no interval over months can be given for the PAI.")
    result = Holdout(table, window, test, int(total), "", notes, curve)
    result.summary = _summary(result)
    return result


def _month_grid(index: pd.Index, test_months: pd.DataFrame) -> np.ndarray:
    pos = index.get_indexer(test_months["h3"].astype(str).to_numpy())
    col, months = pd.factorize(test_months["month"].astype(str), sort=True)
    ok = pos >= 0
    grid = np.zeros((len(index), len(months)))
    np.add.at(grid, (pos[ok], col[ok]), test_months["count"].to_numpy(dtype=float)[ok])
    return grid


def _top(risk: np.ndarray, n: int) -> np.ndarray:
    chosen = np.zeros(risk.size, dtype=bool)
    chosen[np.argsort(-risk, kind="stable")[:n]] = True
    return chosen


def _curve(risk: np.ndarray, actual: np.ndarray) -> list[dict]:
    return hit_rate_curve(risk, actual, CURVE_SHARES) if actual.sum() else []


def _row(name: str, chosen: np.ndarray, actual: np.ndarray, grid: np.ndarray, train: np.ndarray, cell_km2: float) -> list:
    n = int(chosen.sum())
    share = n / actual.size if actual.size else 0.0
    if n == 0 or not actual.sum():
        inside = float(actual[chosen].sum()) if n else 0.0
        return [name, n, n * cell_km2, share, int(round(inside)), float("nan"), float("nan"), float("nan"),
                float("nan"), float("nan"), float("nan")]
    # Exactly the chosen cells: a risk of 1 on them and 0 elsewhere, scored like every predictor.
    risk = chosen.astype(float)
    s = score(risk, actual, share, train=train)
    low, high = bootstrap_pai(risk, grid, share)
    return [name, n, n * cell_km2, share, int(round(s["caught"])), s["hit_rate"], s["pai"], low, high, s["pei"], s["rri"]]


def report_lines(result: Holdout) -> list[str]:
    """The check as a few printed lines: the summary, each selection's PAI (95% interval over test
    months), PEI and RRI, and the hit-rate curve of each ranking."""
    lines = [result.summary]
    for row in result.table.itertuples():
        interval = f" ({row.pai_low:.1f}-{row.pai_high:.1f})" if np.isfinite(row.pai_low) else ""
        lines.append(f"  {row.selection}: {row.cells} cells, PAI {row.pai:.1f}{interval}, PEI {row.pei:.2f}, RRI {row.rri:.2f}")
    ratio = result.better_baseline_ratio()
    if ratio is not None:
        lines.append(f"  the hotspots' PAI over the better baseline at the same area: {ratio:.2f}")
    if len(result.curve):
        shares = sorted(result.curve["area_share"].unique())
        lines.append("  PAI at " + ", ".join(f"{s:.0%}" for s in shares) + " of the area:")
        for name, group in result.curve.groupby("predictor", sort=False):
            lines.append(f"    {name}: " + " ".join(f"{v:.1f}" for v in group["pai"]))
    return lines


def _summary(result: Holdout) -> str:
    table = result.table
    method, ranking = table.iloc[0], table.iloc[-1]
    if result.test_incidents == 0 or method["cells"] == 0:
        return (f"Hold-out check {result.test[0]} to {result.test[1]}: nothing to score "
                f"({'no incidents' if result.test_incidents == 0 else 'no hotspots'}).")
    kernel = table[table["selection"].str.startswith("kernel density")]
    kde = f"; a kernel density surface at the same area, PAI {kernel['pai'].iloc[0]:.1f}" if len(kernel) else ""
    return (f"Chosen on {result.window[0]} to {result.window[1]}, scored on {result.test[0]} to {result.test[1]} "
            f"({result.test_incidents:,} incidents): the hotspots caught {method['hit_rate']:.1%} in "
            f"{method['area_share']:.2%} of the area (PAI {method['pai']:.1f}); the {int(ranking['cells'])} cells "
            f"with the most incidents caught {ranking['hit_rate']:.1%} (PAI {ranking['pai']:.1f}){kde}.")


__all__ = ["Holdout", "HOLDOUT_COLUMNS", "CURVE_COLUMNS", "holdout_scores", "ranking_cells", "report_lines"]
