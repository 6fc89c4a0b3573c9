"""Export layers built from the frames the queries and the hotspot analysis return:
:func:`incidents_layer` (points) from ``query.incident_rows``, :func:`cells_layer` (H3 hexagons with
their figures) from a hotspot result's cells, :func:`areas_layer` (hotspot areas dissolved from
their cells) and :func:`patrols_layer` (points) from ``query.patrol_rows``. All geometry is WGS84
(EPSG:4326); H3 ids are the usual 15-character hex strings, so every tool can join on them.
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError

if TYPE_CHECKING:  # annotations only: geopandas is imported lazily by the layer builders
    import geopandas as gpd

CRS = "EPSG:4326"
INCIDENT_REQUIRED = ("incident_id", "month", "occurred_at", "lat", "lon", "offence", "sv_category", "district", "csp", "h3")
PATROL_REQUIRED = ("patrol_id", "start", "lat", "lon", "h3")


def _geopandas():
    import geopandas as gpd  # heavy: only the functions that build layers need it

    return gpd


def h3_hex(values: pd.Series | np.ndarray) -> pd.Series:
    """H3 ids as lower-case hex strings; None where missing (NULL, NaN or the 0 of no coordinates).

    Accepts uint64 (as the store returns), nullable UInt64, or strings already in hex."""
    series = pd.Series(values)
    if pd.api.types.is_integer_dtype(series.dtype):
        from hotspot_engine.reference.geography import cell_to_str

        raw = series.fillna(0).to_numpy(dtype=np.uint64)
        out = np.asarray(cell_to_str(raw), dtype=object)  # vectorised: a Python loop took 0.2 s on 44,000 cells
        out[raw == 0] = None
    elif pd.api.types.is_float_dtype(series.dtype):
        # Float H3 ids have lost precision (doubles hold 53 bits, H3 needs 64): refuse them.
        raise InputError("column h3: H3 ids arrived as floating-point numbers and cannot be trusted")
    elif _clean_hex(series):
        out = series.to_numpy(dtype=object)  # ids as this engine writes them: nothing to tidy
    else:
        out = np.array(
            [None if (v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or str(v).strip() in ("", "0")) else str(v).strip().lower() for v in series],
            dtype=object,
        )
    return pd.Series(out, index=series.index)


def _clean_hex(series: pd.Series) -> bool:
    """Whether every value is text of lower-case hex digits, none missing, empty or "0": what
    :func:`h3_hex` would return unchanged (checked in Arrow: the row-by-row tidy took 0.04 s on a
    study area of 44,000 cells)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(series) or not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
        return False
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=False) != "string":
        return False  # bytes, numbers or missing values among the texts: the tidy decides
    try:
        text = pa.array(series.array, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError):
        return False
    return (text.null_count == 0 and pc.all(pc.match_substring_regex(text, "^[0-9a-f]+$")).as_py()
            and not pc.any(pc.equal(text, "0")).as_py())


def _h3_uint(hex_ids: pd.Series) -> np.ndarray:
    from hotspot_engine.reference.geography import str_to_cell

    try:
        return str_to_cell(hex_ids)
    except (TypeError, ValueError):
        ids = list(hex_ids)
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


def _cells_frame(cells: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """(``cells`` with ``h3`` as hex text and ``lat``/``lon`` the centres when absent, uint64 ids)."""
    from hotspot_engine.reference.geography import cell_centres

    _require(cells, ("h3",), "cells")
    frame = cells.copy().reset_index(drop=True)
    frame["h3"] = h3_hex(frame["h3"]).to_numpy()
    if frame["h3"].isna().any():
        raise InputError(f"cells: row {int(np.flatnonzero(frame['h3'].isna())[0]) + 1}, column h3: empty")
    given = cells["h3"]
    # uint64 ids (a hotspot result) are the ids: parsing their hex back cost 44,000 int() calls.
    ids = given.to_numpy(dtype=np.uint64) if pd.api.types.is_integer_dtype(given.dtype) else _h3_uint(frame["h3"])
    if "lat" not in frame.columns or "lon" not in frame.columns:
        frame["lat"], frame["lon"] = cell_centres(ids)
    return frame, ids


def cells_layer(cells: pd.DataFrame) -> gpd.GeoDataFrame:
    """H3 hexagons with every figure of ``cells`` (a hotspot result: h3 plus count, harm, gi_z...).
    ``h3`` becomes a hex string; ``lat``/``lon`` (the cell centre) are added when absent, so CSV
    users can plot the cells without parsing WKT."""
    from hotspot_engine.reference.geography import cell_polygons

    frame, ids = _cells_frame(cells)
    geometry = cell_polygons(ids)
    geometry.index = frame.index
    return _geopandas().GeoDataFrame(frame, geometry=geometry, crs=CRS)


def cells_wkt_layer(cells: pd.DataFrame) -> pd.DataFrame:
    """:func:`cells_layer` as the CSV export writes it: a plain table whose last column ``geometry``
    holds each hexagon as WKT text, built without geopandas (for `hotspots --out x.csv`)."""
    from hotspot_engine.reference.geography import cell_wkt

    frame, ids = _cells_frame(cells)
    # Kept in Arrow (pandas' string dtype): 44,270 Python strings of 330 characters, made here and
    # taken apart again by the CSV writer, cost 0.07 s.
    frame["geometry"] = pd.Series(pd.arrays.ArrowStringArray(cell_wkt(ids)), index=frame.index)
    return frame


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


__all__ = ["AREA_SUMS", "CRS", "areas_layer", "cells_layer", "cells_wkt_layer", "h3_hex", "incidents_layer", "patrols_layer"]
