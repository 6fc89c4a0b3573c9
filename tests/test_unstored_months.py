"""Months the store does not hold are not months with no incidents (audit on the real police.uk months,
2018-03 beside 2024-01..04): the impact series and its placebo runs take only the unbroken run of
stored months, and a displacement reading never claims an interval that was not estimated."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from hotspot_engine.analyse.impact import NO_EFFECT_READING, NO_ESTIMATE_READING, _read_only_if_significant
from hotspot_engine.filters import months_between
from hotspot_engine.service.analyses import stored_run

REAL = {"2018-03", "2024-01", "2024-02", "2024-03", "2024-04"}


def test_the_run_around_the_intervention_leaves_the_unstored_years_out():
    months, note = stored_run(months_between("2018-03", "2024-04"), REAL, "2024-03")
    assert months == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert "69, 2018-04 to 2023-12" in note and "2024-01 to 2024-04" in note


def test_an_intervention_after_the_last_stored_month_keeps_the_run_before_it():
    months, _ = stored_run(months_between("2018-03", "2024-04"), REAL, "2024-05")
    assert months == ["2024-01", "2024-02", "2024-03", "2024-04"]


def test_a_wholly_stored_range_is_left_alone():
    months = months_between("2024-01", "2024-04")
    assert stored_run(months, REAL, "2024-03") == (months, "")


def test_an_intervention_inside_the_gap_changes_nothing():
    """Neither the first month after nor the one before is stored: no run to choose, and the model
    says why it cannot fit (too few months after) rather than a silent trim."""
    months = months_between("2018-03", "2024-04")
    assert stored_run(months, REAL, "2021-06") == (months, "")


def test_no_corrected_estimate_gives_no_within_chance_reading():
    wdq = {"wdq": 1.7}
    assert _read_only_if_significant(wdq, math.nan)["wdq_reading"] == NO_ESTIMATE_READING
    assert _read_only_if_significant(wdq, 0.4)["wdq_reading"] == NO_EFFECT_READING
    assert "wdq_reading" not in _read_only_if_significant(wdq, 0.01)


@pytest.mark.slow
def test_impact_on_a_store_with_a_gap_counts_only_stored_months(sample_dir, tmp_path):
    """The sample's 2020-04 beside 2022-04..2024-03: the baseline is the 12 stored months before
    2023-04, not 36 months of which 24 are unstored zeros; the placebo runs would need the gap."""
    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    incidents = pd.read_csv(sample_dir / "incidents.csv", dtype=str)
    month = incidents["occurred_at"].str[:7]
    keep = (month == "2020-04") | ((month >= "2022-04") & (month <= "2024-03"))
    path = tmp_path / "incidents.csv"
    incidents[keep].to_csv(path, index=False)
    con = connect(tmp_path / "gap.duckdb")
    try:
        ingest_paths(con, [path])
        result = service.impact(con, Filters(), "2023-04-01")
        pooled = result.table.set_index("hotspot_id").loc["pooled"]
        assert (pooled["months_pre"], pooled["months_post"]) == (12, 12)
        assert result.months[0] == "2022-04"
        assert any("2020-05 to 2022-03" in note for note in result.notes)
        assert service.placebo_runs(con, Filters(), result.selection_window) == []
    finally:
        con.close()


@pytest.mark.slow  # an AppTest of the map page
def test_playback_skips_months_the_store_does_not_hold(gap_store):
    from conftest import app_serving, run_app

    with app_serving(gap_store):
        at = run_app("pages/1_Hotspot_map.py", query={"from": "2024-01", "to": "2024-03"})
        at.selectbox(key="m_mode").set_value("months").run()
        assert not at.exception
        assert list(at.select_slider(key="m_month").options) == ["2024-01", "2024-03"]
        assert any("1 of the 3 selected months are not in the store" in c.value for c in at.caption)
        assert any("outlines: 2024-01 to 2024-03, 2 of 3 months stored" in m.value for m in at.markdown)
        at.selectbox(key="m_mode").set_value("window").run()
        assert any("cells · 2024-01 to 2024-03, 2 of 3 months stored" in m.value for m in at.markdown)


@pytest.mark.slow  # renders the meeting summary PDF and reads it back with pdftotext
def test_meeting_summary_has_no_patrols_column_without_patrol_data(gap_store, tmp_path):
    """Audit on the real months: the summary's table read 'patrols 0' for every hotspot of a store
    with no patrol data at all, as if patrols had been counted and none found."""
    import shutil
    import subprocess

    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import exports

    if not shutil.which("pdftotext"):
        pytest.skip("poppler's pdftotext is not installed")
    con = service.open_store(gap_store, read_only=True)
    try:
        filters = Filters(sv_only=True)
        result = service.hotspots(con, filters)
        texts = {}
        for stored in (True, False):
            pdf = exports.meeting_maps(result, None, filters, filters, "count", False, 5, False, "filters",
                                       context=exports.store_context(con, filters), patrols_stored=stored)[2]
            path = tmp_path / f"summary_{stored}.pdf"
            path.write_bytes(pdf)
            texts[stored] = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                           check=True).stdout
    finally:
        con.close()
    assert "patrols" in texts[True] and "patrols" not in texts[False]


@pytest.mark.slow  # an AppTest of the Impact page
def test_impact_page_says_which_months_the_series_left_out(tmp_path_factory, gap_store):
    """Real Southampton 2024-01 and 2024-03 (February unstored), intervention 2024-03-01: the series is
    2024-03 alone and the page says February and January were left out, instead of a zero February."""
    import datetime as dt
    import shutil

    from conftest import app_serving, run_app
    from date_typing import type_date

    path = tmp_path_factory.mktemp("gapapp") / "gap.duckdb"
    shutil.copy(gap_store, path)
    with app_serving(path):
        at = run_app("pages/3_Impact.py")
        type_date(at, "i_date", dt.date(2024, 3, 1).isoformat())  # typed in the date field (ui/date_field.py)
        assert not at.exception
        assert any("Months not in the store (1, 2024-02 to 2024-02)" in c.value.replace("\\", "") for c in at.caption)


@pytest.mark.slow  # the command line: adopt a set, make a schedule
def test_schedule_on_month_only_records_says_what_its_power_rests_on(gap_store, tmp_path, capsys):
    """Audit on the real months: 'schedule' printed a detectable rate ratio as if the trial could be
    evaluated, though the records give no day (evaluate exits 2 on them) and the power assumes Poisson."""
    import shutil

    from hotspot_engine.__main__ import main

    db = tmp_path / "gap.duckdb"
    shutil.copy(gap_store, db)
    assert main(["hotspots", "--db", str(db), "--from", "2024-01", "--to", "2024-03", "--adopt", "S",
                 "--out", str(tmp_path / "hs.csv")]) == 0
    capsys.readouterr()
    assert main(["schedule", "--db", str(db), "--set", "S", "--start", "2024-01-01", "--days", "28",
                 "--out", str(tmp_path / "early.csv")]) == 2  # no history before the start: said, not a date range
    assert capsys.readouterr().err.startswith("error: --start: power is estimated on the set's window before")
    assert main(["schedule", "--db", str(db), "--set", "S", "--start", "2024-04-01", "--days", "28",
                 "--out", str(tmp_path / "sched.csv")]) == 0
    sidecar = (tmp_path / "sched.methods.txt").read_text(encoding="utf-8")
    rows = len(pd.read_csv(tmp_path / "sched.csv"))  # the list had been empty
    assert f"Layers written:\n  schedule: {rows} rows" in sidecar and rows % 28 == 0
    history = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("history: "))
    assert "month-only incidents" in history and "Poisson assumed" in history
    assert "'evaluate' will need force records with dates" in history


@pytest.mark.slow  # builds the two-month real store (about 2.5 s)
def test_a_default_window_says_how_many_of_its_months_are_stored(gap_store):
    """patrol-plan and the other commands without --from read 'Window: 2023-05 to 2024-04 (the 12 months
    up to the latest month)' on the real store, which holds 4 of them."""
    from hotspot_engine import service
    from hotspot_engine.filters import Filters

    con = service.open_store(gap_store, read_only=True)
    try:
        window, note = service.resolve_window(con, Filters())
        three, whole = service.resolve_window(con, Filters(), months=1)
    finally:
        con.close()
    assert (window.date_from, window.date_to) == ("2023-04", "2024-03")
    assert note == "Window: 2023-04 to 2024-03 (the 12 months up to the latest month; only 2 of them are stored)."
    assert whole == "Window: 2024-03 to 2024-03 (the 1 months up to the latest month)."


