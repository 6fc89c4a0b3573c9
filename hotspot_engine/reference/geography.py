"""Districts, CSPs and the H3 study area, loaded once per area from ``geodata/``.

The area is the set of police force areas the open store covers (:func:`use_area`; see
:mod:`hotspot_engine.reference.area`): Hampshire alone reads the HIPS files at the top of
``geodata/``, any other set reads a folder cut from the England and Wales pack. Every cache below is
kept per area folder, so switching stores never mixes two areas' districts.

Point-to-district assignment is exact point-in-polygon against the district polygons (dissolved from
the generalised ONS LSOA boundaries), with a nearest-district fallback within a tolerance for the
coastal points that generalised coastlines leave just outside every polygon.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.reference.filecache import read_once_per_version
from hotspot_engine.resources import GEODATA_DIR  # noqa: E402  (re-exported: callers use geography.GEODATA_DIR)

if TYPE_CHECKING:
    import pyarrow as pa

COASTAL_TOLERANCE_M = 2000.0
ATTRIBUTION = (
    "Contains National Statistics data © Crown copyright and database right 2011; contains OS data "
    "© Crown copyright and database right 2011. Open Government Licence v3.0."
)


def _geopandas():
    import geopandas as gpd  # heavy: imported only by the functions that draw or test polygons

    return gpd


_AREA: tuple[str, ...] = ()  # PFA codes the open store's data names; () before any (HIPS)
_FIXED = False  # True when settings.toml [area] forces fixed the area: data no longer widens it
_AREA_LOCK = threading.Lock()


def use_area(codes: tuple[str, ...] | list[str] = (), fixed: bool = False) -> tuple[str, ...]:
    """Make ``codes`` (PFA codes) the area every function here works on; () or Hampshire alone is
    HIPS. ``fixed``: the data's own forces do not widen it (settings named the area). Returns the
    area in force."""
    global _AREA, _FIXED
    with _AREA_LOCK:
        _AREA, _FIXED = tuple(sorted(set(codes))), bool(fixed)
    return _AREA


def widen_area(force_names) -> tuple[str, ...]:
    """Add the force areas named (police.uk "Falls within" values) to the area in force, so that a
    file's rows are placed in its own forces' districts; returns the area in force."""
    from hotspot_engine.reference import area as area_pack

    if _FIXED:
        return _AREA
    named = area_pack.pfa_codes(pd.unique(pd.Series(force_names, dtype=object).dropna()), GEODATA_DIR)
    if set(named) <= set(_AREA):
        return _AREA
    return use_area(_AREA + named)


def area_codes() -> tuple[str, ...]:
    """PFA codes of the area in force (() before any data names one: HIPS)."""
    return _AREA


def is_hips() -> bool:
    """True when the area in force is Hampshire's (the HIPS files), as for the sample."""
    from hotspot_engine.reference import area as area_pack

    return area_pack.is_hips(_AREA)


def area_dir() -> Path:
    """The folder of the area in force: the HIPS files, or the area cut from the pack."""
    from hotspot_engine.reference import area as area_pack

    codes = _AREA
    if area_pack.is_hips(codes):
        return GEODATA_DIR
    return _cut_area(codes, _cache_dir())


@lru_cache(maxsize=8)
def _cut_area(codes: tuple[str, ...], cache: Path) -> Path:
    from hotspot_engine.reference import area as area_pack

    return area_pack.cut(GEODATA_DIR, codes, cache / "areas" / _area_folder_name(codes))


def _area_folder_name(codes: tuple[str, ...]) -> str:
    """The cache folder of an area: its force codes joined, or, past a few forces (43 codes joined are
    over the 255-byte limit of a file name: a national month failed there), their count and a hash."""
    joined = "-".join(codes)
    if len(joined) <= 120:
        return joined
    import hashlib

    return f"{len(codes)}-forces-{hashlib.sha256(joined.encode()).hexdigest()[:16]}"


