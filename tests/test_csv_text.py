"""The fast CSV writer (write/csv_text.py) writes the same bytes as pandas' QUOTE_NONNUMERIC writer,
which it replaced for export layers."""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.write.csv_text import csv_text, write_csv


def pandas_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_NONNUMERIC)
    return buffer.getvalue()


def written(frame: pd.DataFrame, tmp_path) -> str:
    path = tmp_path / "out.csv"
    write_csv(frame, path)
    return path.read_bytes().decode("utf-8")


def awkward() -> pd.DataFrame:
    """Every kind of column an export layer holds, with the values that trip writers up."""
    n = 9
    return pd.DataFrame({
        "float": [1.5, -0.0, np.nan, 1e-5, 1e16, float("inf"), 2.2250738585072014e-308, 0.1, 3.0],
        "same_float": [0.0] * 4 + [1.0] * 5,
        "nullable_int": pd.array([1, None, 3, 4, 5, 6, 7, 8, -9], dtype="Int64"),
        "uint64": np.array([1, 2, 3, 4, 5, 6, 7, 8, 2**64 - 1], dtype=np.uint64),
        "int8": np.arange(n, dtype=np.int8) - 4,
        "bool": [True, False] * 4 + [True],
        "nullable_bool": pd.array([True, None, False] * 3, dtype="boolean"),
        "text": ['say "hi"', "a,b", "two\nlines", None, "", "'=1+2", "é ü", "cr\rhere", np.nan],
        "str_dtype": pd.Series(["x", None, "z", "POLYGON ((1 2, 3 4))", "b", "c", "d", "e", "f"], dtype="str"),
        "all_missing": [None] * n,
    })


def test_same_bytes_as_pandas_on_awkward_columns(tmp_path):
    frame = awkward()
    assert csv_text(frame) is not None  # every column here takes the fast path
    assert written(frame, tmp_path) == pandas_text(frame)


def test_rows_written_in_several_chunks_give_the_same_bytes(tmp_path, monkeypatch):
    from hotspot_engine.write import csv_text as module

    monkeypatch.setattr(module, "CHUNK_ROWS", 2)  # 9 rows: five chunks, the last of one row
    frame = awkward()
    assert written(frame, tmp_path) == pandas_text(frame)


@pytest.mark.parametrize("where", [0, 30_000, 59_999])
def test_a_quote_anywhere_in_megabytes_of_text_is_doubled_as_pandas_does(tmp_path, where):
    """The quote check scans the text a megabyte at a time: a quote in the first, a middle or the
    last value of 2.4 MB of WKT-like text (and in a str column sliced from a longer one) is found."""
    texts = [f"POLYGON (({k}.5 50.{k}, 1 2))" * 1 for k in range(60_000)]
    texts[where] = texts[where][:9] + '"' + texts[where][9:]
    frame = pd.DataFrame({"n": np.arange(60_000), "wkt": texts,
                          "sliced": pd.Series(["x"] + texts, dtype="str").iloc[1:].reset_index(drop=True)})
    assert written(frame, tmp_path) == pandas_text(frame)


def test_same_bytes_for_an_empty_frame_and_a_single_column(tmp_path):
    frame = awkward()
    assert written(frame.iloc[:0], tmp_path) == pandas_text(frame.iloc[:0])
    assert written(frame[["text"]], tmp_path) == pandas_text(frame[["text"]])


@pytest.mark.parametrize("column", [
    np.array([0.1, 0.2], dtype=np.float32),  # its own shortest repr
    pd.to_datetime(["2024-01-01", "2024-02-01"]),
    pd.Categorical(["a", "b"]),
    [1.5, "mixed"],
])
def test_other_columns_go_to_pandas_and_give_its_bytes(tmp_path, column):
    frame = pd.DataFrame({"a": ["x", "y"], "b": column})
    assert csv_text(frame) is None
    assert written(frame, tmp_path) == pandas_text(frame)


def test_repeated_column_names_go_to_pandas(tmp_path):
    frame = pd.DataFrame([[1.5, "a"], [2.0, "b"]], columns=["x", "x"])
    assert csv_text(frame) is None
    assert written(frame, tmp_path) == pandas_text(frame)


@pytest.mark.slow  # writes the sample's cells layer both ways (3.5 s)
def test_same_bytes_as_pandas_on_a_hotspot_cells_layer(tmp_path, sample_store):
    """The layer `hotspots --out x.csv` writes (WKT hexagons, p-values, names), as it was written
    before the fast writer."""
    from hotspot_engine import service
    from hotspot_engine.analyse.hotspots import HotspotParams
    from hotspot_engine.filters import Filters
    from hotspot_engine.write import export
    from hotspot_engine.write.files import _csv_frame
    from hotspot_engine.write.spreadsheet import neutralise_formulas

    window = service.default_window(sample_store, Filters())
    result = service.hotspots(sample_store, window, HotspotParams())
    frame = neutralise_formulas(_csv_frame(export.cells_layer(result.cells)))
    assert len(frame) > 1000 and "geometry" in frame.columns
    assert csv_text(frame) is not None
    assert written(frame, tmp_path) == pandas_text(frame)
    # The CSV path's own layer (WKT without geopandas) gives the very same text.
    plain = neutralise_formulas(_csv_frame(export.cells_wkt_layer(result.cells)))
    assert written(plain, tmp_path) == pandas_text(frame)


def test_many_distinct_floats_of_every_magnitude_give_pandas_bytes(tmp_path):
    """Columns of many distinct floats take Arrow's shortest digits where repr writes plain decimals
    (write/csv_text._float_fields): the text must still be repr's, at every magnitude and sign."""
    rng = np.random.default_rng(24)
    n = 40_000
    columns = {
        "unit": rng.random(n),
        "coordinates": rng.uniform(-180, 180, n),
        "spread": np.exp(rng.uniform(-30, 45, n)) * rng.choice([-1.0, 1.0], n),  # 1e-13 to 1e19
        "edges": np.concatenate([np.repeat([1e-4, 9.999999999999999e-05, 1e16, 9999999999999998.0, 0.0, -0.0, 3.0,
                                           np.nan, np.inf, -np.inf, 5e-324, 123456789.125], 10),
                                 rng.integers(0, 10**6, n - 120).astype(float) / 8]),
        "bits": rng.integers(0, 2**63, n, dtype=np.int64).view(np.float64),  # any double at all
    }
    frame = pd.DataFrame(columns)
    assert written(frame, tmp_path) == pandas_text(frame)
