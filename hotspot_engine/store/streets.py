"""The street layer: named street lines the user loads once (``ingest PATH --format streets``), kept
in the store and drawn on briefings and the dashboard map with no network.

Accepted: any line layer GDAL reads (GeoPackage, GeoJSON, Shapefile), e.g. OS Open Roads (names in
``name1``) or an OpenStreetMap extract (``name``); another column with ``--name-column``. Lines are
reprojected to WGS84 and clipped to the 14 districts; a line wholly outside is rejected with that
reason, so every feature read is accounted for (read = added + already present + rejected), one
account line per file as for any other input. A line's id is a hash of its name and geometry, so
loading the same file again adds nothing. Unnamed lines (most OS Open Roads links) are kept: they
are drawn, just not labelled.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read.limits import DEFAULT_LIMITS
from hotspot_engine.store.database import LoadSummary, file_digest
from hotspot_engine.store.transaction import transaction

STREET_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
#: Name columns tried in order when none is given: OS Open Roads, OpenStreetMap, common spellings.
NAME_COLUMNS = ("name1", "name", "road_name", "roadname", "street", "street_name")
#: How far around a hotspot's cells street lines are fetched for its briefing map (degrees; ~400 m).
NEAR_DEGREES = 0.004
DDL = """CREATE TABLE IF NOT EXISTS streets (
    street_id VARCHAR NOT NULL, name VARCHAR, geometry BLOB, minx DOUBLE, miny DOUBLE, maxx DOUBLE, maxy DOUBLE,
    load_id INTEGER)"""


def street_files(paths: list[Path]) -> list[Path]:
    """The street files among files and folders (recursed), in a stable order."""
    out: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path.name}: no such file or folder")
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix.lower() in STREET_SUFFIXES)
        elif path.suffix.lower() in STREET_SUFFIXES:
            out.append(path)
        else:
            raise InputError(f"{path.name}: a street layer must be .gpkg, .geojson or .shp")
    return out


def _name_column(columns: list[str], given: str | None, file: str) -> str:
    if given:
        if given not in columns:
            raise InputError(f"{file}: no column '{given}' (--name-column); columns: {', '.join(columns)}")
        return given
    lower = {c.lower(): c for c in columns}
    for candidate in NAME_COLUMNS:
        if candidate in lower:
            return lower[candidate]
    raise InputError(f"{file}: no street-name column (looked for {', '.join(NAME_COLUMNS)}); give --name-column")


def read_street_file(path: Path, name_column: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lines, rejects) from one file: lines have street_id, name, geometry (WKB, WGS84), bbox;
    rejects have row, column, reason, raw (raw left empty: no data values in the account)."""
    import shapely

    from hotspot_engine.read.geofile import read_line_layer
    from hotspot_engine.reference import geography

    frame, _ = read_line_layer(path)
    column = _name_column([c for c in frame.columns if c != "geometry"], name_column, path.name)
    if frame.crs is None:
        if len(frame) and not np.all(np.abs(frame.total_bounds) <= 180):
            raise InputError(f"{path.name}: the layer has no coordinate system and is not in longitude/latitude")
        frame = frame.set_crs(4326)
    frame = frame.to_crs(4326)
    geometry = frame.geometry.to_numpy()
    kinds = shapely.get_type_id(geometry)
    is_line = np.isin(kinds, [1, 2, 5])  # LineString, LinearRing, MultiLineString
    # One line's clip costs its vertices times the boundary's: a bounded line keeps it linear.
    too_long = is_line & (shapely.get_num_coordinates(geometry) > DEFAULT_LIMITS.max_line_vertices)
    is_line &= ~too_long
    area = shapely.union_all(geography.districts().geometry.to_numpy())
    shapely.prepare(area)
    inside = np.zeros(len(frame), bool)
    inside[is_line] = shapely.intersects(area, geometry[is_line])
    clipped = geometry.copy()
    partial = inside.copy()
    partial[inside] = ~shapely.contains(area, geometry[inside])
    clipped[partial] = shapely.intersection(geometry[partial], area)
    reasons = np.where(pd.isna(geometry), "no geometry",
                       np.where(too_long, "too many vertices for one line",
                                np.where(~is_line, "not a line", np.where(~inside, "outside the 14 districts", ""))))
    names = frame[column].astype(object).where(frame[column].notna(), "").astype(str).str.strip().to_numpy()
    keep = reasons == ""
    wkb = shapely.to_wkb(clipped[keep])
    bounds = shapely.bounds(clipped[keep])
    ids = [hashlib.sha1(n.encode("utf-8") + b"\0" + w).hexdigest() for n, w in zip(names[keep], wkb)]
    lines = pd.DataFrame({"street_id": ids, "name": names[keep], "geometry": list(wkb), "minx": bounds[:, 0],
                          "miny": bounds[:, 1], "maxx": bounds[:, 2], "maxy": bounds[:, 3]})
    bad = np.flatnonzero(~keep)
    rejects = pd.DataFrame({"row": bad + 1, "column": "geometry", "reason": reasons[bad], "raw": ""})
    return lines, rejects


