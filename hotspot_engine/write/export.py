"""Export the filtered layers to files an analyst's GIS opens, with a methods sidecar, a
partner-safe mode and spreadsheet-injection protection.

Layers are built from the frames the queries and the hotspot analysis return:

- :func:`incidents_layer` (points, one per incident) from ``query.incident_rows``;
- :func:`cells_layer` (H3 hexagons with their figures) from a hotspot result's cells;
- :func:`areas_layer` (hotspot areas dissolved from their cells);
- :func:`patrols_layer` (points, one per patrol) from ``query.patrol_rows``;
- any plain table (the impact table) is written as it is.

:func:`write_layers` picks the format from the file extension (``.csv``, ``.geojson``, ``.gpkg``,
``.parquet``, ``.xlsx``) and always writes ``<stem>.methods.json`` and ``<stem>.methods.txt`` next to
the file, so the result can be reproduced. All geometry is WGS84 (EPSG:4326); H3 ids are the usual
15-character hex strings, so every tool (QGIS, ArcGIS, Excel, kepler.gl) can join on them.

Spreadsheet safety (OWASP "CSV Injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``, tab
or carriage return is run as a formula by Excel, LibreOffice and Google Sheets. In CSV and XLSX
output such cells get a leading single quote, the mitigation OWASP recommends; the quote stays
visible, so nothing is silently changed. Numeric columns are never touched: a negative number in
a number column is a number, not text. GIS formats (GeoJSON, GeoPackage, GeoParquet) keep the text
exactly as stored, because no spreadsheet evaluates them.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hotspot_engine import __version__
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters

if TYPE_CHECKING:  # annotations only: geopandas is imported lazily by the layer builders
    import geopandas as gpd

FORMATS: tuple[str, ...] = ("csv", "geojson", "gpkg", "parquet", "xlsx")
#: Formats that hold several layers in one file; the others write one file per layer.
MULTI_LAYER_FORMATS = ("gpkg", "xlsx")
DEFAULT_THRESHOLD = 5
CRS = "EPSG:4326"

#: First characters that make a spreadsheet evaluate a cell (OWASP CSV Injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

INCIDENT_REQUIRED = ("incident_id", "month", "occurred_at", "lat", "lon", "offence", "sv_category", "district", "csp", "h3")
PATROL_REQUIRED = ("patrol_id", "start", "lat", "lon", "h3")

#: Layers that hold one row per person-level event: never leave the police in partner-safe mode.
RECORD_LEVEL_LAYERS = ("incidents", "patrols")
RECORD_LEVEL_KEYS = ("incident_id", "patrol_id", "crime_id")

XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row


# ----------------------------------------------------------------------------------------------
# Spreadsheet safety


def _is_text_column(series: pd.Series) -> bool:
    return (
        pd.api.types.is_string_dtype(series.dtype)
        or series.dtype == object
        or isinstance(series.dtype, pd.CategoricalDtype)
    ) and not pd.api.types.is_bool_dtype(series.dtype)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` in which every text cell that a spreadsheet would run as a formula (it
    starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets a leading single quote.

    Only text columns are touched; numbers stay numbers (a column of negative numbers is not text).
    The quote is the OWASP-recommended mitigation and stays visible, so a reader sees that the value
    was neutralised rather than a silently different value.
    """
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if not _is_text_column(column):
            continue
        if pd.api.types.is_string_dtype(column.dtype) and not isinstance(column.dtype, pd.CategoricalDtype) and column.dtype != object:
            # A pandas string column: vectorised (a million cells in well under a second).
            hostile = column.str.startswith(FORMULA_PREFIXES, na=False)
            if hostile.any():
                out[name] = column.mask(hostile, "'" + column)
            continue
        values = column.astype(object).to_numpy(dtype=object, na_value=None)
        hostile = np.fromiter(
            (isinstance(v, str) and v.startswith(FORMULA_PREFIXES) for v in values), dtype=bool, count=len(values)
        )
        if hostile.any():
            values = values.copy()
            values[hostile] = ["'" + v for v in values[hostile]]
            out[name] = pd.Series(values, index=out.index, dtype=object)
    return out


# ----------------------------------------------------------------------------------------------
# Layers


def _geopandas():
    import geopandas as gpd  # heavy: only the functions that build layers need it

    return gpd


