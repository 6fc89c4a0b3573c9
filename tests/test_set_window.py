"""One window for an adopted set's figures, and what a set says about chance (audit 2026-12-07,
items 2, 4, 6, 9 and 14): ``significant`` is stored with the set and every meeting output says how
many of its hotspots stand out from their surroundings beyond chance; old sets read "not recorded".
"""
from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from conftest import TWO_DISTRICTS

from hotspot_engine.filters import Filters
from hotspot_engine.render.context import chance_line, output_context
from hotspot_engine.service import analyses, sets
from hotspot_engine.store.database import connect

# The fixtures `store` (a writable copy of the sample) and `chosen` (its hotspots in WINDOW) come
# from conftest.py, shared by the adopted-set test modules.
WINDOW = TWO_DISTRICTS


def test_chance_line_counts_the_hotspots_beyond_chance():
    assert chance_line([False] * 19) == ("0 of 19 hotspots stand out from their surroundings beyond chance: these "
                                         "are the busiest places, ranked.")
    assert chance_line([True, False, False]).startswith("1 of 3 hotspots stand out")
    assert "the other 2 are busy places" in chance_line([True, False, False])
    assert chance_line([True, True]) == "All 2 hotspots stand out from their surroundings beyond chance."
    assert "not recorded" in chance_line(pd.array([True, pd.NA], dtype="boolean"))
    assert chance_line([]) == "" and chance_line(None) == ""


def test_the_wall_screens_chance_line_is_short_and_says_the_same():
    assert chance_line([True] * 6 + [False] * 13, short=True) == "6 of 19 stand out beyond chance"
    assert chance_line([False] * 19, short=True) == "0 of 19 stand out beyond chance: busiest places, ranked"
    assert chance_line(pd.array([True, pd.NA], dtype="boolean"), short=True) == "Beyond chance: not recorded"
    assert chance_line([], short=True) == ""


@pytest.mark.slow  # a hotspot selection on two districts (about 4 s of CPU) and renders
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


@pytest.mark.parametrize("read_only", [True, False])
def test_an_old_sets_predicted_rate_reads_not_recorded_never_zero(tmp_path, read_only):
    from types import SimpleNamespace

    from hotspot_engine.render.briefing import _incidents_line

    path = tmp_path / "old.duckdb"
    _old_store(path)
    con = connect(path, read_only=read_only)  # read-write adds hotspot_predicted (ALTER TABLE), read-only reads NULL
    try:
        columns = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                             "WHERE table_name = 'hotspot_set_cells'").fetchall()}
        assert ("hotspot_predicted" in columns) is not read_only
        old = sets.load(con, "old")
        assert old.hotspots()["predicted"].isna().all()
        assert old.predicted() == {"H1": None, "H2": None}  # the old set was ranked by prediction: not recorded
    finally:
        con.close()
    report = SimpleNamespace(predicted=old.predicted())
    label, value = _incidents_line(report, pd.Series({"incidents": 7}, name="H1"))
    assert "predicted a month" in label and value == "7  ·  not recorded"
    assert _incidents_line(SimpleNamespace(predicted={}), pd.Series({"incidents": 7}, name="H1")) == (
        "Incidents in the period", "7")


@pytest.mark.slow  # a hotspot selection on two districts (about 4 s of CPU)
def test_a_set_keeps_each_hotspots_predicted_rate_as_adopted(store, chosen):
    from hotspot_engine.analyse.hotspots import area_predicted

    shown = area_predicted(chosen.areas, chosen.cells)["predicted"]  # what the Hotspot map table shows
    assert chosen.params.method == "predict" and shown.notna().all() and (shown > 0).all()
    adopted = sets.adopt(store, "FY 2023-24", chosen, WINDOW, chosen.params, WINDOW, "analyst")
    read = sets.load(store, "FY 2023-24")
    assert read.hotspots()["predicted"].tolist() == pytest.approx(shown.tolist())
    assert read.predicted() == adopted.predicted() == pytest.approx(
        dict(zip(chosen.areas["hotspot_id"], shown.tolist())))
    assert "hotspot_predicted" not in sets.as_result(read).cells.columns  # kept out of export layers
    # Read back as stored, never recomputed: a changed stored figure comes back changed.
    store.execute("UPDATE hotspot_set_cells SET hotspot_predicted = 12.25 WHERE hotspot_number = 1")
    first = read.hotspots()["hotspot_id"].iloc[0]
    assert sets.load(store, "FY 2023-24").predicted()[first] == 12.25


