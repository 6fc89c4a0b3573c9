"""Street line layers read by GDAL with no network and within bounds.

Why each check (issue 25): a GeoJSON ``crs`` of type ``link`` made GDAL fetch its ``href`` from the
server (an SSRF, through the command line and an anonymous upload); GDAL also opens ``/vsicurl/``
and ``http://`` names, and a file whose bytes are a VRT can point at any path or URL whatever its
extension. So before GDAL sees a file: it must be a regular local file under the size limit whose
first bytes are what its extension says (GeoPackage's SQLite header, a Shapefile's file code, a
JSON object), a GeoJSON may name its coordinate system only by an EPSG/OGC code, and a Shapefile's
``.prj`` may hold no URL. While GDAL reads, its HTTP goes to a proxy address that cannot be reached
and ``no_proxy`` is lifted, so a fetch that slips past the checks still leaves the machine with
nothing (tests/test_street_safety.py listens on 127.0.0.1 through the CLI and the upload: no
request). GDAL's warnings name the server path, so they are counted, not shown.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

from hotspot_engine.errors import InputError
from hotspot_engine.read.limits import DEFAULT_LIMITS, Limits, check_regular_file, too_big

#: GDAL settings while a user's file is read: HTTP through a proxy that cannot exist, short
#: timeouts, no /vsicurl listing, no directory scans beside the file.
OFFLINE_GDAL = {"GDAL_HTTP_PROXY": "nonet://0.0.0.0:1", "GDAL_HTTP_TIMEOUT": "1", "GDAL_HTTP_CONNECTTIMEOUT": "1",
                "GDAL_HTTP_MAX_RETRY": "0", "CPL_VSIL_CURL_ALLOWED_FILENAME": "/nonexistent/none",
                "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".none", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
                "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO", "CPL_CURL_ENABLE_VSIMEM": "NO",
                # One GeoJSON feature's parse, in MB (GDAL's default 200 let a 34 MB line take 850 MB).
                "OGR_GEOJSON_MAX_OBJ_SIZE": "16"}
_PROXY_ENV = ("no_proxy", "NO_PROXY")
_MAGIC = {".gpkg": (b"SQLite format 3\x00",), ".shp": (b"\x00\x00\x27\x0a",)}
_CRS_KEY = re.compile(rb'"crs"\s*:')
_CRS_CODE = re.compile(r"^(urn:ogc:def:crs:[A-Za-z0-9.:_]+|EPSG:\d+)$")
_CHUNK = 1 << 20


@contextlib.contextmanager
def gdal_offline() -> Iterator[None]:
    """GDAL with its network access pointed nowhere, for the duration of one read."""
    import pyogrio

    saved_env = {k: os.environ.pop(k) for k in _PROXY_ENV if k in os.environ}
    pyogrio.set_gdal_config_options(OFFLINE_GDAL)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({k: None for k in OFFLINE_GDAL})
        os.environ.update(saved_env)


def _check_name(path: Path) -> None:
    text = str(path)
    if text.startswith("/vsi") or "://" in text or text.lower().startswith(("http:", "https:", "ftp:")):
        raise InputError(f"{path.name}: only local files are read")


def _check_magic(path: Path) -> None:
    suffix = path.suffix.lower()
    with open(path, "rb") as handle:
        head = handle.read(64)
    if suffix in _MAGIC and not head.startswith(_MAGIC[suffix]):
        raise InputError(f"{path.name}: not a {'GeoPackage' if suffix == '.gpkg' else 'Shapefile'} (its first bytes "
                         "say otherwise)")
    if suffix in (".geojson", ".json") and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        raise InputError(f"{path.name}: not GeoJSON (it does not start with a JSON object)")


_UNREADABLE = object()


def _crs_object(window: bytes) -> object:
    """The JSON value after ``"crs":`` at the start of ``window`` (_UNREADABLE if it is not a small one)."""
    text = window.decode("utf-8", "replace")
    start = text.find(":") + 1
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:].lstrip())
    except ValueError:
        return _UNREADABLE
    return value


def _crs_is_code(crs: object) -> bool:
    if crs is None:
        return True
    properties = crs.get("properties") if isinstance(crs, dict) else None
    name = properties.get("name") if isinstance(properties, dict) else None
    return isinstance(crs, dict) and crs.get("type") == "name" and isinstance(name, str) \
        and bool(_CRS_CODE.match(name))


def _check_crs_members(name: str, data: bytes, at_end: bool) -> int:
    """Check every ``crs`` member wholly inside ``data``; returns where checking must resume."""
    for match in _CRS_KEY.finditer(data):
        window = data[match.start():match.start() + 2048]
        if len(window) < 2048 and not at_end:
            return match.start()  # the member may straddle the next chunk
        if not _crs_is_code(_crs_object(window)):
            raise InputError(f"{name}: its coordinate system is given by a link or URL, which is not followed; "
                             "give it as an EPSG code (e.g. EPSG:27700) or leave it out")
    return max(0, len(data) - 16)


def _check_geojson_crs(path: Path) -> None:
    """Every ``crs`` member names a code: a link or URL would make GDAL fetch it."""
    carry = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            data = carry + chunk
            carry = data[_check_crs_members(path.name, data, at_end=False):]
    _check_crs_members(path.name, carry, at_end=True)


def _check_sidecars(path: Path) -> None:
    for suffix in (".prj", ".dbf", ".shx", ".cpg"):
        sidecar = path.with_suffix(suffix)
        if sidecar.exists():
            check_regular_file(sidecar, sidecar.name)
    prj = path.with_suffix(".prj")
    if prj.exists() and b"://" in prj.read_bytes()[:65536]:
        raise InputError(f"{prj.name}: the coordinate system is given by a URL, which is not followed")


def check_street_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse, with one line naming the file, what GDAL must not be given."""
    _check_name(path)
    size = check_regular_file(path, path.name)
    geojson = path.suffix.lower() in (".geojson", ".json")
    cap = limits.max_geojson_bytes if geojson else limits.max_street_bytes
    if size > cap:
        raise too_big(path.name, size, cap, "street layer" + (" (GeoJSON is parsed whole: use a GeoPackage)"
                                                              if geojson else ""))
    _check_magic(path)
    if geojson:
        _check_geojson_crs(path)
    if path.suffix.lower() == ".shp":
        _check_sidecars(path)