@pytest.mark.slow  # the command line: adopt a set, make a schedule, evaluate it
def test_evaluate_on_months_the_store_does_not_hold_says_so(gap_store, tmp_path, capsys):
    """Audit: a schedule in 2024-05 on a store ending 2024-04 read 'pooled: no incidents in the trial
    days to compare' and exited 0, as if the days had been counted and were quiet."""
    import shutil

    from hotspot_engine.__main__ import main

    db = tmp_path / "gap.duckdb"
    shutil.copy(gap_store, db)
    assert main(["hotspots", "--db", str(db), "--from", "2024-01", "--to", "2024-03", "--adopt", "S",
                 "--out", str(tmp_path / "hs.csv")]) == 0
    sched = tmp_path / "sched.csv"
    assert main(["schedule", "--db", str(db), "--set", "S", "--start", "2024-04-01", "--days", "28",
                 "--out", str(sched)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--db", str(db), "--schedule", str(sched), "--out", str(tmp_path / "e.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: --schedule: the trial starts after the last month the store holds incidents in; "
                   "load the trial's months first")


def test_the_pooled_line_gives_each_figure_its_own_reason():
    from hotspot_engine.__main__ import pooled_summary

    nan = math.nan
    row = {"message": "corrected estimate: only 0 months before the intervention lie outside the window; 19 of 19 "
                      "hotspots had no model; summed series: too few periods before the intervention: 2",
           "corrected_change_pct": nan, "corrected_ci_low_pct": nan, "corrected_ci_high_pct": nan,
           "its_change_pct": nan, "ci_low_pct": nan, "ci_high_pct": nan, "simple_change_pct": -13.8}
    line = pooled_summary(row)
    assert "uncorrected ITS not estimable (too few periods before the intervention: 2)" in line
    assert line.count("only 0 months") == 1 and "plain before/after -13.8%" in line


@pytest.mark.slow  # the command line: adopt a set, export it three times
def test_a_set_export_counts_over_the_months_asked_for(gap_store, tmp_path):
    """Audit: 'export hotspots --set S --from 2024-03 --to 2024-04' wrote the counts of the set's own
    window (2024-01..04) under a sidecar saying 2024-03 to 2024-04."""
    import shutil

    from hotspot_engine.__main__ import main

    db = tmp_path / "gap.duckdb"
    shutil.copy(gap_store, db)
    assert main(["hotspots", "--db", str(db), "--from", "2024-01", "--to", "2024-03", "--adopt", "S",
                 "--out", str(tmp_path / "hs.csv")]) == 0
    totals = {}
    for label, months in (("set", []), ("jan", ["--from", "2024-01", "--to", "2024-01"]),
                          ("mar", ["--from", "2024-03", "--to", "2024-03"])):
        assert main(["export", "hotspots", "--db", str(db), "--set", "S", *months,
                     "--out", str(tmp_path / f"{label}.csv")]) == 0
        totals[label] = int(pd.read_csv(tmp_path / f"{label}_hotspot_areas.csv")["count"].sum())
        sidecar = (tmp_path / f"{label}.methods.txt").read_text(encoding="utf-8")
        assert ("Incident counts (count, harm) cover 2024-03 to 2024-03." in sidecar) == (label == "mar")
    assert 0 < totals["mar"] < totals["set"] and totals["set"] == totals["jan"] + totals["mar"]


@pytest.mark.slow  # loads a partner layer into a copy of the real two-month store
def test_partner_funnel_compares_only_months_both_sources_hold(gap_store, sample_dir, tmp_path):
    """Audit: the sample's A&E layer (2022-04..2024-03) beside the real police months compared 24 months
    of partner counts with the few police months stored; the window is now the last unbroken run of
    months holding police data (2024-03 here: 2024-02 is not stored)."""
    import shutil

    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import partners
    from hotspot_engine.store.database import connect

    db = tmp_path / "gap.duckdb"
    shutil.copy(gap_store, db)
    con = connect(db)
    try:
        service.ingest_files(con, [sample_dir / "partner_ae_attendances.csv"], fmt="partner-areas")
        source = str(partners.layers(con)["source"].iloc[0])
        compared = partners.funnel(con, source, Filters())
        assert (compared.filters.date_from, compared.filters.date_to) == ("2024-03", "2024-03")
        january = partners.funnel(con, source, Filters(date_to="2024-01"))
        assert (january.filters.date_from, january.filters.date_to) == ("2024-01", "2024-01")
    finally:
        con.close()


def test_the_briefings_where_line_says_how_many_of_its_months_are_stored(gap_store):
    """Audit 3 item 12: the briefing said "figures 2023-05-01 to 2024-04-30" on a store holding 4 of
    those 12 months; it now uses the words of the pages and the meeting maps' titles."""
    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.render.briefing import _where_line
    from hotspot_engine.service import exports

    con = service.open_store(gap_store, read_only=True)
    try:
        context = exports.store_context(con, Filters(date_from="2024-01", date_to="2024-03", sv_only=True))
    finally:
        con.close()
    line = _where_line(context, "2024-01-01", "2024-03-31")
    assert line.endswith("figures 2024-01 to 2024-03, 2 of 3 months stored"), line
