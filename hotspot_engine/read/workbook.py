"""Excel .xlsx workbooks (first sheet) to a RawTable.

An .xlsx is a zip of XML parts, so it is checked like one before openpyxl sees it: the declared
decompressed size of the sheet and shared-string XML (which bounds what zipfile will inflate) against
``Limits.max_sheet_xml_bytes`` and the compression ratio against ``Limits.max_ratio``. Issue 20
measured a 700 KB workbook holding a 200 MB sheet at 1.08 GB and 68 s; it is now refused at once.

XML is parsed through defusedxml (openpyxl uses it when installed; requirements.txt pins it), which
refuses any DTD: external entities and billion-laughs entity expansions end as one line naming the
file, where a ParseError used to escape as an internal error. Cells holding a bare time of day (Excel
shows a time-only cell as 21:30) are kept as text: they are not dates, and the date parser rejects
them row by row as "bad date".
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.read.limits import DEFAULT_LIMITS, Limits, check_ratio, too_big
from hotspot_engine.read.raw import RawTable, _check_header, _empty_rejects


def _check_parts(data: bytes, name: str, limits: Limits) -> None:
    """Refuse a workbook whose XML would unpack beyond the limits, before parsing any of it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # Every part whatever its name: openpyxl follows the relationships, so a sheet or shared
            # strings stored as 'sheet1.bin' are parsed all the same (issue 25: 6.1 GB from 0.7 MB).
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise InputError(f"{name}: cannot read as an Excel workbook (the zip inside is damaged)") from None
    total = 0
    for info in parts:
        check_ratio(name, info.file_size, info.compress_size, limits, what=f"part {info.filename.rsplit('/', 1)[-1]} unpacks")
        total += info.file_size
    if total > limits.max_sheet_xml_bytes:
        raise too_big(name, total, limits.max_sheet_xml_bytes, "the workbook's XML")


def _cell(value: object) -> object:
    """A cell as the parsers expect it: a time of day alone becomes its text (it is not a date)."""
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def _refusal(exc: BaseException, name: str) -> InputError:
    """One line for a workbook openpyxl could not read, saying so when the XML declared entities."""
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__module__.startswith("defusedxml") or "entity" in type(seen).__name__.lower():
            return InputError(f"{name}: the workbook's XML declares entities (a DTD), which Excel never writes; "
                              f"refused ({type(seen).__name__})")
        seen = seen.__cause__ or seen.__context__
    return InputError(f"{name}: cannot read as an Excel workbook ({type(exc).__name__})")


def _rows(sheet, name: str):
    """The sheet's rows, with XML errors (DTDs, entities, damaged XML) as one line naming the file."""
    try:
        yield from sheet.iter_rows(values_only=True)
    except InputError:
        raise
    except Exception as exc:  # defusedxml and expat raise many types for hostile or damaged XML
        raise _refusal(exc, name) from None


def _open_book(data: bytes, name: str):
    try:
        import openpyxl

        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise _refusal(exc, name) from None


def _read_xlsx(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    _check_parts(data, name, limits)
    book = _open_book(data, name)
    notes = []
    if not book.worksheets:
        raise InputError(f"{name}: the workbook has no sheets")
    sheet = book.worksheets[0]
    if len(book.worksheets) > 1:
        notes.append(f"workbook has {len(book.worksheets)} sheets; read the first, '{sheet.title}'")
    rows = _rows(sheet, name)
    header_row = next(rows, None)
    if header_row is None:
        raise InputError(f"{name}: the first sheet is empty")
    header = ["" if v is None else str(v).strip() for v in header_row[:limits.max_columns + 1]]
    while header and header[-1] == "":
        header.pop()
    if len(header) > limits.max_columns:
        raise InputError(f"{name}: row 1: more than {limits.max_columns:,} columns, over the limit")
    _check_header(header, name)
    width = len(header)
    records, lines = [], []
    for line, values in enumerate(rows, start=2):
        values = [_cell(v) for v in values[:width]] + [None] * max(0, width - len(values))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        records.append(values)
        lines.append(line)
    book.close()
    if not records:
        raise InputError(f"{name}: header only, no data rows")
    frame = pd.DataFrame(records, columns=header, dtype=object)
    return RawTable(frame, np.asarray(lines, dtype=np.int64), _empty_rejects(), ",", notes)
