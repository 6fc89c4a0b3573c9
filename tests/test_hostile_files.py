"""Hostile and malformed files from issue 25: each is refused with one line naming the file (exit 2)
or has its bad rows rejected, never an internal error (exit 1) and never an unbounded read.
benchmarks/bench_hostile_inputs.py times the big versions and measures their memory."""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.__main__ import main as cli_main
from hotspot_engine.errors import InputError
from hotspot_engine.read import loading
from hotspot_engine.store import database as store

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
          "Last outcome category,Context")


def _street_row(month: str, k: int = 0) -> str:
    return (f"id{k},{month},Hampshire Constabulary,Hampshire Constabulary,-1.404400,50.909700,On or near High Street,"
            "E01017140,Southampton 001A,Robbery,,")


def _ingest(path, **kwargs):
    return loading.ingest_paths(store.connect(":memory:"), [path], **kwargs)


@pytest.mark.parametrize("month", ["9999-12", "2263-01", "0001-01"])
def test_police_uk_months_out_of_range_are_rejected_rows(tmp_path, month):
    path = tmp_path / "street.csv"
    path.write_text("\n".join([HEADER, _street_row(month, 1), _street_row("2024-01", 2)]) + "\n")
    [summary] = _ingest(path)
    assert (summary.added, summary.rejected, summary.reject_reasons) == (1, 1, {"bad month": 1})


@pytest.mark.parametrize("month", ["0001-01", "2300-01"])
def test_partner_area_months_out_of_range_are_rejected_rows(tmp_path, month):
    path = tmp_path / "areas.csv"
    path.write_text(f"lsoa_code,month,count\nE01017140,{month},3\nE01017140,2024-01,3\n")
    [summary] = _ingest(path)
    assert summary.rejected == 1 and summary.reject_reasons == {"bad month": 1}


@pytest.mark.parametrize("name, text", [
    ("street.csv", "\n".join([HEADER, _street_row("2024-01", 1), _street_row("9999-12", 2)]) + "\n"),
    ("areas.csv", "lsoa_code,month,count\nE01017140,2024-01,3\nE01017140,0001-01,3\n")])
