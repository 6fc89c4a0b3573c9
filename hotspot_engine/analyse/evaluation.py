"""Impact evaluation inputs that do not touch the store: hotspot cells read from a file written by
`hotspots`, the window it was chosen on (from its methods sidecar), and the whole weeks of a month
range. The store-reading step (counts, hotspots of the
year before, then :func:`hotspot_engine.analyse.impact.impact_table`) is
:func:`hotspot_engine.service.impact`, shared by the `impact` command and the Impact page."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hotspot_engine.analyse.impact import weeks_between
from hotspot_engine.errors import InputError
from hotspot_engine.reference.geography import str_to_cell

# Weekly analysis needs nearly every incident placed in a week: month-only rows (police.uk) would
# be silently dropped and make the weekly series fall where the data simply have no timestamps.
MIN_TIMESTAMP_SHARE = 0.95


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


def whole_weeks(first_month: str, last_month: str) -> list[str]:
    """Mondays of the ISO weeks lying wholly inside the months: a week cut by the start or end of
    the data would look like a fall in violence."""
    first_day = pd.Timestamp(first_month + "-01")
    last_day = pd.Timestamp(last_month + "-01") + pd.offsets.MonthEnd(0)
    weeks = weeks_between(first_day.strftime("%Y-%m-%d"), last_day.strftime("%Y-%m-%d"))
    return [w for w in weeks if pd.Timestamp(w) >= first_day and pd.Timestamp(w) + pd.Timedelta(days=6) <= last_day]