@pytest.mark.slow  # a hotspot selection on two districts (about 4 s of CPU) and a briefing render
def test_a_sets_briefing_shows_the_predicted_rate_as_adopted(store, chosen):
    from hotspot_engine.analyse.patrols import briefing_pdf

    adopted = sets.adopt(store, "FY 2023-24", chosen, WINDOW, chosen.params, WINDOW, "analyst")
    report = sets.patrol_report(store, WINDOW, adopted)
    assert report.predicted == adopted.predicted() and len(report.predicted) == len(chosen.areas)
    first = report.dosage["hotspot_id"].iloc[0]
    text = _pdf_text(briefing_pdf(report, None, [first], context=output_context(WINDOW, 1.0, adopted.name)))
    assert "predicted a month" in text and f"· {report.predicted[first]:.1f}" in text
    assert "Ranked by predicted rate a month" in text


@pytest.mark.slow  # a hotspot selection on two districts (about 4 s of CPU) and renders
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


# -- dosage and weeks on a gapped store (audit items 6 and 9) ---------------------------------------

def _gapped_report(stored: set[str] | None):
    """A year of one hotspot with a visit of 15 minutes every day of 2024-01..04 (the months stored)."""
    from datetime import date

    import numpy as np

    from hotspot_engine.analyse import patrols as P

    cell = np.uint64(int("8919590258bffff", 16))
    days = pd.date_range("2024-01-01", "2024-04-30", freq="D")
    patrols = pd.DataFrame({"patrol_id": [f"p{i}" for i in range(len(days))], "source": "log",
                            "start": days + pd.Timedelta(hours=21), "minutes": 15.0, "hotspot_ref": None})
    patrols["h3"] = pd.array([int(cell)] * len(days), dtype="UInt64")
    areas = pd.DataFrame({"hotspot_rank": [1], "hotspot_id": ["A"], "hotspot_name": ["Alpha"],
                          "district": ["Southampton"], "n_cells": [1]})
    cells = pd.DataFrame({"h3": np.array([cell], dtype=np.uint64), "hotspot_id": ["A"], "hotspot_name": ["Alpha"]})
    incidents = pd.DataFrame({"hotspot_id": ["A"], "day": pd.to_datetime(["2024-02-03"]), "hour": [22], "count": [2],
                              "harm": [10.0]})
    return P.patrol_report(patrols, areas, cells, incidents, (date(2023, 5, 1), date(2024, 4, 30)),
                           stored_months=stored)


def test_required_days_count_only_stored_months():
    stored = {"2018-03", "2024-01", "2024-02", "2024-03", "2024-04"}
    gapped = _gapped_report(stored)
    row = gapped.dosage.iloc[0]
    assert row["days"] == 121 == gapped.summary["days"]  # 2024-01..04, not the 366 days of 2023-05..2024-04
    assert row["dosed_days"] == 121 and row["compliance"] == pytest.approx(1.0) and row["status"] == "green"
    assert any("121 days" in note and "not stored" in note for note in gapped.notes)
    whole = _gapped_report(None).dosage.iloc[0]  # without the store's months, every day counts (as before)
    assert whole["days"] == 366 and whole["status"] == "red"


def test_weeks_in_unstored_months_are_marked_as_such():
    weekly = _gapped_report({"2024-01", "2024-02", "2024-03", "2024-04"}).weekly
    weeks = weekly[weekly["hotspot_id"] == "all"].set_index("week")
    assert weeks.loc[pd.Timestamp("2023-10-02"), "stored_days"] == 0
    assert weeks.loc[pd.Timestamp("2024-02-05"), "stored_days"] == 7
    assert weeks.loc[pd.Timestamp("2024-01-01"), "stored_days"] == 7
    assert weeks.loc[pd.Timestamp("2023-12-25"), "stored_days"] == 0  # Dec 25-31: the month is not stored
    assert weeks.loc[pd.Timestamp("2024-04-29"), "stored_days"] == 2
    assert weeks["stored_days"].sum() == 121