def h3_hex(values: pd.Series | np.ndarray) -> pd.Series:
    """H3 ids as lower-case hex strings; None where missing (NULL, NaN or the 0 of no coordinates).

    Accepts uint64 (as the store returns), nullable UInt64, or strings already in hex."""
    series = pd.Series(values)
    if pd.api.types.is_integer_dtype(series.dtype):
        mask = series.isna().to_numpy() | (series.fillna(0).to_numpy(dtype=np.uint64) == 0)
        raw = series.fillna(0).to_numpy(dtype=np.uint64)
        out = np.array([None if m else format(int(c), "x") for c, m in zip(raw, mask)], dtype=object)
    elif pd.api.types.is_float_dtype(series.dtype):
        # Float H3 ids have lost precision (doubles hold 53 bits, H3 needs 64): refuse them.
        raise InputError("column h3: H3 ids arrived as floating-point numbers and cannot be trusted")
    else:
        out = np.array(
            [None if (v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or str(v).strip() in ("", "0")) else str(v).strip().lower() for v in series],
            dtype=object,
        )
    return pd.Series(out, index=series.index)


def _h3_uint(hex_ids: pd.Series) -> np.ndarray:
    from hotspot_engine.reference.geography import str_to_cell

    ids = list(hex_ids)
    try:
        return str_to_cell(ids)
    except (TypeError, ValueError):
        bad = next(i for i, v in enumerate(ids) if not isinstance(v, str) or not re.fullmatch(r"[0-9a-f]{15}", v or ""))
        raise InputError(f"column h3: row {bad + 1} is not an H3 cell id") from None


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)}")


def _points(frame: pd.DataFrame):
    """Point geometries from lat/lon; None where either is missing (never a silent 0,0 point)."""
    gpd = _geopandas()
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    points = gpd.points_from_xy(lon, lat, crs=CRS)
    missing = ~(np.isfinite(lat) & np.isfinite(lon))
    if missing.any():
        points = np.asarray(points, dtype=object)
        points[missing] = None
        return gpd.GeoSeries(points, index=frame.index, crs=CRS)
    return gpd.GeoSeries(points, index=frame.index, crs=CRS)


def incidents_layer(rows: pd.DataFrame) -> gpd.GeoDataFrame:
    """Incident points from ``query.incident_rows``: every column kept, ``h3`` as a hex string,
    geometry a WGS84 point from lat/lon."""
    _require(rows, INCIDENT_REQUIRED, "incidents")
    frame = rows.copy()
    frame["h3"] = h3_hex(frame["h3"]).to_numpy()
    return _geopandas().GeoDataFrame(frame, geometry=_points(frame), crs=CRS)


def patrols_layer(rows: pd.DataFrame) -> gpd.GeoDataFrame:
    """Patrol points from ``query.patrol_rows``. A patrol logged against a hotspot or a cell rather
    than a coordinate is placed at its cell's centre (``placed_at`` says which); one with neither has
    no geometry."""
    _require(rows, PATROL_REQUIRED, "patrols")
    from hotspot_engine.reference.geography import cell_centres

    frame = rows.copy()
    frame["h3"] = h3_hex(frame["h3"]).to_numpy()
    lat = pd.to_numeric(frame["lat"], errors="coerce").astype(float)
    lon = pd.to_numeric(frame["lon"], errors="coerce").astype(float)
    has_point = lat.notna() & lon.notna()
    from_cell = ~has_point & frame["h3"].notna()
    placed = np.where(has_point, "coordinates", np.where(from_cell, "cell centre", "none"))
    if from_cell.any():
        clat, clon = cell_centres(_h3_uint(frame.loc[from_cell, "h3"]))
        lat[from_cell], lon[from_cell] = clat, clon
    frame["placed_at"] = placed
    located = frame.assign(lat=lat, lon=lon)
    return _geopandas().GeoDataFrame(frame, geometry=_points(located), crs=CRS)


def cells_layer(cells: pd.DataFrame) -> gpd.GeoDataFrame:
    """H3 hexagons with every figure of ``cells`` (a hotspot result: h3 plus count, harm, gi_z...).
    ``h3`` becomes a hex string; ``lat``/``lon`` (the cell centre) are added when absent, so CSV
    users can plot the cells without parsing WKT."""
    from hotspot_engine.reference.geography import cell_centres, cell_polygons

    _require(cells, ("h3",), "cells")
    frame = cells.copy().reset_index(drop=True)
    frame["h3"] = h3_hex(frame["h3"]).to_numpy()
    if frame["h3"].isna().any():
        raise InputError(f"cells: row {int(np.flatnonzero(frame['h3'].isna())[0]) + 1}, column h3: empty")
    ids = _h3_uint(frame["h3"])
    if "lat" not in frame.columns or "lon" not in frame.columns:
        frame["lat"], frame["lon"] = cell_centres(ids)
    geometry = cell_polygons(ids)
    geometry.index = frame.index
    return _geopandas().GeoDataFrame(frame, geometry=geometry, crs=CRS)


