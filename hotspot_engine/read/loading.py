"""Loaders: data.police.uk street CSVs, force extracts, patrol logs and GPS pings into the store.

The work is split by job into sibling modules (``detect``: which format and which column;
``encoding``/``delimited``/``columnar``/``workbook``/``files``: bytes to a raw table; ``cells`` and
``coordinates``: column converters; ``police_uk``/``incidents``/``patrol_logs``: one parser per
format; ``archive``: zips and folders; ``limits``: what one input may unpack to; ``streaming``: big
CSVs block by block; ``ingest``: the entry points). This module keeps the names callers have always
imported from here.

A new input format adds a parser module beside ``incidents.py`` and a branch in ``ingest._parse``.
"""
from __future__ import annotations

from pathlib import Path

from hotspot_engine.read.archive import DATA_EXTENSIONS, MAX_ZIP_DEPTH
from hotspot_engine.read.cells import (
    BLANKS,
    FORMULA_START,
    _clean_text,
    _columns_note,
    _content_ids,
    _datetimes,
    _month_starts,
    _numbers,
    _plausible_dates,
    _Rejects,
    _split,
    _text,
)
from hotspot_engine.read.coordinates import _coordinates, _districts
from hotspot_engine.read.detect import ALIASES, FORMATS, POLICE_UK_HEADER, _key, detect_format
from hotspot_engine.read.files import read_raw
from hotspot_engine.read.incidents import _parse_force
from hotspot_engine.read.ingest import DEFAULT_MAX_BYTES, ingest_paths, ingest_upload, read_incidents
from hotspot_engine.read.raw import RawTable
from hotspot_engine.read.streaming import STREAM_BLOCK_ROWS, STREAM_BYTES, _load_streamed

__all__ = [
    "ALIASES", "BLANKS", "DATA_EXTENSIONS", "DEFAULT_MAX_BYTES", "FORMATS", "FORMULA_START", "MAX_ZIP_DEPTH",
    "POLICE_UK_HEADER", "STREAM_BLOCK_ROWS", "STREAM_BYTES", "RawTable", "_load_streamed", "_parse_force",
    "detect_format", "ingest_paths", "ingest_upload", "read_incidents", "read_raw",
    # The shared parsing helpers a format module (read/partners.py) builds on.
    "Path", "_Rejects", "_clean_text", "_columns_note", "_content_ids", "_coordinates", "_datetimes", "_districts",
    "_key", "_month_starts", "_numbers", "_plausible_dates", "_split", "_text",
]