def read_line_layer(path: Path, limits: Limits = DEFAULT_LIMITS):
    """``(GeoDataFrame, warnings)`` of a checked street file read offline, within the feature and
    vertex limits; ``warnings`` counts GDAL's warnings (their text names server paths)."""
    import geopandas as gpd
    import pyogrio
    import shapely

    check_street_file(path, limits)
    pyogrio_log = logging.getLogger("pyogrio")
    level = pyogrio_log.level
    pyogrio_log.setLevel(logging.ERROR)
    try:
        with gdal_offline(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                features = int(pyogrio.read_info(path).get("features") or 0)
                if features > limits.max_street_features:
                    raise InputError(f"{path.name}: {features:,} features, over the {limits.max_street_features:,} "
                                     "limit for a street layer; clip it to the study area first")
                frame = gpd.read_file(path, engine="pyogrio")
            except InputError:
                raise
            except Exception as exc:  # pyogrio raises its own errors for unreadable files
                if "too complex/large" in str(exc):  # GDAL's own bound on one GeoJSON feature
                    raise InputError(f"{path.name}: a feature too large to read (GDAL's GeoJSON limit); clip or "
                                     "simplify the layer first") from None
                raise InputError(f"{path.name}: cannot read as a line layer ({type(exc).__name__})") from None
    finally:
        pyogrio_log.setLevel(level)
    if len(frame) > limits.max_street_features:
        raise InputError(f"{path.name}: {len(frame):,} features, over the {limits.max_street_features:,} limit for a "
                         "street layer; clip it to the study area first")
    vertices = int(shapely.get_num_coordinates(frame.geometry.to_numpy()).sum())
    if vertices > limits.max_street_vertices:
        raise InputError(f"{path.name}: {vertices:,} vertices, over the {limits.max_street_vertices:,} limit for a "
                         "street layer; clip or simplify it first")
    return frame, len(caught)


__all__ = ["OFFLINE_GDAL", "check_street_file", "gdal_offline", "read_line_layer"]
