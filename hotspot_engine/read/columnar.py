"""Parquet files to a RawTable.

Parquet carries types, so a column may arrive as dates (date32), times, binary or text that is not
valid UTF-8 (Parquet does not enforce it). Each is turned into what the parsers expect or refused
naming the column: issue 20 found a date32 column giving a TypeError and invalid UTF-8 a
UnicodeDecodeError, both internal errors instead of one line naming the file.
"""
from __future__ import annotations

import numpy as np

from hotspot_engine.errors import InputError
from hotspot_engine.read.limits import DEFAULT_LIMITS, Limits, check_ratio, too_big
from hotspot_engine.read.raw import RawTable, _check_header, _empty_rejects


def _check_footer(meta, size: int, name: str, limits: Limits) -> None:
    """Refuse from the footer alone: too many rows or cells, too big unpacked, a bomb's ratio, or one
    row group too big to hold (issue 25: a 30 KB file holding one 900 MB string peaked at 4.85 GB)."""
    if meta.num_columns > limits.max_columns:
        raise InputError(f"{name}: {meta.num_columns:,} columns, over the {limits.max_columns:,} limit")
    if meta.num_rows > limits.max_whole_file_rows:  # a Parquet file is read whole
        raise InputError(f"{name}: {meta.num_rows:,} rows, over the {limits.max_whole_file_rows:,}-row limit for a "
                         "file read whole; split it or load it as CSV, which streams")
    cells = meta.num_rows * max(meta.num_columns, 1)
    if cells > limits.max_parquet_cells:
        raise InputError(f"{name}: {meta.num_rows:,} rows x {meta.num_columns:,} columns is over the "
                         f"{limits.max_parquet_cells:,}-cell limit; split the file")
    groups = [meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)]
    unpacked = sum(groups)
    if unpacked > limits.max_file_bytes:
        raise InputError(f"{name}: decompresses to {unpacked / 1e6:,.1f} MB, over the "
                         f"{limits.max_file_bytes / 1e6:,.1f} MB limit; split the file")
    check_ratio(name, unpacked, size, limits)
    if groups and max(groups) > limits.max_row_group_bytes:
        raise too_big(name, max(groups), limits.max_row_group_bytes, "one row group unpacks to")


def _check_fields(table, name: str, limits: Limits, first_row: int) -> None:
    """Refuse a text or binary value over the field limit, naming its row and column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, column in enumerate(table.columns):
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind)
                or pa.types.is_large_binary(kind)):
            continue
        lengths = pc.binary_length(column.cast(kind) if kind is not column.type else column)
        longest = pc.max(lengths).as_py() or 0
        if longest > limits.max_field_bytes:
            row = int(pc.index(lengths, longest).as_py())
            raise InputError(f"{name}: row {first_row + row:,}, column '{table.column_names[i]}': a value of "
                             f"{longest / 1e6:,.1f} MB is over the {limits.max_field_bytes / 1e6:,.1f} MB limit")


def _open(data: bytes, name: str, limits: Limits):
    """The Parquet table, read row group by row group after its footer is checked against the limits."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        _check_footer(parquet.metadata, len(data), name, limits)
        groups, first_row = [], 2
        for i in range(parquet.num_row_groups):
            group = parquet.read_row_group(i)
            _check_fields(group, name, limits, first_row)
            first_row += group.num_rows
            groups.append(group)
        return pa.concat_tables(groups) if groups else parquet.schema_arrow.empty_table()
    except (pa.ArrowException, OSError):
        raise InputError(f"{name}: cannot read as Parquet (the file is damaged or was not written as Parquet)") from None


def _plain_column(column, label: str, name: str):
    """One column as pandas understands it: dates and times as text the date parser reads, text
    checked as UTF-8."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_date(kind) or pa.types.is_time(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) \
            or pa.types.is_large_binary(kind):
        as_binary = column.cast(pa.large_binary())
        try:
            return as_binary.cast(pa.large_string())  # a safe cast: checks every value is UTF-8
        except pa.ArrowInvalid:
            row = next(i for i, v in enumerate(as_binary.to_pylist()) if v is not None and not _is_utf8(v))
            raise InputError(f"{name}: row {row + 2:,}, column '{label}': text that is not valid UTF-8") from None
    return column


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_parquet(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    import pyarrow as pa

    table = _open(data, name, limits)
    names = [str(n) for n in table.column_names]
    _check_header(names, name)
    if table.num_rows == 0:
        raise InputError(f"{name}: header only, no data rows")
    columns = [_plain_column(table.column(i), names[i], name) for i in range(len(names))]
    try:
        frame = pa.table(columns, names=[f"c{i}" for i in range(len(names))]).to_pandas()
    except (pa.ArrowException, UnicodeDecodeError, TypeError, ValueError) as exc:
        raise InputError(f"{name}: cannot turn the Parquet columns into a table ({type(exc).__name__})") from None
    frame.columns = names
    return RawTable(frame.reset_index(drop=True), np.arange(2, len(frame) + 2), _empty_rejects())
