"""The built-in sample never mixes silently with real data: the store says when it holds the
sample, alone or mixed, and the sample's rows (and only them) can be removed."""
from __future__ import annotations

import shutil

import pytest

from hotspot_engine import service
from hotspot_engine.store.database import connect, label_sample_loads


@pytest.fixture()
def mixed_store(sample_db, real_month_csv, tmp_path):
    """The sample (loads marked as the app marks them) plus a real police.uk month and a real patrol log."""
    path = tmp_path / "mixed.duckdb"
    shutil.copy(sample_db, path)
    con = connect(path)
    label_sample_loads(con, 0)
    patrols = tmp_path / "real_patrols.csv"
    patrols.write_text("patrol_id,start,end,lat,lon\nREAL-1,2024-03-02T20:00:00,2024-03-02T20:15:00,50.9,-1.4\n"
                       "REAL-2,2024-03-03T21:00:00,2024-03-03T21:20:00,50.9,-1.4\n", encoding="utf-8")
    service.ingest_files(con, [real_month_csv, patrols])
    yield con
    con.close()


def test_status_tells_sample_alone_mixed_and_none(sample_store, mixed_store, tmp_path):
    assert service.sample_status(sample_store) == "only"
    assert service.sample_status(mixed_store) == "mixed"
    con = connect(tmp_path / "empty.duckdb")
    assert service.sample_status(con) == "none"
    con.close()


def test_removing_the_sample_keeps_exactly_the_real_rows(mixed_store, real_month_csv):
    con = mixed_store
    real_incidents = con.execute("SELECT count(*) FROM incidents WHERE NOT starts_with(incident_id, 'HIPS-SYN-')").fetchall()[0][0]
    assert real_incidents > 1000
    version = service.data_version(con)
    removed = service.remove_sample(con)
    assert removed == (64486, 2934)
    ext = service.extent(con)
    assert ext.incidents == real_incidents and ext.sources == ("police-uk",)
    assert ext.patrols == 2 and ext.first_month == ext.last_month == "2024-03"
    assert not service.is_sample(con) and service.sample_status(con) == "none"
    assert service.data_version(con) > version  # cached results keyed on it are not reused
    last = con.execute("SELECT kind, notes FROM loads ORDER BY load_id DESC LIMIT 1").fetchall()[0]
    assert last == ("removal", "removed the built-in synthetic sample: 64486 incidents, 2934 patrols")
    assert service.remove_sample(con) == (0, 0)  # nothing left to remove


def test_unmarked_sample_store_still_loses_its_patrols(sample_db, tmp_path):
    """A store made before the sample's loads were marked: the patrol load right after the
    sample's incidents is the sample's."""
    path = tmp_path / "old.duckdb"
    shutil.copy(sample_db, path)
    con = connect(path)
    assert service.remove_sample(con) == (64486, 2934)
    assert service.extent(con).incidents == 0
    con.close()


@pytest.mark.slow  # builds a sample store from scratch
def test_first_start_marks_the_sample_loads(first_start_db, tmp_path):
    path = tmp_path / "first.duckdb"
    shutil.copy(first_start_db, path)
    con = connect(path)
    notes = [n for (n,) in con.execute("SELECT notes FROM loads").fetchall()]
    assert len(notes) >= 4 and all(n.startswith("built-in synthetic sample") for n in notes)
    assert service.sample_status(con) == "only"  # the trial's incidents are the sample's too
    # The sample adopts its 19 hotspots for 2023-24 (chosen on 2022-23), so every page shows the programme;
    # the newest set, so every page opens on it although the trial's set was adopted first.
    from hotspot_engine.sample_trial import SCHEDULE_NAME, SET_NAME
    from hotspot_engine.service import sets, trial

    adopted = sets.load(con)
    assert adopted is not None and adopted.name == sets.SAMPLE_SET and len(adopted.hotspots()) == 19
    assert (adopted.window_from, adopted.window_to) == ("2022-04", "2023-03")
    # Its randomised trial (issue 28): the months after the report year, the set and the schedule stored.
    assert set(sets.list_sets(con)["name"]) == {sets.SAMPLE_SET, SET_NAME}
    assert list(trial.schedules(con)["name"]) == [SCHEDULE_NAME]
    assert service.extent(con).last_month == "2024-09"
    # Removing it takes the partner sample's layers, the trial and the sets too: an empty store, every table.
    from hotspot_engine.store.database import PARTNER_TABLES

    assert service.remove_sample(con)[0] > 0
    assert sets.load(con) is None and trial.schedules(con).empty
    for table in ("incidents", "patrols", *PARTNER_TABLES):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == 0, table
    con.close()


@pytest.mark.slow  # a mixed store through every page in AppTest
def test_the_pages_warn_of_a_mixed_store_and_the_data_page_removes_the_sample(sample_db, real_month_csv, tmp_path,
                                                                             monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest
    from test_real_stores_app import ROOT

    path = tmp_path / "app_mixed.duckdb"
    shutil.copy(sample_db, path)
    con = connect(path)
    service.ingest_files(con, [real_month_csv])
    con.close()
    monkeypatch.setenv("HOTSPOT_DB", str(path))
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
        assert any("SYNTHETIC SAMPLE and real data together" in w.value for w in at.warning)
        at.switch_page("pages/4_Data_and_export.py").run()
        assert at.radio(key="upload_sample").value.startswith("Replace the sample")  # the default for an upload
        at.button(key="remove_sample").click().run()
        assert not at.exception
        assert any("Removed the built-in synthetic sample: 64,486 incidents" in s.value for s in at.success)
        assert not [w for w in at.warning if "SYNTHETIC" in w.value]
        assert not [b for b in at.button if b.key == "remove_sample"]
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
