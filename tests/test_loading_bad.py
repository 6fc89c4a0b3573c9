"""Every file in tests/data/bad/ gives either one specific InputError naming the file, or rows
rejected with reasons, with every row accounted for. No other exception escapes."""
from __future__ import annotations

from pathlib import Path

import pytest

from hotspot_engine.errors import InputError
from hotspot_engine.read import loading
from hotspot_engine.store import database as store

BAD = Path(__file__).resolve().parent / "data" / "bad"

# file -> ("error", text the message must contain) or ("loaded", {reason or note text: count or None}).
EXPECTED: dict[str, tuple[str, object]] = {
    "empty.csv": ("error", "the file is empty"),
    "whitespace_only.csv": ("error", "the file is empty"),
    "header_only.csv": ("error", "header only, no data rows"),
    "blank_header.csv": ("error", "row 1: the header is blank"),
    "wrong_delimiter.csv": ("error", "delimited by something other than"),
    "unknown_columns.csv": ("error", "cannot tell the format from the columns 'name', 'colour', 'size'"),
    "missing_required_column.csv": ("error", "an incident file needs a date"),
    "duplicate_header.csv": ("error", "row 1: duplicate column 'lat' (columns 3 and 4)"),
    "parquet_really_text.parquet": ("error", "not a Parquet file"),
    "truncated.parquet": ("error", "cannot read as Parquet"),
    "xlsx_really_text.xlsx": ("error", "not an Excel .xlsx workbook (it looks like text"),
    "old_excel.xls": ("error", "old binary Excel (.xls) is not supported"),
    "binary_junk.csv": ("error", "not a text file (binary content)"),
    "police_uk_without_coordinates.csv": ("error", "without Latitude/Longitude"),
    "zip_nothing_usable.zip": ("error", "no CSV, Parquet or XLSX files inside the zip"),
    "empty.zip": ("error", "the zip is empty"),
    "corrupt.zip": ("error", "not a valid zip archive"),
    "nested_too_deep.zip": ("error", "nested more than 3 deep"),
    # Issue 20's attack run: each one line naming the file (and the row or column where there is one).
    "parquet_invalid_utf8.parquet": ("error", "row 3, column 'offence': text that is not valid UTF-8"),
    "xlsx_external_entity.xlsx": ("error", "the workbook's XML declares entities (a DTD)"),
    "xlsx_billion_laughs.xlsx": ("error", "the workbook's XML declares entities (a DTD)"),
    "xlsx_bomb_sheet.xlsx": ("error", "looks like a decompression bomb"),
    "zip_bomb_member.zip": ("error", "ratio 990:1, over the 100:1 limit"),
    # Loaded, with rejects or repairs reported.
    "windows1252.csv": ("loaded", {"Windows-1252": None}),
    "utf8_bom.csv": ("loaded", {"byte-order mark": None}),
    "swapped_latlon.csv": ("loaded", {"latitude and longitude swapped": None}),
    "bng_as_latlon.csv": ("loaded", {"British National Grid": None}),
    "month_2023_13.csv": ("loaded", {"bad month": 1}),
    "impossible_dates.csv": ("loaded", {"bad date": 3}),
    "ragged_rows.csv": ("loaded", {"wrong number of fields": 2}),
    "huge_numbers.csv": ("loaded", {"bad coordinates": 1, "unparseable number": 1}),
    "nan_strings.csv": ("loaded", {"no date": 2, "no coordinates": 1}),
    "formula_strings.csv": ("loaded", {"unparseable number": 1, "spreadsheet formulas": None}),
    "unparseable_numbers.csv": ("loaded", {"unparseable number": 1}),
    "outside_area.csv": ("loaded", {"outside area": 2, "no coordinates": 1}),
    "no_coordinates.csv": ("loaded", {"no coordinates": 1}),
    "blank_lines_and_multiline.csv": ("loaded", {"bad date": 1, "blank line": None}),
    "semicolon_decimal_comma.csv": ("loaded", {"delimiter: ';'": None, "day-first": None}),
    "patrols_bad.csv": ("loaded", {"bad duration": 1, "no duration": 1, "bad date": 1, "bad h3 cell": 1, "no place": 1}),
    "gps_bad.csv": ("loaded", {"no callsign": 1, "bad date": 1, "outside area": 1}),
    "nested_ok.zip": ("loaded", {"no coordinates": 2, "outside area": 1}),
    "parquet_date32.parquet": ("loaded", {"ISO 8601": None}),
    "xlsx_time_cell.xlsx": ("loaded", {"bad date": 1}),
    "utf8_with_cp1252_lines.csv": ("loaded", {"encoding: mixed: 1 line(s) are not valid UTF-8": None}),
    "zip_unsafe_member_names.zip": ("loaded", {"zip: 6 member(s) not loaded (2 hidden or system file, 1 not a data "
                                               "file, 3 unsafe path)": None}),
    # Partner layers (issue 21), detected from their headers.
    "partner_areas_bad.csv": ("loaded", {"LSOA outside the 14 districts": 2, "bad count": 2, "repeated LSOA and month": 1,
                                         "bad LSOA code": 1, "bad month": 1, "no count": 1, "unparseable number": 1,
                                         "no LSOA code": 1}),
    "partner_events_bad.csv": ("loaded", {"outside area": 1, "no date": 1, "no coordinates": 1, "no id": 1, "bad date": 1}),
    "partner_places_bad.csv": ("loaded", {"bad closing time": 1, "no name": 1, "bad sharing level": 1, "outside area": 1,
                                          "easting <- 'easting'": None}),
}
TABLE_OF_FORMAT = {"patrols": "patrols", "gps": "patrols", "partner-areas": "partner_areas",
                   "partner-events": "partner_events", "partner-places": "partner_places"}


