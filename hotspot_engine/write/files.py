"""Writing export layers to files: the format from the extension (``.csv``, ``.geojson``,
``.gpkg``, ``.parquet``, ``.xlsx``), file names that say what and when, the methods sidecar beside
every file, and a temporary name renamed into place so a failed export never leaves half a file.
"""
from __future__ import annotations

import io
import re
import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters
from hotspot_engine.write.atomic import Outputs, staged_outputs
from hotspot_engine.write.csv_text import write_csv
from hotspot_engine.write.disclosure import DEFAULT_THRESHOLD, suppression_rule
from hotspot_engine.write.disclosure import partner_safe as _partner_safe_layers  # write_layers' flag shadows it
from hotspot_engine.write.layers import _geopandas
from hotspot_engine.write.sidecar import ExportMeta, write_sidecar
from hotspot_engine.write.spreadsheet import neutralise_formulas

FORMATS: tuple[str, ...] = ("csv", "geojson", "gpkg", "parquet", "xlsx")
#: Formats that hold several layers in one file; the others write one file per layer.
MULTI_LAYER_FORMATS = ("gpkg", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row


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
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            continue  # all text: no lists (checked in C, not per value)
        if any(isinstance(v, (list, tuple, np.ndarray)) for v in values):
            joined = [" ".join(str(x) for x in v) if isinstance(v, (list, tuple, np.ndarray)) else v for v in values]
            out = out.assign(**{name: pd.Series(joined, index=layer.index, dtype=object)})
    return out


#: p-value columns. Beyond z of about 38 the normal tail underflows a double to exactly 0.0, which a
#: reader takes for "impossible"; it is written as the smallest positive normal double instead, an
#: upper bound ("below 2.2e-308"). Every other p keeps its full precision (repr, so 3.6e-287 stays).
P_VALUE_COLUMNS = ("gi_p", "gi_p_fdr", "p_norm", "p_sim", "p_value")
P_FLOOR = float(np.finfo(float).tiny)


def _floor_p_values(frame: pd.DataFrame) -> pd.DataFrame:
    for column in (c for c in P_VALUE_COLUMNS if c in frame.columns):
        values = pd.to_numeric(frame[column], errors="coerce")
        if (values == 0).any():
            frame[column] = values.where(values != 0, P_FLOOR)
    return frame


def _is_geo(layer: pd.DataFrame) -> bool:
    """Whether ``layer`` is a GeoDataFrame, without importing geopandas for a plain table (a
    ``cells_wkt_layer`` written as CSV never needs it)."""
    gpd = sys.modules.get("geopandas")
    return gpd is not None and isinstance(layer, gpd.GeoDataFrame)


def _csv_frame(layer: pd.DataFrame) -> pd.DataFrame:
    """Geometry as WKT in a ``geometry`` column (lat/lon and h3 are already columns of every layer);
    p-values that underflowed to 0 as an upper bound (:data:`P_VALUE_COLUMNS`)."""
    layer = _flatten_lists(layer)
    frame = _floor_p_values(pd.DataFrame(layer))
    if _is_geo(layer) and layer.geometry.name in layer.columns:
        import shapely

        name = layer.geometry.name
        wkt = shapely.to_wkt(np.asarray(layer.geometry.values), rounding_precision=-1)
        frame = frame.drop(columns=name)
        frame["geometry"] = pd.Series(wkt, index=frame.index, dtype=object).where(pd.notna(wkt), None)
    return frame


def _write_one(layer: pd.DataFrame, path: Path, fmt: str, name: str | None = None) -> None:
    """One layer as CSV, GeoParquet or GeoJSON at ``path`` (a staged temporary name). ``name``: the
    GeoJSON collection's name, as GeoPackage names its layers (left to OGR, it was the staged file's
    random temporary name, so two runs of one export differed)."""
    is_geo = _is_geo(layer)
    if fmt == "csv":
        # Every text field quoted (OWASP's advice, and pandas would not quote a bare carriage
        # return under minimal quoting, which splits the row in every reader); numbers stay bare.
        # write_csv gives pandas' QUOTE_NONNUMERIC bytes in a third of the time (write/csv_text.py).
        write_csv(neutralise_formulas(_csv_frame(layer)), path)
    elif fmt == "parquet":
        if is_geo:
            layer.to_parquet(path, index=False)
        else:
            pd.DataFrame(layer).to_parquet(path, index=False)
    elif fmt == "geojson":
        _to_ogr(layer, path, "GeoJSON", layer_name=name)


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
    # Zipped in memory, then written in one plain write: a full disk met inside openpyxl's zip left
    # it unclosed, and its clean-up printed a traceback (issue 25); the zip is a fifth of the XML.
    buffer = io.BytesIO()
    book.save(buffer)
    with open(path, "wb") as handle:
        handle.write(buffer.getbuffer())


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
    outputs: Outputs | None = None,
) -> list[Path]:
    """Write ``layers`` (name -> GeoDataFrame or plain table) to ``path`` in the format its
    extension names, plus the methods sidecar ``<stem>.methods.json`` and ``<stem>.methods.txt``.

    GeoPackage and XLSX hold every layer in one file (layers / sheets named by the keys). CSV,
    GeoJSON and GeoParquet hold one layer per file: with one layer the file is ``path`` itself,
    with several each is ``<stem>_<layer>.<ext>``, except that ``first_at_path`` puts the first
    layer at ``path`` itself (the command line: the file a user names is always written). CSV and XLSX carry geometry as WKT beside the
    lat/lon and h3 columns, with formulas neutralised (:func:`neutralise_formulas`).

    With ``partner_safe`` the layers first go through :func:`partner_safe` and the sidecar records
    the rule. Returns every path written, data files first. Every file is staged under a temporary
    name and renamed when all are written (:mod:`hotspot_engine.write.atomic`; pass ``outputs`` to
    stage them with a command's other files), so a failed export leaves nothing under a final name.
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
    if fmt == "xlsx":
        too_big = [n for n, layer in frames.items() if len(layer) > XLSX_MAX_ROWS]
        if too_big:
            raise InputError(f"export .xlsx: layer '{too_big[0]}' has more rows than a sheet holds ({XLSX_MAX_ROWS}); use .csv or .gpkg")
    if outputs is None:
        with staged_outputs() as own:
            return _write_staged(frames, path, fmt, meta, partner_safe, threshold, round_to, own, first_at_path)
    return _write_staged(frames, path, fmt, meta, partner_safe, threshold, round_to, outputs, first_at_path)


def _write_staged(frames: dict[str, pd.DataFrame], path: Path, fmt: str, meta: ExportMeta, partner_safe: bool,
                  threshold: int, round_to: int | None, outputs: Outputs, first_at_path: bool = False) -> list[Path]:
    """The data files and sidecars of :func:`write_layers`, staged in ``outputs``."""
    written: list[Path] = []
    if fmt == "gpkg":
        staged = outputs.stage(path, "--out")
        for name, layer in frames.items():
            _to_ogr(layer, staged, "GPKG", layer_name=name)
        written.append(path)
    elif fmt == "xlsx":
        _write_xlsx(frames, outputs.stage(path, "--out"))
        written.append(path)
    else:
        for index, (name, layer) in enumerate(frames.items()):
            at_path = len(frames) == 1 or (first_at_path and index == 0)
            target = path if at_path else path.with_name(f"{path.stem}_{name}{path.suffix}")
            _write_one(layer, outputs.stage(target, "--out"), fmt, name)
            written.append(target)
    meta = replace(
        meta,
        partner_safe=bool(partner_safe),
        threshold=int(threshold) if partner_safe else None,
        suppression=suppression_rule(int(threshold), round_to) if partner_safe else None,
        row_counts={name: int(len(layer)) for name, layer in frames.items()},
    )
    written += write_sidecar(meta, path, outputs)
    return written


__all__ = ["FORMATS", "MULTI_LAYER_FORMATS", "export_filename", "format_for", "write_layers"]
