"""The methods sidecar written beside every export (``<stem>.methods.json`` and
``<stem>.methods.txt``): what the export holds and how it was made, enough to reproduce it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hotspot_engine import __version__
from hotspot_engine.filters import Filters

if TYPE_CHECKING:
    from hotspot_engine.write.atomic import Outputs


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
    #: Partner layers in the store: source, kind, owner, sharing (the most restricted level of its rows).
    partner_layers: list[dict] = field(default_factory=list)
    #: The output's context (area, window, source, caveat, hotspot set;
    #: :class:`hotspot_engine.render.context.OutputContext`), when the caller gave one (issue 27).
    context: dict = field(default_factory=dict)
    #: Months of the export far off their neighbours, or missing or partial (the data-quality guard).
    data_quality: list[str] = field(default_factory=list)

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
        if self.context:
            lines.append(f"Area: {self.context.get('area', '')}; window: {self.context.get('window', '')}"
                         + (f"; hotspot set: {self.context['hotspot_set']}" if self.context.get("hotspot_set") else ""))
            lines.append(f"Data: {self.context.get('source', '')}. {self.context.get('caveat', '')}".rstrip())
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
        if self.partner_layers:
            lines.append("Partner layers (owner, sharing level):")
            for layer in self.partner_layers:
                lines.append(f"  {layer.get('source')} ({layer.get('kind')}): owner {layer.get('owner')}, "
                             f"sharing {layer.get('sharing')}, {layer.get('rows')} rows")
        lines.append("Layers written:")
        for name, count in self.row_counts.items():
            lines.append(f"  {name}: {count} rows")
        lines.append(f"Partner-safe: {'yes' if self.partner_safe else 'no'}")
        if self.partner_safe and self.suppression:
            lines.append(f"  {self.suppression}")
        for note in self.notes:
            lines.append(f"Note: {note}")
        for line in self.data_quality:
            lines.append(f"Data quality: {line}")
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
            sources=sources, loads=loads, notes=list(notes or []), partner_layers=partner_layers_from_store(con),
            data_quality=quality_from_store(con, filters),
        )

    from_store = build


def sources_from_store(con) -> tuple[list[dict], list[dict]]:
    """(sources, loads) for :class:`ExportMeta`: per source its date range and rows; per loaded file
    its name (never a full path), sha256, format and counts (read by :mod:`hotspot_engine.store.query`)."""
    from hotspot_engine.store import query

    return query.source_ranges(con), query.load_log(con)


def quality_from_store(con, filters: Filters) -> list[str]:
    """The data-quality guard's flags and coverage gaps in the export's months, as the ingest words them."""
    from hotspot_engine.analyse.quality import in_window, report_lines
    from hotspot_engine.store.quality import read_quality

    flags, gaps = read_quality(con)
    gaps = in_window(gaps, filters.date_from, filters.date_to)
    lines = report_lines(in_window(flags, filters.date_from, filters.date_to), gaps)
    if (gaps["status"] == "missing").any():  # a force lacking months another holds: what the figures did
        from hotspot_engine.analyse.quality import uneven_lines
        from hotspot_engine.store.query import stored_months

        lines += [f"{line}: those months are no data for its places, not zero incidents (hotspot rates count each "
                  "force's months held; series and before/after figures leave them out)"
                  for line in uneven_lines(gaps, stored_months(con))]
    if lines and filters.exclude_flagged:
        lines.append("flagged and partial months left out of this export ([quality] exclude_flagged_months)")
    return lines


def partner_layers_from_store(con) -> list[dict]:
    """Each partner layer's source, kind, owner and sharing level, for the sidecar (none in a store
    made before partner layers existed)."""
    from hotspot_engine.store import query
    from hotspot_engine.store.partner_query import partner_layers

    if not {"partner_areas", "partner_events", "partner_places"} <= query.table_names(con):
        return []
    return partner_layers(con).to_dict("records")


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


def sidecar_paths(path: str | Path) -> tuple[Path, Path]:
    path = Path(path)
    return path.with_name(f"{path.stem}.methods.json"), path.with_name(f"{path.stem}.methods.txt")


def write_sidecar(meta: ExportMeta, path: str | Path, outputs: Outputs | None = None) -> list[Path]:
    """Write ``<stem>.methods.json`` and ``<stem>.methods.txt`` beside ``path`` (staged in
    ``outputs`` when given, so they appear together with the data)."""
    from hotspot_engine.write.atomic import staged_outputs

    if outputs is None:
        with staged_outputs() as own:
            return write_sidecar(meta, path, own)
    json_path, text_path = sidecar_paths(path)
    outputs.write_text(json_path, json.dumps(meta.to_dict(), indent=2, ensure_ascii=False) + "\n", "--out")
    outputs.write_text(text_path, meta.to_text(), "--out")
    return [json_path, text_path]


__all__ = ["ExportMeta", "partner_layers_from_store", "sidecar_paths", "sources_from_store", "write_sidecar"]
