"""Excel .xlsx workbooks (first sheet) to a RawTable.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read.raw import RawTable, _check_header, _empty_rejects


def _read_xlsx(data: bytes, name: str) -> RawTable:
    try:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise InputError(f"{name}: cannot read as an Excel workbook ({type(exc).__name__})") from None
    notes = []
    sheet = book.worksheets[0]
    if len(book.worksheets) > 1:
        notes.append(f"workbook has {len(book.worksheets)} sheets; read the first, '{sheet.title}'")
    rows = sheet.iter_rows(values_only=True)
    header_row = next(rows, None)
    if header_row is None:
        raise InputError(f"{name}: the first sheet is empty")
    header = ["" if v is None else str(v).strip() for v in header_row]
    while header and header[-1] == "":
        header.pop()
    _check_header(header, name)
    width = len(header)
    records, lines = [], []
    for line, values in enumerate(rows, start=2):
        values = list(values[:width]) + [None] * max(0, width - len(values))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        records.append(values)
        lines.append(line)
    book.close()
    if not records:
        raise InputError(f"{name}: header only, no data rows")
    frame = pd.DataFrame(records, columns=header, dtype=object)
    return RawTable(frame, np.asarray(lines, dtype=np.int64), _empty_rejects(), ",", notes)
