"""One file's bytes to a RawTable: the kind is sniffed from the first bytes, the extension only confirms.
"""
from __future__ import annotations

from pathlib import Path

from hotspot_engine.errors import InputError
from hotspot_engine.read.columnar import _read_parquet
from hotspot_engine.read.delimited import _read_text
from hotspot_engine.read.encoding import _looks_like_text
from hotspot_engine.read.limits import DEFAULT_LIMITS, Limits
from hotspot_engine.read.raw import RawTable
from hotspot_engine.read.workbook import _read_xlsx


def _sniff_kind(head: bytes, name: str) -> str:
    """'parquet' | 'xlsx' | 'zip' | 'text' from the first bytes; extension only confirms."""
    ext = Path(name).suffix.lower()
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if ext in (".xlsx", ".xlsm"):
            return "xlsx"
        return "zip"
    if ext in (".parquet", ".pq"):
        raise InputError(f"{name}: not a Parquet file (it does not start with the Parquet signature"
                         f"{'; it looks like text' if _looks_like_text(head) else ''})")
    if ext in (".xlsx", ".xlsm"):
        raise InputError(f"{name}: not an Excel .xlsx workbook"
                         f"{' (it looks like text: save it as .csv?)' if _looks_like_text(head) else ''}")
    if ext == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{name}: old binary Excel (.xls) is not supported; save it as .xlsx or .csv")
    if not _looks_like_text(head):
        raise InputError(f"{name}: not a text file (binary content); expected CSV, Parquet, XLSX or zip")
    return "text"


def read_raw(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    """Any supported single file (CSV/TSV/TXT, Parquet, XLSX) as a RawTable, within ``limits``."""
    kind = _sniff_kind(data[:8192], name)
    if kind == "parquet":
        return _read_parquet(data, name, limits)
    if kind == "xlsx":
        return _read_xlsx(data, name, limits)
    if kind == "zip":
        raise InputError(f"{name}: is a zip archive; pass it to ingest as a whole")
    return _read_text(data, name, limits)
