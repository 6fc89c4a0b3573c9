"""Big force-extract CSVs are stored block by block (loading._load_streamed -> store.store_stream):
the result must be the one the whole-file path gives, with the same accounting of every row."""
from __future__ import annotations

import pandas as pd
import pytest

from hotspot_engine.read import incidents, ingest, loading, streaming
from hotspot_engine.store import database as store

# Points well inside Southampton and Portsmouth (district interiors, see geodata/).
PLACES = [(50.9097, -1.4044), (50.8198, -1.0880), (50.9250, -1.3900)]


def _csv(path, n: int, extra: list[str] | None = None, start: int = 0) -> None:
    lines = ["incident_id,occurred_at,lat,lon,ho_code,offence,knife_flag,location"]
    for k in range(start, start + n):
        lat, lon = PLACES[k % len(PLACES)]
        day = 1 + k % 28
        lines.append(f"INC-{k:06d},2023-05-{day:02d}T21:{k % 60:02d}:00,{lat + (k % 7) * 1e-4:.6f},{lon:.6f},"
                     f"{'34B' if k % 3 else '8N'},{'Robbery of personal property' if k % 3 else 'Assault'},"
                     f"{'Y' if k % 5 == 0 else 'N'},On or near High Street")
    lines += extra or []
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _table(con) -> pd.DataFrame:
    return con.execute(
        "SELECT incident_id, month, occurred_at, lat, lon, offence_group, sv_category, district, knife_flag, "
        "h3_r9, h3_r11 FROM incidents ORDER BY incident_id").df()


@pytest.fixture
def streamed(monkeypatch):
    """Every file streams, in blocks of 7 rows, so a small file crosses many block boundaries."""
    monkeypatch.setattr(ingest, "STREAM_BYTES", 1)
    monkeypatch.setattr(streaming, "STREAM_BLOCK_ROWS", 7)
    real = streaming._load_streamed
    calls = []

    def spy(*args, **kwargs):
        kwargs["block_rows"] = 7
        result = real(*args, **kwargs)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(ingest, "_load_streamed", spy)
    return calls


def test_streamed_load_equals_whole_file_load(tmp_path, streamed):
    # A repeated id inside the file (rows 3 and 40: different blocks) and a row outside the area.
    _csv(tmp_path / "inc.csv", 60, extra=["INC-000003,2023-06-01T10:00:00,50.9,-1.4,34B,Robbery,N,x",
                                          "OUT-1,2023-06-01T10:00:00,52.5,-1.9,34B,Robbery,N,Birmingham"])
    con_stream = store.connect(":memory:")
    [got] = loading.ingest_paths(con_stream, [tmp_path / "inc.csv"])
    assert streamed == [True]
    streamed.clear()
    ingest.STREAM_BYTES = 1 << 40  # the whole-file path for the reference
    con_whole = store.connect(":memory:")
    [want] = loading.ingest_paths(con_whole, [tmp_path / "inc.csv"])
    assert streamed == []
    assert (got.rows_read, got.added, got.already_present, got.rejected) == (62, 60, 1, 1)
    assert (got.rows_read, got.added, got.already_present, got.rejected, got.reject_reasons) == (
        want.rows_read, want.added, want.already_present, want.rejected, want.reject_reasons)
    assert got.notes == want.notes  # block notes merged into the whole file's (counts summed)
    pd.testing.assert_frame_equal(_table(con_stream), _table(con_whole))
    # The first of a repeated id wins, as in the whole-file path.
    first = con_stream.execute("SELECT lat FROM incidents WHERE incident_id = 'INC-000003'").fetchall()
    assert first == [(pytest.approx(PLACES[0][0] + 3 * 1e-4),)]
    rejects = con_stream.execute('SELECT "row", reason FROM rejects').fetchall()
    assert rejects == [(63, "outside area")]  # row numbers count from the header (= 1) across blocks


