"""Patrols from the store: the thin wrappers that read the store and call the pure pieces.

The pieces live by job: :mod:`hotspot_engine.analyse.dosage` (visits, target, dosage report),
:mod:`hotspot_engine.analyse.patrol_plan` (the suggested week) and
:mod:`hotspot_engine.render.briefing` (the printable pages). Their names are re-exported here so
callers can keep one import.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from hotspot_engine.analyse.dosage import (  # noqa: F401  (re-exported)
    ALL_HOTSPOTS,
    AREA_GAP_MINUTES,
    CELL_DOSAGE_COLUMNS,
    DAY_NAMES,
    DOSAGE_COLUMNS,
    GRID_COLUMNS,
    KOPER_SOURCE,
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
from hotspot_engine.analyse.patrol_plan import (  # noqa: F401  (re-exported)
    PLAN_COLUMNS,
    PatrolPlan,
    next_monday,
    peak_windows,
    plan_csv,
    plan_meets_target,
    suggest_plan,
)
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters, shift_month
from hotspot_engine.render.briefing import briefing_pdf  # noqa: F401  (re-exported)


def hotspots_before(con, filters: Filters, params=None, harm_weights=None, exclusions_path=None):
    """The Gi* hotspots of the 12 months before the period starts (the places chosen before the
    patrols). Returns (HotspotResult, note). When the store holds nothing before the period, the
    period itself is used and the note says so (the comparison is then flattered)."""
    from hotspot_engine.analyse.hotspots import HotspotParams, find_hotspots
    from hotspot_engine.store.query import extent

    params = params or HotspotParams()
    start = filters.date_from
    if start is None:
        raise InputError("period: choose a first month")
    before = filters.with_(date_from=shift_month(start, -12), date_to=shift_month(start, -1))
    first = extent(con).first_month
    if first is not None and before.date_to is not None and first <= before.date_to:
        result = find_hotspots(con, before, params, harm_weights=harm_weights, exclusions_path=exclusions_path)
        if len(result.areas):
            return result, f"Hotspots: {params.describe()}, on {before.date_from} to {before.date_to} (before the period)."
    result = find_hotspots(con, filters, params, harm_weights=harm_weights, exclusions_path=exclusions_path)
    return result, (f"Hotspots: no hotspots could be found in the 12 months before {filters.date_from}; they were chosen "
                    "on the period itself, which flatters the incidents inside them.")


def _hotspot_frames(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    from hotspot_engine.reference.geography import str_to_cell

    hot = result.cells[result.cells["is_hotspot"].astype(bool)]
    cells = pd.DataFrame({"h3": str_to_cell(hot["h3"]) if len(hot) else np.array([], np.uint64),
                          "hotspot_id": hot["hotspot_id"].astype(object).to_numpy(),
                          "hotspot_name": hot["hotspot_name"].astype(object).to_numpy()})
    areas = result.areas[["hotspot_rank", "hotspot_id", "hotspot_name", "district", "n_cells"]].copy()
    return areas, cells


def _incidents_in_cells(con, filters: Filters, hotspot_cells: pd.DataFrame, harm_weights=None) -> pd.DataFrame:
    """Incidents in the hotspot cells aggregated by hotspot, day and hour (NULL day/hour for
    month-only records): columns hotspot_id, day, hour, count, harm."""
    from hotspot_engine.store.query import _register_lookups, where_incidents

    if hotspot_cells.empty:
        return pd.DataFrame({"hotspot_id": pd.Series(dtype=object), "day": pd.Series(dtype="datetime64[ns]"),
                             "hour": pd.Series(dtype=float), "count": pd.Series(dtype=int), "harm": pd.Series(dtype=float)})
    _register_lookups(con, harm_weights)
    where, params = where_incidents(filters)
    con.register("_patrol_hot_cells", hotspot_cells[["h3", "hotspot_id"]].assign(h3=hotspot_cells["h3"].astype(np.uint64)))
    try:
        frame = con.execute(f"""
            SELECT c.hotspot_id, CAST(i.occurred_at AS DATE) AS day, hour(i.occurred_at) AS hour, count(*) AS count,
                   sum(COALESCE(w.weight_days, 0)) AS harm
            FROM incidents i JOIN _patrol_hot_cells c ON i.h3_r{filters.res} = c.h3
            LEFT JOIN harm_weights w ON w."group" = i.offence_group
            WHERE {where} GROUP BY 1, 2, 3""", params).df()
    finally:
        con.unregister("_patrol_hot_cells")
    frame["hotspot_id"] = frame["hotspot_id"].astype(object)
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def patrol_report_for_store(con, filters: Filters, target: DosageTarget = DosageTarget(),
                            actions: Iterable[Sequence] | None = None, params=None, harm_weights=None,
                            exclusions_path=None, hotspots=None) -> PatrolReport:
    """:func:`patrol_report` for the filters' months and places, on the Gi* hotspots of the 12
    months before the period (or on ``hotspots``, a HotspotResult). Without an offence filter,
    incidents are serious violence only. Without dates, the last 12 months in the store."""
    from hotspot_engine.analyse.hotspots import resolve_window
    from hotspot_engine.store import query
    from hotspot_engine.store.streets import streets_near_cells

    filters, window_note = resolve_window(con, filters)
    if not filters.date_from:
        raise InputError("the store holds no incidents: load data before measuring patrol dosage")
    if not filters.sv_only and not filters.offences:
        filters = filters.with_(sv_only=True)
    notes = [window_note] if window_note else []
    first_patrol = query.extent(con).first_patrol
    if first_patrol and filters.date_from and filters.date_to and filters.date_from < first_patrol[:7] <= filters.date_to:
        # Before the first patrol there is nothing to dose: measuring from it also picks the
        # hotspots on the 12 months before patrolling began, as the partnership did.
        notes.append(f"Period starts at the first recorded patrol ({first_patrol[:7]}), not {filters.date_from}.")
        filters = filters.with_(date_from=first_patrol[:7])
    if hotspots is None:
        hotspots, note = hotspots_before(con, filters, params, harm_weights, exclusions_path)
        notes.append(note)
    areas, hotspot_cells = _hotspot_frames(hotspots)
    patrols = query.patrol_rows(con, filters)
    incidents = _incidents_in_cells(con, filters, hotspot_cells, harm_weights)
    cell_incidents = query.cell_counts(con, filters, harm_weights)
    report = patrol_report(patrols, areas, hotspot_cells, incidents, period_of(filters), target, cell_incidents, actions)
    report.notes[:0] = notes
    report.streets = query.locations_near_cells(con, filters, hotspot_cells)
    report.street_lines = streets_near_cells(con, hotspot_cells)
    return report


def suggest_plan_for_store(con, filters: Filters, seed: int = 0, target: DosageTarget = DosageTarget(),
                           **plan_options) -> tuple[PatrolReport, PatrolPlan]:
    """The report for the filters and the suggested plan for the week after the period."""
    report = patrol_report_for_store(con, filters, target)
    return report, suggest_plan(report, seed=seed, **plan_options)


__all__ = [
    "DosageTarget", "PatrolReport", "PatrolPlan", "DOSAGE_COLUMNS", "CELL_DOSAGE_COLUMNS", "GRID_COLUMNS",
    "WEEKLY_COLUMNS", "PLAN_COLUMNS", "DAY_NAMES", "ALL_HOTSPOTS", "AREA_GAP_MINUTES", "KOPER_SOURCE", "period_of",
    "parse_actions", "assign_patrols", "merge_area_visits", "time_grid", "weekly_series", "mark_actions",
    "hotspot_dosage", "cell_dosage", "patrol_report", "peak_windows", "suggest_plan", "plan_meets_target", "plan_csv",
    "briefing_pdf", "next_monday", "hotspots_before", "patrol_report_for_store", "suggest_plan_for_store",
]