def store_street_file(con, path: Path, name_column: str | None = None) -> LoadSummary:
    """Load one street file in one transaction and log it in ``loads`` like any other input."""
    lines, rejects = read_street_file(path, name_column)
    con.execute(DDL)
    with transaction(con):
        load_id = con.execute("SELECT nextval('load_ids')").fetchall()[0][0]
        before = con.execute("SELECT count(*) FROM streets").fetchall()[0][0]
        fresh = lines.drop_duplicates("street_id").assign(load_id=np.int32(load_id))
        con.register("_streets_in", fresh)
        con.execute("INSERT INTO streets SELECT * FROM _streets_in n "
                    "WHERE NOT EXISTS (SELECT 1 FROM streets s WHERE s.street_id = n.street_id)")
        con.unregister("_streets_in")
        added = con.execute("SELECT count(*) FROM streets").fetchall()[0][0] - before
        summary = LoadSummary(file=path.name, format="streets", rows_read=len(lines) + len(rejects), added=int(added),
                              already_present=len(lines) - int(added), rejected=len(rejects),
                              reject_reasons=rejects["reason"].value_counts().to_dict())
        if not rejects.empty:
            con.register("_rejects", rejects.assign(load_id=load_id, file=path.name)[
                ["load_id", "file", "row", "column", "reason", "raw"]])
            con.execute("INSERT INTO rejects SELECT * FROM _rejects")
            con.unregister("_rejects")
        con.execute("INSERT INTO loads (load_id, file, sha256, format, kind, rows_read, added, already_present, "
                    "rejected, notes) VALUES (?, ?, ?, 'streets', 'streets', ?, ?, ?, ?, '')",
                    [load_id, path.name, file_digest(path), summary.rows_read, summary.added,
                     summary.already_present, summary.rejected])
    return summary


def ingest_streets(con, paths: list[Path], name_column: str | None = None) -> list[LoadSummary]:
    """Load every street file under ``paths``; one LoadSummary per file."""
    files = street_files(paths)
    if not files:
        raise InputError("no street file (.gpkg, .geojson, .shp) in the paths given")
    return [store_street_file(con, file, name_column) for file in files]


def has_streets(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'streets'")
                .fetchall()[0][0]) and bool(con.execute("SELECT count(*) FROM streets").fetchall()[0][0])


def streets_in_box(con, minx: float, miny: float, maxx: float, maxy: float) -> pd.DataFrame:
    """Street lines whose bounding box meets the box (WGS84): columns name, geometry (WKB)."""
    if not has_streets(con):
        return pd.DataFrame(columns=["name", "geometry"])
    return con.execute("SELECT name, geometry FROM streets WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?",
                       [minx, maxx, miny, maxy]).df()


def streets_near_cells(con, hotspot_cells: pd.DataFrame) -> pd.DataFrame | None:
    """Street lines around each hotspot (hotspot_id, name, geometry WKB), or None with no layer."""
    from hotspot_engine.reference import geography

    if hotspot_cells.empty or not has_streets(con):
        return None
    parts = []
    for hotspot_id, group in hotspot_cells.groupby("hotspot_id", sort=False):
        lat, lon = geography.cell_centres(group["h3"].to_numpy(np.uint64))
        box = (np.min(lon) - 1.5 * NEAR_DEGREES, np.min(lat) - NEAR_DEGREES, np.max(lon) + 1.5 * NEAR_DEGREES,
               np.max(lat) + NEAR_DEGREES)
        parts.append(streets_in_box(con, *box).assign(hotspot_id=hotspot_id))
    out = pd.concat(parts, ignore_index=True)
    out["geometry"] = [bytes(g) for g in out["geometry"]]
    return out[["hotspot_id", "name", "geometry"]]


def path_records(lines: pd.DataFrame) -> pd.DataFrame:
    """Street lines as deck.gl PathLayer rows: name and path ([[lon, lat], ...]), one per part,
    rounded to about 1 m; plus label rows (name, lon, lat) at each named street's middle."""
    import shapely

    rows = []
    for name, wkb in zip(lines["name"], lines["geometry"]):
        geometry = shapely.from_wkb(bytes(wkb))
        for part in getattr(geometry, "geoms", [geometry]):
            coords = np.round(np.asarray(part.coords)[:, :2], 5).tolist()
            if len(coords) >= 2:
                rows.append({"name": name, "path": coords})
    return pd.DataFrame(rows, columns=["name", "path"])


__all__ = ["DDL", "NAME_COLUMNS", "ingest_streets", "read_street_file", "store_street_file", "has_streets",
           "streets_in_box", "streets_near_cells", "path_records"]