def test_streamed_reload_adds_nothing_and_appends_new_rows(tmp_path, streamed):
    con = store.connect(":memory:")
    _csv(tmp_path / "a.csv", 30)
    _csv(tmp_path / "b.csv", 30, start=20)  # 10 rows already stored, 20 new
    first = loading.ingest_paths(con, [tmp_path / "a.csv"])[0]
    again = loading.ingest_paths(con, [tmp_path / "a.csv"])[0]
    more = loading.ingest_paths(con, [tmp_path / "b.csv"])[0]
    assert (first.added, again.added, again.already_present) == (30, 0, 30)
    assert (more.added, more.already_present) == (20, 10)
    assert store.table_count(con, "incidents") == 50
    loads = con.execute("SELECT rows_read, added, already_present FROM loads ORDER BY load_id").fetchall()
    assert loads == [(30, 30, 0), (30, 0, 30), (30, 20, 10)]


def test_malformed_big_file_falls_back_to_the_exact_reader(tmp_path, streamed):
    _csv(tmp_path / "bad.csv", 20, extra=["INC-X,2023-06-01T10:00:00,50.9"])  # too few fields
    con = store.connect(":memory:")
    [summary] = loading.ingest_paths(con, [tmp_path / "bad.csv"])
    assert streamed == [False]
    assert (summary.added, summary.rejected) == (20, 1)
    assert con.execute('SELECT "row", reason FROM rejects').fetchall() == [(22, "wrong number of fields")]
    assert con.execute("SELECT count(*) FROM loads").fetchall() == [(1,)]  # the abandoned stream left nothing


def test_failure_in_a_later_block_leaves_the_store_unchanged(tmp_path, streamed, monkeypatch):
    _csv(tmp_path / "inc.csv", 40)
    con = store.connect(":memory:")
    real = incidents._parse_force
    seen = []

    def fail_third(*args, **kwargs):
        seen.append(1)
        if len(seen) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(streaming, "_parse_force", fail_third)
    with pytest.raises(RuntimeError, match="disk full"):
        loading.ingest_paths(con, [tmp_path / "inc.csv"])
    assert store.table_count(con, "incidents") == 0
    assert store.table_count(con, "loads") == 0


def test_merge_notes_sums_counts_and_keeps_labels():
    merged = store._merge_notes([
        ["columns used: id <- 'x'", "occurred_at: read as ISO 8601 (YYYY-MM-DD) for 1,000 rows",
         "district check against LSOA name: 10 of 1,000 rows differ (1.00%)"],
        ["columns used: id <- 'x'", "occurred_at: read as ISO 8601 (YYYY-MM-DD) for 500 rows",
         "district check against LSOA name: 20 of 1,000 rows differ (2.00%)", "3 rows had latitude and longitude swapped"],
    ])
    assert merged == ["columns used: id <- 'x'", "occurred_at: read as ISO 8601 (YYYY-MM-DD) for 1,500 rows",
                      "district check against LSOA name: 30 of 2,000 rows differ (1.50%)",
                      "3 rows had latitude and longitude swapped"]


def test_patrols_without_coordinates_have_no_cell(tmp_path):
    """A patrol logged against a hotspot id only is stored with NULL cells, not cell 0."""
    (tmp_path / "p.csv").write_text(
        "patrol_id,start,end,hotspot_id,lat,lon\n"
        "P1,2023-05-01T20:00:00,2023-05-01T20:15:00,HS01,,\n"
        "P2,2023-05-01T21:00:00,2023-05-01T21:15:00,,50.9097,-1.4044\n", encoding="utf-8")
    con = store.connect(":memory:")
    loading.ingest_paths(con, [tmp_path / "p.csv"])
    rows = con.execute("SELECT patrol_id, h3_r9, h3_r11 FROM patrols ORDER BY 1").fetchall()
    assert rows[0] == ("P1", None, None)
    import h3

    assert rows[1][1] == h3.str_to_int(h3.latlng_to_cell(50.9097, -1.4044, 9))
    assert rows[1][2] == h3.str_to_int(h3.latlng_to_cell(50.9097, -1.4044, 11))


