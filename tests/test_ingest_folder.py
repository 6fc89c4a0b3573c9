"""A folder's files are checked before any loads (audit 3 item 6): `sample --out D` then `ingest D`
stopped (exit 2) at trial_schedule.csv after loading 70,799 rows of the other files. A trial schedule
in a folder is now left out with one line; a file no format fits stops the load before any row."""
from __future__ import annotations

import pandas as pd
import pytest

from hotspot_engine.errors import InputError
from hotspot_engine.read.ingest import TRIAL_SCHEDULE_COLUMNS, ingest_paths
from hotspot_engine.store.database import connect

INCIDENTS = ("incident_id,occurred_at,lat,lon,ho_code,offence\n"
             "a1,2024-01-05,50.9097,-1.4044,008/01,Assault with injury\n"
             "a2,2024-01-06,50.9001,-1.4010,008/01,Assault with injury\n")
SCHEDULE = ("hotspot_id,hotspot_name,date,weekday,week,arm,washout\n"
            "h1,Bargate,2024-04-01,Mon,1,patrol,False\n")


def _stored(con) -> int:
    return con.execute("SELECT count(*) FROM incidents").fetchone()[0]


def test_the_schedule_columns_are_the_trial_designs():
    from hotspot_engine.analyse.trial_design import SCHEDULE_COLUMNS

    assert TRIAL_SCHEDULE_COLUMNS == set(SCHEDULE_COLUMNS)


def test_a_folders_trial_schedule_is_skipped_with_one_line(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "incidents.csv").write_text(INCIDENTS, encoding="utf-8")
    (folder / "trial_schedule.csv").write_text(SCHEDULE, encoding="utf-8")
    con = connect(tmp_path / "s.duckdb")
    try:
        skipped: list[str] = []
        summaries = ingest_paths(con, [folder], skipped=skipped)
        assert [s.file for s in summaries] == ["incidents.csv"] and _stored(con) == 2
        assert len(skipped) == 1 and skipped[0].startswith("trial_schedule.csv: a patrol trial's schedule")
        with pytest.raises(InputError, match=r"^trial_schedule\.csv: a patrol trial's schedule"):
            ingest_paths(con, [folder / "trial_schedule.csv"])  # named on its own: refused, not silently skipped
    finally:
        con.close()


def test_a_file_no_format_fits_stops_the_folder_before_any_row_loads(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_incidents.csv").write_text(INCIDENTS, encoding="utf-8")
    (folder / "b_notes.csv").write_text("who,what\nx,y\n", encoding="utf-8")
    con = connect(tmp_path / "s.duckdb")
    try:
        with pytest.raises(InputError) as caught:
            ingest_paths(con, [folder])
        message = str(caught.value)
        assert message.startswith("b_notes.csv: cannot tell the format") and "\n" not in message
        assert _stored(con) == 0  # a_incidents.csv, before it in the folder, was not loaded
        assert con.execute("SELECT count(*) FROM loads").fetchone()[0] == 0
    finally:
        con.close()


@pytest.mark.slow  # writes the whole sample and loads it
def test_the_samples_folder_ingests_whole(tmp_path, capsys):
    from hotspot_engine.__main__ import main

    assert main(["sample", "--out", str(tmp_path / "s")]) == 0
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / "s"), "--db", str(tmp_path / "s.duckdb")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("note: trial_schedule.csv: a patrol trial's schedule")
    loaded = [line.split(" [")[0] for line in out.splitlines() if " [" in line and not line.startswith(" ")]
    assert loaded == sorted(p.name for p in (tmp_path / "s").glob("*.csv") if p.name != "trial_schedule.csv")
    assert pd.read_csv(tmp_path / "s" / "incidents.csv").shape[0] > 0
