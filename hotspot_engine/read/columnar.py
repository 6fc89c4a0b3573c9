"""Parquet files to a RawTable.
"""
from __future__ import annotations

import numpy as np

from hotspot_engine.errors import InputError
from hotspot_engine.read.raw import RawTable, _check_header, _empty_rejects


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
