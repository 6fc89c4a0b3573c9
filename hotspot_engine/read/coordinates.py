"""WGS84 coordinates from lat/lon or British National Grid columns, with the common mistakes repaired.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot_engine.read.cells import _numbers, _Rejects

# Hampshire and the Isle of Wight sit well inside this box; it separates WGS84 degrees from swapped
# degrees and from British National Grid metres.
UK_LAT = (49.0, 61.5)
UK_LON = (-9.0, 2.5)
BNG_EASTING = (0.0, 700_000.0)
BNG_NORTHING = (0.0, 1_300_000.0)


def _to_wgs84(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(easting, northing)
    return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)


def _in_uk(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (lat >= UK_LAT[0]) & (lat <= UK_LAT[1]) & (lon >= UK_LON[0]) & (lon <= UK_LON[1])


def _in_bng(e: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (e > BNG_EASTING[0]) & (e <= BNG_EASTING[1]) & (n > BNG_NORTHING[0]) & (n <= BNG_NORTHING[1]) & (
            (np.abs(e) > 180) | (np.abs(n) > 180))


def _coordinates(frame: pd.DataFrame, cols: dict[str, str | None], rej: _Rejects, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lat/lon per row from lat/lon or easting/northing columns, repairing the two common
    mistakes (swapped lat/lon; grid metres in lat/lon columns) row by row and saying so."""
    n = len(frame)
    if cols.get("lat") and cols.get("lon"):
        a_col, b_col, given = cols["lat"], cols["lon"], "latlon"
    else:
        a_col, b_col, given = cols["northing"], cols["easting"], "bng"
    a, a_bad = _numbers(frame[a_col])
    b, b_bad = _numbers(frame[b_col])
    rej.add(a_bad, a_col, "unparseable number")
    rej.add(b_bad, b_col, "unparseable number")
    missing = np.isnan(a) | np.isnan(b)
    rej.add(missing, a_col if np.isnan(a).any() else b_col, "no coordinates")
    with np.errstate(invalid="ignore"):
        zero = (a == 0) & (b == 0)
        infinite = np.isinf(a) | np.isinf(b)
    rej.add(zero, a_col, "no coordinates")
    rej.add(infinite, a_col, "unparseable number")
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    if given == "latlon":
        lat_given, lon_given = a, b
    else:  # BNG columns: a = northing, b = easting
        lat_given, lon_given = np.full(n, np.nan), np.full(n, np.nan)
        grid = _in_bng(b, a) & rej.ok
        if grid.any():
            lat[grid], lon[grid] = _to_wgs84(b[grid], a[grid])
        # Degrees in easting/northing columns.
        degrees = ~grid & rej.ok & _in_uk(a, b)
        lat[degrees], lon[degrees] = a[degrees], b[degrees]
        if degrees.any():
            notes.append(f"{int(degrees.sum()):,} rows had WGS84 degrees in the easting/northing columns; used as lat/lon")
        swapped_grid = ~grid & ~degrees & rej.ok & _in_bng(a, b)
        if swapped_grid.any():
            lat[swapped_grid], lon[swapped_grid] = _to_wgs84(a[swapped_grid], b[swapped_grid])
            notes.append(f"{int(swapped_grid.sum()):,} rows had easting and northing swapped; swapped back")
        rej.add(rej.ok & np.isnan(lat), cols["easting"], "bad coordinates")
        return lat, lon
    ok = rej.ok
    plain = ok & _in_uk(lat_given, lon_given)
    lat[plain], lon[plain] = lat_given[plain], lon_given[plain]
    swapped = ok & ~plain & _in_uk(lon_given, lat_given)
    if swapped.any():
        lat[swapped], lon[swapped] = lon_given[swapped], lat_given[swapped]
        notes.append(f"{int(swapped.sum()):,} rows had latitude and longitude swapped; swapped back")
    # Grid metres in lat/lon columns: conventionally lat ~ northing, lon ~ easting; try both ways.
    rest = ok & ~plain & ~swapped
    grid_rows = rest & _in_bng(lon_given, lat_given)
    if grid_rows.any():
        g_lat, g_lon = _to_wgs84(lon_given[grid_rows], lat_given[grid_rows])
        fine = _in_uk(g_lat, g_lon)
        idx = np.flatnonzero(grid_rows)
        lat[idx[fine]], lon[idx[fine]] = g_lat[fine], g_lon[fine]
        if (~fine).any():
            g_lat2, g_lon2 = _to_wgs84(lat_given[idx[~fine]], lon_given[idx[~fine]])
            fine2 = _in_uk(g_lat2, g_lon2)
            lat[idx[~fine][fine2]], lon[idx[~fine][fine2]] = g_lat2[fine2], g_lon2[fine2]
        converted = int(np.isfinite(lat[idx]).sum())
        if converted:
            notes.append(f"{converted:,} rows had British National Grid metres in the lat/lon columns; converted from EPSG:27700")
    with np.errstate(invalid="ignore"):
        impossible = ok & np.isnan(lat) & ((np.abs(lat_given) > 90) | (np.abs(lon_given) > 180))
    rej.add(impossible, cols["lat"], "bad coordinates")
    # Valid degrees elsewhere in the world: kept as given, the district check rejects them.
    elsewhere = rej.ok & np.isnan(lat)
    lat[elsewhere], lon[elsewhere] = lat_given[elsewhere], lon_given[elsewhere]
    return lat, lon


def _districts(lat: np.ndarray, lon: np.ndarray, rej: _Rejects, column: str | None) -> np.ndarray:
    return _districts_and_cells(lat, lon, rej, column)[0]


def _districts_and_cells(lat: np.ndarray, lon: np.ndarray, rej: _Rejects, column: str | None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """(district, res-9 cell) per row (None and 0 where there is none). The district lookup needs the
    res-9 cells anyway: handing them to the store saves computing them again at load (0.4 s of CPU
    per million rows)."""
    from hotspot_engine.reference.geography import LOOKUP_RES, assign_districts, cells_for_points

    district = np.full(len(lat), None, dtype=object)
    cells = np.zeros(len(lat), dtype=np.uint64)
    ok = rej.ok & np.isfinite(lat) & np.isfinite(lon)
    if ok.any():
        cells[ok] = cells_for_points(lat[ok], lon[ok], LOOKUP_RES)
        district[ok] = assign_districts(lat[ok], lon[ok], cells=cells[ok])
    rej.add(ok & pd.isna(district), column, "outside area")
    return district, cells
