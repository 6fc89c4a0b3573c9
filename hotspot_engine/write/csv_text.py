"""CSV text of a layer, byte for byte what ``frame.to_csv(path, index=False, encoding="utf-8",
quoting=csv.QUOTE_NONNUMERIC)`` writes, in a third to a half of the time.

Why: the cells layer of `hotspots` on a 1M-incident store is 44,270 rows x 35 columns (29 MB with
the hexagons' WKT). pandas' writer hands every row to the csv module, which formats each of the
~750,000 floats with ``repr`` and scans every field for quotes: 0.78-0.83 s CPU of the command's
2.5 s (measured in-process with ``time.process_time`` on the bench_scale store, load 5-10). Here
each number column is formatted once per distinct value (``pd.factorize``; a column of 0.0 and 1.0
formats two numbers, not 44,270), text is quoted and the rows joined by Arrow's string kernels
and written from Arrow's buffers a chunk of rows at a time: 0.23-0.45 s for the same file on the
same machine (``csv.writer`` alone on the prepared rows took 0.69 s, so the csv module itself was the
cost, not pandas' preparation). The field text of every column is held while writing: the
`hotspots` process peaks at 385-417 MB against 366-372 MB with pandas' writer (503 MB when the
whole file was first built as one string).

The rules are the csv module's under ``QUOTE_NONNUMERIC`` as pandas drives it: text quoted with
``"`` and inner quotes doubled; numbers (floats by ``repr``, integers, booleans) bare; a missing
value (NaN, None, NA) is pandas' ``na_rep`` ``""``, quoted. A column of any other kind (float32,
dates, categories, mixed objects) or a repeated or non-text header sends the whole frame to pandas'
own writer, so the result never differs (tests/test_csv_text.py compares both on awkward frames).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa

EMPTY = '""'  # pandas' na_rep '' is text, so QUOTE_NONNUMERIC quotes it


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _by_value(values, render) -> pa.Array:
    """``render`` (a function of a list of distinct values to their texts) applied once per
    distinct value, spread back over the rows; a missing value (code -1) is ``""``."""
    codes, uniques = pd.factorize(values)
    texts = pa.array(render(list(uniques)) + [EMPTY], type=pa.large_string())
    return texts.take(pa.array(np.where(codes < 0, len(uniques), codes)))


def _float_texts(bits: list) -> list[str]:
    """Floats keyed by their bit patterns (so -0.0 keeps its sign) to ``repr``; NaN to ``""``."""
    values = np.array(bits, dtype=np.int64).view(np.float64)
    texts = list(map(repr, values.tolist()))
    for i in np.flatnonzero(np.isnan(values)).tolist():
        texts[i] = EMPTY
    return texts


def _float_fields(values: np.ndarray) -> pa.Array:
    """Each float's field text: ``repr``, formatted once per distinct bit pattern.

    Arrow's cast to text gives the same shortest round-trip digits as ``repr`` three times faster
    (lat, lon and the predicted rates of 44,270 cells are all distinct: 0.02 s a column with
    ``repr``); it is taken only where ``repr`` itself writes plain decimals (1e-4 <= |x| < 1e16) and
    Arrow's text has a point and no exponent, so the two formats cannot differ. Every other value
    (0.0, -0.0, integers such as 3.0, tiny p-values, NaN) goes through ``repr``. tests/test_csv_text.py
    compares the two on millions of values of every magnitude."""
    import pyarrow.compute as pc

    codes, uniques = pd.factorize(values.view(np.int64))
    floats = np.asarray(uniques, dtype=np.int64).view(np.float64)
    if len(floats) < 64:  # a few distinct values: repr is as quick
        return pa.array(_float_texts(list(uniques)), type=pa.large_string()).take(pa.array(codes))
    text = pc.cast(pa.array(floats), pa.large_string())
    with np.errstate(invalid="ignore"):
        size = np.abs(floats)
        plain = (size >= 1e-4) & (size < 1e16)
    plain &= pc.match_substring(text, ".").to_numpy(zero_copy_only=False)
    plain &= ~pc.match_substring(text, "e").to_numpy(zero_copy_only=False)
    other = np.flatnonzero(~plain)
    if other.size:
        fixed = pa.array(_float_texts(list(np.asarray(uniques)[other])), type=pa.large_string())
        text = pc.replace_with_mask(text, pa.array(~plain), fixed)
    return text.take(pa.array(codes))


def _text_fields(text: pa.Array) -> pa.Array:
    """Text (large_string, nulls for missing) quoted, inner quotes doubled, in Arrow's kernels (a
    column of 44,270 hexagon WKTs is 13 MB: hashing it for distinct values would cost more than
    quoting it)."""
    import pyarrow.compute as pc

    if _may_hold_quote(text):
        text = pc.replace_substring(text, '"', '""')
    quote, nothing = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
    return pc.fill_null(pc.binary_join_element_wise(quote, text, quote, nothing), EMPTY)


def _may_hold_quote(text: pa.Array) -> bool:
    """Whether a quote byte is in the text's data buffer (a sliced array may over-report, which only
    costs a replacement that changes nothing). Scanned a megabyte at a time: Arrow's substring match
    took 18 ms on the 13 MB WKT column, with a fresh boolean per row; this takes 1.3 ms."""
    data = text.buffers()[2]
    if data is None:
        return False
    raw = np.frombuffer(data, dtype=np.uint8)
    step = 1 << 20
    return any(bool((raw[start:start + step] == 34).any()) for start in range(0, raw.size, step))


def _column_text(series: pd.Series) -> pa.Array | None:
    """Each row's field text for one column, or None when the column is not one of the kinds
    handled here (the caller then leaves the whole frame to pandas)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return None
    if dtype == np.float64:  # float32 is written by its own shortest repr: left to pandas
        return _float_fields(series.to_numpy(dtype=np.float64))
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        return _by_value(series.array, lambda vs: [str(v) for v in vs])
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        # Already Arrow text (pandas 3's str): its buffers as they are, no Python string per row.
        text = pa.array(series.array)
        text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
        return _text_fields(text.cast(pa.large_string()))
    if pd.api.types.is_string_dtype(dtype) or getattr(dtype, "kind", "") == "O":
        values = series.to_numpy(dtype=object, na_value=None)
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            return None
        return _text_fields(pa.array(values, type=pa.large_string(), from_pandas=True))
    return None


