"""Loaders: data.police.uk street CSVs, force extracts, patrol logs and GPS pings into the store.

Every row read ends up either in the store (added or already present) or in the rejects table with
a reason, so ``rows_read = added + already_present + rejected`` holds for every file. Problems that
make a whole file unusable raise :class:`InputError` with a message naming the file (never its
directory), the row and the column; they never carry row contents.

Parsing is vectorised: CSVs are read by pyarrow into string columns and every field is converted
column-wise, so a million rows load in seconds. A rare malformed file (ragged rows, blank lines,
line breaks inside quotes) falls back to Python's csv module, which knows exact line numbers.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.store import database as store
from hotspot_engine.store.database import LoadSummary

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB: refuse bigger files before reading them
#: Force-extract CSVs at least this big are read, parsed and stored block by block (one transaction
#: still), so memory holds one block, not the file: 10 million rows load in well under 3 GB.
STREAM_BYTES = 64 << 20
STREAM_BLOCK_ROWS = 500_000
FORMATS = ("police-uk", "incidents", "patrols", "gps")
DATA_EXTENSIONS = (".csv", ".txt", ".tsv", ".parquet", ".pq", ".xlsx", ".xlsm")
MAX_ZIP_DEPTH = 3
DELIMITERS = (",", ";", "\t", "|")
BLANKS = frozenset({"", "nan", "null", "none", "n/a", "na", "#n/a", "-", "nat"})
FORMULA_START = ("=", "+", "@", "\t", "\r")
# Hampshire and the Isle of Wight sit well inside this box; it separates WGS84 degrees from swapped
# degrees and from British National Grid metres.
UK_LAT = (49.0, 61.5)
UK_LON = (-9.0, 2.5)
BNG_EASTING = (0.0, 700_000.0)
BNG_NORTHING = (0.0, 1_300_000.0)
EARLIEST = pd.Timestamp("1900-01-01")


def _case_variants(words) -> frozenset[str]:
    """Every upper/lower-case spelling of short words, so membership needs no lower() pass."""
    out = set()
    for word in words:
        letters = [(c.lower(), c.upper()) if c.isalpha() else (c,) for c in word]
        variants = [""]
        for options in letters:
            variants = [v + o for v in variants for o in options]
        out.update(variants)
    return frozenset(out)


BLANK_SPELLINGS = _case_variants(BLANKS)
TRUE_SPELLINGS = _case_variants(("y", "yes", "true", "t", "1", "1.0"))
FALSE_SPELLINGS = _case_variants(("n", "no", "false", "f", "0", "0.0"))


def _key(name: object) -> str:
    """Header spelling normalised: case, spaces, underscores and punctuation ignored."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


# Accepted spellings per field, in order of preference (normalised by _key).
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("incidentid", "crimeid", "id", "crimereference", "crimeref", "crimeno", "crimenumber", "occurrenceid",
           "occurrencenumber", "incidentnumber", "incidentno", "incidentref", "reference", "ref", "urn", "recordid"),
    "date": ("occurredat", "occurred", "occurrencedate", "datetime", "date", "incidentdate", "offencedate",
             "datecommitted", "committedon", "committeddate", "startdate", "fromdate", "reporteddate", "recordeddate",
             "timestamp", "month"),
    "lat": ("lat", "latitude", "wgs84lat", "y_lat", "latdd"),
    "lon": ("lon", "lng", "long", "longitude", "wgs84lon", "wgs84long", "londd"),
    "easting": ("easting", "eastings", "bngeasting", "osgbeasting", "gridx", "xcoord", "xcoordinate", "x"),
    "northing": ("northing", "northings", "bngnorthing", "osgbnorthing", "gridy", "ycoord", "ycoordinate", "y"),
    "ho_code": ("hocode", "homeofficecode", "hooffencecode", "hoclass", "hoclassification", "offencecode",
                "classificationcode", "crimecode"),
    "offence": ("offence", "offense", "offencedescription", "offencetype", "offencename", "crimetype",
                "crimedescription", "description", "classification", "crime"),
    "knife": ("knifeflag", "knife", "knifecrime", "knifeflagged", "knifeorsharpinstrument", "bladed", "bladedarticle"),
    "district": ("district", "districtname", "localauthority", "ladname", "lad", "council"),
    "location": ("location", "street", "streetname", "address", "place"),
    "lsoa_code": ("lsoacode", "lsoa11cd", "lsoa"),
    "lsoa_name": ("lsoaname", "lsoa11nm"),
    "falls_within": ("fallswithin", "force", "forcename"),
    # patrol logs
    "patrol_id": ("patrolid", "id", "patrolref", "reference", "ref", "logid"),
    "start": ("start", "starttime", "startat", "startdatetime", "timein", "arrived", "from", "begin"),
    "end": ("end", "endtime", "endat", "enddatetime", "timeout", "left", "to", "finish"),
    "duration": ("durationminutes", "duration", "minutes", "durationmins", "mins"),
    "hotspot": ("hotspotid", "hotspot", "hotspotref", "hotspotname"),
    "h3": ("h3", "h3id", "h3cell", "cell", "cellid", "hexid"),
    "unit": ("unit", "callsign", "team", "officer", "collarnumber", "resource"),
    # GPS pings
    "callsign": ("callsign", "unit", "vehicle", "deviceid", "device", "resource", "radioid"),
    "timestamp": ("timestamp", "time", "datetime", "pingtime", "recordedat", "fixtime", "date"),
}
POLICE_UK_HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
                    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]


def _pick(columns: list[str], field_name: str, taken: set[str] | None = None) -> str | None:
    """The column holding ``field_name`` (first alias present), or None."""
    keyed: dict[str, str] = {}
    for col in columns:
        keyed.setdefault(_key(col), col)
    for alias in ALIASES[field_name]:
        found = keyed.get(alias)
        if found is not None and (taken is None or found not in taken):
            return found
    return None


def _pick_all(columns: list[str], field_names: tuple[str, ...]) -> dict[str, str | None]:
    """The column for each field, in order; a column taken by one field is not offered to the next."""
    used: dict[str, str | None] = {}
    taken: set[str] = set()
    for name in field_names:
        column = used[name] = _pick(columns, name, taken)
        if column:
            taken.add(column)
    return used


