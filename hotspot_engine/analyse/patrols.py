"""Patrols: one import for the pieces, which live by job.

- :mod:`hotspot_engine.analyse.dosage`: visits per hotspot area (GPS runs joined), the user's
  target (Koper default), the dosage report;
- :mod:`hotspot_engine.analyse.patrol_plan`: the suggested week, with times only where the data
  has them;
- :mod:`hotspot_engine.render.briefing`: the printable pages.

Everything here is pure (frames in, frames out); :func:`hotspot_engine.service.patrol_report`
queries the store with a :class:`~hotspot_engine.filters.Filters` and calls them, on the Gi*
hotspots of the 12 months *before* the period (:func:`hotspot_engine.service.hotspots_before`), so
dosage is measured against the places chosen before patrolling began, not picked with hindsight.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot_engine.analyse.dosage import (
    ALL_HOTSPOTS,
    AREA_GAP_MINUTES,
    CELL_DOSAGE_COLUMNS,
    DAY_NAMES,
    DOSAGE_COLUMNS,
    DOSAGE_PRESETS,
    GRID_COLUMNS,
    KOPER_SOURCE,
    OWN_TARGET,
    SHIFTS,
    WEEKLY_COLUMNS,
    DosageTarget,
    PatrolReport,
    assign_patrols,
    cell_dosage,
    hotspot_dosage,
    mark_actions,
    merge_area_visits,
    parse_actions,
    patrol_report,
    period_of,
    time_grid,
    weekly_series,
)
from hotspot_engine.analyse.patrol_plan import (
    PLAN_COLUMNS,
    PatrolPlan,
    next_monday,
    peak_windows,
    plan_csv,
    plan_meets_target,
    suggest_plan,
)
from hotspot_engine.render.briefing import briefing_pdf


def hotspot_frames(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(areas, cells) of a HotspotResult as :func:`patrol_report` takes them: the areas' rank, id,
    name, district and size; one row per hotspot cell with its uint64 H3 id."""
    from hotspot_engine.reference.geography import str_to_cell

    hot = result.cells[result.cells["is_hotspot"].astype(bool)]
    cells = pd.DataFrame({"h3": str_to_cell(hot["h3"]) if len(hot) else np.array([], np.uint64),
                          "hotspot_id": hot["hotspot_id"].astype(object).to_numpy(),
                          "hotspot_name": hot["hotspot_name"].astype(object).to_numpy()})
    areas = result.areas[["hotspot_rank", "hotspot_id", "hotspot_name", "district", "n_cells"]].copy()
    return areas, cells


__all__ = [
    "DosageTarget", "PatrolReport", "PatrolPlan", "DOSAGE_COLUMNS", "CELL_DOSAGE_COLUMNS", "GRID_COLUMNS",
    "WEEKLY_COLUMNS", "PLAN_COLUMNS", "DAY_NAMES", "ALL_HOTSPOTS", "AREA_GAP_MINUTES", "KOPER_SOURCE", "SHIFTS",
    "DOSAGE_PRESETS", "OWN_TARGET", "period_of", "parse_actions", "assign_patrols", "merge_area_visits", "time_grid", "weekly_series", "mark_actions",
    "hotspot_dosage", "cell_dosage", "patrol_report", "peak_windows", "suggest_plan", "plan_meets_target", "plan_csv",
    "briefing_pdf", "next_monday", "hotspot_frames",
]