def districts():
    """GeoDataFrame: district, lad_code, area_km2, csp, geometry (WGS84)."""
    return _districts(area_dir())


@lru_cache(maxsize=4)
def _districts(folder: Path):
    frame = _geopandas().read_file(folder / "districts.geojson")
    lookup = csp_lookup()
    frame = frame.merge(lookup[["lad_code", "csp"]], on="lad_code", how="left")
    return frame.sort_values("district").reset_index(drop=True)


def lsoas():
    """GeoDataFrame: lsoa_code, lsoa_name, district, lad_code, area_km2, geometry (WGS84); outside
    HIPS also ``vintage`` ("11" or "21"), both vintages' LSOAs being listed."""
    return _lsoas(area_dir())


@lru_cache(maxsize=4)
def _lsoas(folder: Path):
    return _geopandas().read_file(folder / "lsoa.geojson")


def csp_lookup(path: str | Path | None = None) -> pd.DataFrame:
    """The editable district-to-CSP lookup (lad_code, district, csp)."""
    return _read_csp_lookup(Path(path) if path else area_dir() / "district_csp.csv")


@read_once_per_version
def _read_csp_lookup(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str).apply(lambda c: c.str.strip())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path.name}: cannot read the district-to-CSP lookup ({exc})") from None
    missing = {"lad_code", "district", "csp"} - set(frame.columns)
    if missing:
        raise InputError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
    blank = frame["csp"].isna() | (frame["csp"] == "")
    if blank.any():
        raise InputError(f"{path.name}: row {int(np.flatnonzero(blank)[0]) + 2}, column csp: empty")
    return frame[["lad_code", "district", "csp"]]


def district_names() -> list[str]:
    return sorted(csp_lookup()["district"])


def csp_names() -> list[str]:
    return sorted(csp_lookup()["csp"].unique())


def districts_for(districts_: tuple[str, ...] = (), csps: tuple[str, ...] = ()) -> list[str]:
    """Districts selected by district and CSP filters (both apply; empty means all)."""
    lookup = csp_lookup()
    unknown = [d for d in districts_ if d not in set(lookup["district"])]
    if unknown:
        raise InputError(f"unknown district '{unknown[0]}'; choose from: {', '.join(sorted(lookup['district']))}")
    unknown = [c for c in csps if c not in set(lookup["csp"])]
    if unknown:
        raise InputError(f"unknown CSP '{unknown[0]}'; choose from: {', '.join(sorted(set(lookup['csp'])))}")
    keep = pd.Series(True, index=lookup.index)
    if districts_:
        keep &= lookup["district"].isin(districts_)
    if csps:
        keep &= lookup["csp"].isin(csps)
    return sorted(lookup.loc[keep, "district"])


def _district_shapes():
    return _district_shapes_of(area_dir())


@lru_cache(maxsize=4)
def _district_shapes_of(folder: Path):
    import shapely
    from pyproj import Transformer

    frame = districts()
    wgs = list(frame.geometry)
    for geom in wgs:
        shapely.prepare(geom)
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    bng = frame.to_crs(27700).geometry.to_list()
    return frame["district"].to_numpy(), wgs, bng, to_bng


LOOKUP_RES = 9