def _hotspot_key(series: pd.Series) -> pd.Series:
    """Hotspot ids as text, so 3, 3.0 and '3' join; missing and empty mean 'not a hotspot'."""
    def one(v):
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        text = str(v).strip()
        return text or None

    return pd.Series([one(v) for v in series], index=series.index, dtype=object)


AREA_SUMS = ("count", "harm", "patrols", "patrol_minutes")


def areas_layer(areas: pd.DataFrame | None, cells: pd.DataFrame) -> gpd.GeoDataFrame:
    """Hotspot areas as polygons dissolved from their cells (``cells`` needs h3 and hotspot_id;
    cells without a hotspot_id are not in an area).

    Each area gets the columns of ``areas`` (joined on hotspot_id), or, when ``areas`` is None, the
    sums of the cells' count, harm, patrols and patrol_minutes and the first hotspot_name; plus
    ``n_cells``, ``area_km2`` and the centroid ``lat``/``lon``."""
    gpd = _geopandas()
    import shapely

    _require(cells, ("h3", "hotspot_id"), "cells")
    member = cells.assign(_key=_hotspot_key(cells["hotspot_id"]))
    member = member[member["_key"].notna()].reset_index(drop=True)
    layer = cells_layer(member.drop(columns=[c for c in ("lat", "lon") if c in member.columns]))
    layer["_key"] = member["_key"].to_numpy()
    groups = layer.groupby("_key", sort=False)
    keys = list(groups.groups)
    shapes = [shapely.union_all(layer.geometry.values[idx]) for idx in groups.indices.values()]
    out = pd.DataFrame({"_key": keys})
    out["n_cells"] = groups.size().reindex(keys).to_numpy()
    if areas is not None:
        _require(areas, ("hotspot_id",), "areas")
        table = areas.assign(_key=_hotspot_key(areas["hotspot_id"]))
        out = out.merge(table, on="_key", how="left", suffixes=("_cells", ""))
        if "n_cells_cells" in out.columns:
            out = out.drop(columns="n_cells_cells")
    else:
        out["hotspot_id"] = keys
        if "hotspot_name" in layer.columns:
            out["hotspot_name"] = groups["hotspot_name"].first().reindex(keys).to_numpy()
        for column in AREA_SUMS:
            if column in layer.columns:
                out[column] = groups[column].sum(min_count=1).reindex(keys).to_numpy()
    geometry = gpd.GeoSeries(shapes, crs=CRS)
    out["area_km2"] = geometry.to_crs(27700).area.to_numpy() / 1e6
    centroids = geometry.to_crs(27700).centroid.to_crs(CRS)
    out["lat"], out["lon"] = centroids.y.to_numpy(), centroids.x.to_numpy()
    out = out.drop(columns="_key")
    front = [c for c in ("hotspot_id", "hotspot_name") if c in out.columns]
    out = out[front + [c for c in out.columns if c not in front]]
    return gpd.GeoDataFrame(out, geometry=geometry, crs=CRS)


# ----------------------------------------------------------------------------------------------
# Partner-safe mode

#: Columns that count events; each is suppressed on its own value.
COUNT_COLUMNS = ("count", "patrols", "incidents", "n", "visits", "top_location_n")
#: Text taken from the incidents themselves (the most common location in a cell): blanked with the
#: cell's count, since "a few incidents, on or near this street" is what suppression hides.
INCIDENT_TEXT_COLUMNS = ("top_location", "location")
#: Columns whose value reveals the count they were derived from, with that count's column.
DEPENDENT_COLUMNS = {"harm": "count", "patrol_minutes": "patrols", "mean_harm": "count"}


def _count_columns(frame: pd.DataFrame) -> list[str]:
    out = []
    for name in frame.columns:
        if name in COUNT_COLUMNS or name.startswith(("count_", "n_", "patrols_")) or name.endswith("_count"):
            if pd.api.types.is_numeric_dtype(frame[name].dtype) and not pd.api.types.is_bool_dtype(frame[name].dtype):
                out.append(name)
    return out