def test_corpus_is_large_and_fully_described():
    files = sorted(p.name for p in BAD.iterdir() if p.is_file())
    assert len(files) >= 25
    assert set(files) == set(EXPECTED), "every bad file needs an expectation (and every expectation a file)"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file(name):
    con = store.connect(":memory:")
    outcome, expect = EXPECTED[name]
    try:
        summaries = loading.ingest_paths(con, [BAD / name])
    except InputError as exc:
        message = str(exc)
        assert outcome == "error", f"{name} unexpectedly refused: {message}"
        assert message.startswith(name) or message.startswith(Path(name).stem), "the message names the file first"
        assert str(BAD) not in message and "/work" not in message, "no directories in messages"
        assert "\n" not in message
        assert expect in message
        assert store.table_count(con, "incidents") == 0 and store.table_count(con, "patrols") == 0
        return
    assert outcome == "loaded", f"{name} should have been refused"
    assert summaries
    for summary in summaries:
        assert summary.balanced
        assert summary.rows_read == summary.added + summary.already_present + summary.rejected
    reasons: dict[str, int] = {}
    for summary in summaries:
        for reason, count in summary.reject_reasons.items():
            reasons[reason] = reasons.get(reason, 0) + count
    notes = " | ".join(n for s in summaries for n in s.notes)
    for text, count in expect.items():  # type: ignore[union-attr]
        if count is None:
            assert text in notes, f"{name}: expected a note mentioning {text!r}"
        else:
            assert reasons.get(text) == count, f"{name}: {reasons}"
    # The store holds exactly what the summaries say was added, and every reject is kept.
    kind = TABLE_OF_FORMAT.get(summaries[0].format, "incidents")
    assert store.table_count(con, kind) == sum(s.added for s in summaries)
    assert store.table_count(con, "rejects") == sum(s.rejected for s in summaries)


def test_rejects_carry_row_column_and_raw_text():
    con = store.connect(":memory:")
    loading.ingest_paths(con, [BAD / "impossible_dates.csv"])
    rejects = con.execute('SELECT "row", "column", reason, raw FROM rejects ORDER BY "row"').fetchall()
    # D1 (31/02/2023) is data row 2 in spreadsheet numbering (header = row 1); D3 is 2099.
    assert [r[0] for r in rejects] == [2, 3, 4]
    assert all(r[1] == "occurred_at" and r[2] == "bad date" for r in rejects)
    assert rejects[0][3].startswith("D1,31/02/2023")


def test_ragged_rows_keep_file_row_numbers():
    rows, rejects, _ = loading.read_incidents(BAD / "ragged_rows.csv", "ragged_rows.csv")
    assert list(rejects["row"]) == [3, 4]
    assert list(rows["incident_id"]) == ["R1", "R4"]


def test_blank_lines_count_as_rows():
    _, rejects, notes = loading.read_incidents(BAD / "blank_lines_and_multiline.csv", "x.csv")
    # header 1, blank 2, M1 3 (its quoted location spans two lines), blank 4, M2 5, M3 6.
    assert list(rejects["row"]) == [6]


