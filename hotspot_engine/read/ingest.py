"""Public entry points: files, folders, zips and uploads into the store.

Every row read ends up either in the store (added or already present) or in the rejects table with
a reason, so ``rows_read = added + already_present + rejected`` holds for every file. Problems that
make a whole file unusable raise :class:`InputError` with a message naming the file (never its
directory), the row and the column; they never carry row contents.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read.archive import _files_under, _too_big, _zip_members
from hotspot_engine.read.detect import FORMATS, detect_format
from hotspot_engine.read.files import read_raw
from hotspot_engine.read.incidents import _parse_force
from hotspot_engine.read.patrol_logs import _parse_gps, _parse_patrols
from hotspot_engine.read.police_uk import _parse_police_uk
from hotspot_engine.read.streaming import STREAM_BYTES, _load_streamed
from hotspot_engine.store import database as store
from hotspot_engine.store.database import LoadSummary

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB: refuse bigger files before reading them


def _parse(data: bytes, name: str, fmt: str | None, offence_map, gap_minutes: float = 5.0):
    """(kind, format, rows, rejects, notes) for one file's bytes."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}'; choose from: {', '.join(FORMATS)}")
    raw = read_raw(data, name)
    columns = [str(c) for c in raw.frame.columns]
    try:
        detected = detect_format(columns)
    except InputError as exc:
        if fmt is None:
            raise InputError(f"{name}: {exc}") from None
        detected = fmt
    fmt = fmt or detected
    if fmt == "police-uk":
        if detected != "police-uk":
            raise InputError(f"{name}: not a data.police.uk street file: columns Crime type, Month and Falls within "
                             f"expected; it looks like '{detected}'")
        rows, rejects, notes = _parse_police_uk(raw, name)
        return "incidents", fmt, rows, rejects, notes
    if fmt == "incidents":
        rows, rejects, notes = _parse_force(raw, name, offence_map)
        return "incidents", fmt, rows, rejects, notes
    if fmt == "patrols":
        rows, rejects, notes = _parse_patrols(raw, name)
        return "patrols", fmt, rows, rejects, notes
    rows, rejects, notes = _parse_gps(raw, name, gap_minutes)
    return "patrols", fmt, rows, rejects, notes


def read_incidents(path_or_buffer, name: str, fmt: str | None = None, offence_map=None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Parse one incident file without touching the store.

    ``path_or_buffer`` is a path, bytes or a binary file object; ``name`` is the file name shown in
    messages. Returns (rows with store.INCIDENT_COLUMNS minus h3 and load_id, rejects with
    row/column/reason/raw, notes).
    """
    data = _bytes_of(path_or_buffer)
    kind, _, rows, rejects, notes = _parse(data, name, fmt, offence_map)
    if kind != "incidents":
        raise InputError(f"{name}: holds patrols, not incidents")
    return rows, rejects, notes


def _bytes_of(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise InputError(f"{Path(source).name}: cannot read ({exc.strerror})") from None
    return source.read()


def _load_bytes(con, data: bytes, name: str, fmt: str | None, offence_map, max_bytes: int) -> list[LoadSummary]:
    if len(data) > max_bytes:
        raise _too_big(name, len(data), max_bytes)
    if data[:4] == b"PK\x03\x04" and Path(name).suffix.lower() not in (".xlsx", ".xlsm"):
        return [s for member, blob in _zip_members(data, name, max_bytes)
                for s in _load_one(con, blob, member, fmt, offence_map)]
    if data[:4] == b"PK\x05\x06" and Path(name).suffix.lower() == ".zip":
        raise InputError(f"{name}: the zip is empty")
    return _load_one(con, data, name, fmt, offence_map)


def _load_one(con, data: bytes, name: str, fmt: str | None, offence_map) -> list[LoadSummary]:
    kind, fmt, rows, rejects, notes = _parse(data, name, fmt, offence_map)
    summary = store.store_rows(con, kind, rows, rejects, file=name, fmt=fmt,
                               sha256=hashlib.sha256(data).hexdigest(), notes=notes)
    return [summary]


def ingest_paths(con, paths: list[str | Path], fmt: str | None = None, offence_map: str | Path | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> list[LoadSummary]:
    """Load files, folders (recursed) and zips into the store; one LoadSummary per data file.

    Each file is one transaction. The first unusable file raises InputError (naming it); files
    loaded before it stay loaded. Files over ``max_bytes`` are refused before being read.
    """
    summaries: list[LoadSummary] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise InputError(f"{path.name}: no such file or folder")
        files = _files_under(path) if path.is_dir() else [path]
        for file in files:
            size = file.stat().st_size
            if size > max_bytes:
                raise _too_big(file.name, size, max_bytes)
            if size >= STREAM_BYTES and fmt in (None, "incidents"):
                streamed = _load_streamed(con, file, fmt, offence_map)
                if streamed is not None:
                    summaries.append(streamed)
                    continue
            try:
                data = file.read_bytes()
            except OSError as exc:
                raise InputError(f"{file.name}: cannot read ({exc.strerror})") from None
            summaries.extend(_load_bytes(con, data, file.name, fmt, offence_map, max_bytes))
    return summaries


def ingest_upload(con, name: str, data: bytes, fmt: str | None = None, offence_map=None,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> list[LoadSummary]:
    """Same as ingest_paths for bytes from an upload widget; a zip may hold many files."""
    return _load_bytes(con, bytes(data), Path(name).name, fmt, offence_map, max_bytes)