@pytest.fixture(scope="module")
def gap_set_store(tmp_path_factory):
    """Real Southampton 2024-01 and 2024-03 only (February unstored), a set adopted on them, and
    patrol logs: a 15-minute visit to the set's #1 every day of January and March."""
    from conftest import _real_month

    from hotspot_engine.read.loading import ingest_paths, ingest_upload

    folder = tmp_path_factory.mktemp("gapset")
    path = folder / "gap.duckdb"
    con = connect(path)
    try:
        ingest_paths(con, [_real_month(folder, "2024-01"), _real_month(folder, "2024-03")])
        window = Filters(date_from="2024-01", date_to="2024-03", sv_only=True)
        result = analyses.hotspots(con, window)
        adopted = sets.adopt(con, "Gap set", result, window, result.params, window, "test")
        first = adopted.cells.iloc[0]
        days = [d for d in pd.date_range("2024-01-01", "2024-03-31") if d.month != 2]
        log = "patrol_id,start,duration_minutes,h3,unit\n" + "".join(
            f"P{i},{d:%Y-%m-%d}T21:00:00,15,{first['h3']},U1\n" for i, d in enumerate(days))
        ingest_upload(con, "log.csv", log.encode())
    finally:
        con.close()
    return path


@pytest.mark.slow  # the command line, and pdftotext on the briefing
def test_the_briefings_required_days_are_the_stored_days(gap_set_store, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "plan.csv"
    done = subprocess.run([sys.executable, "-m", "hotspot_engine", "patrol-plan", "--db", str(gap_set_store),
                           "--set", "Gap set", "--from", "2024-01", "--to", "2024-03", "--out", str(out),
                           "--briefing", str(tmp_path / "b.pdf"), "--dosage", str(tmp_path / "d.csv")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    dosage = pd.read_csv(tmp_path / "d.csv")
    assert (dosage["days"] == 62).all()  # January and March: February is not stored
    assert dosage.loc[dosage["hotspot_rank"] == 1, "status"].item() == "green"
    text = _pdf_text((tmp_path / "b.pdf").read_bytes())
    assert "62 of 62 required" in text and "of 91 required" not in text


@pytest.mark.slow  # an AppTest of the Patrols page
def test_patrols_weekly_table_leaves_out_unstored_weeks_and_says_so(gap_set_store):
    from conftest import app_serving, run_app

    with app_serving(gap_set_store):
        at = run_app("pages/2_Patrols.py", query={"from": "2024-01", "to": "2024-03"})
        line = [c.value for c in at.caption if "fall in months the store does not hold" in c.value]
        assert line and "between 2024-02-05 and 2024-02-19" in line[0]
        tables = [t.value for t in at.dataframe if "stored_days" in t.value.columns]
        assert tables and (tables[0]["stored_days"] > 0).all()
        assert pd.Timestamp("2024-02-12") not in set(tables[0]["week"])


@pytest.mark.slow  # an AppTest of the Partner data page
def test_partner_hotspot_table_says_how_many_police_months_are_stored(gap_set_store, sample_dir, tmp_path):
    from conftest import app_serving, run_app

    from hotspot_engine import service

    db = tmp_path / "gap.duckdb"
    shutil.copy(gap_set_store, db)
    con = connect(db)
    try:
        service.ingest_files(con, [sample_dir / "partner_ae_attendances.csv"], fmt="partner-areas")
    finally:
        con.close()
    with app_serving(db):
        at = run_app("pages/5_Partner_data.py")
        line = [c.value.replace("\\", "") for c in at.caption if c.value.startswith("Area counts in the LSOAs")]
        assert line, [c.value for c in at.caption]
        assert "Police incidents: 2024-01 to 2024-03, 2 of 3 months stored" in line[0], line[0]
        assert "their months may differ" in line[0] and "2022-04 to 2024-03" in line[0]


# -- one window for the set's figures (audit item 2) --------------------------------------------------

@pytest.fixture(scope="module")
def jan_set_store(gap_set_store, tmp_path_factory):
    """The gapped store with a set chosen on 2024-01 alone: its year starts 2024-02, so its window
    (2024-02..03, February unstored) differs from the sidebar's default, every stored month."""
    path = tmp_path_factory.mktemp("janset") / "jan.duckdb"
    shutil.copy(gap_set_store, path)
    con = connect(path)
    try:
        window = Filters(date_from="2024-01", date_to="2024-01", sv_only=True)
        result = analyses.hotspots(con, window)
        sets.adopt(con, "Jan set", result, window, result.params, window, "test")
    finally:
        con.close()
    return path


def test_the_set_window_is_the_year_chosen_for_else_the_months_chosen_on():
    adopted = sets.AdoptedSet("s", pd.Timestamp("2026-01-01").to_pydatetime(), "", "", "predict", {}, Filters(),
                              "2022-04", "2023-03", pd.DataFrame(columns=sets.CELL_COLUMNS))
    whole = sets.set_window(adopted, "2024-09")
    assert (whole.date_from, whole.date_to) == ("2023-04", "2024-03") and "the year the set was chosen for" in whole.label
    part = sets.set_window(adopted, "2023-06", stored={"2023-04", "2023-06"})
    assert (part.date_from, part.date_to) == ("2023-04", "2023-06")
    assert "so far (it runs to 2024-03)" in part.label and "2 of its 3 months stored" in part.label
    early = sets.set_window(adopted, "2023-03")
    assert (early.date_from, early.date_to) == ("2022-04", "2023-03") and "chosen on" in early.label


def test_every_output_counts_the_set_over_one_window(jan_set_store):
    from hotspot_engine.service.overview import overview_periods

    con = connect(jan_set_store, read_only=True)
    try:
        adopted = sets.load(con, "Jan set")
        window = sets.store_set_window(con, adopted)
        assert (window.date_from, window.date_to) == ("2024-02", "2024-03")
        result = sets.set_result(con, adopted)
        total = int(result.areas["count"].sum())
        assert total > 0 and window.label in result.notes[-1]
        _, inside = overview_periods(con, Filters(), adopted)
        assert inside.count_current == total and window.label in inside.line
        assert inside.count_previous is None and "not all stored, so no comparison" in inside.line
        january = sets.set_result(con, adopted, months=Filters(date_from="2024-01", date_to="2024-03"))
        assert int(january.areas["count"].sum()) > total  # the sidebar's whole range is another window
    finally:
        con.close()


@pytest.mark.slow  # the command line
def test_patrol_plan_on_a_set_counts_over_the_sets_window(jan_set_store, tmp_path):
    import subprocess
    import sys

    con = connect(jan_set_store, read_only=True)
    try:
        expected = sets.set_result(con, sets.load(con, "Jan set")).areas.set_index("hotspot_id")["count"]
    finally:
        con.close()
    done = subprocess.run([sys.executable, "-m", "hotspot_engine", "patrol-plan", "--db", str(jan_set_store),
                           "--set", "Jan set", "--out", str(tmp_path / "p.csv"), "--dosage", str(tmp_path / "d.csv")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Figures over the set's window: 2024-02 to 2024-03" in done.stderr
    dosage = pd.read_csv(tmp_path / "d.csv").set_index("hotspot_id")["incidents"]
    assert dosage.to_dict() == expected.reindex(dosage.index).to_dict()


@pytest.mark.slow  # AppTests of the Patrols page and the Overview
def test_patrols_and_overview_count_the_set_over_its_window_and_say_so(jan_set_store):
    from conftest import app_serving, run_app

    con = connect(jan_set_store, read_only=True)
    try:
        adopted = sets.load(con, "Jan set")
        total, chance = int(sets.set_result(con, adopted).areas["count"].sum()), adopted.chance_line()
    finally:
        con.close()
    assert "stand out from their surroundings beyond chance" in chance
    with app_serving(jan_set_store):
        at = run_app("pages/2_Patrols.py", query={"set": "Jan set"})
        assert any(chance in c.value.replace("\\", "") for c in at.caption)  # the set line
        assert any(c.value.replace("\\", "").startswith("Figures over the set's window, as on every page and output: "
                                                        "2024-02 to 2024-03") for c in at.caption)
        table = next(t.value for t in at.dataframe if "Incidents" in t.value.columns and "Days dosed" in t.value.columns)
        assert int(table["Incidents"].sum()) == total
        at = run_app(query={"set": "Jan set"})
        assert {m.label: m.value for m in at.metric}["In the adopted set's hotspots"] == f"{total:,}"
        assert any("Counted over 2024-02 to 2024-03" in c.value.replace("\\", "") and chance in c.value.replace("\\", "")
                   for c in at.caption)
        at = run_app("pages/2_Patrols.py", query={"set": "Jan set", "from": "2024-03", "to": "2024-03"})
        lines = [c.value.replace("\\", "") for c in at.caption]
        assert any("Figures over the months chosen in the sidebar, 2024-03 to 2024-03" in line
                   and "not the set's window (2024-02 to 2024-03" in line for line in lines), lines


@pytest.mark.slow  # an AppTest of the Overview on the sample
def test_the_sample_overview_says_how_many_of_its_sets_hotspots_stand_out(store, tmp_path):
    from conftest import app_serving, run_app

    adopted = sets.adopt_sample_set(store)  # what the app's first start adopts
    chance = adopted.chance_line()
    store.close()
    assert chance.startswith(("All 19 hotspots", f"{int(adopted.hotspots()['significant'].sum())} of 19 hotspots"))
    with app_serving(next(tmp_path.glob("store.duckdb"))):
        at = run_app()
        lines = [c.value.replace("\\", "") for c in at.caption]
        assert chance in lines, lines


@pytest.mark.slow  # a hotspot selection on two districts (about 4 s of CPU) and renders
def test_the_summary_pdfs_subtitle_lines_stay_above_the_map(chosen):
    """Source, caveat, the chance line and a flagged month: four subtitle lines ran under the map's top."""
    from hotspot_engine.reference.geography import districts
    from hotspot_engine.render import static_map
    from hotspot_engine.write import export

    cells, areas = export.cells_layer(chosen.cells), export.areas_layer(chosen.areas, chosen.cells)
    subtitle = "\n".join(["Data: a source with a long caveat " * 8, "0 of 19 hotspots stand out beyond chance.",
                          "Data-quality check: 2024-02 is partial."])
    fig = static_map.summary_figure("A title", {}, cells, areas, districts(), pd.DataFrame(), subtitle=subtitle)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    text = next(t for t in fig.texts if "beyond chance" in t.get_text())
    # The map's box as laid out (a wide area is drawn shorter inside it, a tall one fills it).
    map_top = fig.transFigure.transform((0, fig.axes[0].get_position(original=True).y1))[1]
    assert text.get_window_extent(renderer).y0 > map_top


@pytest.mark.slow  # an AppTest of Data & export writing the set's hotspot layers
def test_the_apps_set_export_says_which_months_its_counts_cover(jan_set_store):
    import io
    import json
    import zipfile

    from conftest import app_serving, run_app

    with app_serving(jan_set_store):
        at = run_app("pages/4_Data_and_export.py", query={"set": "Jan set"})
        at.multiselect(key="x_layers").set_value(["hotspot_areas"]).run()
        at.selectbox(key="x_fmt").set_value("csv").run()
        at.button(key="x_prepare").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        _name, payload, _names = at.session_state["export_zip"]
    archive = zipfile.ZipFile(io.BytesIO(payload))
    meta = json.loads(archive.read(next(n for n in archive.namelist() if n.endswith(".methods.json"))))
    assert any(str(note).startswith("Incident counts (count, harm) cover 2024-02 to 2024-03, the year the set was chosen for")
               for note in meta["notes"]), meta["notes"]


def test_monitoring_requires_only_stored_days_and_says_which_months_are_missing(jan_set_store):
    from hotspot_engine.service.monitoring import monitor

    con = connect(jan_set_store, read_only=True)
    try:
        watch = monitor(con, sets.load(con, "Jan set"))
    finally:
        con.close()
    assert any(line.startswith("Not in the store: 1 of the 2 months since and 2 of the same months a year before")
               for line in watch.lines), watch.lines
    weeks = watch.weekly.set_index("week")
    assert weeks.loc[pd.Timestamp("2024-02-12"), "required_days"] == 0  # February is not stored
    assert pd.isna(weeks.loc[pd.Timestamp("2024-02-12"), "incidents"])  # no data, not a quiet week
    assert weeks["incidents_year_before"].isna().all()  # 2023 is not stored at all
    months = watch.monthly.set_index("month")  # police.uk months: compared month by month
    assert pd.isna(months.loc["2024-02", "incidents"]) and months.loc["2024-03", "incidents"] > 0
    assert months["incidents_year_before"].isna().all()
    assert weeks.loc[pd.Timestamp("2024-03-11"), "required_days"] > 0


@pytest.mark.slow  # an AppTest drawing the meeting maps on a set
def test_the_apps_meeting_maps_on_a_set_name_its_window_and_its_chance_line(jan_set_store):
    from conftest import app_serving, run_app

    con = connect(jan_set_store, read_only=True)
    try:
        chance = sets.load(con, "Jan set").chance_line()
    finally:
        con.close()
    with app_serving(jan_set_store):
        at = run_app("pages/4_Data_and_export.py", query={"set": "Jan set"})
        at.toggle(key="x_maps").set_value(True).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        page = at.get("iframe")[0].proto.srcdoc
    assert "Jan set: Serious violence hotspots, force-wide, 2024-02 to 2024-03" in page
    assert chance in page


@pytest.mark.slow  # the sample's headline (hotspots and a year's counts)
def test_the_overviews_set_figure_is_the_headlines_on_the_sample(store):
    from hotspot_engine.service.overview import overview_periods

    adopted = sets.adopt_sample_set(store)
    head = analyses.headline(store, Filters(sv_only=True))
    _, inside = overview_periods(store, Filters(sv_only=True), adopted)
    assert head.hotspot_set == adopted.name
    assert (inside.count_current, inside.count_previous) == (head.hotspot_sv_after, head.hotspot_sv_before)
    assert inside.line.startswith("Counted over 2023-04 to 2024-03, the year the set was chosen for; against the "
                                  "same places 2022-04 to 2023-03")


def test_the_chance_line_counts_the_set_hotspots_in_the_chosen_places():
    """The Overview's headline counts the set's hotspots in the chosen CSPs; its chance line must count
    the same ones (four CSPs chosen had read "11 hotspots" beside "6 of 19 stand out")."""
    from datetime import datetime

    cells = pd.DataFrame({"h3": ["89195da49a7ffff", "89195da49a3ffff", "89194e6a8d3ffff"],
                          "hotspot_id": ["H1", "H2", "H3"], "hotspot_number": [1, 2, 3],
                          "hotspot_name": ["One", "Two", "Three"],
                          "district": ["Southampton", "Southampton", "Portsmouth"],
                          "csp": ["Southampton", "Southampton", "Portsmouth"], "lat": [50.9, 50.9, 50.8],
                          "lon": [-1.4, -1.4, -1.1], "significant": pd.array([True, False, True], dtype="boolean"),
                          "hotspot_predicted": [1.0, 1.0, 1.0]})
    adopted = sets.AdoptedSet("s", datetime(2026, 1, 1), "a", "", "predict", {}, Filters(), None, None, cells)
    assert adopted.chance_line(short=True) == "2 of 3 stand out beyond chance"
    assert adopted.chance_line(short=True, places=Filters()) == "2 of 3 stand out beyond chance"
    assert adopted.chance_line(short=True, places=Filters(csps=("Safe City Partnership Southampton",))) == "1 of 2 stand out beyond chance"
    assert adopted.chance_line(places=Filters(districts=("Portsmouth",))) == (
        "All 1 hotspots stand out from their surroundings beyond chance.")
    assert adopted.chance_line(places=Filters(districts=("Havant",))) == ""


@pytest.mark.slow  # an AppTest run of the Overview on the first-start store
def test_the_overview_counts_the_same_hotspots_in_its_headline_and_its_chance_line(first_start_db, tmp_path,
                                                                                 monkeypatch):
    import re
    from pathlib import Path

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    path = tmp_path / "first.duckdb"
    shutil.copy(first_start_db, path)
    monkeypatch.setenv("HOTSPOT_DB", str(path))
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=240)
        at.session_state["f_csp"] = ["Safe City Partnership Southampton", "Safer Portsmouth Partnership"]
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        shown = int(next(m.value for m in at.metric if m.label == "Serious-violence hotspots"))
        line = next(c.value for c in at.caption if "beyond chance" in c.value)
        counted = re.search(r"(\d+) of (\d+) hotspots|All (\d+) hotspots", line)
        assert counted, line
        assert int(counted.group(2) or counted.group(3)) == shown < 19, (line, shown)
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
