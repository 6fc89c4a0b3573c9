"""The raw table every reader returns (cells as read plus file line numbers) and the header checks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError


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
