"""Every file in tests/data/bad/ gives either one specific InputError naming the file, or rows
rejected with reasons, with every row accounted for. No other exception escapes."""
from __future__ import annotations

from pathlib import Path

import pytest

from hotspot_engine.read import loading

from hotspot_engine.store import database as store
from hotspot_engine.errors import InputError

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
        assert message.startswith(name), "the message names the file first"
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
