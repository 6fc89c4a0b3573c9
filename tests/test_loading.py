"""Loaders on good input: police.uk months, force extracts (CSV, Parquet, XLSX), patrol logs, GPS."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.read import gps

from hotspot_engine.read import loading

from hotspot_engine.store import database as store
from hotspot_engine.errors import InputError

GOOD = Path(__file__).resolve().parent / "data" / "good"
MONTH = GOOD / "2024-03-hampshire-street.csv"
SOTON = (50.9097, -1.4044)  # Above Bar Street, Southampton
PORTS = (50.7989, -1.0912)  # Commercial Road, Portsmouth


def counts(summary) -> tuple[int, int, int, int]:
    return summary.rows_read, summary.added, summary.already_present, summary.rejected


# ---------------------------------------------------------------------------------- detect_format


@pytest.mark.parametrize(
    "columns, expected",
    [
        (loading.POLICE_UK_HEADER, "police-uk"),
        (["incident_id", "occurred_at", "lat", "lon", "ho_code", "offence", "knife_flag"], "incidents"),
        (["Crime Ref", "Date Committed", "Easting", "Northing", "HO Code"], "incidents"),
        (["ID", "DateTime", "Latitude", "Longitude", "Offence Description"], "incidents"),
        (["patrol_id", "start", "end", "hotspot_id"], "patrols"),
        (["Patrol ID", "Start Time", "Duration Minutes", "H3"], "patrols"),
        (["callsign", "timestamp", "lat", "lon"], "gps"),
    ],
)
def test_detect_format(columns, expected):
    assert loading.detect_format(list(columns)) == expected


def test_detect_format_names_the_columns_seen():
    with pytest.raises(InputError, match=r"'when', 'where'.*needs an id"):
        loading.detect_format(["when", "where"])


# ---------------------------------------------------------------------------------- police.uk


def test_police_uk_month_counts_add_up_and_reload_adds_nothing():
    con = store.connect(":memory:")
    (first,) = loading.ingest_paths(con, [MONTH])
    # The fixture: 31 located Hampshire rows, 2 'No location' rows, 1 row in a Dorset LSOA.
    assert counts(first) == (34, 31, 0, 3)
    assert first.reject_reasons == {"no coordinates": 2, "outside area": 1}
    assert first.format == "police-uk"
    (again,) = loading.ingest_paths(con, [MONTH])
    assert counts(again) == (34, 0, 31, 3)
    assert store.table_count(con, "incidents") == 31


def test_police_uk_rows_are_proxy_classified_with_districts():
    con = store.connect(":memory:")
    loading.ingest_paths(con, [MONTH])
    frame = con.execute(
        "SELECT incident_id, crime_id, month, occurred_at, offence, offence_group, sv_category, is_proxy, district, "
        "lsoa_name, falls_within, h3_r9 FROM incidents"
    ).df()
    assert (frame["month"] == pd.Timestamp("2024-03-01")).all()
    assert frame["occurred_at"].isna().all()
    assert frame["is_proxy"].all()
    assert set(frame["falls_within"]) == {"Hampshire Constabulary"}
    by_type = frame.groupby("offence")["offence_group"].first().to_dict()
    assert by_type["Robbery"] == "robbery" and by_type["Possession of weapons"] == "weapon_possession"
    assert by_type["Violence and sexual offences"] == "violence_and_sexual"
    assert by_type["Public order"] == "public_order" and by_type["Shoplifting"] == "other"
    sv = frame.set_index("offence")["sv_category"]
    assert set(sv.loc[["Robbery"]]) == {"robbery"}
    assert sv.loc[["Violence and sexual offences", "Shoplifting"]].isna().all()
    # Points are inside their LSOA, so the district is the one the LSOA name gives.
    named = frame["lsoa_name"].str.rsplit(" ", n=1).str[0]
    assert (named == frame["district"]).all()
    assert (frame["h3_r9"] > 0).all()


def test_police_uk_asb_rows_are_distinct_and_stable():
    rows, _, notes = loading.read_incidents(MONTH, MONTH.name)
    asb = rows[rows["offence"] == "Anti-social behaviour"]
    assert len(asb) == 5  # two of them identical (Portsmouth, Park/Open Space)
    assert asb["incident_id"].is_unique
    assert asb["incident_id"].str.startswith("asb-").all()
    assert asb["crime_id"].isna().all()
    again, _, _ = loading.read_incidents(MONTH.read_bytes(), "renamed.csv")
    assert sorted(again.loc[again["offence"] == "Anti-social behaviour", "incident_id"]) == sorted(asb["incident_id"])
    assert any("district check against LSOA name: 0 of 31 rows differ" in n for n in notes)


def test_lsoa_disagreement_is_reported():
    text = MONTH.read_text().splitlines()
    # Move the first row's LSOA name to another district: one disagreement in 31.
    fields = text[1].split(",")
    fields[8] = "Winchester 001A"
    text[1] = ",".join(fields)
    _, _, notes = loading.read_incidents("\n".join(text).encode(), "x.csv")
    assert any("1 of 31 rows differ (3.23%)" in n for n in notes)


def _month_copy(month: str) -> bytes:
    """The fixture as another month: new Crime IDs (police.uk ids are unique across months)."""
    import hashlib
    import re

    text = MONTH.read_text().replace("2024-03", month)
    text = re.sub(r"^[0-9a-f]{64}", lambda m: hashlib.sha256((m.group(0) + month).encode()).hexdigest(), text,
                  flags=re.MULTILINE)
    return text.encode()


def test_new_month_appends_and_zip_of_month_folders(tmp_path):
    con = store.connect(":memory:")
    loading.ingest_paths(con, [MONTH])
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("2024-03/2024-03-hampshire-street.csv", MONTH.read_bytes())
        z.writestr("2024-04/2024-04-hampshire-street.csv", _month_copy("2024-04"))
        z.writestr("__MACOSX/2024-04/._2024-04-hampshire-street.csv", b"\x00\x05junk")
    summaries = loading.ingest_paths(con, [archive])
    assert [s.file for s in summaries] == ["download.zip/2024-03-hampshire-street.csv",
                                          "download.zip/2024-04-hampshire-street.csv"]
    assert counts(summaries[0]) == (34, 0, 31, 3)
    assert counts(summaries[1]) == (34, 31, 0, 3)
    months = con.execute("SELECT DISTINCT month FROM incidents ORDER BY 1").fetchall()
    assert [m[0].isoformat() for m in months] == ["2024-03-01", "2024-04-01"]


def test_folder_is_recursed_and_upload_matches_path(tmp_path):
    (tmp_path / "2024-05").mkdir()
    (tmp_path / "2024-05" / "2024-05-hampshire-street.csv").write_bytes(_month_copy("2024-05"))
    (tmp_path / "notes.md").write_text("ignored")
    con = store.connect(":memory:")
    (summary,) = loading.ingest_paths(con, [tmp_path])
    assert counts(summary) == (34, 31, 0, 3)
    other = store.connect(":memory:")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a/2024-05-hampshire-street.csv", _month_copy("2024-05"))
    (up,) = loading.ingest_upload(other, "upload.zip", buf.getvalue())
    assert counts(up) == counts(summary)
    ids = lambda c: sorted(r[0] for r in c.execute("SELECT incident_id FROM incidents").fetchall())  # noqa: E731
    assert ids(con) == ids(other)


def test_several_forces_keep_falls_within():
    text = MONTH.read_text().splitlines()
    fields = text[1].split(",")
    fields[2] = fields[3] = "Thames Valley Police"
    text[1] = ",".join(fields)
    rows, _, _ = loading.read_incidents("\n".join(text).encode(), "x.csv")
    assert set(rows["falls_within"]) == {"Hampshire Constabulary", "Thames Valley Police"}


# ---------------------------------------------------------------------------------- force extracts


def _force_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "incident_id": ["F1", "F2", "F3", "F4", "F5"],
        "occurred_at": ["2023-04-01 22:10", "2023-04-02 01:00", "2023-04-03 12:00", "2023-04-04 12:00", "2023-04-05"],
        "lat": [SOTON[0], PORTS[0], SOTON[0], PORTS[0], SOTON[0]],
        "lon": [SOTON[1], PORTS[1], SOTON[1], PORTS[1], SOTON[1]],
        "ho_code": ["5A", "", "8N", "34B", "10A"],
        "offence": ["Wounding with intent", "Robbery of personal property", "Assault occasioning ABH", "", ""],
        "knife_flag": ["N", "no", "Y", "false", "1"],
    })


def test_force_csv_classification_and_store_columns():
    data = _force_frame().to_csv(index=False).encode()
    rows, rejects, notes = loading.read_incidents(data, "extract.csv")
    assert rejects.empty
    expected_cols = [c for c in store.INCIDENT_COLUMNS if c not in store.H3_COLUMNS and c != "load_id"]
    assert list(rows.columns) == expected_cols
    got = rows.set_index("incident_id")
    # 5A -> gbh by code; F2 by text; 8N knife-flagged other violence -> knife_injury; 34B robbery; 10A weapon.
    assert got["offence_group"].to_dict() == {"F1": "gbh", "F2": "robbery", "F3": "knife_injury", "F4": "robbery",
                                              "F5": "weapon_possession"}
    assert got["sv_category"].to_dict() == got["offence_group"].to_dict()
    assert got["knife_flag"].tolist() == [False, False, True, False, True]
    assert (got["source"] == "force").all() and not got["is_proxy"].any()
    assert got.loc["F1", "occurred_at"] == pd.Timestamp("2023-04-01 22:10")
    assert got.loc["F1", "month"] == pd.Timestamp("2023-04-01")
    assert got["district"].to_dict() == {"F1": "Southampton", "F2": "Portsmouth", "F3": "Southampton",
                                         "F4": "Portsmouth", "F5": "Southampton"}
    assert any(n.startswith("columns used: id <- 'incident_id', date <- 'occurred_at'") for n in notes)


def test_force_header_spellings_bng_and_day_first_dates():
    frame = pd.DataFrame({
        "Crime Ref": ["X1", "X2"],
        "Date Committed": ["01/04/2023 22:10", "13/04/2023"],
        # Grid references in central Southampton (SU 419 116) and central Portsmouth (SZ 642 997);
        # landing in those districts checks the EPSG:27700 conversion to well under a kilometre.
        "Easting": ["441950", "464200"],
        "Northing": ["111690", "99700"],
        "HO Code": ["5A", "34B"],
        "Knife Flag": ["Yes", "No"],
        "District": ["Southampton", "Winchester"],
    })
    rows, rejects, notes = loading.read_incidents(frame.to_csv(index=False, sep=";").encode(), "force.csv")
    assert rejects.empty
    assert rows["occurred_at"].tolist() == [pd.Timestamp("2023-04-01 22:10"), pd.Timestamp("2023-04-13")]
    assert rows["district"].tolist() == ["Southampton", "Portsmouth"]
    note = " | ".join(notes)
    assert "id <- 'Crime Ref'" in note and "date <- 'Date Committed'" in note and "easting <- 'Easting'" in note
    assert "UK day-first (DD/MM/YYYY) for 2 rows" in note
    assert "'District' differs on 1 of 2 rows" in note
    assert "delimiter: ';'" in note


@pytest.mark.parametrize("kind", ["parquet", "xlsx"])
def test_force_parquet_and_xlsx_match_csv(tmp_path, kind):
    frame = _force_frame()
    path = tmp_path / f"extract.{kind}"
    if kind == "parquet":
        frame.assign(occurred_at=pd.to_datetime(frame["occurred_at"], format="ISO8601")).to_parquet(path)
    else:
        frame.to_excel(path, index=False)
    csv_rows, _, _ = loading.read_incidents(frame.to_csv(index=False).encode(), "extract.csv")
    rows, rejects, _ = loading.read_incidents(path, path.name)
    assert rejects.empty
    for col in ("incident_id", "offence_group", "district", "month", "occurred_at", "knife_flag"):
        assert rows[col].tolist() == csv_rows[col].tolist(), col
    np.testing.assert_allclose(rows["lat"], csv_rows["lat"])


def test_custom_offence_map(tmp_path):
    mapping = tmp_path / "map.csv"
    mapping.write_text("kind,pattern,group\ntext,affray|brawl,violent_disorder\n")
    frame = _force_frame().assign(ho_code="", offence="Town centre brawl")
    rows, _, _ = loading.read_incidents(frame.to_csv(index=False).encode(), "x.csv", offence_map=mapping)
    assert set(rows["offence_group"]) == {"violent_disorder"}


def test_month_only_dates_and_future_dates():
    frame = _force_frame().assign(occurred_at=["2023-04", "2023-13", "2099-01-01", "2023-04-02", ""])
    rows, rejects, notes = loading.read_incidents(frame.to_csv(index=False).encode(), "x.csv")
    assert rows["incident_id"].tolist() == ["F1", "F4"]
    assert pd.isna(rows.loc[0, "occurred_at"]) and rows.loc[0, "month"] == pd.Timestamp("2023-04-01")
    assert rejects[["row", "reason"]].values.tolist() == [[3, "bad date"], [4, "bad date"], [6, "no date"]]


def test_duplicate_ids_in_one_file_count_as_already_present():
    frame = pd.concat([_force_frame(), _force_frame().iloc[:2]])
    con = store.connect(":memory:")
    (summary,) = loading.ingest_upload(con, "dupes.csv", frame.to_csv(index=False).encode())
    assert counts(summary) == (7, 5, 2, 0)


def test_read_incidents_refuses_patrol_files():
    with pytest.raises(InputError, match="holds patrols, not incidents"):
        loading.read_incidents(b"patrol_id,start,end,hotspot_id\nP1,2023-04-01 10:00,2023-04-01 10:15,HS1\n", "p.csv")


def test_wrong_forced_format_is_explained():
    with pytest.raises(InputError, match="^x.csv: not a data.police.uk street file"):
        loading.read_incidents(_force_frame().to_csv(index=False).encode(), "x.csv", fmt="police-uk")


# ---------------------------------------------------------------------------------- patrols


def test_patrol_log_places_and_durations():
    import h3

    cell = h3.latlng_to_cell(*PORTS, 9)
    text = (
        "patrol_id,start,end,duration_minutes,hotspot_id,h3,lat,lon,unit\n"
        f"P1,2023-04-01T20:00:00,2023-04-01T20:15:00,,HS01,,{SOTON[0]},{SOTON[1]},SO21\n"
        f"P2,2023-04-01T21:00:00,,20,HS02,{cell},,,SO22\n"
        "P3,2023-04-01T22:00:00,,12.5,HS03,,,,SO23\n"
    )
    con = store.connect(":memory:")
    (summary,) = loading.ingest_upload(con, "log.csv", text.encode())
    assert counts(summary) == (3, 3, 0, 0)
    got = con.execute("SELECT patrol_id, source, \"end\", minutes, hotspot_ref, district, h3_r9, lat FROM patrols "
                      "ORDER BY patrol_id").df().set_index("patrol_id")
    assert got["minutes"].tolist() == [15.0, 20.0, 12.5]
    assert got.loc["P2", "end"] == pd.Timestamp("2023-04-01 21:20")
    assert got.loc["P2", "h3_r9"] == int(cell, 16)
    assert got["district"].tolist()[:2] == ["Southampton", "Portsmouth"]
    assert pd.isna(got.loc["P3", "lat"]) and got.loc["P3", "hotspot_ref"] == "HS03"
    assert (got["source"] == "log").all()
    (again,) = loading.ingest_upload(con, "log.csv", text.encode())
    assert counts(again) == (3, 0, 3, 0)


# ---------------------------------------------------------------------------------- GPS


def _pings(rows):
    return pd.DataFrame(rows, columns=["callsign", "timestamp", "lat", "lon"]).assign(
        timestamp=lambda f: pd.to_datetime(f["timestamp"]))


def test_gps_visits_split_on_cell_gap_and_callsign():
    far = (SOTON[0] + 0.01, SOTON[1])  # about 1.1 km north: another res-9 cell
    pings = _pings([
        ("K1", "2023-04-01 10:00", *SOTON),
        ("K1", "2023-04-01 10:03", *SOTON),
        ("K1", "2023-04-01 10:06", *SOTON),   # 3-minute gaps: one visit of 6 minutes
        ("K1", "2023-04-01 10:20", *SOTON),   # 14-minute gap: a new visit of 0 minutes
        ("K1", "2023-04-01 10:22", *far),     # another cell: new visit
        ("K2", "2023-04-01 10:01", *SOTON),   # another callsign, shuffled order
        ("K2", "2023-04-01 10:00", *SOTON),
    ])
    visits = gps.pings_to_visits(pings, gap_minutes=5)
    assert list(visits.columns) == gps.VISIT_COLUMNS
    got = visits[["unit", "start", "minutes", "pings"]].values.tolist()
    assert got == [
        ["K1", pd.Timestamp("2023-04-01 10:00"), 6.0, 3],
        ["K1", pd.Timestamp("2023-04-01 10:20"), 0.0, 1],
        ["K1", pd.Timestamp("2023-04-01 10:22"), 0.0, 1],
        ["K2", pd.Timestamp("2023-04-01 10:00"), 1.0, 2],
    ]
    assert visits["patrol_id"].iloc[0] == "gps-K1-2023-04-01T10:00:00"
    assert (visits["source"] == "gps").all()
    # A longer threshold joins the 14-minute gap.
    assert len(gps.pings_to_visits(pings, gap_minutes=15)) == 3


def test_gps_visit_centre_is_in_the_visit_cell():
    import h3

    visits = gps.pings_to_visits(_pings([("K1", "2023-04-01 10:00", *SOTON)]))
    assert h3.latlng_to_cell(visits["lat"][0], visits["lon"][0], 9) == h3.latlng_to_cell(*SOTON, 9)


def test_gps_empty_input():
    assert gps.pings_to_visits(_pings([])).empty


def test_gps_file_ingests_as_patrols():
    text = "callsign,timestamp,lat,lon\n" + "".join(
        f"K1,2023-04-01T10:0{m}:00,{SOTON[0]},{SOTON[1]}\n" for m in range(5))
    con = store.connect(":memory:")
    (summary,) = loading.ingest_upload(con, "pings.csv", text.encode())
    assert summary.format == "gps"
    assert counts(summary) == (5, 5, 0, 0)  # the account is in pings, the rows of the file (issue 20)
    assert any("5 valid pings became 1 visits" in n and "the counts are pings" in n for n in summary.notes)
    again = loading.ingest_upload(con, "pings.csv", text.encode())[0]
    assert counts(again) == (5, 0, 5, 0)
    assert con.execute("SELECT minutes, district, source FROM patrols").fetchall() == [(4.0, "Southampton", "gps")]


# ---------------------------------------------------------------------------------- encodings, transactions


@pytest.mark.parametrize("name", ["windows1252.csv", "utf8_bom.csv"])
def test_encodings_keep_accented_text(name):
    rows, _, _ = loading.read_incidents(GOOD.parent / "bad" / name, name)
    assert rows["incident_id"].tolist()[0] in ("W1", "B1")  # a BOM must not leak into the first header
    assert "Caf\u00e9" in rows["location"].iloc[0]


def test_interrupted_load_leaves_the_store_as_it_was(monkeypatch):
    con = store.connect(":memory:")
    loading.ingest_paths(con, [MONTH])
    before = [store.table_count(con, t) for t in ("incidents", "rejects", "loads")]

    def fail(*args, **kwargs):
        raise KeyboardInterrupt  # as if the user stopped the load half-way

    monkeypatch.setattr(store, "_insert_new", fail)
    with pytest.raises(KeyboardInterrupt):
        loading.ingest_upload(con, "2024-04.csv", _month_copy("2024-04"))
    assert [store.table_count(con, t) for t in ("incidents", "rejects", "loads")] == before