def test_every_stored_cell_is_the_cell_that_holds_the_point(tmp_path):
    """Not the parent of the finest cell: H3 cells do not nest exactly, and for 5-7% of points the
    parent of the res-11 cell is a neighbour of the res-9 cell that holds the point."""
    import h3

    _csv(tmp_path / "inc.csv", 400)
    con = store.connect(":memory:")
    loading.ingest_paths(con, [tmp_path / "inc.csv"])
    rows = con.execute("SELECT lat, lon, h3_r7, h3_r8, h3_r9, h3_r10, h3_r11 FROM incidents").fetchall()
    for lat, lon, *cells in rows:
        assert cells == [h3.str_to_int(h3.latlng_to_cell(lat, lon, res)) for res in range(7, 12)]


def test_export_parquet_partitions_by_year_with_every_cell(tmp_path):
    import pyarrow.dataset as ds

    _csv(tmp_path / "inc.csv", 12)
    con = store.connect(":memory:")
    loading.ingest_paths(con, [tmp_path / "inc.csv"])
    out = store.export_parquet(con, tmp_path / "parquet")
    table = ds.dataset(out, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 12
    assert [p.name for p in sorted(out.iterdir())] == ["year=2023"]
    stored = con.execute("SELECT incident_id, h3_r7, h3_r9 FROM incidents ORDER BY 1").fetchall()
    frame = table.to_pandas().sort_values("incident_id")
    assert list(zip(frame["incident_id"], frame["h3_r7"].astype(int), frame["h3_r9"].astype(int))) == stored


def test_police_uk_streams_and_equals_the_whole_file_load(tmp_path, streamed):
    """Issue 25/29: police.uk files stream too. Identical anti-social behaviour rows (no Crime ID)
    straddle block boundaries and must keep their distinct ids; a month out of range is a rejected row."""
    head = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
            "Last outcome category,Context")
    lines = [head]
    for k in range(40):
        lat, lon = PLACES[k % len(PLACES)]
        crime_id = "" if k % 2 else f"id{k:04d}"  # every other row is anti-social behaviour (no id)
        kind = "Anti-social behaviour" if k % 2 else "Robbery"
        lon_text = f"{lon:.6f}" if k % 4 == 1 else f"{lon + 1e-4:.6f}"  # k % 4 == 1 rows are identical
        lines.append(f"{crime_id},2024-0{1 + k % 3},Hampshire Constabulary,Hampshire Constabulary,{lon_text},"
                     f"{lat:.6f},On or near High Street,E01017140,Southampton 001A,{kind},,")
    lines.append("x9,9999-12,Hampshire Constabulary,Hampshire Constabulary,-1.4044,50.9097,On or near X,E01017140,"
                 "Southampton 001A,Robbery,,")
    (tmp_path / "street.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    con_stream = store.connect(":memory:")
    [got] = loading.ingest_paths(con_stream, [tmp_path / "street.csv"])
    assert streamed == [True] and got.format == "police-uk"
    streamed.clear()
    ingest.STREAM_BYTES = 1 << 40
    con_whole = store.connect(":memory:")
    [want] = loading.ingest_paths(con_whole, [tmp_path / "street.csv"])
    assert streamed == []
    assert (got.rows_read, got.added, got.rejected, got.reject_reasons) == (41, 40, 1, {"bad month": 1})
    assert (got.rows_read, got.added, got.already_present, got.rejected) == (
        want.rows_read, want.added, want.already_present, want.rejected)
    assert got.notes == want.notes
    pd.testing.assert_frame_equal(_table(con_stream), _table(con_whole))


def test_occurrences_count_repeats_across_blocks_as_in_one_pass():
    """The compact occurrence counter (sorted uint64 digests, 16 bytes a row instead of a dict of hex
    strings) gives each digest the number of times it occurred in earlier blocks."""
    import numpy as np

    from hotspot_engine.read.cells import Occurrences

    rng = np.random.default_rng(3)
    digests = rng.integers(0, 40, 1000).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # repeats, high bits set
    counter, got = Occurrences(), []
    for block in np.array_split(digests, [0, 1, 7, 300, 301, 650]):
        within = pd.Series(block).groupby(block).cumcount().to_numpy()
        got.append(within + counter.take(block))
    want = pd.Series(digests).groupby(digests).cumcount().to_numpy()
    assert np.array_equal(np.concatenate(got), want)
    assert counter.counts.sum() == digests.size and bool(np.all(counter.keys[1:] > counter.keys[:-1]))


def test_a_line_longer_than_two_read_blocks_still_streams(tmp_path, streamed, monkeypatch):
    """pyarrow reads 4 MB at a time (16 MB held 450-490 MB read ahead); a line over two blocks (it
    "straddles two block boundaries") makes the file stream again with blocks that hold any line the
    limits allow, leaving nothing of the first attempt."""
    monkeypatch.setattr(streaming, "READ_BLOCK_BYTES", 1024)
    long_location = "On or near" + " Long Street" * 400  # about 4,800 bytes: over two blocks
    _csv(tmp_path / "long.csv", 30, extra=[f"INC-L,2023-06-01T10:00:00,50.9097,-1.4044,34B,Robbery,N,{long_location}"])
    con = store.connect(":memory:")
    [summary] = loading.ingest_paths(con, [tmp_path / "long.csv"])
    assert streamed == [True]
    assert (summary.rows_read, summary.added, summary.rejected) == (31, 31, 0)
    assert con.execute("SELECT count(*) FROM loads").fetchall() == [(1,)]
    assert con.execute("SELECT location FROM incidents WHERE incident_id = 'INC-L'").fetchall() == [(long_location,)]


def test_duckdb_memory_is_held_while_a_police_uk_file_streams_into_a_store_on_disk(tmp_path, streamed, monkeypatch):
    """DuckDB kept a streamed file's uncommitted rows in memory (357 MB of a 1.05 GB police.uk file's
    1,121 MB peak); held to 256 MB during the load it writes them out, and its default comes back."""
    seen = []
    real = store.store_stream

    def spy(con, *args, **kwargs):
        seen.append(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        return real(con, *args, **kwargs)

    monkeypatch.setattr(store, "store_stream", spy)
    head = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
    rows = [f"id{k},2024-01,Hampshire Constabulary,Hampshire Constabulary,-1.4044,50.9097,On or near X,E01017140,"
            f"Southampton 001A,Robbery,," for k in range(20)]
    (tmp_path / "street.csv").write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    con = store.connect(tmp_path / "store.duckdb")
    default = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    [summary] = loading.ingest_paths(con, [tmp_path / "street.csv"])
    assert summary.added == 20 and streamed == [True]
    assert seen == ["244.1 MiB"]
    assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == default
    con.close()


def test_a_line_over_the_limit_is_not_streamed_again_but_left_to_the_whole_file_reader(tmp_path, streamed, monkeypatch):
    """Streaming again with bigger blocks read 200 MB ahead into a 200 MB line (+170 MB peak): a line
    over the limit goes straight to the whole-file reader (which refuses what it must)."""
    from hotspot_engine.read.limits import Limits

    monkeypatch.setattr(streaming, "READ_BLOCK_BYTES", 512)
    attempts = []
    real = streaming._stream_blocks
    monkeypatch.setattr(streaming, "_stream_blocks", lambda *a, **k: attempts.append(1) or real(*a, **k))
    _csv(tmp_path / "long.csv", 10, extra=[f"INC-L,2023-06-01T10:00:00,50.9097,-1.4044,34B,Robbery,N,{'x' * 3000}"])
    [summary] = loading.ingest_paths(store.connect(":memory:"), [tmp_path / "long.csv"], limits=Limits(max_line_bytes=2000))
    assert streamed == [False] and len(attempts) == 1 and summary.added == 11
    [again] = loading.ingest_paths(store.connect(":memory:"), [tmp_path / "long.csv"], limits=Limits(max_line_bytes=4000))
    assert streamed == [False, True] and len(attempts) == 3 and again.added == 11  # within the limit: streamed again