def _dependent_columns(frame: pd.DataFrame, counts: list[str]) -> dict[str, str]:
    """harm -> count, harm_12m -> count_12m, patrol_minutes -> patrols, ..."""
    out: dict[str, str] = {}
    for name in frame.columns:
        if name in counts or not pd.api.types.is_numeric_dtype(frame[name].dtype):
            continue
        if name in DEPENDENT_COLUMNS and DEPENDENT_COLUMNS[name] in counts:
            out[name] = DEPENDENT_COLUMNS[name]
        elif name.startswith("harm_") and ("count_" + name[5:]) in counts:
            out[name] = "count_" + name[5:]
        elif name.startswith("harm_") and not name.startswith("harm_share") and "count" in counts:
            out[name] = "count"
        elif name.startswith("patrol_minutes_") and ("patrols_" + name[15:]) in counts:
            out[name] = "patrols_" + name[15:]
    return out


def _is_record_level(name: str, layer: pd.DataFrame) -> bool:
    return name in RECORD_LEVEL_LAYERS or any(k in layer.columns for k in RECORD_LEVEL_KEYS)


def suppression_rule(threshold: int, round_to: int | None = None) -> str:
    """The rule applied in partner-safe mode, in words for the sidecar."""
    rule = (
        f"Partner-safe export: incident-level and patrol-level rows are removed. In every remaining "
        f"table, counts below {threshold} (0 to {threshold - 1}, so a reader cannot tell a zero from a "
        f"small number) are blanked and the row's 'suppressed' flag is set; figures derived from a "
        f"blanked count (harm from that count, patrol minutes from that number of patrols, before/after "
        f"means whose total is below {threshold}, and the simple change between them, and the most common "
        f"incident location of the cell) are blanked with it."
    )
    if round_to:
        rule += (
            f" Counts at or above the threshold are rounded to the nearest {round_to} (never below "
            f"{threshold}) and harm and minutes to two significant figures, so totals cannot be "
            f"differenced to recover a blanked cell."
        )
    else:
        rule += (
            " Counts at or above the threshold are exact; an area total minus its visible cells could "
            "reveal a blanked cell's count (use rounding to prevent that)."
        )
    return rule


def _round_sig(values: np.ndarray, digits: int = 2) -> np.ndarray:
    out = values.astype(float).copy()
    ok = np.isfinite(out) & (out != 0)
    magnitude = np.floor(np.log10(np.abs(out[ok])))
    factor = 10.0 ** (digits - 1 - magnitude)
    out[ok] = np.round(out[ok] * factor) / factor
    return out