#: Rows joined and written at a time: built whole as one string and encoded, the 29 MB cells file
#: raised the `hotspots` process's peak to 503 MB (385-417 MB written in chunks; 366-372 MB before).
CHUNK_ROWS = 16_384


def _field_columns(frame: pd.DataFrame) -> list[pa.Array] | None:
    """Each column's field text (large_string), or None when a column or header is of a kind this
    writer leaves to pandas."""
    names = list(frame.columns)
    if not names or len(set(names)) < len(names) or not all(isinstance(c, str) for c in names):
        return None  # no columns, a repeated name or a non-text one: pandas' own writer
    columns = []
    for name in names:
        text = _column_text(frame[name])
        if text is None:
            return None
        columns.append(text)
    return columns


def _write_rows(columns: list[pa.Array], handle: BinaryIO) -> None:
    """The rows, CHUNK_ROWS at a time, straight from Arrow's buffers: each row's last field gets
    its line feed, the fields are joined with commas, and the joined rows' data buffer (between the
    first and last offsets) is the chunk's bytes, with no Python string per row."""
    import pyarrow.compute as pc

    comma, newline, nothing = (pa.scalar(t, pa.large_string()) for t in (",", "\n", ""))
    for start in range(0, len(columns[0]), CHUNK_ROWS):
        part = [c.slice(start, CHUNK_ROWS) for c in columns]
        part[-1] = pc.binary_join_element_wise(part[-1], nothing, newline)  # last field, "\n", ""
        lines = pc.binary_join_element_wise(*part, comma)
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
        handle.write(memoryview(lines.buffers()[2])[int(offsets[0]):int(offsets[-1])])


def _write_fields(frame: pd.DataFrame, handle: BinaryIO) -> bool:
    columns = _field_columns(frame)
    if columns is None:
        return False
    handle.write((",".join(_quoted(c) for c in frame.columns) + "\n").encode("utf-8"))
    if len(frame):
        _write_rows(columns, handle)
    return True


def csv_text(frame: pd.DataFrame) -> str | None:
    """The CSV text pandas would write for ``frame`` (see the module docstring), or None when a
    column or header is of a kind this writer leaves to pandas."""
    buffer = io.BytesIO()
    return buffer.getvalue().decode("utf-8") if _write_fields(frame, buffer) else None


def write_csv(frame: pd.DataFrame, path: Path | str) -> None:
    """``frame`` as CSV at ``path``, every text field quoted, numbers bare (see the module docstring)."""
    with open(path, "wb") as handle:
        if _write_fields(frame, handle):
            return
    frame.to_csv(path, index=False, encoding="utf-8", quoting=csv.QUOTE_NONNUMERIC)


__all__ = ["csv_text", "write_csv"]
