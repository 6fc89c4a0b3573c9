"""Impact evaluation from the store: hotspots (from a file or found on the year before), monthly
(or weekly) cell counts, then :func:`hotspot_engine.analyse.impact.impact_table`. Shared by the `impact`
command and the Impact page. Kept thin: the analysis lives in the pure functions of
:mod:`hotspot_engine.analyse.impact` and :mod:`hotspot_engine.analyse.rtm`.

When the hotspots were chosen matters (regression to the mean): with ``--hotspots FILE`` the window
is read from the methods sidecar ``hotspots`` wrote beside the file (its filters' first and last
month); without a file the hotspots are found on the 12 months before the intervention, so that is
the window. Placebo runs repeat the whole evaluation at pseudo-intervention dates 12, 24, ... months
before that window, with hotspots chosen by the same rule on the year before each date: the
corrected estimate must be about zero there."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.analyse.impact import (
    PERIODS,
    POOLED_ID,
    ImpactOptions,
    ImpactResult,
    first_post_month,
    impact_table,
    weeks_between,
)
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters, months_between, shift_month
from hotspot_engine.reference.geography import str_to_cell, study_area
from hotspot_engine.store.query import cell_month_counts, cell_week_counts, extent, has_timestamps

# Weekly analysis needs nearly every incident placed in a week: month-only rows (police.uk) would
# be silently dropped and make the weekly series fall where the data simply have no timestamps.
MIN_TIMESTAMP_SHARE = 0.95


def weekly_problem(con, filters: Filters) -> str:
    """Why a weekly analysis of these incidents is impossible, in plain English, or '' when it is
    possible (at least 95% of the filtered incidents have a time of offence)."""
    share = has_timestamps(con, filters)
    if share != share:
        return "no incidents match the filters"
    if share < MIN_TIMESTAMP_SHARE:
        return (f"only {share:.0%} of the selected incidents have a date and time of offence (police.uk "
                f"data give the month only); weekly analysis needs at least {MIN_TIMESTAMP_SHARE:.0%}, "
                "so use months")
    return ""


def hotspot_cells_from_file(path: str | Path) -> pd.DataFrame:
    """Cells with is_hotspot true from a file written by `hotspots` (CSV, GeoJSON, GPKG, Parquet)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype={"h3": str, "hotspot_id": str, "hotspot_name": str})
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".geojson", ".json", ".gpkg"):
            import geopandas as gpd

            kwargs = {"layer": "hotspot_cells"} if suffix == ".gpkg" else {}
            frame = pd.DataFrame(gpd.read_file(path, **kwargs).drop(columns="geometry", errors="ignore"))
        else:
            raise InputError(f"{path.name}: --hotspots takes .csv, .geojson, .gpkg or .parquet")
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path.name}: cannot read hotspots ({type(exc).__name__})") from None
    missing = {"h3", "is_hotspot", "hotspot_id"} - set(frame.columns)
    if missing:
        raise InputError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
    flag = frame["is_hotspot"].astype(str).str.lower().isin(["true", "1", "yes", "y"])
    hot = frame.loc[flag, ["h3", "hotspot_id"] + (["hotspot_name"] if "hotspot_name" in frame else [])].copy()
    if hot.empty:
        raise InputError(f"{path.name}: no cell has is_hotspot true")
    try:
        hot["h3"] = str_to_cell(hot["h3"].astype(str))
    except ValueError:
        raise InputError(f"{path.name}: column h3 holds something that is not an H3 id") from None
    if "hotspot_name" not in hot:
        hot["hotspot_name"] = hot["hotspot_id"]
    return hot.reset_index(drop=True)


