"""Column converters (vectorised) and the per-row reject bookkeeping shared by every format.

Every field is converted column-wise in Arrow/numpy, so a million rows parse in seconds.
"""
from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

from hotspot_engine.read.raw import RawTable, _empty_rejects
from hotspot_engine.render.text_safety import FORMULA_PREFIXES

BLANKS = frozenset({"", "nan", "null", "none", "n/a", "na", "#n/a", "-", "nat"})
FORMULA_START = FORMULA_PREFIXES  # one list with the exports (render.text_safety)


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
            pass  # some cell is not a plain number: the reading below cleans the text and marks bad cells
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
        values, outside = _as_ns(values.reset_index(drop=True))
        blank = values.isna().to_numpy() & ~outside
        return values, blank, outside
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
        parsed, _ = _as_ns(parsed)  # out of range stays to do, and so ends as unparseable
        hit = parsed.notna().to_numpy()
        if hit.any():
            out.iloc[idx[hit]] = parsed.to_numpy()[hit]
            todo[idx[hit]] = False
            family = "ISO 8601 (YYYY-MM-DD)" if fmt == ISO_FORMAT else "UK day-first (DD/MM/YYYY)"
            used[family] = used.get(family, 0) + int(hit.sum())
    if used:
        notes.append(f"{label}: read as " + ", ".join(f"{k} for {v:,} rows" for k, v in used.items()))
    return out, blank, todo


def _as_ns(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Timestamps in nanoseconds, with those nanoseconds cannot hold (before 1677 or after 2262, such
    as a month 9999-12 or a Parquet timestamp in year 9999) as NaT, and a mask of them: issue 25
    found these escaping as an internal OutOfBoundsDatetime instead of a rejected row."""
    values = values.reset_index(drop=True)
    if values.dtype == "datetime64[ns]":
        return values, np.zeros(len(values), dtype=bool)
    raw = values.to_numpy()
    with np.errstate(invalid="ignore"):
        outside = ~np.isnat(raw) & ((raw < np.datetime64(pd.Timestamp.min)) | (raw > np.datetime64(pd.Timestamp.max)))
    if outside.any():
        raw = raw.copy()
        raw[outside] = np.datetime64("NaT")
    return pd.Series(raw.astype("datetime64[ns]")), outside


def _month_text(series: pd.Series) -> pd.Series:
    """A month column as text; dates (an Excel cell typed 'Jan-24' is the date 2024-01-01) become
    their 'YYYY-MM'."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m")
    if series.dtype == object and len(series):
        is_date = series.map(lambda v: hasattr(v, "year") and hasattr(v, "month")).to_numpy(dtype=bool)
        if is_date.any():
            return series.where(~is_date, series.map(lambda v: f"{v.year:04d}-{v.month:02d}" if hasattr(v, "month")
                                                     else v))
    return series


def _month_starts(series: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """police.uk 'YYYY-MM' months: (first days, blank, bad)."""
    text = _text(_month_text(series)).reset_index(drop=True)
    blank = text.isna().to_numpy()
    parsed, outside = _as_ns(pd.to_datetime(text, format="%Y-%m", errors="coerce"))
    bad = ~blank & (parsed.isna().to_numpy() | outside)
    return parsed, blank, bad


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


class Occurrences:
    """How often each content digest occurred in the blocks of a file read so far: sorted uint64
    digests and their counts, 16 bytes a distinct row. A dict of hex strings took about 150 bytes a
    row: some 200 MB over the 1.4M anti-social behaviour rows of a 1 GB police.uk file.

    ``counted=False`` keeps the digests alone (8 bytes a distinct row) and :meth:`take` then says
    only whether a digest occurred before (1) or not (0): a streamed partner-areas file's repeated
    LSOA-month check (10M distinct keys: 80 MB; their strings in a Python set would take over 100 bytes each)."""

    def __init__(self, counted: bool = True) -> None:
        self.keys = np.zeros(0, dtype=np.uint64)
        self.counts = np.zeros(0, dtype=np.int64)
        self.counted = counted

    def take(self, digests: np.ndarray) -> np.ndarray:
        """Occurrences of each digest in earlier blocks; then counts this block's in."""
        digests = np.asarray(digests, dtype=np.uint64)
        prior = np.zeros(digests.size, dtype=np.int64)
        if self.keys.size:
            pos = np.minimum(np.searchsorted(self.keys, digests), self.keys.size - 1)
            found = self.keys[pos] == digests
            prior[found] = self.counts[pos[found]] if self.counted else 1
        unique, n = np.unique(digests, return_counts=True)
        pos = np.searchsorted(self.keys, unique)
        found = np.zeros(unique.size, dtype=bool)
        inside = pos < self.keys.size
        found[inside] = self.keys[pos[inside]] == unique[inside]
        if self.counted:
            self.counts[pos[found]] += n[found]
            self.counts = np.insert(self.counts, pos[~found], n[~found])
        self.keys = np.insert(self.keys, pos[~found], unique[~found])
        return prior


def _content_ids(prefix: str, parts: list[pd.Series], n: int, seen: Occurrences | None = None) -> np.ndarray:
    """Ids for rows that have none: a SHA-1 of the row's own cells (never the file name, so the same
    rows reloaded from any file get the same ids) plus the occurrence number among identical rows,
    which keeps genuinely repeated reports distinct. hashlib, not pandas hashing, so ids stay the
    same across library versions. ``seen`` carries the occurrences counted in earlier blocks of the
    same file, so a file read block by block numbers its repeats as a whole file would."""
    if parts:
        keys = ["\x1f".join(map(str, values)) for values in zip(*(p.astype(object).to_numpy() for p in parts))]
    else:
        keys = [""] * n
    digests = [hashlib.sha1(k.encode("utf-8", "surrogatepass")).hexdigest()[:16] for k in keys]
    occurrence = pd.Series(digests).groupby(digests).cumcount().to_numpy()
    if seen is not None and digests:
        occurrence = occurrence + seen.take(np.frombuffer(bytes.fromhex("".join(digests)), dtype=">u8"))
    return np.array([f"{prefix}-{d}-{o}" for d, o in zip(digests, occurrence)], dtype=object)


def _split(rows: pd.DataFrame, raw: RawTable, rej: _Rejects, notes: list[str], formula: list[int]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    if formula[0]:
        notes.append(f"{formula[0]:,} text values looked like spreadsheet formulas; stored with a leading apostrophe")
    ok = rej.ok
    rejects = _finish_rejects(raw, rej)
    if ok.all():
        return rows, rejects, notes
    return rows.loc[ok].reset_index(drop=True), rejects, notes
