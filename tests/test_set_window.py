"""One window for an adopted set's figures, and what a set says about chance (audit 2026-12-07,
items 2, 4, 6, 9 and 14): ``significant`` is stored with the set and every meeting output says how
many of its hotspots stand out from their surroundings beyond chance; old sets read "not recorded".
"""
from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from hotspot_engine.filters import Filters
from hotspot_engine.render.context import chance_line, output_context
from hotspot_engine.service import analyses, sets
from hotspot_engine.store.database import connect

WINDOW = Filters(date_from="2023-04", date_to="2024-03", districts=("Portsmouth", "Southampton"))


@pytest.fixture()
def store(sample_db, tmp_path):
    path = tmp_path / "store.duckdb"
    shutil.copy(sample_db, path)
    con = connect(path)
    yield con
    con.close()


@pytest.fixture(scope="module")
def chosen(sample_db):
    con = connect(sample_db, read_only=True)
    try:
        yield analyses.hotspots(con, WINDOW)
    finally:
        con.close()


def test_chance_line_counts_the_hotspots_beyond_chance():
    assert chance_line([False] * 19) == ("0 of 19 hotspots stand out from their surroundings beyond chance: these "
                                         "are the busiest places, ranked.")
    assert chance_line([True, False, False]).startswith("1 of 3 hotspots stand out")
    assert "the other 2 are busy places" in chance_line([True, False, False])
    assert chance_line([True, True]) == "All 2 hotspots stand out from their surroundings beyond chance."
    assert "not recorded" in chance_line(pd.array([True, pd.NA], dtype="boolean"))
    assert chance_line([]) == "" and chance_line(None) == ""


def test_a_set_keeps_each_hotspots_significance_and_the_tests_meaning(store, chosen):
    adopted = sets.adopt(store, "FY 2023-24", chosen, WINDOW, chosen.params, WINDOW, "analyst")
    hotspots = adopted.hotspots()
    assert hotspots["significant"].tolist() == chosen.areas["significant"].astype(bool).tolist()
    assert adopted.significance and "surroundings" in adopted.significance
    k, n = int(chosen.areas["significant"].sum()), len(chosen.areas)
    assert adopted.chance_line().startswith(f"{k} of {n} hotspots" if 0 < k < n else ("All" if k else "0 of"))
    result = sets.set_result(store, adopted)
    assert result.areas["significant"].astype(bool).tolist() == hotspots["significant"].tolist()


def _old_store(path, with_set: bool = True) -> None:
    """A store made before sets kept ``significant``: the first sets tables, one set in them."""
    con = duckdb.connect(str(path))
    con.execute("""CREATE TABLE hotspot_sets (name VARCHAR NOT NULL, adopted_at TIMESTAMP NOT NULL, adopted_by VARCHAR,
        note VARCHAR, method VARCHAR, params VARCHAR, filters VARCHAR, window_from VARCHAR, window_to VARCHAR,
        res INTEGER, hotspots INTEGER, cells INTEGER)""")
    con.execute("""CREATE TABLE hotspot_set_cells (set_name VARCHAR NOT NULL, h3 VARCHAR NOT NULL,
        hotspot_id VARCHAR NOT NULL, hotspot_number INTEGER NOT NULL, hotspot_name VARCHAR, district VARCHAR,
        csp VARCHAR, lat DOUBLE, lon DOUBLE)""")
    if with_set:
        con.execute("INSERT INTO hotspot_sets VALUES ('old', TIMESTAMP '2026-01-01 10:00', 'a', '', 'predict', '{}', "
                    "'{}', '2024-01', '2024-04', 9, 2, 2)")
        con.execute("INSERT INTO hotspot_set_cells VALUES ('old', '89195da49a7ffff', 'H1', 1, 'One', 'Southampton', "
                    "'Southampton', 50.9, -1.4), ('old', '89195da49a3ffff', 'H2', 2, 'Two', 'Southampton', "
                    "'Southampton', 50.9, -1.4)")
    con.close()


@pytest.mark.parametrize("read_only", [True, False])
def test_an_old_set_reads_not_recorded_never_false(tmp_path, read_only):
    path = tmp_path / "old.duckdb"
    _old_store(path)
    con = connect(path, read_only=read_only)  # read-write migrates (ALTER TABLE), read-only reads NULL
    try:
        old = sets.load(con, "old")
        assert old.significance is None
        assert old.hotspots()["significant"].isna().all()
        assert old.chance_line() == ("Whether these 2 hotspots stand out from their surroundings beyond chance was "
                                     "not recorded when the set was adopted.")
        assert sets.as_result(old).areas["significant"].isna().all()
    finally:
        con.close()


def test_meeting_outputs_and_the_briefing_say_how_many_stand_out(store, chosen):
    from hotspot_engine.analyse.patrols import briefing_pdf
    from hotspot_engine.service.exports import meeting_maps

    adopted = sets.adopt(store, "FY 2023-24", chosen, WINDOW, chosen.params, WINDOW, "analyst")
    line = adopted.chance_line()
    result = sets.set_result(store, adopted)
    html, _png, pdf, _base = meeting_maps(result, None, WINDOW, WINDOW, "count", False, 5, True, "",
                                          context=output_context(WINDOW, 1.0, adopted.name))
    assert line in html
    assert line.split(":")[0] in _pdf_text(pdf)
    report = sets.patrol_report(store, WINDOW, adopted)
    assert report.chance == line
    briefing = briefing_pdf(report, None, report.dosage["hotspot_id"].tolist()[:1],
                            context=output_context(WINDOW, 1.0, adopted.name))
    assert line.split(":")[0].split(";")[0] in _pdf_text(briefing)


def _pdf_text(pdf: bytes) -> str:
    """The PDF's text on one line (pdftotext when installed; the test is skipped without it)."""
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return " ".join(out.split())