def selection_window_of(path: str | Path) -> tuple[str, str] | None:
    """(first, last) month of the window a `hotspots` file was made on, from its methods sidecar
    (``<stem>.methods.json``), or None when there is no readable sidecar with both months."""
    from hotspot_engine.write.export import sidecar_paths

    json_path, _ = sidecar_paths(path)
    try:
        meta = json.loads(Path(json_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = meta.get("filters", {}) if isinstance(meta, dict) else {}
    first, last = found.get("date_from"), found.get("date_to")
    return (str(first), str(last)) if first and last else None


@dataclass(frozen=True)
class PlaceboRun:
    """The evaluation at a pseudo-intervention date with no intervention: figures in %."""

    pseudo_date: str
    selection_window: str
    hotspots: int
    corrected_pct: float
    corrected_low: float
    corrected_high: float
    uncorrected_pct: float
    simple_pct: float
    message: str


def placebo_runs(con, filters: Filters, selection_window: tuple[str, str], params=None, harm_weights=None,
                 exclusions_path=None, model: str = "negbin", max_runs: int = 3) -> list[PlaceboRun]:
    """The same evaluation at pseudo-intervention dates 12, 24, ... months before the real hotspots'
    selection window, on the data before that window only (the window is a high period for the real
    hotspots, so a placebo whose after-period ran into it would show their luck, not nothing), with
    hotspots chosen by ``params`` on the year before each pseudo date. Each run needs 12 baseline
    months before its own selection year; short data give fewer runs or none."""
    from hotspot_engine.analyse.hotspots import HotspotParams, find_hotspots

    ext = extent(con)
    sv = filters if (filters.sv_only or filters.offences) else filters.with_(sv_only=True)
    first = filters.date_from or ext.first_month
    end = shift_month(selection_window[0], -1)
    runs = []
    for k in range(1, max_runs + 1):
        pseudo = shift_month(selection_window[0], -12 * k)
        chosen_from, chosen_to = shift_month(pseudo, -12), shift_month(pseudo, -1)
        if first is None or shift_month(chosen_from, -12) < first:
            break
        found = find_hotspots(con, sv.with_(date_from=chosen_from, date_to=chosen_to), params or HotspotParams(),
                              harm_weights=harm_weights, exclusions_path=exclusions_path)
        runs.append(_placebo_run(con, sv, found.cells, first, end, pseudo, (chosen_from, chosen_to), model))
    return runs


def _placebo_run(con, filters: Filters, cells: pd.DataFrame, first: str, last: str, pseudo: str,
                 window: tuple[str, str], model: str) -> PlaceboRun:
    hot = cells[cells["is_hotspot"].astype(bool)]
    label = f"{window[0]} to {window[1]}"
    nan = float("nan")
    if hot.empty:
        return PlaceboRun(f"{pseudo}-01", label, 0, nan, nan, nan, nan, nan, "no hotspots were found in that year")
    months = months_between(first, last)
    counts = cell_month_counts(con, filters.with_(date_from=first, date_to=last))
    counts["h3"] = counts["h3"].astype(np.uint64)
    hot_cells = pd.DataFrame({"h3": str_to_cell(hot["h3"]), "hotspot_id": hot["hotspot_id"].to_numpy(),
                              "hotspot_name": hot["hotspot_name"].to_numpy()})
    area = study_area(filters.res, filters.districts, filters.csps)
    result = impact_table(counts[["h3", "month", "count"]], hot_cells, area.cells, months, f"{pseudo}-01",
                          ImpactOptions(model=model, selection_window=window))
    row = result.table.set_index("hotspot_id").loc[POOLED_ID]
    return PlaceboRun(f"{pseudo}-01", label, int(hot_cells["hotspot_id"].nunique()),
                      float(row["corrected_change_pct"]), float(row["corrected_ci_low_pct"]),
                      float(row["corrected_ci_high_pct"]), float(row["its_change_pct"]),
                      float(row["simple_change_pct"]), str(row["message"]))


def impact_for_store(con, filters: Filters, intervention: str, hotspots_file: str | Path | None = None,
                     model: str = "negbin", buffer_k: int = 1, params=None, harm_weights=None,
                     exclusions_path=None, period: str = "month",
                     selection_window: tuple[str, str] | None = None, placebo: bool = False) -> ImpactResult:
    """Impact of an intervention on serious violence in the hotspots, over every month in the store
    (or the filters' months). Without ``hotspots_file`` the hotspots are found with ``params`` on the
    12 months before the intervention. ``period='week'`` fits weekly series (ISO weeks, whole weeks
    only) and raises :class:`InputError` when fewer than 95% of the filtered incidents have a time
    of offence (see :func:`weekly_problem`). ``selection_window`` (first, last month) overrides the
    window read from the hotspots file's sidecar; ``placebo`` adds :func:`placebo_runs` (monthly)."""
    from hotspot_engine.analyse.hotspots import HotspotParams, find_hotspots

    ext = extent(con)
    if ext.first_month is None:
        raise InputError("the store holds no incidents; run 'ingest' or 'sample' first")
    if period not in PERIODS:
        raise InputError(f"period: expected month or week, got '{period}'")
    post = first_post_month(intervention)
    if not (filters.sv_only or filters.offences):
        filters = filters.with_(sv_only=True)
    months = months_between(filters.date_from or ext.first_month, filters.date_to or ext.last_month)
    counting = filters.with_(date_from=months[0], date_to=months[-1])
    if period == "week":
        problem = weekly_problem(con, counting)
        if problem:
            raise InputError(f"weekly impact: {problem}")
    window = selection_window
    if hotspots_file:
        hot = hotspot_cells_from_file(hotspots_file)
        window = window or selection_window_of(hotspots_file)
    else:
        window = window or (shift_month(post, -12), shift_month(post, -1))
        pre = filters.with_(date_from=window[0], date_to=window[1])
        found = find_hotspots(con, pre, params or HotspotParams(), harm_weights=harm_weights, exclusions_path=exclusions_path)
        cells = found.cells[found.cells["is_hotspot"].astype(bool)]
        if cells.empty:
            raise InputError("no hotspots were found in the 12 months before the intervention")
        hot = pd.DataFrame({"h3": str_to_cell(cells["h3"]), "hotspot_id": cells["hotspot_id"].to_numpy(),
                            "hotspot_name": cells["hotspot_name"].to_numpy()})
    area = study_area(filters.res, filters.districts, filters.csps)
    options = ImpactOptions(model=model, buffer_k=buffer_k, period=period, selection_window=window)
    if period == "week":
        weeks = _whole_weeks(months[0], months[-1])
        if not weeks:
            raise InputError("weekly impact: the selected months hold no whole week")
        counts = cell_week_counts(con, counting)
        counts = counts[counts["week"].isin(weeks)].rename(columns={"week": "month"})
        counts["h3"] = counts["h3"].astype(np.uint64)
        return impact_table(counts[["h3", "month", "count"]], hot, area.cells, weeks, intervention, options)
    counts = cell_month_counts(con, counting)
    counts["h3"] = counts["h3"].astype(np.uint64)
    result = impact_table(counts[["h3", "month", "count"]], hot, area.cells, months, intervention, options)
    if placebo:
        runs = placebo_runs(con, filters, window or (shift_month(post, -12), shift_month(post, -1)), params,
                            harm_weights, exclusions_path, model)
        result.placebo.extend(runs)
    return result


def _whole_weeks(first_month: str, last_month: str) -> list[str]:
    """Mondays of the ISO weeks lying wholly inside the months: a week cut by the start or end of
    the data would look like a fall in violence."""
    first_day = pd.Timestamp(first_month + "-01")
    last_day = pd.Timestamp(last_month + "-01") + pd.offsets.MonthEnd(0)
    weeks = weeks_between(first_day.strftime("%Y-%m-%d"), last_day.strftime("%Y-%m-%d"))
    return [w for w in weeks if pd.Timestamp(w) >= first_day and pd.Timestamp(w) + pd.Timedelta(days=6) <= last_day]
