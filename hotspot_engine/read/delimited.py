"""Delimited text (CSV/TSV/TXT) to a RawTable.

pyarrow reads clean files column-wise in seconds; a malformed file (ragged rows, blank lines,
line breaks inside quotes, mixed encodings) falls back to Python's csv module, which knows exact line
numbers and reads line by line. Both refuse a field over ``Limits.max_field_bytes`` naming its row: a
CSV with one 200 MB field used to take 2.8 GB in the fallback (issue 20).
"""
from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read.encoding import LineDecoder, _reading_notes, decode_header, first_line, has_utf8_multibyte
from hotspot_engine.read.limits import DEFAULT_LIMITS, Limits
from hotspot_engine.read.raw import RawTable, _check_header, _empty_rejects

DELIMITERS = (",", ";", "\t", "|")


@contextmanager
def field_size_limit(limit: int) -> Iterator[None]:
    """Python's csv field limit (process-wide state) for the duration of one read."""
    previous = csv.field_size_limit(int(limit))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _split_header(line: str, name: str = "", limits: Limits = DEFAULT_LIMITS) -> tuple[list[str], str]:
    counts = {d: line.count(d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ","
    try:
        with field_size_limit(max(limits.max_field_bytes, len(line))):  # measured below, with a clear message
            header = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # a bare carriage return inside the header line (issue 25)
        raise InputError(f"{name}: row 1: the header line holds a stray line break (a bare carriage return) "
                         "outside quotes; save the file again with ordinary line endings") from None
    if len(header) > limits.max_columns:
        raise InputError(f"{name}: row 1: {len(header):,} columns, over the {limits.max_columns:,} limit")
    longest = max((len(h) for h in header), default=0)
    if longest > limits.max_field_bytes:
        raise InputError(f"{name}: row 1: a column name of {longest / 1e6:,.1f} MB is over the "
                         f"{limits.max_field_bytes / 1e6:,.1f} MB limit")
    return [h.strip() for h in header], delimiter


def _read_text(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    if not data[: 1 << 16].strip() and (len(data) <= 1 << 16 or not data.strip()):
        raise InputError(f"{name}: the file is empty")
    encoding, header_text = decode_header(first_line(data, name, limits))
    header, delimiter = _split_header(header_text, name, limits)
    _check_header(header, name)
    notes = _reading_notes(encoding, delimiter)
    # Blank lines would shift pyarrow's row numbering: such files take the exact reader. So do files
    # that mix encodings: pyarrow decodes a whole file one way.
    blank_lines = b"\n\n" in data or b"\n\r\n" in data or b"\r\r" in data
    mixed = encoding == "cp1252" and has_utf8_multibyte(data)
    frame = None if blank_lines or mixed else _read_text_fast(data, name, header, delimiter, encoding, limits)
    if frame is not None:
        table = RawTable(frame, np.arange(2, len(frame) + 2), _empty_rejects(), delimiter, notes)
    else:
        table = _read_text_exact(data, name, header, delimiter, notes, limits)
    if len(table.frame) == 0 and table.rejects.empty:
        raise InputError(f"{name}: header only, no data rows")
    return table


def check_field_sizes(table, header: list[str], name: str, limits: Limits, first_row: int = 2) -> None:
    """Refuse a table holding a field over ``limits.max_field_bytes``, naming its row and column."""
    import pyarrow.compute as pc

    for position, column in enumerate(table.columns):
        lengths = pc.binary_length(column)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > limits.max_field_bytes:
            row = first_row + int(pc.index(pc.greater(lengths, limits.max_field_bytes), True).as_py())
            raise InputError(f"{name}: row {row:,}, column '{header[position]}': a field of {longest / 1e6:,.1f} MB is "
                             f"over the {limits.max_field_bytes / 1e6:,.1f} MB limit")


def _read_text_fast(data: bytes, name: str, header: list[str], delimiter: str, encoding: str, limits: Limits
                    ) -> pd.DataFrame | None:
    """pyarrow read into string columns; None when any row is malformed or any line is not in the
    file's encoding (the exact reader then gives line numbers, which pyarrow cannot)."""
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
    check_field_sizes(table, header, name, limits)
    frame = table.to_pandas()
    frame.columns = header
    return frame


def _records(data: bytes, name: str, delimiter: str, limits: Limits, decoder: LineDecoder) -> list[list[str]]:
    """Every record after the header, through Python's csv module line by line."""
    reader = csv.reader(decoder.lines(data), delimiter=delimiter)
    try:
        with field_size_limit(limits.max_field_bytes):  # header names were checked on the way in
            return list(reader)[1:]
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise InputError(f"{name}: line {reader.line_num:,}: a field is over the "
                             f"{limits.max_field_bytes / 1e6:,.1f} MB limit") from None
        raise InputError(f"{name}: row {reader.line_num}: cannot split into columns ({exc})") from None


def _read_text_exact(data: bytes, name: str, header: list[str], delimiter: str, notes: list[str],
                     limits: Limits = DEFAULT_LIMITS) -> RawTable:
    decoder = LineDecoder(name, limits)
    records = _records(data, name, delimiter, limits, decoder)
    encoding_note = decoder.note()
    if encoding_note:
        notes[:] = [n for n in notes if not n.startswith("encoding: not UTF-8")] + [encoding_note]
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