def _exact_districts(lat: np.ndarray, lon: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Point-in-polygon per district, then nearest district within ``tolerance_m``."""
    import shapely

    names, wgs, bng, to_bng = _district_shapes()
    out = np.full(lat.shape, None, dtype=object)
    todo = np.isfinite(lat) & np.isfinite(lon)
    for name, poly in zip(names, wgs):
        if not todo.any():
            break
        minx, miny, maxx, maxy = poly.bounds
        idx = np.flatnonzero(todo & (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))
        if idx.size == 0:
            continue
        inside = shapely.contains_xy(poly, lon[idx], lat[idx])
        out[idx[inside]] = name
        todo[idx[inside]] = False
    rest = np.flatnonzero(todo)
    if rest.size:
        x, y = to_bng.transform(lon[rest], lat[rest])
        if np.isfinite(tolerance_m):
            # Points far beyond the force area never need the (slow) distance computation.
            minx, miny, maxx, maxy = shapely.total_bounds(bng)
            near = (x >= minx - tolerance_m) & (x <= maxx + tolerance_m) & (y >= miny - tolerance_m) & (y <= maxy + tolerance_m)
            rest, x, y = rest[near], x[near], y[near]
        if rest.size:
            points = shapely.points(x, y)
            distances = np.vstack([shapely.distance(poly, points) for poly in bng])
            nearest = distances.argmin(axis=0)
            close = distances[nearest, np.arange(rest.size)] <= tolerance_m
            out[rest[close]] = names[nearest[close]]
    return out


@dataclass(frozen=True)
class _Interior:
    """The res-9 cells lying wholly inside one district, sorted, with that district's position in
    ``names``: 10 bytes a cell (a national area's 1.5M cells are 15 MB; as a pandas Series of
    district strings indexed by cell they held about 700 MB)."""

    cells: np.ndarray  # uint64, sorted
    codes: np.ndarray  # int16 positions into names
    names: np.ndarray  # district names (object)

    def districts(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, district per found cell) for ``cells``."""
        cells = np.asarray(cells, dtype=np.uint64)
        if not self.cells.size:
            return np.zeros(cells.shape, dtype=bool), np.array([], dtype=object)
        pos = np.minimum(np.searchsorted(self.cells, cells), self.cells.size - 1)
        hit = self.cells[pos] == cells
        return hit, self.names[self.codes[pos[hit]]]


#: Hexagons are drawn for this many study cells at a time while the interior lookup is built: all
#: 1.6M of a national area at once took the ingest of a national month 1.2 GB over its baseline.
INTERIOR_CHUNK = 50_000


def _interior_lookup() -> _Interior:
    return _interior_lookup_of(area_dir())


@lru_cache(maxsize=4)
def _interior_lookup_of(folder: Path) -> _Interior:
    """Cells wholly inside one district (see :class:`_Interior`). Points in them need no polygon
    test, which makes assignment of a million points take about a second. Cached on disk beside the
    study cells: a national area's took 137 s to build on the shared machine."""
    import shapely

    names, wgs, _, _ = _district_shapes()
    cache = _study_cells_cache(LOOKUP_RES, folder, "interior")
    if cache.exists():
        try:
            stored = pd.read_parquet(cache)
            codes = pd.Categorical(stored["district"], categories=names).codes.astype(np.int16)
            if (codes >= 0).all():
                return _Interior(stored["h3"].to_numpy(np.uint64), codes, np.asarray(names, dtype=object))
        except Exception:  # a half-written cache is rebuilt, never trusted
            pass
    cells = _all_study_cells(LOOKUP_RES)  # sorted by h3
    h3 = cells["h3"].to_numpy(np.uint64)
    owner = pd.Categorical(cells["district"], categories=names).codes.astype(np.int16)
    code = np.full(len(cells), -1, dtype=np.int16)
    for start in range(0, len(cells), INTERIOR_CHUNK):
        part = slice(start, start + INTERIOR_CHUNK)
        hexagons = cell_polygons(h3[part]).values
        for k in np.unique(owner[part]):
            if k < 0:
                continue
            candidates = np.flatnonzero(owner[part] == k)
            inside = shapely.contains(wgs[k], hexagons[candidates])
            code[start + candidates[inside]] = k
    keep = code >= 0
    lookup = _Interior(h3[keep], code[keep], np.asarray(names, dtype=object))
    _write_cache(pd.DataFrame({"h3": lookup.cells, "district": lookup.names[lookup.codes]}), cache)
    return lookup


def assign_districts(
    lat: np.ndarray, lon: np.ndarray, tolerance_m: float = COASTAL_TOLERANCE_M, cells: np.ndarray | None = None
) -> np.ndarray:
    """District name per point; None where the point is outside every district by more than
    ``tolerance_m``. ``cells`` (res-9 cells of the points) may be passed when already computed."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if cells is None:
        cells = cells_for_points(lat, lon, LOOKUP_RES)
    out = np.full(lat.shape, None, dtype=object)
    hit, found = _interior_lookup().districts(np.asarray(cells, dtype=np.uint64))
    out[hit] = found
    rest = np.flatnonzero(~hit)
    if rest.size:
        out[rest] = _exact_districts(lat[rest], lon[rest], tolerance_m)
    return out


def cells_for_points(lat: np.ndarray, lon: np.ndarray, res: int) -> np.ndarray:
    """H3 cell (uint64) per point, vectorised through h3ronpy; 0 where coordinates are missing."""
    from h3ronpy import vector

    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    out = np.zeros(lat.shape, dtype=np.uint64)
    if ok.any():
        out[ok] = vector.coordinates_to_cells(lat[ok], lon[ok], res).to_numpy()
    return out


def cell_parents(cells: np.ndarray, res: int) -> np.ndarray:
    """Parent cells at a coarser resolution, vectorised."""
    import pyarrow as pa
    from h3ronpy import change_resolution

    return np.asarray(change_resolution(pa.array(cells, type=pa.uint64()), res).to_numpy(), dtype=np.uint64)


def cell_to_str(cells: np.ndarray | pd.Series) -> np.ndarray:
    """uint64 cells to the usual 15-character hex ids."""
    values = np.asarray(cells, dtype=np.uint64).ravel()
    if values.size == 0:
        return np.array([], dtype=object)
    # Hex of the big-endian bytes, 16 digits per id, leading zeros stripped: format(c, "x") for a
    # whole array at once (a study area has tens of thousands of cells, rendered on every map).
    digits = np.frombuffer(values.astype(">u8").tobytes().hex().encode("ascii"), dtype="S16")
    text = np.char.lstrip(digits, b"0")
    text[text == b""] = b"0"
    return text.astype(str).astype(object)


def str_to_cell(ids: pd.Series | list[str]) -> np.ndarray:
    """Hex ids to uint64 cells, as ``int(s, 16)`` each. Plain lower-case hex of 1-16 digits (every
    id this engine writes) is decoded in one go from its bytes (5 ms against 30 ms for a study area
    of 44,000 cells); anything else ('0x', spaces, upper case, None) goes through ``int``, which
    accepts or refuses it as before."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(ids.array if isinstance(ids, pd.Series) else ids, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError):
        text = None
    if isinstance(text, pa.ChunkedArray):  # a pandas column backed by Arrow in several chunks
        text = text.combine_chunks()
    if text is not None and len(text) and text.null_count == 0 and pc.all(pc.match_substring_regex(text, "^[0-9a-f]{1,16}$")).as_py():
        digits = pc.utf8_lpad(text, 16, "0").cast(pa.large_string())
        data = memoryview(digits.buffers()[2])[8 * 2 * digits.offset:8 * 2 * (digits.offset + len(digits))]
        return np.frombuffer(bytes.fromhex(bytes(data).decode("ascii")), dtype=">u8").astype(np.uint64)
    return np.array([int(s, 16) for s in ids], dtype=np.uint64)


@dataclass(frozen=True)
class StudyArea:
    """Every H3 cell covering the selected districts, zeros included, with a district per cell."""

    res: int
    cells: pd.DataFrame  # h3 (uint64), district, csp; sorted by h3

    def __len__(self) -> int:
        return len(self.cells)


def _cache_dir() -> Path:
    return Path(os.environ.get("HOTSPOT_CACHE", Path.cwd() / "data" / "cache"))


def _all_study_cells(res: int) -> pd.DataFrame:
    return _all_study_cells_of(res, area_dir())


@lru_cache(maxsize=8)
def _all_study_cells_of(res: int, folder: Path) -> pd.DataFrame:
    """All cells for all the area's districts at ``res``, cached in memory and on disk (they never
    change unless geodata/ does, and res 10-11 take seconds to build)."""
    # Arrow IPC rather than Parquet: every `hotspots` run reads it, and pandas' Parquet reader cost
    # 0.07-0.12 s of CPU on first use (its imports included) against 0.005 s.
    cache = _study_cells_cache(res, folder).with_suffix(".arrow")
    if cache.exists():
        try:
            return _read_arrow(cache).to_pandas()
        except Exception:  # a half-written cache is rebuilt, never trusted
            pass
    from h3ronpy import ContainmentMode, vector

    frame = districts()
    parts = []
    for geom in frame.geometry:
        cells = vector.geometry_to_cells(geom, res, containment_mode=ContainmentMode.IntersectsBoundary)
        parts.append(np.asarray(cells.to_numpy(), dtype=np.uint64))
    cells = np.unique(np.concatenate(parts))
    coords = vector.cells_to_coordinates(cells)
    lat = np.asarray(coords.column("lat").to_numpy(), dtype=float)
    lon = np.asarray(coords.column("lng").to_numpy(), dtype=float)
    # A cell belongs to the district holding its centre; edge cells whose centre is in the sea or
    # over the force boundary go to the nearest district they touch.
    district = _exact_districts(lat, lon, tolerance_m=np.inf)
    lookup = csp_lookup().set_index("district")["csp"]
    out = pd.DataFrame({"h3": cells, "district": district})
    out["csp"] = out["district"].map(lookup)
    out = out.sort_values("h3").reset_index(drop=True)
    import pyarrow as pa

    _write_arrow(pa.Table.from_pandas(out, preserve_index=False), cache)
    return out


def _read_arrow(path: Path) -> pa.Table:
    import pyarrow as pa
    from pyarrow import ipc

    with ipc.open_file(pa.memory_map(str(path))) as reader:
        return reader.read_all()


def _write_arrow(table: pa.Table, path: Path) -> None:
    """``table`` as an Arrow IPC file (lz4) at ``path``, renamed into place whole; a cache folder that
    cannot be written is no error (the next run builds it again)."""
    from pyarrow import ipc

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # two processes may build it at once
        with ipc.new_file(str(tmp), table.schema, options=ipc.IpcWriteOptions(compression="lz4")) as writer:
            writer.write_table(table)
        tmp.replace(path)
    except OSError:
        pass


def _study_cells_cache(res: int, folder: Path, kind: str = "study_cells") -> Path:
    """The on-disk cache file of an area's cells (``kind`` "study_cells" or "interior")."""
    stamp = int((folder / "districts.geojson").stat().st_mtime)
    suffix = f"_{folder.name}" if folder != GEODATA_DIR else ""
    return _cache_dir() / f"{kind}_r{res}_{stamp}{suffix}.parquet"


def _write_cache(frame: pd.DataFrame, cache: Path) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        frame.to_parquet(tmp, index=False)
        tmp.replace(cache)
    except OSError:
        pass


def study_area(res: int, districts_: tuple[str, ...] = (), csps: tuple[str, ...] = ()) -> StudyArea:
    selected = districts_for(districts_, csps)
    cells = _all_study_cells(res)
    if len(selected) < len(district_names()):
        cells = cells[cells["district"].isin(selected)].reset_index(drop=True)
    return StudyArea(res, cells)


# Smaller arrays (a few hot cells) are cheap to compute and would push study areas out of the memo.
MEMO_MIN_CELLS = 1000


class _ArrayMemo:
    """A small, thread-safe memo of results computed from a cell array, keyed on its content."""

    def __init__(self, compute, size: int = 8):
        self._compute, self._size = compute, size
        self._results: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, cells: np.ndarray, *args):
        key = (cells.size, hashlib.blake2b(cells.tobytes(), digest_size=16).digest(), *args)
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        result = self._compute(cells, *args)
        with self._lock:
            self._results[key] = result
            while len(self._results) > self._size:
                self._results.popitem(last=False)
        return result