def test_too_big_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("incident_id,occurred_at,lat,lon,offence\n" + "A,2023-04-01,50.9,-1.4,x\n" * 50)
    con = store.connect(":memory:")
    with pytest.raises(InputError, match=r"^big\.csv: .* over the .* limit"):
        loading.ingest_paths(con, [path], max_bytes=100)
    with pytest.raises(InputError, match=r"over the .* limit"):
        loading.ingest_upload(con, "big.csv", path.read_bytes(), max_bytes=100)


def test_zip_member_over_limit_is_refused(tmp_path):
    import zipfile

    archive = tmp_path / "month.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("2024-03/big.csv", "x" * 5000)  # compresses to far below the limit
    con = store.connect(":memory:")
    with pytest.raises(InputError, match=r"month\.zip/big\.csv: .* over the"):
        loading.ingest_paths(con, [archive], max_bytes=1000)


def test_missing_path_and_unknown_format(tmp_path):
    con = store.connect(":memory:")
    with pytest.raises(InputError, match=r"^nothing\.csv: no such file"):
        loading.ingest_paths(con, [tmp_path / "nothing.csv"])
    with pytest.raises(InputError, match="unknown format 'xml'"):
        loading.ingest_paths(con, [BAD / "swapped_latlon.csv"], fmt="xml")
    with pytest.raises(InputError, match="holds no CSV"):
        loading.ingest_paths(con, [tmp_path])


def test_police_uk_file_whose_rows_have_no_lsoa_name(tmp_path):
    """Found by benchmarks/fuzz_loaders.py: with no LSOA name in any accepted row, the district
    check crashed instead of reporting."""
    from hotspot_engine.read import loading
    from hotspot_engine.store import database as store

    header = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
              "Crime type,Last outcome category,Context")
    rows = ["abc1,2024-03,Hampshire Constabulary,Hampshire Constabulary,-1.4043,50.9063,On or near Above Bar Street,,,Robbery,,",
            ",2024-03,Hampshire Constabulary,Hampshire Constabulary,,,No location,,,Anti-social behaviour,,"]
    path = tmp_path / "2024-03-hampshire-street.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    con = store.connect(":memory:")
    (summary,) = loading.ingest_paths(con, [path])
    assert summary.balanced and summary.added == 1 and summary.rejected == 1


# ----------------------------------------------------------------------------------------------
# Limits and integrity (issue 20), with limits lowered so the files stay small.

def _incidents_csv(rows: int, location: str = "On or near High Street", extra: str = "") -> str:
    head = "incident_id,occurred_at,lat,lon,ho_code,offence,knife_flag,location" + extra + "\n"
    return head + "".join(f"L{k},2023-05-01,50.909700,-1.404400,5A,Wounding,N,{location}\n" for k in range(rows))


def test_mixed_encodings_are_decoded_line_by_line():
    con = store.connect(":memory:")
    loading.ingest_paths(con, [BAD / "utf8_with_cp1252_lines.csv"])
    assert sorted(r[0] for r in con.execute("SELECT location FROM incidents").fetchall()) == ["Café Road", "Café Street"]


def test_a_header_longer_than_64_kib_is_read_whole(tmp_path):
    extra = "".join(f",extra_column_{k:05d}_{'x' * 60}" for k in range(900))  # 70 KB of header, 900 columns
    path = tmp_path / "wide.csv"
    lines = _incidents_csv(0, extra=extra) + "W1,2023-05-01,50.909700,-1.404400,5A,Wounding,N,x" + "," * 900 + "\n"
    path.write_text(lines)
    con = store.connect(":memory:")
    (summary,) = loading.ingest_paths(con, [path])
    assert (summary.rows_read, summary.added) == (1, 1)


def test_a_header_line_over_the_limit_is_refused_clearly(tmp_path):
    from hotspot_engine.read.limits import Limits

    path = tmp_path / "wide.csv"
    path.write_text(_incidents_csv(2, extra=",x" * 600))
    with pytest.raises(InputError, match=r"^wide\.csv: row 1: the header line is longer than the 0\.0 MB limit"):
        loading.ingest_paths(store.connect(":memory:"), [path], limits=Limits(max_line_bytes=1000))


