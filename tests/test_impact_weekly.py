"""Weekly impact evaluation (issue 10: "monthly (and weekly when timestamps allow)").

On the built-in sample (``sample_store``/``sample_truth`` of tests/conftest.py: every incident has a
time of offence; truth.json plants -17% in the hotspots from 2023-04-01, calibrated to the HIPS VRP
annual report 2023-24, "serious violence in the hotspots -17%"), for the hotspots Gi* finds in
2022-23: the weekly pooled ITS 95% CI contains -17% and the 52-week simple change is near -17%.
Weekly counts add up to the monthly counts; month-only (police.uk-like) rows refuse a weekly run.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters
from hotspot_engine.analyse.impact import (POOLED_ID, as_cells, first_post_week, impact_table, week_of,
                                   weeks_between)


@pytest.fixture(scope="module")
def weekly(sample_store, sample_truth):
    from hotspot_engine.service import hotspots as find_hotspots
    from hotspot_engine.store.query import cell_week_counts

    found = find_hotspots(sample_store, Filters(date_from="2022-04", date_to="2023-03", sv_only=True))
    cells = found.cells
    hotspot_cells = cells.loc[cells["is_hotspot"].astype(bool), ["h3", "hotspot_id", "hotspot_name"]]
    counts = cell_week_counts(sample_store, Filters(sv_only=True, res=9))
    # Whole weeks of the sample (April 2019 - March 2024): Monday 2019-04-01 to Sunday 2024-03-31.
    weeks = weeks_between("2019-04-01", "2024-03-31")
    result = impact_table(counts, hotspot_cells, cells[["h3", "district", "csp"]], weeks,
                          sample_truth["intervention_date"], period="week")
    return hotspot_cells, result


def test_week_rules():
    assert first_post_week("2023-04-03") == "2023-04-03"  # a Monday starts its own week
    assert first_post_week("2023-04-01") == "2023-04-03"  # a Saturday: the week is only partly after
    assert week_of("2023-04-01") == "2023-03-27"
    assert weeks_between("2023-03-29", "2023-04-11") == ["2023-03-27", "2023-04-03", "2023-04-10"]


@pytest.mark.slow  # a weekly impact run on the sample (260 weeks)
def test_weekly_pooled_corrected_estimate_contains_the_true_effect(weekly, sample_truth):
    _, result = weekly
    planted = sample_truth["true_effect"] * 100
    pooled = result.table.set_index("hotspot_id").loc[POOLED_ID]
    assert result.period == "week"
    assert pooled["k_pooled"] >= 15, result.table[["hotspot_id", "message"]]
    assert pooled["corrected_ci_low_pct"] < planted < pooled["corrected_ci_high_pct"], pooled
    assert pooled["simple_window"] == 52
    # 52 weeks (from Monday 2023-04-03) against the 52 before: not the same days as the financial
    # years the sample is calibrated on, so a few points of slack.
    assert pooled["simple_change_pct"] == pytest.approx(sample_truth["report_change"] * 100, abs=3.0)
    assert "week" in result.description
    assert any("week" in note for note in result.notes)


@pytest.mark.slow  # a weekly impact run on the sample (260 weeks)
def test_weekly_simple_change_is_a_direct_count(weekly, sample_store):
    hotspot_cells, result = weekly
    pooled = result.table.set_index("hotspot_id").loc[POOLED_ID]
    cells = [int(c) for c in as_cells(hotspot_cells["h3"])]
    before, after = sample_store.execute(
        """SELECT count(*) FILTER (WHERE occurred_at >= TIMESTAMP '2022-04-04' AND occurred_at < TIMESTAMP '2023-04-03'),
                  count(*) FILTER (WHERE occurred_at >= TIMESTAMP '2023-04-03' AND occurred_at < TIMESTAMP '2024-04-01')
           FROM incidents WHERE sv_category IS NOT NULL AND h3_r9 IN (SELECT unnest(?))""",
        [cells]).fetchall()[0]
    assert (pooled["simple_pre"], pooled["simple_post"]) == (before, after)


def test_weekly_counts_sum_to_monthly_counts(sample_store):
    from hotspot_engine.store.query import cell_month_counts, cell_week_counts, has_timestamps

    filters = Filters(sv_only=True, res=9, date_from="2022-01", date_to="2022-12")
    assert has_timestamps(sample_store, filters) == 1.0
    weeks = cell_week_counts(sample_store, filters)
    months = cell_month_counts(sample_store, filters)
    assert set(weeks.columns) >= {"h3", "week", "count", "harm"}
    assert pd.to_datetime(weeks["week"]).dt.day_of_week.eq(0).all()
    # All of 2022 in months; in weeks, the ISO weeks holding those days (first from Monday
    # 2021-12-27, last ending Sunday 2023-01-01), restricted by the month filter to 2022's days.
    assert weeks["count"].sum() == months["count"].sum()
    per_cell_w = weeks.groupby("h3")["count"].sum().sort_index()
    per_cell_m = months.groupby("h3")["count"].sum().sort_index()
    pd.testing.assert_series_equal(per_cell_w, per_cell_m, check_dtype=False)
    # Whole weeks inside one month: Monday 2022-08-01 to Sunday 2022-08-28 equal a direct count.
    august = weeks[weeks["week"].isin(weeks_between("2022-08-01", "2022-08-28"))]["count"].sum()
    direct = sample_store.execute(
        "SELECT count(*) FROM incidents WHERE sv_category IS NOT NULL AND h3_r9 IS NOT NULL "
        "AND occurred_at >= TIMESTAMP '2022-08-01' AND occurred_at < TIMESTAMP '2022-08-29'").fetchall()[0][0]
    assert august == direct > 0


@pytest.mark.slow  # a weekly impact run on the sample (260 weeks)
def test_impact_for_store_weekly_runs_on_the_sample(sample_store, sample_truth):
    from hotspot_engine.service import impact as impact_for_store

    result = impact_for_store(sample_store, Filters(sv_only=True), sample_truth["intervention_date"], period="week")
    assert result.period == "week"
    assert result.months[0] == "2019-04-01" and result.months[-1] == "2024-03-25"  # whole weeks only
    pooled = result.table.set_index("hotspot_id").loc[POOLED_ID]
    assert np.isfinite(pooled["its_change_pct"])


def _police_uk_store():
    from hotspot_engine.store.database import connect

    con = connect(":memory:")
    rng = np.random.default_rng(7)
    n = 400
    rows = pd.DataFrame({
        "incident_id": [f"p{i}" for i in range(n)], "source": "police-uk",
        "month": pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 36, n) * 31, unit="D"),
        "lat": 50.9 + rng.normal(0, 0.01, n), "lon": -1.4 + rng.normal(0, 0.01, n),
        "offence_group": "violence_with_injury", "sv_category": "violence_with_injury",
        "is_proxy": True, "district": "Southampton",
    })
    rows["month"] = rows["month"].dt.to_period("M").dt.to_timestamp()
    con.register("rows_view", rows)
    con.execute("INSERT INTO incidents (incident_id, source, month, lat, lon, offence_group, sv_category, "
                "is_proxy, district) SELECT incident_id, source, month, lat, lon, offence_group, sv_category, "
                "is_proxy, district FROM rows_view")
    return con


def test_weekly_refused_without_timestamps(tmp_path):
    from hotspot_engine.service import impact as impact_for_store
    from hotspot_engine.store.query import cell_week_counts, has_timestamps

    con = _police_uk_store()
    assert has_timestamps(con, Filters(sv_only=True)) == 0.0
    assert cell_week_counts(con, Filters(sv_only=True)).empty
    hotspots = tmp_path / "hot.csv"
    hotspots.write_text("h3,is_hotspot,hotspot_id\n89194ad3233ffff,true,H1\n", encoding="utf-8")
    with pytest.raises(InputError, match="weekly.*time of offence.*month"):
        impact_for_store(con, Filters(sv_only=True), "2022-06-01", hotspots_file=hotspots, period="week")


def test_bad_period_and_week_labels_raise():
    cell = pd.DataFrame({"h3": [1], "week": ["2023-01-02"], "count": [1]})
    hot = pd.DataFrame({"h3": [1], "hotspot_id": ["H"]})
    study = pd.DataFrame({"h3": [1], "csp": ["X"]})
    with pytest.raises(InputError, match="period"):
        impact_table(cell, hot, study, ["2023-01-02"], "2023-01-02", period="fortnight")
    with pytest.raises(InputError, match="Monday"):
        impact_table(cell, hot, study, ["2023-01-03"], "2023-01-02", period="week")


@pytest.mark.slow  # a weekly impact run on the sample (260 weeks)
def test_impact_page_switches_to_weeks(app_db, sample_truth):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/3_Impact.py")
    at.run()
    periods = next(r for r in at.radio if r.label == "Periods")
    assert not periods.disabled  # the sample has a time of offence on every incident
    periods.set_value("week").run()
    assert not at.exception, [e.value for e in at.exception]
    ci = next(m for m in at.metric if m.label.startswith("95% interval (corrected)")).value
    low, high = float(ci.split("%")[0]), float(ci.split("to")[1].strip().rstrip("%"))
    assert low <= sample_truth["true_effect"] * 100 <= high
    # The series table (the figures table comes first since issue 27).
    frame = next(d.value for d in at.dataframe if "week" in d.value.columns)
    assert len(frame) > 200  # five years of weeks, not 60 months