def test_a_month_out_of_range_is_named_at_ingest_and_nothing_else_is_lost(tmp_path, capsys, name, text):
    """Issue 25 item 7 asked exit 2 for these; they are rejected rows instead, as 2100-01 always was: one
    summary line names the reason, the rejects table names row and column, and the good row loads
    (exit 2 would have refused the whole file for one cell). No traceback, no internal error."""
    import duckdb

    path, db = tmp_path / name, tmp_path / "s.duckdb"
    path.write_text(text)
    assert cli_main(["ingest", str(path), "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert f"{name} [" in out and "read 2, added 1, already present 0, rejected 1 (bad month: 1)" in out
    assert "Traceback" not in out + err
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute('SELECT "row", lower("column"), reason FROM rejects').fetchall() == [(3, "month", "bad month")]


def test_a_parquet_timestamp_in_9999_is_a_rejected_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    when = pa.array([dt.datetime(9999, 1, 1), dt.datetime(2024, 1, 1)], pa.timestamp("ms"))
    pq.write_table(pa.table({"incident_id": ["a", "b"], "occurred_at": when, "lat": [50.9097] * 2,
                             "lon": [-1.4044] * 2, "offence": ["Robbery"] * 2, "ho_code": ["34B"] * 2}),
                   tmp_path / "x.parquet")
    [summary] = _ingest(tmp_path / "x.parquet")
    assert (summary.added, summary.reject_reasons) == (1, {"bad date": 1})


def _refused(capsys, path, *extra, db=None) -> str:
    code = cli_main(["ingest", str(path), "--db", str(db or path.parent / "s.duckdb"), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, (code, err)
    assert str(path.parent) not in err[0]  # the file's name, never its server path
    return err[0]


def test_a_bare_carriage_return_in_the_header_exits_2(tmp_path, capsys):
    path = tmp_path / "cr.csv"
    path.write_bytes(HEADER.replace(",Month,", ",Mo\rnth,").encode() + b"\n" + _street_row("2024-01").encode())
    assert re.search(r"cr\.csv: row 1: .*bare carriage return", _refused(capsys, path))


def _workbook(rows: list[list]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rewrite(data: bytes, edit) -> bytes:
    """The workbook's zip with each (name, bytes) part passed through ``edit`` (None drops it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = edit(info.filename, src.read(info.filename))
            if part is not None:
                dst.writestr(part[0], part[1])
    return out.getvalue()


def test_a_workbook_with_no_sheets_exits_2(tmp_path, capsys):
    def drop_sheets(name, data):
        if name.startswith("xl/worksheets/"):
            return None
        if name == "xl/workbook.xml":
            data = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data, flags=re.S)
        return name, data

    path = tmp_path / "empty.xlsx"
    path.write_bytes(_rewrite(_workbook([["a", "b"]]), drop_sheets))
    assert _refused(capsys, path) == "error: empty.xlsx: the workbook has no sheets"


@pytest.mark.parametrize("part", ["sheet", "strings"])
def test_workbook_parts_are_checked_whatever_their_name(tmp_path, capsys, part):
    """A sheet stored as sheet1.bin, or shared strings as strings.bin, escaped the check (issue 25: a
    0.7 MB workbook took 6.1 GB); openpyxl follows the relationships, so it parsed them anyway."""
    rows = [["incident_id", "occurred_at", "lat", "lon", "offence"]]
    rows += [[f"I{k}", "2024-01-01", 50.9097, -1.4044, "Robbery"] for k in range(3)]
    padding = b"<!-- " + b"x" * (8 << 20) + b" -->"
    strings = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
               b"<si><t>Robbery</t></si>" + padding + b"</sst>")
    rel = (b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
           b'Target="strings.bin" Id="rId9" /></Relationships>')

    def hide(name, data):
        if part == "sheet" and name == "xl/worksheets/sheet1.xml":
            end = data.rindex(b"</")
            return "xl/worksheets/sheet1.bin", data[:end] + padding + data[end:]
        if part == "strings" and name == "xl/_rels/workbook.xml.rels":
            return name, data.replace(b"</Relationships>", rel)
        if part == "sheet":
            data = data.replace(b"sheet1.xml", b"sheet1.bin")
        return name, data

    data = _rewrite(_workbook(rows), hide)
    if part == "strings":
        out = io.BytesIO(data)
        with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as book:
            book.writestr("xl/strings.bin", strings)
        data = out.getvalue()
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    assert os.path.getsize(path) < 200_000
    assert re.search(r"bomb\.xlsx: part .*\.bin unpacks to .* decompression bomb", _refused(capsys, path))


def test_an_xlsx_month_typed_as_a_date_is_read(tmp_path):
    rows = [HEADER.split(",")]
    rows += [[f"id{m}", dt.datetime(2024, m, 1), "Hampshire Constabulary", "Hampshire Constabulary", -1.4044, 50.9097,
              "On or near High Street", "E01017140", "Southampton 001A", "Robbery", None, None] for m in (1, 2, 3)]
    path = tmp_path / "months.xlsx"
    path.write_bytes(_workbook(rows))
    [summary] = _ingest(path)
    assert (summary.format, summary.added, summary.rejected) == ("police-uk", 3, 0)


def test_a_parquet_bomb_and_a_huge_field_exit_2(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = {"incident_id": ["a", "b"], "occurred_at": ["2024-01-01"] * 2, "lat": [50.9] * 2, "lon": [-1.4] * 2}
    pq.write_table(pa.table({**base, "offence": ["x" * (20 << 20), "ok"]}), tmp_path / "bomb.parquet",
                   compression="zstd")
    assert "bomb.parquet: decompresses to" in _refused(capsys, tmp_path / "bomb.parquet")
    pq.write_table(pa.table({**base, "offence": ["y" * (2 << 20), "ok"]}), tmp_path / "field.parquet",
                   compression="none")
    assert "field.parquet: row 2, column 'offence': a value of 2.1 MB" in _refused(capsys, tmp_path / "field.parquet")


def test_a_hundred_thousand_columns_are_refused_at_the_header(tmp_path, capsys):
    path = tmp_path / "wide.csv"
    extra = "".join(f",x{k}" for k in range(100_000))
    path.write_text(HEADER + extra + "\n" + _street_row("2024-01") + "," * 100_000 + "\n")
    assert "wide.csv: row 1: 100,012 columns, over the 1,000 limit" in _refused(capsys, path)


def test_devices_and_fifos_are_refused_not_read(tmp_path, capsys):
    assert _refused(capsys, Path("/dev/zero"), db=tmp_path / "s.duckdb").endswith(
        "zero: not a regular file (a device, pipe or socket); only files are read")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert "pipe.csv: not a regular file" in _refused(capsys, fifo)


def test_the_asb_id_step_ignores_extra_columns(tmp_path):
    """ASB ids come from the published columns only: the same row with extra columns gets the same id."""
    plain, padded = tmp_path / "a.csv", tmp_path / "b.csv"
    row = _street_row("2024-01").replace("id0,", ",", 1)
    plain.write_text(HEADER + "\n" + row + "\n")
    padded.write_text(HEADER + ",note,other\n" + row + ",x,y\n")
    con = store.connect(":memory:")
    first = loading.ingest_paths(con, [plain])[0]
    second = loading.ingest_paths(con, [padded])[0]
    assert (first.added, second.added, second.already_present) == (1, 0, 1)
    assert pd.Series(con.execute("SELECT incident_id FROM incidents").fetchnumpy()["incident_id"]).str.startswith(
        "asb-").all()


def _areas_text(police_code: str) -> str:
    """30 area rows: repeats of one LSOA-month-measure in the same block and across blocks (of 7),
    a 2021 code only the police rows in the store carry, and bad rows of other kinds."""
    rows = [f"E01017140,2024-{1 + k % 12:02d},{k},m{k // 12}" for k in range(24)]
    rows += ["E01017140,2024-01,9,m0",  # row 26: repeats row 2 (an earlier block)
             "E01017140,2024-03,9,m1",  # repeats row 16
             f"{police_code},2024-02,4,m0",
             f"{police_code},2024-02,5,m0",  # repeats the row above (same block)
             "E01099999,2024-02,4,m0",  # outside the 14 districts
             "E01017140,2024-05,-1,m9"]  # bad count
    return "lsoa_code,month,count,measure\n" + "\n".join(rows) + "\n"


def test_partner_areas_too_long_to_read_whole_stream_and_equal_the_whole_file_load(tmp_path, monkeypatch):
    """Issue 25: an areas file over the whole-file row limit streams in blocks (it was refused); its
    repeated LSOA-month check spans blocks, so the rejects, their row numbers and the stored rows equal
    a whole-file load's; a 2021 code the police rows carry is accepted in both."""
    from hotspot_engine.read import streaming
    from hotspot_engine.read.limits import Limits

    monkeypatch.setattr(streaming, "POLICE_UK_BLOCK_ROWS", 7)
    police = tmp_path / "2024-02-hampshire-street.csv"
    police.write_text(HEADER + "\n" + _street_row("2024-02").replace("E01017140,Southampton 001A",
                                                                     "E01035000,Southampton 040F") + "\n")
    path = tmp_path / "areas.csv"
    path.write_text(_areas_text("E01035000"))
    got_con, want_con = store.connect(":memory:"), store.connect(":memory:")
    for con in (got_con, want_con):
        loading.ingest_paths(con, [police])
    [got] = loading.ingest_paths(got_con, [path], limits=Limits(max_whole_file_rows=10))
    [want] = loading.ingest_paths(want_con, [path])
    assert (got.rows_read, got.added, got.rejected) == (30, 25, 5)
    assert got.reject_reasons == {"repeated LSOA and month": 3, "LSOA outside the 14 districts": 1, "bad count": 1}
    assert (got.rows_read, got.added, got.already_present, got.rejected, got.reject_reasons, got.notes) == (
        want.rows_read, want.added, want.already_present, want.rejected, want.reject_reasons, want.notes)
    for query in ('SELECT "row", "column", reason, raw FROM rejects ORDER BY 1',
                  "SELECT row_id, source, owner, sharing, lsoa_code, district, month, count, measure FROM partner_areas "
                  "ORDER BY 1"):
        pd.testing.assert_frame_equal(got_con.execute(query).df(), want_con.execute(query).df())
    assert got_con.execute('SELECT "row" FROM rejects WHERE reason LIKE \'repeated%\' ORDER BY 1').fetchall() == [
        (26,), (27,), (29,)]
    [again] = loading.ingest_paths(got_con, [path], limits=Limits(max_whole_file_rows=10))
    assert (again.added, again.already_present, again.rejected) == (0, 25, 5)


def test_a_partner_areas_key_repeated_across_blocks_is_told_by_its_digest():
    """The cross-block check keeps digests alone (8 bytes a key) and says only whether one was seen."""
    from hotspot_engine.read.cells import Occurrences

    seen = Occurrences(counted=False)
    assert seen.take(np.array([5, 3, 5], dtype=np.uint64)).tolist() == [0, 0, 0]
    assert seen.take(np.array([3, 7, 5, 7], dtype=np.uint64)).tolist() == [1, 0, 1, 0]
    assert seen.keys.tolist() == [3, 5, 7] and seen.counts.size == 0


@pytest.mark.parametrize("id_column", [True, False])
def test_partner_events_too_long_to_read_whole_stream_and_equal_the_whole_file_load(tmp_path, monkeypatch, id_column):
    """Issue 25: partner files take the incidents' limits. Events (and places) over the whole-file row
    limit stream in blocks; identical events without ids straddle blocks and keep distinct ids."""
    from hotspot_engine.read import streaming
    from hotspot_engine.read.limits import Limits

    monkeypatch.setattr(streaming, "POLICE_UK_BLOCK_ROWS", 7)
    path = tmp_path / "events.csv"
    rows = [f"{f'E{k},' if id_column else ''}2024-01-0{1 + k % 3}T22:00:00,50.9097,-1.4044,assault" for k in range(40)]
    rows.append(f"{'E99,' if id_column else ''}2024-01-01T22:00:00,52.5,-1.9,assault")  # outside the area
    path.write_text(("callout_id," if id_column else "") + "datetime,lat,lon,category\n" + "\n".join(rows) + "\n")
    con_stream = store.connect(":memory:")
    [got] = loading.ingest_paths(con_stream, [path], limits=Limits(max_whole_file_rows=10))
    con_whole = store.connect(":memory:")
    [want] = loading.ingest_paths(con_whole, [path])
    assert (got.rows_read, got.added, got.already_present, got.rejected) == (41, 40, 0, 1)
    assert (got.rows_read, got.added, got.already_present, got.rejected, got.reject_reasons, got.notes) == (
        want.rows_read, want.added, want.already_present, want.rejected, want.reject_reasons, want.notes)
    query = "SELECT event_id, source, owner, sharing, month, lat, lon, category, district, h3_r9 FROM partner_events ORDER BY 1"
    pd.testing.assert_frame_equal(con_stream.execute(query).df(), con_whole.execute(query).df())


def test_an_uploaded_police_uk_file_with_month_9999_loads_its_other_rows():
    """The app's upload path (the same parsers): before issue 25 the page said 'Something went wrong'."""
    data = "\n".join([HEADER, _street_row("9999-12", 1), _street_row("2024-01", 2)]).encode() + b"\n"
    [summary] = loading.ingest_upload(store.connect(":memory:"), "street.csv", data)
    assert (summary.added, summary.reject_reasons) == (1, {"bad month": 1})


@pytest.mark.parametrize("kind", ["police-uk", "partner-areas", "partner-events"])
def test_an_uploaded_csv_over_the_whole_file_row_limit_streams_like_the_command_line(tmp_path, monkeypatch, kind):
    """Issue 25: the app's upload (ingest_upload) read a plain CSV whole, so the whole-file row limit
    refused it; it now streams as the same file given to ``ingest`` does, with the same account."""
    from hotspot_engine.read import streaming
    from hotspot_engine.read.limits import Limits

    monkeypatch.setattr(streaming, "POLICE_UK_BLOCK_ROWS", 7)
    if kind == "police-uk":
        text = "\n".join([HEADER, *(_street_row(f"2024-0{1 + k % 4}", k) for k in range(30)), _street_row("9999-12", 99)])
    elif kind == "partner-areas":
        text = _areas_text("E01017141")
    else:
        text = "callout_id,datetime,lat,lon,category\n" + "\n".join(
            f"E{k},2024-01-0{1 + k % 3}T22:00:00,50.9097,-1.4044,assault" for k in range(30))
    path = tmp_path / "upload.csv"
    path.write_text(text + "\n")
    tight = Limits(max_whole_file_rows=10)
    with pytest.raises(InputError, match=r"^upload\.csv: over 10 rows, more than a file that is read whole"):
        loading.ingest_paths(store.connect(":memory:"), [path], fmt="patrols", limits=tight)  # does not stream
    uploaded, given = store.connect(":memory:"), store.connect(":memory:")
    [got] = loading.ingest_upload(uploaded, "upload.csv", path.read_bytes(), limits=tight)
    [want] = loading.ingest_paths(given, [path], limits=tight)
    assert got.rows_read > 10 and got.added > 10
    assert (got.file, got.format, got.rows_read, got.added, got.rejected, got.reject_reasons, got.notes) == (
        want.file, want.format, want.rows_read, want.added, want.rejected, want.reject_reasons, want.notes)
    sha = "SELECT file, sha256, rows_read FROM loads"
    assert uploaded.execute(sha).fetchall() == given.execute(sha).fetchall()


def test_a_streamed_partner_areas_file_keeps_the_incident_limits_and_refuses_in_one_line(tmp_path, monkeypatch):
    """Issue 25 "partner files: the same limits as incidents": a field over the limit in a later block of
    a streamed areas file is refused with one line naming the file, row and column, and nothing is stored."""
    from hotspot_engine.read import streaming
    from hotspot_engine.read.limits import Limits

    monkeypatch.setattr(streaming, "POLICE_UK_BLOCK_ROWS", 7)
    rows = [f"E01017140,2024-{1 + k % 12:02d},{k},m{k // 12}" for k in range(30)]
    rows[20] = "E01017140,2024-09,3," + "x" * 500
    path = tmp_path / "areas.csv"
    path.write_text("lsoa_code,month,count,measure\n" + "\n".join(rows) + "\n")
    con = store.connect(":memory:")
    with pytest.raises(InputError) as caught:
        loading.ingest_paths(con, [path], limits=Limits(max_whole_file_rows=10, max_field_bytes=100))
    message = str(caught.value)
    assert message.startswith("areas.csv: row 22") and "measure" in message and "\n" not in message
    assert "x" * 20 not in message
    assert con.execute("SELECT count(*) FROM partner_areas").fetchall() == [(0,)]
