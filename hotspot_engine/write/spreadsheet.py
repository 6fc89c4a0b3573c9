"""Spreadsheet safety (OWASP "CSV Injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return is run as a formula by Excel, LibreOffice and Google Sheets. In CSV and XLSX
output (and every other CSV the engine writes) such cells get a leading single quote, the
mitigation OWASP recommends; the quote stays visible, so nothing is silently changed. Numeric
columns are never touched: a negative number in a number column is a number, not text.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# The cell starts a spreadsheet runs as a formula: one list with the loader (read/cells.py).
from hotspot_engine.render.text_safety import FORMULA_PREFIXES


def _is_text_column(series: pd.Series) -> bool:
    return (
        pd.api.types.is_string_dtype(series.dtype)
        or series.dtype == object
        or isinstance(series.dtype, pd.CategoricalDtype)
    ) and not pd.api.types.is_bool_dtype(series.dtype)


def _hostile_texts(values: np.ndarray) -> np.ndarray:
    """Which values are text starting as a formula. Columns of text and None only (the names and
    ids of a hotspot cells layer) are tested in Arrow: a generator over 44,270 cells x 3 columns
    took 0.03-0.05 s of `hotspots --out x.csv`; anything else (numbers, bytes) stays per value."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        import pyarrow as pa
        import pyarrow.compute as pc

        text = pa.array(values, type=pa.string(), from_pandas=True)
        found = pa.array(np.zeros(len(values), dtype=bool))
        for prefix in FORMULA_PREFIXES:
            found = pc.or_(found, pc.starts_with(text, prefix))
        return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    return np.fromiter((isinstance(v, str) and v.startswith(FORMULA_PREFIXES) for v in values), dtype=bool, count=len(values))


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` in which every text cell and column name that a spreadsheet would run as a
    formula (it starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets a leading single quote.

    Only text columns are touched; numbers stay numbers (a column of negative numbers is not text).
    The quote is the OWASP-recommended mitigation and stays visible, so a reader sees that the value
    was neutralised rather than a silently different value.
    """
    # Headers too: a partner layer named '=WEBSERVICE(...)' made the header '=WEBSERVICE(...)_count',
    # which the XLSX writer stored as a real formula (issue 25).
    out = frame.rename(columns=lambda c: "'" + c if isinstance(c, str) and c.startswith(FORMULA_PREFIXES) else c)
    for name in out.columns:
        column = out[name]
        if not _is_text_column(column):
            continue
        if pd.api.types.is_string_dtype(column.dtype) and not isinstance(column.dtype, pd.CategoricalDtype) and column.dtype != object:
            # A pandas string column: vectorised (a million cells in well under a second).
            hostile = column.str.startswith(FORMULA_PREFIXES, na=False)
            if hostile.any():
                out[name] = column.mask(hostile, "'" + column)
            continue
        values = column.astype(object).to_numpy(dtype=object, na_value=None)
        hostile = _hostile_texts(values)
        if hostile.any():
            values = values.copy()
            values[hostile] = ["'" + v for v in values[hostile]]
            out[name] = pd.Series(values, index=out.index, dtype=object)
    return out


__all__ = ["FORMULA_PREFIXES", "neutralise_formulas"]