def detect_format(columns: list[str]) -> str:
    """Which of FORMATS a header belongs to: 'police-uk' | 'incidents' | 'patrols' | 'gps'.

    Raises InputError naming the columns seen (and what each format would need) when none fits.
    """
    keys = {_key(c) for c in columns}
    has = lambda f: _pick(columns, f) is not None  # noqa: E731 - local shorthand
    if {"crimetype", "month"} <= keys and keys & {"fallswithin", "reportedby", "lsoacode"}:
        return "police-uk"
    has_latlon = has("lat") and has("lon")
    if "callsign" in keys and has("timestamp") and has_latlon and not has("start"):
        return "gps"
    if has("start") and (has("end") or has("duration")) and (keys & {"patrolid"} or has("hotspot") or has("h3")
                                                           or has_latlon):
        return "patrols"
    has_place = has_latlon or (has("easting") and has("northing"))
    if has("id") and has("date") and has_place and (has("ho_code") or has("offence")):
        return "incidents"
    seen = ", ".join(f"'{c}'" for c in columns[:12]) + (" ..." if len(columns) > 12 else "")
    missing = [label for label, ok in (("an id", has("id")), ("a date", has("date")),
                                       ("lat/lon or easting/northing", has_place),
                                       ("ho_code or offence", has("ho_code") or has("offence"))) if not ok]
    hint = ""
    if len(columns) == 1 and any(d in str(columns[0]) for d in ":/ "):
        hint = " The header is a single column: is the file delimited by something other than , ; tab or |?"
    raise InputError(
        f"cannot tell the format from the columns {seen}; an incident file needs {', '.join(missing)}; "
        f"a patrol log needs patrol_id, start, end or duration_minutes and a place; GPS pings need callsign, "
        f"timestamp, lat, lon; data.police.uk files keep their published header; partner files: lsoa_code, month, "
        f"count (area counts), a date, lat/lon and category (events), or name and lat/lon (places).{hint}"
    )


# --------------------------------------------------------------------------------------------
# Reading a file into a raw table
# --------------------------------------------------------------------------------------------


@dataclass
class RawTable:
    """A file's cells as read (strings for text files), the file line number of each row, and the
    rows that could not even be split into the header's columns."""

    frame: pd.DataFrame
    line_no: np.ndarray
    rejects: pd.DataFrame
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype="int64"), "column": pd.Series(dtype=object),
                         "reason": pd.Series(dtype=object), "raw": pd.Series(dtype=object)})


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


def _looks_like_text(head: bytes) -> bool:
    sample = head[:8192]
    if not sample:
        return True
    if b"\x00" in sample:
        return False
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control / len(sample) < 0.01


def _reading_notes(encoding: str, delimiter: str) -> list[str]:
    """What the reader assumed about a text file, for the load's notes."""
    notes = []
    if encoding == "cp1252":
        notes.append("encoding: not UTF-8, read as Windows-1252")
    elif encoding == "utf-8-sig":
        notes.append("encoding: UTF-8 with byte-order mark")
    if delimiter != ",":
        notes.append(f"delimiter: {'tab' if delimiter == chr(9) else repr(delimiter)}")
    return notes