def ring_neighbours(cells: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) of positions into ``cells`` with j in the k-ring disk of i, self included.
    Neighbours outside ``cells`` are dropped. Vectorised through h3ronpy's grid_disk.

    Every hotspot run of a study area asks for the same pairs (tens of ms for 44,000 cells), so
    they are kept per array content; callers get their own copies."""
    cells = np.ascontiguousarray(cells, dtype=np.uint64)
    if cells.size < MEMO_MIN_CELLS:
        return _compute_ring_neighbours(cells, int(k))
    i, j = _ring_neighbours(cells, int(k))
    return i.copy(), j.copy()


def _compute_ring_neighbours(cells: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow as pa
    from h3ronpy import grid_disk

    disks = pa.array(grid_disk(pa.array(cells, type=pa.uint64()), k))
    offsets = np.asarray(disks.offsets.to_numpy())
    flat = np.asarray(disks.flatten().to_numpy(), dtype=np.uint64)
    source = np.repeat(np.arange(len(cells)), np.diff(offsets))
    order = np.argsort(cells)
    pos = np.searchsorted(cells, flat, sorter=order)
    pos = np.clip(pos, 0, len(cells) - 1)
    target = order[pos]
    keep = cells[target] == flat
    return source[keep], target[keep]


def _cell_shapes(cells: np.ndarray) -> np.ndarray:
    import shapely
    from h3ronpy import vector

    wkb = vector.cells_to_wkb_polygons(np.asarray(cells, dtype=np.uint64))
    return shapely.from_wkb(np.asarray(wkb.to_pylist(), dtype=object))


def cell_polygons(cells: np.ndarray):
    """GeoSeries of cell hexagons (WGS84) for export and folium maps."""
    return _geopandas().GeoSeries(_cell_shapes(cells), crs=4326)


def cell_wkt(cells: np.ndarray) -> pa.Array:
    """Each cell's hexagon as WKT text (Arrow large_string), as the CSV export writes a GeoSeries of
    them (shortest round-trip digits), without geopandas: its import (pyproj included) was 0.35-0.4 s
    CPU of the 1.3 s `hotspots --out x.csv` takes on a 1M-incident store.

    Every `hotspots` run writes the hexagons of the whole study area, and they change only with
    geodata/: building them (h3ronpy WKB -> shapely -> WKT) took 0.2-0.3 s CPU for Hampshire's
    44,270 cells at res 9, reading them back from the area's WKT cache (Arrow IPC, lz4, 4.4 MB)
    0.01 s. Cells outside the study area, or areas over :data:`WKT_CACHE_MAX_CELLS`, are built."""
    import pyarrow as pa

    cells = np.ascontiguousarray(cells, dtype=np.uint64)
    resolutions = np.unique((cells >> np.uint64(52)) & np.uint64(15))  # bits 52-55 of an H3 index
    if resolutions.size == 1:
        known = _study_wkt(int(resolutions[0]), area_dir())
        if known is not None:
            ids, wkt = known
            pos = np.clip(np.searchsorted(ids, cells), 0, max(len(ids) - 1, 0))
            if len(ids) and bool((ids[pos] == cells).all()):
                return wkt.take(pa.array(pos))
    return _compute_wkt(cells)


#: A study area of at most this many cells keeps its hexagons' WKT on disk (Hampshire at res 9:
#: 44,270 cells, 4.4 MB); res 10-11, or a national area, would make files of hundreds of MB.
WKT_CACHE_MAX_CELLS = 100_000


def _compute_wkt(cells: np.ndarray) -> pa.Array:
    import pyarrow as pa
    import shapely

    return pa.array(shapely.to_wkt(_cell_shapes(cells), rounding_precision=-1), type=pa.large_string())


@lru_cache(maxsize=4)
def _study_wkt(res: int, folder: Path) -> tuple[np.ndarray, pa.Array] | None:
    """(sorted cell ids, their WKT) of every study cell at ``res``, from the cache file beside the
    study cells, built on first use; None when the area is too big to keep (see :func:`cell_wkt`)."""
    import pyarrow as pa

    cache = _study_cells_cache(res, folder, "cell_wkt").with_suffix(".arrow")
    if cache.exists():
        try:
            table = _read_arrow(cache)
            return table.column("h3").to_numpy().astype(np.uint64), table.column("wkt").combine_chunks()
        except Exception:  # a half-written or foreign file is rebuilt, never trusted
            pass
    ids = _all_study_cells_of(res, folder)["h3"].to_numpy(dtype=np.uint64)  # sorted, unique
    if not 0 < ids.size <= WKT_CACHE_MAX_CELLS:
        return None
    wkt = _compute_wkt(ids)
    _write_arrow(pa.table({"h3": pa.array(ids, type=pa.uint64()), "wkt": wkt}), cache)
    return ids, wkt


def cell_centres(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of each cell's centre; kept per array content like :func:`ring_neighbours`."""
    cells = np.ascontiguousarray(cells, dtype=np.uint64)
    if cells.size < MEMO_MIN_CELLS:
        return _compute_cell_centres(cells)
    lat, lon = _cell_centres(cells)
    return lat.copy(), lon.copy()