@pytest.mark.parametrize("blank_line", [False, True])  # the fast reader and the exact (line by line) one
def test_a_field_over_the_limit_is_refused_naming_its_row(tmp_path, blank_line):
    from hotspot_engine.read.limits import Limits

    text = _incidents_csv(3).replace("L1,2023-05-01,50.909700,-1.404400,5A,Wounding,N,On or near High Street",
                                     "L1,2023-05-01,50.909700,-1.404400,5A,Wounding,N," + "A" * 5000)
    if blank_line:
        text = text.replace("\nL2", "\n\nL2")
    path = tmp_path / "field.csv"
    path.write_text(text)
    where = r"line 3" if blank_line else r"row 3, column 'location'"
    with pytest.raises(InputError, match=rf"^field\.csv: {where}.* over the 0\.0 MB limit"):
        loading.ingest_paths(store.connect(":memory:"), [path], limits=Limits(max_field_bytes=4000))


def test_a_line_over_the_limit_is_refused_without_reading_it_whole(tmp_path):
    from hotspot_engine.read.limits import Limits

    path = tmp_path / "line.csv"
    path.write_text(_incidents_csv(2) + "\n" + "B" * 50_000 + "\n")  # the blank line sends it to the exact reader
    with pytest.raises(InputError, match=r"^line\.csv: line 5 is longer than"):
        loading.ingest_paths(store.connect(":memory:"), [path], limits=Limits(max_line_bytes=20_000))


def test_archive_total_and_member_ratio_limits(tmp_path):
    import random
    import zipfile

    from hotspot_engine.read.limits import Limits

    rng = random.Random(4)
    archive = tmp_path / "months.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for k in range(4):  # random ids: about 3:1, under any ratio limit
            z.writestr(f"m{k}.csv", _incidents_csv(0) + "".join(
                f"{rng.randrange(10**12)},2023-05-01,50.909700,-1.404400,5A,Wounding,N,x\n" for _ in range(3000)))
    con = store.connect(":memory:")
    with pytest.raises(InputError, match=r"^months\.zip: the archive unpacks to .* MB, over the .* limit"):
        loading.ingest_paths(con, [archive], limits=Limits(max_total_bytes=450_000))
    assert store.table_count(con, "incidents") == 0  # refused before any member was loaded
    with pytest.raises(InputError, match=r"^months\.zip/m0\.csv: decompresses to .* over the 2:1 limit"):
        loading.ingest_upload(con, "months.zip", archive.read_bytes(), limits=Limits(max_ratio=2, ratio_floor_bytes=1000))
    assert len(loading.ingest_upload(con, "months.zip", archive.read_bytes())) == 4


def test_unpacked_members_leave_no_temporary_files(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    loading.ingest_paths(store.connect(":memory:"), [BAD / "nested_ok.zip"])
    with pytest.raises(InputError):
        loading.ingest_paths(store.connect(":memory:"), [BAD / "nested_too_deep.zip"])
    assert list(tmp_path.iterdir()) == []


def test_skipped_members_are_recorded_with_the_load():
    con = store.connect(":memory:")
    loading.ingest_paths(con, [BAD / "zip_unsafe_member_names.zip"])
    (notes,) = con.execute("SELECT notes FROM loads").fetchall()[0]
    assert "zip: 6 member(s) not loaded" in notes


@pytest.mark.parametrize("streamed", [False, True])
def test_a_stored_id_with_different_content_is_a_conflict(tmp_path, monkeypatch, streamed):
    from hotspot_engine.read import ingest

    if streamed:  # the block-by-block path for big extracts must report the same
        monkeypatch.setattr(ingest, "STREAM_BYTES", 1)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(_incidents_csv(3))
    rows = _incidents_csv(4).splitlines()
    rows[3] = rows[3].replace("High Street", "Other Street")  # L2 moved
    rows[2] = rows[2].replace("Wounding", "Robbery")  # L1 re-classified
    second.write_text("\n".join(rows) + "\n")
    con = store.connect(":memory:")
    loading.ingest_paths(con, [first])
    (summary,) = loading.ingest_paths(con, [second])
    assert (summary.rows_read, summary.added, summary.already_present, summary.conflicts) == (4, 1, 1, 2)
    assert summary.balanced and "conflicts 2" in summary.line()
    assert any("first ids: L1, L2" in n for n in summary.notes)
    stored = dict(con.execute("SELECT incident_id, location FROM incidents").fetchall())
    assert stored["L2"] == "On or near High Street"  # the stored row is kept, and said to be


def test_rejected_rows_are_stored_once_however_often_the_file_is_loaded():
    con = store.connect(":memory:")
    for _ in range(3):
        (summary,) = loading.ingest_paths(con, [BAD / "impossible_dates.csv"])
        assert summary.rejected == 3  # the account of each load still counts them
    assert store.table_count(con, "rejects") == 3
