"""Delimited text (CSV/TSV/TXT) to a RawTable.

pyarrow reads clean files column-wise in seconds; a malformed file (ragged rows, blank lines,
line breaks inside quotes) falls back to Python's csv module, which knows exact line numbers.
"""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read.encoding import _decode_head, _reading_notes
from hotspot_engine.read.raw import RawTable, _check_header, _empty_rejects

DELIMITERS = (",", ";", "\t", "|")


def _split_header(first_line: str) -> tuple[list[str], str]:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ","
    header = next(csv.reader([first_line], delimiter=delimiter))
    return [h.strip() for h in header], delimiter


def _read_text(data: bytes, name: str) -> RawTable:
    if not data[: 1 << 16].strip() and (len(data) <= 1 << 16 or not data.strip()):
        raise InputError(f"{name}: the file is empty")
    encoding, head_text = _decode_head(data[: 1 << 16])
    first_line = head_text.lstrip("\ufeff").splitlines()[0] if head_text.strip() else ""
    header, delimiter = _split_header(first_line)
    _check_header(header, name)
    notes = _reading_notes(encoding, delimiter)
    # Blank lines would shift pyarrow's row numbering: such files take the exact reader.
    blank_lines = b"\n\n" in data or b"\n\r\n" in data or b"\r\r" in data
    frame = None if blank_lines else _read_text_fast(data, header, delimiter, encoding)
    if frame is not None:
        table = RawTable(frame, np.arange(2, len(frame) + 2), _empty_rejects(), delimiter, notes)
    else:
        table = _read_text_exact(data, name, header, delimiter, encoding, notes)
    if len(table.frame) == 0 and table.rejects.empty:
        raise InputError(f"{name}: header only, no data rows")
    return table


def _read_text_fast(data: bytes, header: list[str], delimiter: str, encoding: str) -> pd.DataFrame | None:
    """pyarrow read into string columns; None when any row is malformed (the exact reader then
    gives line numbers, which pyarrow cannot)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(header))]
    malformed = []

    def on_invalid(row) -> str:
        malformed.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, encoding="utf8" if encoding != "cp1252" else "cp1252",
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if malformed:
        return None
    frame = table.to_pandas()
    frame.columns = header
    return frame


def _read_text_exact(data: bytes, name: str, header: list[str], delimiter: str, encoding: str, notes: list[str]) -> RawTable:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        if not any(n.startswith("encoding") for n in notes):
            notes.append("encoding: not valid UTF-8 throughout, read as Windows-1252")
    csv.field_size_limit(1 << 30)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    try:
        records = list(reader)[1:]
    except csv.Error as exc:
        raise InputError(f"{name}: row {reader.line_num}: cannot split into columns ({exc})") from None
    # Row numbers count records as a spreadsheet shows them: header = 1, blank lines count, a
    # quoted value spanning lines is one row.
    good, lines, bad = [], [], []
    width = len(header)
    blank_lines = 0
    for row_no, record in enumerate(records, start=2):
        if not record or (len(record) == 1 and record[0].strip() == ""):
            blank_lines += 1
            continue
        if len(record) != width:
            bad.append((row_no, None, f"{len(record)} fields, header has {width}", delimiter.join(record)))
        else:
            good.append(record)
            lines.append(row_no)
    if blank_lines:
        notes.append(f"{blank_lines} blank line(s) skipped")
    frame = pd.DataFrame(good, columns=header, dtype=str) if good else pd.DataFrame({h: pd.Series(dtype=str) for h in header})
    rejects = pd.DataFrame(bad, columns=["row", "column", "reason", "raw"]) if bad else _empty_rejects()
    if bad:
        rejects["reason"] = "wrong number of fields"
    return RawTable(frame, np.asarray(lines, dtype=np.int64), rejects, delimiter, notes)