def _compute_cell_centres(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from h3ronpy import vector

    coords = vector.cells_to_coordinates(cells)
    return (np.asarray(coords.column("lat").to_numpy(), dtype=float), np.asarray(coords.column("lng").to_numpy(), dtype=float))


def _ring1(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _compute_ring_neighbours(cells, 1)


def _study_or_computed_ring_neighbours(cells: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    stored = _study_arrays(cells, "ring1", ("i", "j"), _ring1) if k == 1 else None
    return stored if stored is not None else _compute_ring_neighbours(cells, k)


def _study_or_computed_centres(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stored = _study_arrays(cells, "centres", ("lat", "lon"), _compute_cell_centres)
    return stored if stored is not None else _compute_cell_centres(cells)


def _study_arrays(cells: np.ndarray, kind: str, names: tuple[str, str], compute) -> tuple[np.ndarray, np.ndarray] | None:
    """Two arrays derived from the whole study area's cells only (its ring-1 pairs, its centres),
    read from the area's cache beside the study cells, or built and kept there; None unless
    ``cells`` is exactly the study area (sorted), as every `hotspots` run of a whole area asks.
    Building them took 0.05 s CPU of each run for Hampshire at res 9 (44,270 cells; h3ronpy's
    grid_disk and centres), reading them 0.005 s."""
    if cells.size == 0 or cells.size > WKT_CACHE_MAX_CELLS:
        return None
    res = int((int(cells[0]) >> 52) & 15)
    folder = area_dir()
    if not _study_cells_cache(res, folder).with_suffix(".arrow").exists():
        return None  # the study cells are not built: no reason to build them here
    ids = _all_study_cells_of(res, folder)["h3"].to_numpy(dtype=np.uint64)
    if ids.size != cells.size or not np.array_equal(ids, cells):
        return None
    return _stored_pair(res, folder, kind, names, compute)


@lru_cache(maxsize=8)
def _stored_pair(res: int, folder: Path, kind: str, names: tuple[str, str], compute) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow as pa

    cache = _study_cells_cache(res, folder, kind).with_suffix(".arrow")
    if cache.exists():
        try:
            table = _read_arrow(cache)
            return table.column(names[0]).to_numpy(), table.column(names[1]).to_numpy()
        except Exception:  # a half-written or foreign file is rebuilt, never trusted
            pass
    first, second = compute(_all_study_cells_of(res, folder)["h3"].to_numpy(dtype=np.uint64))
    _write_arrow(pa.table({names[0]: first, names[1]: second}), cache)
    return first, second


_ring_neighbours = _ArrayMemo(_study_or_computed_ring_neighbours)
_cell_centres = _ArrayMemo(_study_or_computed_centres)