def _safe_table(frame: pd.DataFrame, threshold: int, round_to: int | None) -> pd.DataFrame:
    out = frame.copy()
    counts = _count_columns(out)
    dependents = _dependent_columns(out, counts)
    flag = np.zeros(len(out), dtype=bool)
    blanked: dict[str, np.ndarray] = {}
    for name in counts:
        values = np.array(pd.to_numeric(out[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
        small = np.isfinite(values) & (values < threshold)
        blanked[name] = small
        flag |= small
        if round_to:
            big = np.isfinite(values) & ~small
            values[big] = np.maximum(np.round(values[big] / round_to) * round_to, threshold)
        values[small] = np.nan
        out[name] = values
    for name, basis in dependents.items():
        values = np.array(pd.to_numeric(out[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
        if round_to:
            values = _round_sig(values)
        values[blanked[basis]] = np.nan
        out[name] = values
    if "count" in blanked:
        for name in INCIDENT_TEXT_COLUMNS:
            if name in out.columns:
                out[name] = out[name].astype(object).where(~blanked["count"], None)
    # Impact table: before/after means are counts per month; their totals reveal small numbers.
    for side in ("pre", "post"):
        mean, months = f"mean_{side}", f"months_{side}"
        if mean in out.columns and months in out.columns:
            values = np.array(pd.to_numeric(out[mean], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
            total = values * pd.to_numeric(out[months], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            small = np.isfinite(total) & (total < threshold)
            values[small] = np.nan
            out[mean] = values
            flag |= small
            if "simple_change_pct" in out.columns:
                change = np.array(pd.to_numeric(out["simple_change_pct"], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
                change[small] = np.nan
                out["simple_change_pct"] = change
    if counts or any(c in out.columns for c in ("mean_pre", "mean_post")):
        out["suppressed"] = flag
    return out


def partner_safe(
    layers: Mapping[str, pd.DataFrame], threshold: int = DEFAULT_THRESHOLD, round_to: int | None = None
) -> dict[str, pd.DataFrame]:
    """Layers safe to share outside the police.

    Incident-level and patrol-level layers (named ``incidents``/``patrols``, or holding an
    ``incident_id``, ``patrol_id`` or ``crime_id`` column) are dropped entirely. In the others
    every count-like column (``count``, ``patrols``, ``n``, ``count_*``, ``*_count``...) has values
    below ``threshold`` blanked (NaN) and a ``suppressed`` flag set on the row; figures derived from
    a blanked count are blanked with it (see :func:`suppression_rule`). ``round_to`` optionally
    rounds the counts that remain (for example to the nearest 5) against differencing.
    """
    threshold = int(threshold)
    if threshold < 1:
        raise InputError(f"partner-safe threshold: must be at least 1, got {threshold}")
    if round_to is not None and int(round_to) < 1:
        raise InputError(f"partner-safe rounding: must be at least 1, got {round_to}")
    out: dict[str, pd.DataFrame] = {}
    for name, layer in layers.items():
        if _is_record_level(name, layer):
            continue
        out[name] = _safe_table(layer, threshold, round_to)
    return out


#: write_layers' ``partner_safe`` flag shadows the function's name inside it.
_partner_safe_layers = partner_safe


# ----------------------------------------------------------------------------------------------
# Methods sidecar


def _now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


@dataclass
class ExportMeta:
    """What an export holds and how it was made: enough to reproduce it.

    ``sources`` lists the data behind it (one dict per source: kind, source, first, last, rows);
    ``loads`` the files loaded into the store (file name, sha256, format, loaded_at, rows added).
    :func:`write_layers` fills ``partner_safe``, ``threshold``, ``suppression`` and ``row_counts``.
    """

    what: str
    filters: Filters
    res: int | None = None
    method: str | None = None
    params: dict = field(default_factory=dict)
    sources: list[dict] = field(default_factory=list)
    loads: list[dict] = field(default_factory=list)
    software_version: str = __version__
    exported_at: datetime = field(default_factory=_now)
    partner_safe: bool = False
    threshold: int | None = None
    suppression: str | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: The method in a few sentences (hotspots: the test and the area rule).
    methods: str | None = None
    #: What was chosen from the data (hotspots: dispersion, resolution and window advice...).
    chosen: dict = field(default_factory=dict)
    #: The hold-out check, when one was asked for (summary, window, test, table rows).
    holdout: dict | None = None

    def __post_init__(self) -> None:
        if self.res is None:
            self.res = self.filters.res

    def to_dict(self) -> dict:
        out = asdict(self)
        out["filters"] = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.filters).items()}
        out["filters_text"] = self.filters.describe()
        out["exported_at"] = self.exported_at.isoformat()
        out["software"] = "hotspot_engine"
        return _jsonable(out)

    def to_text(self) -> str:
        """The sidecar in words, for someone who opens the folder without a JSON viewer."""
        lines = [
            f"Hotspot export: {self.what}",
            f"Exported at: {self.exported_at.isoformat()} by hotspot_engine {self.software_version}",
            f"Filters: {self.filters.describe()}",
            f"H3 resolution: {self.res}",
        ]
        if self.method:
            lines.append(f"Method: {self.method}")
        for key, value in self.params.items():
            if key == "method" and value == self.method:
                continue
            lines.append(f"  {key}: {value}")
        if self.methods:
            lines.append(f"How: {self.methods}")
        for key, value in self.chosen.items():
            lines.append(f"  chosen from the data, {key}: {value}")
        if self.holdout:
            lines.append(f"Hold-out check: {self.holdout.get('summary', '')}")
        lines.append("Data sources:")
        if not self.sources:
            lines.append("  (not recorded)")
        for source in self.sources:
            lines.append(
                f"  {source.get('kind', 'data')} from {source.get('source', '?')}: "
                f"{source.get('first') or '?'} to {source.get('last') or '?'}, {source.get('rows', '?')} rows"
            )
        if self.loads:
            lines.append("Files loaded into the store:")
            for load in self.loads:
                lines.append(
                    f"  {load.get('file')} ({load.get('format')}, {load.get('kind')}), loaded {load.get('loaded_at')}, "
                    f"{load.get('added')} rows added, sha256 {str(load.get('sha256') or '')[:16]}"
                )
        lines.append("Layers written:")
        for name, count in self.row_counts.items():
            lines.append(f"  {name}: {count} rows")
        lines.append(f"Partner-safe: {'yes' if self.partner_safe else 'no'}")
        if self.partner_safe and self.suppression:
            lines.append(f"  {self.suppression}")
        for note in self.notes:
            lines.append(f"Note: {note}")
        lines.append("Coordinates: WGS84 (EPSG:4326). H3 ids: 15-character hex strings.")
        lines.append(
            "Text cells starting with =, +, -, @, tab or carriage return carry a leading ' in CSV and "
            "XLSX files, so spreadsheets do not run them as formulas."
        )
        from hotspot_engine.reference.geography import ATTRIBUTION

        lines.append(f"Boundaries: {ATTRIBUTION}")
        return "\n".join(lines) + "\n"

    @classmethod
    def build(
        cls, con, what: str, filters: Filters, method: str | None = None, params: dict | None = None, notes: list[str] | None = None
    ) -> ExportMeta:
        """An ExportMeta with the store's sources, date ranges and load log filled in. ``method``
        defaults to ``params['method']`` when the parameters carry it."""
        sources, loads = sources_from_store(con)
        params = dict(params or {})
        return cls(
            what=what, filters=filters, method=method or params.get("method"), params=params,
            sources=sources, loads=loads, notes=list(notes or []),
        )

    from_store = build


def sources_from_store(con) -> tuple[list[dict], list[dict]]:
    """(sources, loads) for :class:`ExportMeta`: per source its date range and rows; per loaded file
    its name (never a full path), sha256, format and counts."""
    sources: list[dict] = []
    rows = con.execute(
        "SELECT source, strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m'), count(*) "
        "FROM incidents GROUP BY 1 ORDER BY 1"
    ).fetchall()
    sources += [{"kind": "incidents", "source": r[0], "first": r[1], "last": r[2], "rows": int(r[3])} for r in rows]
    rows = con.execute(
        "SELECT source, strftime(min(start), '%Y-%m-%d'), strftime(max(start), '%Y-%m-%d'), count(*) "
        "FROM patrols GROUP BY 1 ORDER BY 1"
    ).fetchall()
    sources += [{"kind": "patrols", "source": r[0], "first": r[1], "last": r[2], "rows": int(r[3])} for r in rows]
    loads = [
        {"file": Path(str(r[0] or "")).name, "sha256": r[1], "format": r[2], "kind": r[3], "loaded_at": str(r[4]), "rows_read": r[5], "added": r[6]}
        for r in con.execute(
            "SELECT file, sha256, format, kind, loaded_at, rows_read, added FROM loads ORDER BY load_id"
        ).fetchall()
    ]
    return sources, loads


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, Path):
        return value.name
    return value


# ----------------------------------------------------------------------------------------------
# File names and writing


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "export"


def export_filename(what: str, filters: Filters, ext: str, when: datetime | None = None) -> str:
    """A file name that says what and when, in safe characters only, e.g.
    ``hotspot_cells_2022-04_2023-03_res9_20261127-0930.gpkg``. A district or CSP selection of one
    or two names is included, and so is an offence selection of one or two categories; larger
    selections are counted."""
    when = when or datetime.now()
    ext = ext.lower().lstrip(".")
    if ext not in FORMATS:
        raise InputError(f"export format: unsupported extension '.{_slug(ext)}'; use {', '.join('.' + f for f in FORMATS)}")
    parts = [re.sub(r"[^a-z0-9]+", "_", what.lower()).strip("_") or "export"]
    parts.append(f"{filters.date_from or 'start'}_{filters.date_to or 'end'}")
    places = list(filters.csps) + list(filters.districts)
    if 0 < len(places) <= 2:
        parts += [_slug(p) for p in places]
    elif places:
        parts.append(f"{len(places)}areas")
    if 0 < len(filters.offences) <= 2:
        parts += [_slug(o) for o in filters.offences]
    elif filters.offences:
        parts.append(f"{len(filters.offences)}offences")
    if filters.sv_only:
        parts.append("sv")
    parts.append(f"res{filters.res}")
    parts.append(when.strftime("%Y%m%d-%H%M"))
    return "_".join(parts) + "." + ext


def format_for(path: str | Path) -> str:
    """The export format named by a file's extension; InputError naming the extension otherwise."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        shown = f"'.{suffix}'" if suffix else "none"
        raise InputError(f"export file: unsupported extension {shown}; use {', '.join('.' + f for f in FORMATS)}")
    return suffix


def _flatten_lists(layer: pd.DataFrame) -> pd.DataFrame:
    """List-valued columns (an area's member cells) as space-separated text: GeoPackage, GeoJSON
    via OGR, CSV and XLSX have no list type. GeoParquet keeps real lists."""
    out = layer
    for name in layer.columns:
        if layer[name].dtype != object or name == getattr(layer, "_geometry_column_name", None):
            continue
        values = layer[name].to_numpy()
        if any(isinstance(v, (list, tuple, np.ndarray)) for v in values):
            joined = [" ".join(str(x) for x in v) if isinstance(v, (list, tuple, np.ndarray)) else v for v in values]
            out = out.assign(**{name: pd.Series(joined, index=layer.index, dtype=object)})
    return out


def _csv_frame(layer: pd.DataFrame) -> pd.DataFrame:
    """Geometry as WKT in a ``geometry`` column (lat/lon and h3 are already columns of every layer)."""
    layer = _flatten_lists(layer)
    frame = pd.DataFrame(layer)
    if isinstance(layer, _geopandas().GeoDataFrame) and layer.geometry.name in layer.columns:
        import shapely

        name = layer.geometry.name
        wkt = shapely.to_wkt(np.asarray(layer.geometry.values), rounding_precision=-1)
        frame = frame.drop(columns=name)
        frame["geometry"] = pd.Series(wkt, index=frame.index, dtype=object).where(pd.notna(wkt), None)
    return frame


def _replace_atomically(tmp: Path, target: Path) -> None:
    os.replace(tmp, target)


def _tmp_beside(target: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    os.unlink(name)  # GDAL drivers refuse to open an existing empty file as a new dataset
    return Path(name)


def _write_one(layer: pd.DataFrame, target: Path, fmt: str) -> None:
    gpd = _geopandas()
    tmp = _tmp_beside(target)
    try:
        is_geo = isinstance(layer, gpd.GeoDataFrame)
        if fmt == "csv":
            # Every text field quoted (OWASP's advice, and pandas would not quote a bare carriage
            # return under minimal quoting, which splits the row in every reader); numbers stay bare.
            neutralise_formulas(_csv_frame(layer)).to_csv(tmp, index=False, encoding="utf-8", quoting=csv.QUOTE_NONNUMERIC)
        elif fmt == "parquet":
            if is_geo:
                layer.to_parquet(tmp, index=False)
            else:
                pd.DataFrame(layer).to_parquet(tmp, index=False)
        elif fmt == "geojson":
            _to_ogr(layer, tmp, "GeoJSON", layer_name=None)
        _replace_atomically(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _ogr_ready(layer: pd.DataFrame) -> pd.DataFrame:
    """OGR has no unsigned 64-bit integers: such columns become int64 when they fit, else text."""
    out = layer
    for name in layer.columns:
        if str(layer[name].dtype).lower() != "uint64":
            continue
        values = layer[name]
        fits = bool((values.dropna().to_numpy(dtype=np.uint64) <= np.iinfo(np.int64).max).all())
        out = out.assign(**{name: values.astype("Int64") if fits else values.astype("str")})
    return out


def _to_ogr(layer: pd.DataFrame, path: Path, driver: str, layer_name: str | None) -> None:
    gpd = _geopandas()
    import pyogrio

    layer = _ogr_ready(_flatten_lists(layer))
    kwargs = {"layer": layer_name} if layer_name else {}
    if isinstance(layer, gpd.GeoDataFrame):
        geometry_type = None
        if len(layer) == 0 or layer.geometry.isna().all():
            geometry_type = "Unknown"
        pyogrio.write_dataframe(layer, path, driver=driver, use_arrow=True, geometry_type=geometry_type, **kwargs)
    else:
        # A plain table (the impact table): GeoPackage stores it as an attribute-only table.
        pyogrio.write_dataframe(pd.DataFrame(layer), path, driver=driver, **kwargs)


def _xlsx_value(value):
    """A cell value openpyxl accepts: None for missing, plain Python numbers and datetimes, and
    text without the control characters XML cannot hold (openpyxl raises on them)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _write_xlsx(frames: Mapping[str, pd.DataFrame], path: Path) -> None:
    """One sheet per layer, written in openpyxl's streaming mode (several times faster than
    pandas' writer), after formula neutralising; geometry as WKT like CSV."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for name, layer in frames.items():
        frame = neutralise_formulas(_csv_frame(layer))
        sheet = book.create_sheet(title=name[:31])
        sheet.append([str(c) for c in frame.columns])
        columns = [frame[c].astype(object).to_numpy() for c in frame.columns]
        for row in zip(*columns):
            sheet.append([_xlsx_value(v) for v in row])
    book.save(path)


def _layer_names(layers: Mapping[str, pd.DataFrame]) -> list[str]:
    names = []
    for name in layers:
        clean = re.sub(r"[^A-Za-z0-9_]+", "_", str(name)).strip("_") or "layer"
        if clean in names:
            raise InputError(f"export layers: two layers are both named '{clean}'")
        names.append(clean)
    return names


def write_layers(
    layers: Mapping[str, pd.DataFrame],
    path: str | Path,
    meta: ExportMeta,
    partner_safe: bool = False,
    threshold: int = DEFAULT_THRESHOLD,
    round_to: int | None = None,
    first_at_path: bool = False,
) -> list[Path]:
    """Write ``layers`` (name -> GeoDataFrame or plain table) to ``path`` in the format its
    extension names, plus the methods sidecar ``<stem>.methods.json`` and ``<stem>.methods.txt``.

    GeoPackage and XLSX hold every layer in one file (layers / sheets named by the keys). CSV,
    GeoJSON and GeoParquet hold one layer per file: with one layer the file is ``path`` itself,
    with several each is ``<stem>_<layer>.<ext>``, except that ``first_at_path`` puts the first
    layer at ``path`` itself (the command line: the file a user names is always written). CSV and XLSX carry geometry as WKT beside the
    lat/lon and h3 columns, with formulas neutralised (:func:`neutralise_formulas`).

    With ``partner_safe`` the layers first go through :func:`partner_safe` and the sidecar records
    the rule. Returns every path written, data files first. Each file is written to a temporary
    name and renamed, so a failed export never leaves half a file under the final name.
    """
    path = Path(path)
    fmt = format_for(path)
    if not layers:
        raise InputError("export: nothing to write (no layers)")
    if partner_safe:
        layers = _partner_safe_layers(layers, threshold, round_to)
        if not layers:
            raise InputError("export: partner-safe mode removes incident and patrol rows; choose cells, areas or the impact table")
    names = _layer_names(layers)
    frames = dict(zip(names, layers.values()))
    path.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if fmt == "gpkg":
        tmp = _tmp_beside(path)
        try:
            for name, layer in frames.items():
                _to_ogr(layer, tmp, "GPKG", layer_name=name)
            _replace_atomically(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        written.append(path)
    elif fmt == "xlsx":
        too_big = [n for n, layer in frames.items() if len(layer) > XLSX_MAX_ROWS]
        if too_big:
            raise InputError(f"export .xlsx: layer '{too_big[0]}' has more rows than a sheet holds ({XLSX_MAX_ROWS}); use .csv or .gpkg")
        tmp = _tmp_beside(path)
        try:
            _write_xlsx(frames, tmp)
            _replace_atomically(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        written.append(path)
    else:
        for index, (name, layer) in enumerate(frames.items()):
            at_path = len(frames) == 1 or (first_at_path and index == 0)
            target = path if at_path else path.with_name(f"{path.stem}_{name}{path.suffix}")
            _write_one(layer, target, fmt)
            written.append(target)
    meta = replace(
        meta,
        partner_safe=bool(partner_safe),
        threshold=int(threshold) if partner_safe else None,
        suppression=suppression_rule(int(threshold), round_to) if partner_safe else None,
        row_counts={name: int(len(layer)) for name, layer in frames.items()},
    )
    written += write_sidecar(meta, path)
    return written


def sidecar_paths(path: str | Path) -> tuple[Path, Path]:
    path = Path(path)
    return path.with_name(f"{path.stem}.methods.json"), path.with_name(f"{path.stem}.methods.txt")


def write_sidecar(meta: ExportMeta, path: str | Path) -> list[Path]:
    """Write ``<stem>.methods.json`` and ``<stem>.methods.txt`` beside ``path``."""
    json_path, text_path = sidecar_paths(path)
    json_path.write_text(json.dumps(meta.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    text_path.write_text(meta.to_text(), encoding="utf-8")
    return [json_path, text_path]


__all__ = [
    "FORMATS",
    "ExportMeta",
    "areas_layer",
    "cells_layer",
    "export_filename",
    "format_for",
    "h3_hex",
    "incidents_layer",
    "neutralise_formulas",
    "partner_safe",
    "patrols_layer",
    "sidecar_paths",
    "sources_from_store",
    "suppression_rule",
    "write_layers",
    "write_sidecar",
]