def _decode_head(head: bytes) -> tuple[str, str]:
    """(encoding, decoded head text). UTF-8 (with or without BOM) else Windows-1252."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", head[3:].decode("utf-8", errors="replace")
    try:
        return "utf-8", head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a multi-byte character cut by the sample boundary
            return "utf-8", head[: exc.start].decode("utf-8")
        return "cp1252", head.decode("cp1252", errors="replace")


def _split_header(first_line: str) -> tuple[list[str], str]:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ","
    header = next(csv.reader([first_line], delimiter=delimiter))
    return [h.strip() for h in header], delimiter


def _check_header(header: list[str], name: str) -> None:
    seen: dict[str, int] = {}
    for pos, col in enumerate(header, start=1):
        if col == "":
            continue
        k = col.lower()
        if k in seen:
            raise InputError(f"{name}: row 1: duplicate column '{col}' (columns {seen[k]} and {pos}); rename one")
        seen[k] = pos
    if all(c == "" for c in header):
        raise InputError(f"{name}: row 1: the header is blank")


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


def _read_parquet(data: bytes, name: str) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError):
        raise InputError(f"{name}: cannot read as Parquet (the file is damaged or was not written as Parquet)") from None
    names = [str(n) for n in table.column_names]
    _check_header(names, name)
    if table.num_rows == 0:
        raise InputError(f"{name}: header only, no data rows")
    frame = table.to_pandas()
    frame.columns = names
    return RawTable(frame.reset_index(drop=True), np.arange(2, len(frame) + 2), _empty_rejects())


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


def read_raw(data: bytes, name: str) -> RawTable:
    """Any supported single file (CSV/TSV/TXT, Parquet, XLSX) as a RawTable."""
    kind = _sniff_kind(data[:8192], name)
    if kind == "parquet":
        return _read_parquet(data, name)
    if kind == "xlsx":
        return _read_xlsx(data, name)
    if kind == "zip":
        raise InputError(f"{name}: is a zip archive; pass it to ingest as a whole")
    return _read_text(data, name)


# --------------------------------------------------------------------------------------------
# Column converters (vectorised)
# --------------------------------------------------------------------------------------------


class _Rejects:
    """First reason per row wins; later checks skip rows already rejected."""

    def __init__(self, n: int):
        self.reason = np.full(n, None, dtype=object)
        self.column = np.full(n, None, dtype=object)
        self._ok = np.ones(n, dtype=bool)

    @property
    def ok(self) -> np.ndarray:
        return self._ok.copy()

    def add(self, mask, column: str | None, reason: str) -> None:
        mask = np.asarray(mask, dtype=bool) & self._ok
        if mask.any():
            self.reason[mask] = reason
            self.column[mask] = column
            self._ok &= ~mask

    def set(self, mask: np.ndarray, reasons: np.ndarray, columns: np.ndarray) -> None:
        """Copy reasons found by another check onto rows still accepted."""
        mask = np.asarray(mask, dtype=bool) & self._ok
        self.reason[mask] = reasons[mask]
        self.column[mask] = columns[mask]
        self._ok &= ~mask


def _text(series: pd.Series) -> pd.Series:
    """Cells as stripped strings (pandas' Arrow-backed ``str``) with the usual spellings of
    'nothing' as missing. Staying in Arrow avoids per-row Python objects."""
    text = series if series.dtype == "str" else series.astype("str")
    text = text.str.strip()
    blank = text.isin(BLANK_SPELLINGS).to_numpy(dtype=bool, na_value=True) | text.isna().to_numpy()
    return text.mask(blank).reset_index(drop=True)


def _numbers(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float values, unparseable mask). Blank cells are NaN and not 'unparseable'."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
        return values, np.zeros(len(series), dtype=bool)
    import pyarrow as pa
    import pyarrow.compute as pc

    if series.dtype == "str":
        try:  # the common, clean case: every cell a plain number, one Arrow cast of the raw text
            raw = pa.array(series.array)
            if raw.null_count == 0:
                values = pc.cast(raw, pa.float64()).to_numpy(zero_copy_only=False).copy()
                return values, np.zeros(len(values), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
            pass
    text = _text(series)
    try:
        values = pc.cast(pa.array(text.array), pa.float64()).to_numpy(zero_copy_only=False).copy()
        return values, np.zeros(len(values), dtype=bool)
    except pa.ArrowInvalid:
        pass
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
    failed = np.asarray(text.notna()) & np.isnan(values)
    if failed.any():
        # Decimal commas, as written by European-locale spreadsheets in ';'-delimited files.
        idx = np.flatnonzero(failed)
        retry = pd.to_numeric(text.iloc[idx].str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True), errors="coerce")
        values[idx] = retry.to_numpy(dtype=float, na_value=np.nan)
        failed[idx] = np.isnan(values[idx])
    return values, failed


ISO_FORMAT = "ISO8601"
DAY_FIRST_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M",
                     "%d-%m-%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d/%m/%y %H:%M", "%d/%m/%y")
MONTH_ONLY = re.compile(r"^\d{4}-\d{1,2}$")


def _datetimes(series: pd.Series, label: str, notes: list[str]) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """(timestamps, blank mask, unparseable mask); a note says which convention was assumed."""
    n = len(series)
    if pd.api.types.is_datetime64_any_dtype(series):
        values = pd.to_datetime(series)
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("Europe/London").dt.tz_localize(None)
        values = values.reset_index(drop=True).astype("datetime64[ns]")
        blank = values.isna().to_numpy()
        return values, blank, np.zeros(n, dtype=bool)
    if series.dtype == object and n:
        # Excel cells may be datetime objects mixed with text.
        is_dt = series.map(lambda v: hasattr(v, "year")).to_numpy(dtype=bool)
        if is_dt.any():
            series = series.where(~is_dt, series.map(lambda v: v.isoformat(sep=" ") if hasattr(v, "isoformat") else v))
    text = _text(series)
    blank = text.isna().to_numpy()
    out = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    todo = ~blank
    used: dict[str, int] = {}
    for fmt in (ISO_FORMAT, *DAY_FIRST_FORMATS):
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        part = text.iloc[idx]
        if fmt == ISO_FORMAT:
            # Month-only values are not dates; they are handled by the month parser.
            short = (part.str.len() <= 7).to_numpy(dtype=bool, na_value=False)
            if short.any():
                month_like = np.zeros(len(part), dtype=bool)
                month_like[short] = part[short].str.match(MONTH_ONLY).to_numpy(dtype=bool, na_value=False)
                part = part.mask(month_like)
            try:
                parsed = pd.to_datetime(part, format=fmt, errors="coerce")
            except ValueError:  # mixed UTC offsets: bring all to UTC
                parsed = pd.to_datetime(part, format=fmt, errors="coerce", utc=True)
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        else:
            parsed = pd.to_datetime(part, format=fmt, errors="coerce")
        hit = parsed.notna().to_numpy()
        if hit.any():
            out.iloc[idx[hit]] = parsed.to_numpy()[hit].astype("datetime64[ns]")
            todo[idx[hit]] = False
            family = "ISO 8601 (YYYY-MM-DD)" if fmt == ISO_FORMAT else "UK day-first (DD/MM/YYYY)"
            used[family] = used.get(family, 0) + int(hit.sum())
    if used:
        notes.append(f"{label}: read as " + ", ".join(f"{k} for {v:,} rows" for k, v in used.items()))
    return out, blank, todo


def _month_starts(series: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """police.uk 'YYYY-MM' months: (first days, blank, bad)."""
    text = _text(series).reset_index(drop=True)
    blank = text.isna().to_numpy()
    parsed = pd.to_datetime(text, format="%Y-%m", errors="coerce")
    bad = ~blank & parsed.isna().to_numpy()
    return parsed.astype("datetime64[ns]"), blank, bad


def _booleans(series: pd.Series) -> tuple[pd.Series, int]:
    """Knife-style flags to a nullable boolean; returns how many non-blank values were not understood."""
    text = _text(series)
    true = text.isin(TRUE_SPELLINGS).to_numpy(dtype=bool, na_value=False)
    false = text.isin(FALSE_SPELLINGS).to_numpy(dtype=bool, na_value=False)
    values = pd.arrays.BooleanArray(true, ~(true | false))
    unknown = int((text.notna().to_numpy() & ~(true | false)).sum())
    return pd.Series(values), unknown


def _nothing(n: int) -> pd.Series:
    return pd.Series(np.full(n, None, dtype=object), dtype=object)


def _clean_text(series: pd.Series | None, n: int, counter: list[int]) -> pd.Series:
    """Free text stored as given, except that values a spreadsheet would run as a formula get a
    leading apostrophe (CSV injection), counted in ``counter``."""
    if series is None:
        return _nothing(n)
    text = _text(series)
    formula = text.str.startswith(FORMULA_START).to_numpy(dtype=bool, na_value=False)
    if formula.any():
        counter[0] += int(formula.sum())
        text = text.mask(formula, "'" + text)
    return text


def _to_wgs84(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(easting, northing)
    return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)


def _in_uk(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (lat >= UK_LAT[0]) & (lat <= UK_LAT[1]) & (lon >= UK_LON[0]) & (lon <= UK_LON[1])


def _in_bng(e: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (e > BNG_EASTING[0]) & (e <= BNG_EASTING[1]) & (n > BNG_NORTHING[0]) & (n <= BNG_NORTHING[1]) & (
            (np.abs(e) > 180) | (np.abs(n) > 180))


def _coordinates(frame: pd.DataFrame, cols: dict[str, str | None], rej: _Rejects, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lat/lon per row from lat/lon or easting/northing columns, repairing the two common
    mistakes (swapped lat/lon; grid metres in lat/lon columns) row by row and saying so."""
    n = len(frame)
    if cols.get("lat") and cols.get("lon"):
        a_col, b_col, given = cols["lat"], cols["lon"], "latlon"
    else:
        a_col, b_col, given = cols["northing"], cols["easting"], "bng"
    a, a_bad = _numbers(frame[a_col])
    b, b_bad = _numbers(frame[b_col])
    rej.add(a_bad, a_col, "unparseable number")
    rej.add(b_bad, b_col, "unparseable number")
    missing = np.isnan(a) | np.isnan(b)
    rej.add(missing, a_col if np.isnan(a).any() else b_col, "no coordinates")
    with np.errstate(invalid="ignore"):
        zero = (a == 0) & (b == 0)
        infinite = np.isinf(a) | np.isinf(b)
    rej.add(zero, a_col, "no coordinates")
    rej.add(infinite, a_col, "unparseable number")
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    if given == "latlon":
        lat_given, lon_given = a, b
    else:  # BNG columns: a = northing, b = easting
        lat_given, lon_given = np.full(n, np.nan), np.full(n, np.nan)
        grid = _in_bng(b, a) & rej.ok
        if grid.any():
            lat[grid], lon[grid] = _to_wgs84(b[grid], a[grid])
        # Degrees in easting/northing columns.
        degrees = ~grid & rej.ok & _in_uk(a, b)
        lat[degrees], lon[degrees] = a[degrees], b[degrees]
        if degrees.any():
            notes.append(f"{int(degrees.sum()):,} rows had WGS84 degrees in the easting/northing columns; used as lat/lon")
        swapped_grid = ~grid & ~degrees & rej.ok & _in_bng(a, b)
        if swapped_grid.any():
            lat[swapped_grid], lon[swapped_grid] = _to_wgs84(a[swapped_grid], b[swapped_grid])
            notes.append(f"{int(swapped_grid.sum()):,} rows had easting and northing swapped; swapped back")
        rej.add(rej.ok & np.isnan(lat), cols["easting"], "bad coordinates")
        return lat, lon
    ok = rej.ok
    plain = ok & _in_uk(lat_given, lon_given)
    lat[plain], lon[plain] = lat_given[plain], lon_given[plain]
    swapped = ok & ~plain & _in_uk(lon_given, lat_given)
    if swapped.any():
        lat[swapped], lon[swapped] = lon_given[swapped], lat_given[swapped]
        notes.append(f"{int(swapped.sum()):,} rows had latitude and longitude swapped; swapped back")
    # Grid metres in lat/lon columns: conventionally lat ~ northing, lon ~ easting; try both ways.
    rest = ok & ~plain & ~swapped
    grid_rows = rest & _in_bng(lon_given, lat_given)
    if grid_rows.any():
        g_lat, g_lon = _to_wgs84(lon_given[grid_rows], lat_given[grid_rows])
        fine = _in_uk(g_lat, g_lon)
        idx = np.flatnonzero(grid_rows)
        lat[idx[fine]], lon[idx[fine]] = g_lat[fine], g_lon[fine]
        if (~fine).any():
            g_lat2, g_lon2 = _to_wgs84(lat_given[idx[~fine]], lon_given[idx[~fine]])
            fine2 = _in_uk(g_lat2, g_lon2)
            lat[idx[~fine][fine2]], lon[idx[~fine][fine2]] = g_lat2[fine2], g_lon2[fine2]
        converted = int(np.isfinite(lat[idx]).sum())
        if converted:
            notes.append(f"{converted:,} rows had British National Grid metres in the lat/lon columns; converted from EPSG:27700")
    with np.errstate(invalid="ignore"):
        impossible = ok & np.isnan(lat) & ((np.abs(lat_given) > 90) | (np.abs(lon_given) > 180))
    rej.add(impossible, cols["lat"], "bad coordinates")
    # Valid degrees elsewhere in the world: kept as given, the district check rejects them.
    elsewhere = rej.ok & np.isnan(lat)
    lat[elsewhere], lon[elsewhere] = lat_given[elsewhere], lon_given[elsewhere]
    return lat, lon


def _districts(lat: np.ndarray, lon: np.ndarray, rej: _Rejects, column: str | None) -> np.ndarray:
    from hotspot_engine.reference.geography import assign_districts

    district = np.full(len(lat), None, dtype=object)
    ok = rej.ok & np.isfinite(lat) & np.isfinite(lon)
    if ok.any():
        district[ok] = assign_districts(lat[ok], lon[ok])
    rej.add(ok & pd.isna(district), column, "outside area")
    return district


def _plausible_dates(values: pd.Series, blank: np.ndarray, bad: np.ndarray, rej: _Rejects, column: str,
                     blank_reason: str = "no date", bad_reason: str = "bad date") -> None:
    rej.add(blank, column, blank_reason)
    rej.add(bad, column, bad_reason)
    latest = pd.Timestamp.now() + pd.Timedelta(days=1)
    arr = values.to_numpy(dtype="datetime64[ns]")
    with np.errstate(invalid="ignore"):
        out_of_range = ~np.isnat(arr) & ((arr > np.datetime64(latest)) | (arr < np.datetime64(EARLIEST)))
    rej.add(out_of_range, column, bad_reason)


def _columns_note(cols: dict[str, str | None]) -> str:
    used = [f"{k} <- '{v}'" for k, v in cols.items() if v]
    return "columns used: " + ", ".join(used)


def _finish_rejects(raw: RawTable, rej: _Rejects) -> pd.DataFrame:
    bad = np.flatnonzero(~rej.ok)
    parts = [raw.rejects]
    if bad.size:
        rows = raw.frame.iloc[bad]
        text = rows.astype(str).where(rows.notna(), "")
        joined = text.agg(raw.delimiter.join, axis=1) if len(text.columns) else pd.Series([""] * len(bad))
        parts.append(pd.DataFrame({"row": raw.line_no[bad].astype("int64"), "column": rej.column[bad],
                                   "reason": rej.reason[bad], "raw": joined.to_numpy(dtype=object)}))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty_rejects()
    out = pd.concat(parts, ignore_index=True)
    out["row"] = out["row"].astype("int64")
    return out.sort_values("row", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------------


def _parse_police_uk(raw: RawTable, name: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    from hotspot_engine.reference.offences import POLICE_UK_SV_PROXY, POLICE_UK_WIDER, SV_GROUPS

    frame, notes = raw.frame, list(raw.notes)
    cols = list(frame.columns)
    n = len(frame)
    pick = {f: _pick(cols, f) for f in ("id", "lat", "lon", "location", "lsoa_code", "lsoa_name", "falls_within")}
    pick["id"] = _pick(cols, "id") if _key(pick["id"] or "") == "crimeid" else next((c for c in cols if _key(c) == "crimeid"), None)
    month_col = next(c for c in cols if _key(c) == "month")
    type_col = next(c for c in cols if _key(c) == "crimetype")
    if not (pick["lat"] and pick["lon"]):
        raise InputError(f"{name}: data.police.uk file without Latitude/Longitude columns")
    rej = _Rejects(n)
    month, blank, bad = _month_starts(frame[month_col])
    _plausible_dates(month, blank, bad, rej, month_col, "no month", "bad month")
    crime_type = _text(frame[type_col]).reset_index(drop=True)
    lat, lon = _coordinates(frame, {"lat": pick["lat"], "lon": pick["lon"]}, rej, notes)
    district = _districts(lat, lon, rej, pick["lat"])
    formula = [0]
    crime_id = _text(frame[pick["id"]]).reset_index(drop=True) if pick["id"] else pd.Series([pd.NA] * n, dtype="string")
    # Anti-social behaviour rows have no Crime ID. They get an id from their own content (not the
    # file name), numbered within identical rows, so reloading them adds nothing while identical
    # ASB reports in one month stay distinct.
    no_id = crime_id.isna().to_numpy()
    incident_id = np.array(crime_id.to_numpy(dtype=object, na_value=None), dtype=object, copy=True)
    if no_id.any():
        content_cols = [c for c in cols if _key(c) not in ("crimeid", "lastoutcomecategory")]
        content = frame.iloc[np.flatnonzero(no_id)][content_cols]
        incident_id[no_id] = _content_ids("asb", [_text(content[c]).fillna("") for c in content_cols], int(no_id.sum()))
    groups = crime_type.map({**POLICE_UK_SV_PROXY, **POLICE_UK_WIDER}).fillna("other").astype(str)
    rej.add(crime_type.isna().to_numpy(), type_col, "no crime type")
    rows = pd.DataFrame({
        "incident_id": incident_id,
        "source": "police-uk",
        "crime_id": crime_id.astype(object).where(crime_id.notna(), None).to_numpy(),
        "month": month.to_numpy(),
        "occurred_at": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
        "lat": lat,
        "lon": lon,
        "offence": _clean_text(frame[type_col], n, formula).to_numpy(),
        "ho_code": None,
        "knife_flag": pd.array([pd.NA] * n, dtype="boolean"),
        "offence_group": groups.to_numpy(),
        "sv_category": groups.where(groups.isin(SV_GROUPS), None).astype(object).to_numpy(),
        "is_proxy": True,
        "district": district,
        "location": _clean_text(frame[pick["location"]] if pick["location"] else None, n, formula).to_numpy(),
        "lsoa_code": _clean_text(frame[pick["lsoa_code"]] if pick["lsoa_code"] else None, n, formula).to_numpy(),
        "lsoa_name": _clean_text(frame[pick["lsoa_name"]] if pick["lsoa_name"] else None, n, formula).to_numpy(),
        "falls_within": _clean_text(frame[pick["falls_within"]] if pick["falls_within"] else None, n, formula).to_numpy(),
    })
    if no_id.any():
        notes.append(f"{int(no_id.sum()):,} rows without Crime ID (anti-social behaviour) given content-based ids")
    notes.append("serious violence here is a labelled proxy: only Robbery and Possession of weapons map onto it")
    if pick["lsoa_name"]:
        _lsoa_check(rows, rej.ok, notes)
    return _split(rows, raw, rej, notes, formula)


def _content_ids(prefix: str, parts: list[pd.Series], n: int) -> np.ndarray:
    """Ids for rows that have none: a SHA-1 of the row's own cells (never the file name, so the same
    rows reloaded from any file get the same ids) plus the occurrence number among identical rows,
    which keeps genuinely repeated reports distinct. hashlib, not pandas hashing, so ids stay the
    same across library versions."""
    if parts:
        keys = ["\x1f".join(map(str, values)) for values in zip(*(p.astype(object).to_numpy() for p in parts))]
    else:
        keys = [""] * n
    digests = [hashlib.sha1(k.encode("utf-8", "surrogatepass")).hexdigest()[:16] for k in keys]
    occurrence = pd.Series(digests).groupby(digests).cumcount().to_numpy()
    return np.array([f"{prefix}-{d}-{o}" for d, o in zip(digests, occurrence)], dtype=object)


def _lsoa_check(rows: pd.DataFrame, ok: np.ndarray, notes: list[str]) -> None:
    """Compare the computed district with the one the LSOA name gives ('Southampton 001A' ->
    Southampton). Accepted rows whose LSOA lies outside the force area count as disagreements."""
    # A regex, not rsplit: with every name missing, rsplit's result loses the string type and .str fails.
    names = pd.Series(rows["lsoa_name"].to_numpy(object)).astype("str").str.replace(r"\s+\S+$", "", regex=True)
    named = names.notna().to_numpy() & ok
    if named.any():
        differ = int((names.to_numpy(object)[named] != rows["district"].to_numpy(object)[named]).sum())
        notes.append(f"district check against LSOA name: {differ:,} of {int(named.sum()):,} rows differ "
                     f"({100 * differ / named.sum():.2f}%)")


def _split(rows: pd.DataFrame, raw: RawTable, rej: _Rejects, notes: list[str], formula: list[int]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    if formula[0]:
        notes.append(f"{formula[0]:,} text values looked like spreadsheet formulas; stored with a leading apostrophe")
    ok = rej.ok
    rejects = _finish_rejects(raw, rej)
    if ok.all():
        return rows, rejects, notes
    return rows.loc[ok].reset_index(drop=True), rejects, notes


def _classify_unique(mapping, ho: pd.Series | None, offence: pd.Series | None, knife: pd.Series | None) -> np.ndarray:
    """OffenceMap.classify on each distinct (code, text, knife) combination only: a million rows
    hold a few hundred combinations, and the text rules are regular expressions."""
    n = len(ho) if ho is not None else len(offence)  # type: ignore[arg-type]
    parts = {
        "ho": (ho if ho is not None else _nothing(n)).reset_index(drop=True),
        "offence": (offence if offence is not None else _nothing(n)).reset_index(drop=True),
        "knife": (knife.fillna(False).astype(bool) if knife is not None else pd.Series(np.zeros(n, bool))).reset_index(drop=True),
    }
    # One integer key per combination from per-column codes; factorising each column is fast.
    key = np.zeros(n, dtype=np.int64)
    for col in ("ho", "offence", "knife"):
        col_codes, col_uniques = pd.factorize(parts[col], use_na_sentinel=False)
        key = key * (len(col_uniques) + 1) + col_codes
    _, first, codes = np.unique(key, return_index=True, return_inverse=True)
    distinct = pd.DataFrame({c: parts[c].iloc[first].reset_index(drop=True) for c in parts})
    groups = mapping.classify(
        distinct["ho"].astype(object) if ho is not None else None,
        distinct["offence"].astype(object) if offence is not None else None,
        distinct["knife"].astype(bool) if knife is not None else None,
    ).to_numpy(object)
    return groups[codes.ravel()]


def _parse_force(raw: RawTable, name: str, offence_map) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    from hotspot_engine.reference.offences import SV_GROUPS, load_offence_map

    frame, notes = raw.frame, list(raw.notes)
    cols = [str(c) for c in frame.columns]
    n = len(frame)
    cols_used = _pick_all(cols, ("id", "date", "lat", "lon", "easting", "northing", "ho_code", "offence", "knife",
                                 "district", "location", "lsoa_code", "lsoa_name", "falls_within"))
    if not cols_used["id"]:
        raise InputError(f"{name}: no id column (looked for incident_id, crime_id, id, reference ...)")
    if not cols_used["date"]:
        raise InputError(f"{name}: no date column (looked for occurred_at, date, datetime, offence_date ...)")
    if not ((cols_used["lat"] and cols_used["lon"]) or (cols_used["easting"] and cols_used["northing"])):
        raise InputError(f"{name}: no location columns (need lat/lon or easting/northing)")
    if not (cols_used["ho_code"] or cols_used["offence"]):
        raise InputError(f"{name}: no offence column (need ho_code and/or offence)")
    notes.append(_columns_note(cols_used))
    rej = _Rejects(n)
    ids = _text(frame[cols_used["id"]]).reset_index(drop=True)
    rej.add(ids.isna().to_numpy(), cols_used["id"], "no id")
    when, blank, bad = _datetimes(frame[cols_used["date"]], cols_used["date"], notes)
    # A bare 'YYYY-MM' is a month without a day: kept, with no occurrence time.
    month_only = np.zeros(n, dtype=bool)
    month_values = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if bad.any():
        idx = np.flatnonzero(bad)
        months, _, mbad = _month_starts(frame[cols_used["date"]].iloc[idx])
        good = ~mbad & months.notna().to_numpy()
        month_only[idx[good]] = True
        month_values[idx[good]] = months.to_numpy()[good]
        bad[idx[good]] = False
    _plausible_dates(when, blank, bad, rej, cols_used["date"])
    occurred = when.copy()
    month = pd.Series(when.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype("datetime64[ns]"))
    if month_only.any():
        month = month.where(~pd.Series(month_only), pd.Series(month_values))
        _plausible_dates(month, np.zeros(n, bool), np.zeros(n, bool), rej, cols_used["date"], bad_reason="bad month")
        notes.append(f"{int(month_only.sum()):,} rows give a month only (YYYY-MM): no occurrence time")
    lat, lon = _coordinates(frame, cols_used, rej, notes)
    district = _districts(lat, lon, rej, cols_used["lat"] or cols_used["easting"])
    formula = [0]
    ho = _clean_text(frame[cols_used["ho_code"]] if cols_used["ho_code"] else None, n, formula)
    offence = _clean_text(frame[cols_used["offence"]] if cols_used["offence"] else None, n, formula)
    knife = None
    if cols_used["knife"]:
        knife, unknown = _booleans(frame[cols_used["knife"]])
        if unknown:
            notes.append(f"{cols_used['knife']}: {unknown:,} values not read as yes/no; left blank")
    groups = _classify_unique(load_offence_map(offence_map), ho if cols_used["ho_code"] else None,
                              offence if cols_used["offence"] else None, knife)
    if cols_used["district"]:
        given = _text(frame[cols_used["district"]]).reset_index(drop=True).astype(object).to_numpy()
        has = rej.ok & ~pd.isna(given)
        if has.any():
            differ = int((pd.Series(given[has]).str.lower().to_numpy() != pd.Series(district[has]).str.lower().to_numpy()).sum())
            notes.append(f"district: computed from coordinates; '{cols_used['district']}' differs on {differ:,} of "
                         f"{int(has.sum()):,} rows")
    group_series = pd.Series(groups, dtype=object)
    rows = pd.DataFrame({
        "incident_id": ids,
        "source": "force",
        "crime_id": ids,
        "month": month.to_numpy(),
        "occurred_at": occurred.to_numpy(),
        "lat": lat,
        "lon": lon,
        "offence": offence,
        "ho_code": ho,
        "knife_flag": knife if knife is not None else pd.array([pd.NA] * n, dtype="boolean"),
        "offence_group": group_series,
        "sv_category": group_series.where(group_series.isin(SV_GROUPS), None),
        "is_proxy": False,
        "district": pd.Series(district, dtype=object),
        "location": _clean_text(frame[cols_used["location"]] if cols_used["location"] else None, n, formula),
        "lsoa_code": _clean_text(frame[cols_used["lsoa_code"]] if cols_used["lsoa_code"] else None, n, formula),
        "lsoa_name": _clean_text(frame[cols_used["lsoa_name"]] if cols_used["lsoa_name"] else None, n, formula),
        "falls_within": _clean_text(frame[cols_used["falls_within"]] if cols_used["falls_within"] else None, n, formula),
    })
    return _split(rows, raw, rej, notes, formula)


# --------------------------------------------------------------------------------------------
# Patrols and GPS
# --------------------------------------------------------------------------------------------

MAX_PATROL_MINUTES = 24 * 60


def _is_h3_cell(value: object) -> bool:
    import h3

    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{15,16}", value):
        return False
    try:
        return bool(h3.is_valid_cell(value))
    except (ValueError, OverflowError, TypeError):
        return False


def _parse_patrols(raw: RawTable, name: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    import h3

    frame, notes = raw.frame, list(raw.notes)
    cols = [str(c) for c in frame.columns]
    n = len(frame)
    cols_used = _pick_all(cols, ("patrol_id", "start", "end", "duration", "hotspot", "h3", "lat", "lon", "easting",
                                 "northing", "unit"))
    if not cols_used["start"]:
        raise InputError(f"{name}: patrol log without a start column")
    if not (cols_used["end"] or cols_used["duration"]):
        raise InputError(f"{name}: patrol log needs an end or a duration_minutes column")
    notes.append(_columns_note(cols_used))
    rej = _Rejects(n)
    formula = [0]
    if cols_used["patrol_id"]:
        ids = _text(frame[cols_used["patrol_id"]]).reset_index(drop=True)
        rej.add(ids.isna().to_numpy(), cols_used["patrol_id"], "no id")
    else:
        ids = None
    start, blank, bad = _datetimes(frame[cols_used["start"]], cols_used["start"], notes)
    _plausible_dates(start, blank, bad, rej, cols_used["start"], "no start")
    minutes = np.full(n, np.nan)
    end = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    duration_col = cols_used["end"] or cols_used["duration"]
    if cols_used["end"]:
        end, eblank, ebad = _datetimes(frame[cols_used["end"]], cols_used["end"], notes)
        _plausible_dates(end, np.zeros(n, bool), ebad, rej, cols_used["end"])
        usable = rej.ok & end.notna().to_numpy() & start.notna().to_numpy()
        # Only plausible dates are subtracted: far-apart timestamps overflow nanosecond arithmetic.
        minutes[usable] = (end[usable] - start[usable]).dt.total_seconds().to_numpy(dtype=float) / 60.0
    if cols_used["duration"]:
        dur, dur_bad = _numbers(frame[cols_used["duration"]])
        rej.add(dur_bad & np.isnan(minutes), cols_used["duration"], "unparseable number")
        fill = np.isnan(minutes) & np.isfinite(dur)
        minutes[fill] = dur[fill]
    rej.add(np.isnan(minutes), duration_col, "no duration")
    with np.errstate(invalid="ignore"):
        rej.add((minutes < 0) | (minutes > MAX_PATROL_MINUTES) | np.isinf(minutes), duration_col, "bad duration")
    if cols_used["duration"]:
        fill &= rej.ok  # durations now bounded, so start + duration cannot overflow
        if fill.any():
            end = end.copy()
            end[fill] = start[fill] + pd.to_timedelta(minutes[fill], unit="min")
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    has_coords = (cols_used["lat"] and cols_used["lon"]) or (cols_used["easting"] and cols_used["northing"])
    coord_rej = _Rejects(n)
    if has_coords:
        lat, lon = _coordinates(frame, cols_used, coord_rej, notes)
        lat = np.where(coord_rej.ok, lat, np.nan)
        lon = np.where(coord_rej.ok, lon, np.nan)
    hotspot = _clean_text(frame[cols_used["hotspot"]] if cols_used["hotspot"] else None, n, formula)
    if cols_used["h3"]:
        cells = _text(frame[cols_used["h3"]]).reset_index(drop=True).str.lower()
        need = np.isnan(lat) & cells.notna().to_numpy()
        if need.any():
            uniq = pd.unique(cells[need].astype(object))
            valid = {c: h3.cell_to_latlng(c) for c in uniq if _is_h3_cell(c)}
            values = cells[need].astype(object).map(valid)
            got = values.notna().to_numpy()
            idx = np.flatnonzero(need)
            lat[idx[got]] = [v[0] for v in values[got]]
            lon[idx[got]] = [v[1] for v in values[got]]
            rej.add(np.isin(np.arange(n), idx[~got]) & pd.isna(hotspot).to_numpy(), cols_used["h3"], "bad h3 cell")
    no_place = np.isnan(lat) & pd.isna(hotspot).to_numpy()
    # Say why a row has no place: bad coordinates when they were the only place given.
    reason_rows = no_place & ~coord_rej.ok & (coord_rej.reason != "no coordinates")
    rej.set(reason_rows, coord_rej.reason, coord_rej.column)
    rej.add(no_place, cols_used["lat"] or cols_used["h3"] or cols_used["hotspot"], "no place")
    district = np.full(n, None, dtype=object)
    located = rej.ok & np.isfinite(lat)
    if located.any():
        from hotspot_engine.reference.geography import assign_districts

        district[located] = assign_districts(lat[located], lon[located])
        rej.add(located & pd.isna(district), cols_used["lat"] or cols_used["h3"], "outside area")
    if ids is None:
        # No id column: a deterministic id from the content makes reloading idempotent.
        parts = [start.astype(str), pd.Series(minutes).astype(str), pd.Series(lat).round(6).astype(str),
                 pd.Series(lon).round(6).astype(str), pd.Series(hotspot, dtype=object).astype(str)]
        ids = pd.Series(_content_ids("log", parts, n), dtype=object)
        notes.append("no patrol_id column: ids derived from the row content")
    rows = pd.DataFrame({
        "patrol_id": ids.astype(object).to_numpy(),
        "source": "log",
        "start": start.to_numpy(),
        "end": end.to_numpy(),
        "minutes": minutes,
        "hotspot_ref": hotspot.to_numpy(),
        "lat": lat,
        "lon": lon,
        "district": district,
        "unit": _clean_text(frame[cols_used["unit"]] if cols_used["unit"] else None, n, formula).to_numpy(),
    })
    return _split(rows, raw, rej, notes, formula)


def _parse_gps(raw: RawTable, name: str, gap_minutes: float) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    from hotspot_engine.read.gps import pings_to_visits

    frame, notes = raw.frame, list(raw.notes)
    cols = [str(c) for c in frame.columns]
    n = len(frame)
    cols_used = {"callsign": _pick(cols, "callsign"), "timestamp": _pick(cols, "timestamp"),
                 "lat": _pick(cols, "lat"), "lon": _pick(cols, "lon")}
    missing = [k for k, v in cols_used.items() if not v]
    timestamp = cols_used["timestamp"]
    if missing or not timestamp:  # (a missing timestamp is in `missing`; the test narrows its type)
        raise InputError(f"{name}: GPS pings need column(s) {', '.join(missing)}")
    notes.append(_columns_note(cols_used))
    rej = _Rejects(n)
    callsign = _text(frame[cols_used["callsign"]]).reset_index(drop=True)
    rej.add(callsign.isna().to_numpy(), cols_used["callsign"], "no callsign")
    when, blank, bad = _datetimes(frame[timestamp], timestamp, notes)
    _plausible_dates(when, blank, bad, rej, timestamp, "no timestamp")
    lat, lon = _coordinates(frame, cols_used, rej, notes)
    district = _districts(lat, lon, rej, cols_used["lat"])
    ok = rej.ok
    formula = [0]
    pings = pd.DataFrame({"callsign": _clean_text(callsign, n, formula).to_numpy()[ok], "timestamp": when.to_numpy()[ok],
                          "lat": lat[ok], "lon": lon[ok], "district": district[ok]})
    visits = pings_to_visits(pings, gap_minutes=gap_minutes)
    notes.append(f"{int(ok.sum()):,} valid pings became {len(visits):,} visits (gap threshold {gap_minutes:g} min); "
                 f"counts below are visits plus rejected pings")
    rejects = _finish_rejects(raw, rej)
    if formula[0]:
        notes.append(f"{formula[0]:,} callsigns looked like spreadsheet formulas; stored with a leading apostrophe")
    return visits.drop(columns=["pings"]), rejects, notes


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def _parse(data: bytes, name: str, fmt: str | None, offence_map, gap_minutes: float = 5.0, con=None, partner=None):
    """(kind, format, rows, rejects, notes) for one file's bytes. ``con`` (the store) tells partner
    area counts which 2021 LSOA codes police data carries; ``partner`` is a PartnerOptions."""
    from hotspot_engine.read import partners

    if fmt is not None and fmt not in FORMATS and fmt not in partners.PARTNER_FORMATS:
        raise InputError(f"unknown format '{fmt}'; choose from: {', '.join(FORMATS + partners.PARTNER_FORMATS)}")
    raw = read_raw(data, name)
    columns = [str(c) for c in raw.frame.columns]
    partner_fmt = fmt if fmt in partners.PARTNER_FORMATS else None
    if fmt is None:
        partner_fmt = partners.detect_partner_format(columns)
    if partner_fmt:
        kind, rows, rejects, notes = partners.parse_partner(raw, name, partner_fmt, partner, con)
        return kind, partner_fmt, rows, rejects, notes
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


def _too_big(name: str, size: int, max_bytes: int) -> InputError:
    return InputError(f"{name}: {size / 1e6:,.1f} MB is over the {max_bytes / 1e6:,.1f} MB limit; split the file "
                      f"or raise the limit")


def _zip_members(data: bytes, name: str, max_bytes: int, depth: int = 1) -> Iterator[tuple[str, bytes]]:
    """(display name, bytes) of every data file in a zip, recursing into nested zips."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError(f"{name}: not a valid zip archive") from None
    found = 0
    with archive:
        infos = sorted((i for i in archive.infolist() if not i.is_dir()), key=lambda i: i.filename)
        for info in infos:
            base = Path(info.filename).name
            if base.startswith(".") or "__MACOSX" in info.filename:
                continue
            ext = Path(base).suffix.lower()
            if ext not in DATA_EXTENSIONS and ext != ".zip":
                continue
            display = f"{name}/{base}"
            if info.file_size > max_bytes:
                raise _too_big(display, info.file_size, max_bytes)
            try:
                member = archive.read(info)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
                raise InputError(f"{display}: cannot extract from the zip ({exc})") from None
            if ext == ".zip" or member[:4] == b"PK\x03\x04" and ext not in (".xlsx", ".xlsm"):
                if depth >= MAX_ZIP_DEPTH:
                    raise InputError(f"{display}: zip nested more than {MAX_ZIP_DEPTH} deep")
                for item in _zip_members(member, display, max_bytes, depth + 1):
                    found += 1
                    yield item
                continue
            found += 1
            yield display, member
    if not found:
        raise InputError(f"{name}: no CSV, Parquet or XLSX files inside the zip")


def _files_under(path: Path) -> list[Path]:
    files = sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                   and p.suffix.lower() in (*DATA_EXTENSIONS, ".zip"))
    if not files:
        raise InputError(f"{path.name}: folder holds no CSV, Parquet, XLSX or zip files")
    return files


def _load_bytes(con, data: bytes, name: str, fmt: str | None, offence_map, max_bytes: int, partner=None
                ) -> list[LoadSummary]:
    if len(data) > max_bytes:
        raise _too_big(name, len(data), max_bytes)
    if data[:4] == b"PK\x03\x04" and Path(name).suffix.lower() not in (".xlsx", ".xlsm"):
        return [s for member, blob in _zip_members(data, name, max_bytes)
                for s in _load_one(con, blob, member, fmt, offence_map, partner)]
    if data[:4] == b"PK\x05\x06" and Path(name).suffix.lower() == ".zip":
        raise InputError(f"{name}: the zip is empty")
    return _load_one(con, data, name, fmt, offence_map, partner)


def _load_one(con, data: bytes, name: str, fmt: str | None, offence_map, partner=None) -> list[LoadSummary]:
    kind, fmt, rows, rejects, notes = _parse(data, name, fmt, offence_map, con=con, partner=partner)
    summary = store.store_rows(con, kind, rows, rejects, file=name, fmt=fmt,
                               sha256=hashlib.sha256(data).hexdigest(), notes=notes)
    return [summary]


class _NotStreamable(Exception):
    """The file needs the whole-file reader (malformed rows, blank lines, quoted line breaks...)."""


def _stream_blocks(path: Path, header: list[str], delimiter: str, encoding: str, notes: list[str], offence_map,
                   block_rows: int) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, list[str]]]:
    """(rows, rejects, notes) per block of a force-extract CSV, parsed exactly as a whole file is.
    Any row pyarrow cannot split raises _NotStreamable: the whole-file reader gives its line number."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(header))]
    try:
        reader = pacsv.open_csv(
            str(path),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24,
                                           encoding="cp1252" if encoding == "cp1252" else "utf8"),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=lambda row: "error",
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise _NotStreamable from exc
    first_line = 2
    pending = None  # rows read but not yet parsed, as one Arrow table

    def block(table):
        frame = table.to_pandas()
        frame.columns = header
        raw = RawTable(frame, np.arange(first_line, first_line + len(frame)), _empty_rejects(), delimiter, list(notes))
        return _parse_force(raw, path.name, offence_map)

    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise _NotStreamable from exc
        table = pa.Table.from_batches([batch])
        pending = table if pending is None else pa.concat_tables([pending, table])
        while pending.num_rows >= block_rows:
            yield block(pending.slice(0, block_rows))
            first_line += block_rows
            pending = pending.slice(block_rows)
    if pending is not None and pending.num_rows:
        yield block(pending)


def _prefetched(blocks: Iterator) -> Iterator:
    """Run a block generator one block ahead in a thread: parsing block k+1 (numpy, Arrow, pandas;
    much of it outside the GIL) overlaps DuckDB storing block k (which releases the GIL)."""
    import queue
    import threading

    slots: queue.Queue = queue.Queue(maxsize=1)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in blocks:
                while not stop.is_set():
                    try:
                        slots.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(("end", done))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(("error", exc))

    worker = threading.Thread(target=produce, name="hotspot-parse", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _load_streamed(con, path: Path, fmt: str | None, offence_map, block_rows: int = STREAM_BLOCK_ROWS
                   ) -> LoadSummary | None:
    """Store a big force-extract CSV block by block; None when the file is not one (or needs the
    whole-file reader), and the caller then loads it the ordinary way."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    try:
        if _sniff_kind(head[:8192], path.name) != "text":
            return None
        encoding, head_text = _decode_head(head)
        lines = head_text.lstrip("\ufeff").splitlines()
        if not lines:
            return None
        header, delimiter = _split_header(lines[0])
        _check_header(header, path.name)
        if len(header) < 2 or (fmt or detect_format(header)) != "incidents" or detect_format(header) == "police-uk":
            return None
    except InputError:
        return None
    notes = _reading_notes(encoding, delimiter)
    blocks = _prefetched(_stream_blocks(path, header, delimiter, encoding, notes, offence_map, block_rows))
    try:
        return store.store_stream(con, "incidents", blocks, file=path.name, fmt="incidents",
                                  sha256=store.file_digest(path))
    except _NotStreamable:
        return None


def ingest_paths(con, paths: list[str | Path], fmt: str | None = None, offence_map: str | Path | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES, partner=None) -> list[LoadSummary]:
    """Load files, folders (recursed) and zips into the store; one LoadSummary per data file.
    ``partner`` (a :class:`~hotspot_engine.read.partners.PartnerOptions`) names the layer, owner and
    sharing level of partner files.

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
            summaries.extend(_load_bytes(con, data, file.name, fmt, offence_map, max_bytes, partner))
    return summaries


def ingest_upload(con, name: str, data: bytes, fmt: str | None = None, offence_map=None,
                  max_bytes: int = DEFAULT_MAX_BYTES, partner=None) -> list[LoadSummary]:
    """Same as ingest_paths for bytes from an upload widget; a zip may hold many files."""
    return _load_bytes(con, bytes(data), Path(name).name, fmt, offence_map, max_bytes, partner)
