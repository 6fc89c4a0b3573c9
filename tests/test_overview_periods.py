"""The Overview for whatever data is loaded (issue 26): the last 12 months against the 12 before
where there are 24; the months loaded against the same months a year earlier where possible;
otherwise totals alone; the financial-year headline where two financial years exist."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hotspot_engine.analyse.periods import compare_periods
from hotspot_engine.filters import months_between

ROOT = Path(__file__).resolve().parent.parent


def _monthly(first: str, last: str) -> pd.DataFrame:
    months = months_between(first, last)
    return pd.DataFrame({"month": months, "count": range(1, len(months) + 1)})


def test_one_month_gives_its_total_alone():
    figures = compare_periods(_monthly("2024-03", "2024-03"), "2024-03", "2024-03")
    assert (figures.case, figures.count_current, figures.previous, figures.change_pct) == ("totals", 1, None, None)
    assert figures.line.startswith("1 month loaded (2024-03 to 2024-03)")


@pytest.mark.parametrize("last", ["2024-06", "2024-12"])
def test_up_to_twelve_months_give_totals(last):
    figures = compare_periods(_monthly("2024-01", last), "2024-01", last)
    n = len(months_between("2024-01", last))
    assert figures.case == "totals" and figures.count_current == n * (n + 1) // 2 and figures.months == n


def test_thirteen_months_compare_the_last_with_the_same_month_a_year_earlier():
    figures = compare_periods(_monthly("2023-01", "2024-01"), "2023-01", "2024-01")
    assert figures.case == "same-months"
    assert figures.current == ("2024-01", "2024-01") and figures.previous == ("2023-01", "2023-01")
    assert (figures.count_current, figures.count_previous) == (13, 1)
    assert figures.change_pct == pytest.approx(1200.0)


def test_twenty_four_months_or_more_compare_the_last_12_with_the_12_before():
    figures = compare_periods(_monthly("2020-01", "2024-03"), "2020-01", "2024-03")
    assert figures.case == "last-12"
    assert figures.current == ("2023-04", "2024-03") and figures.previous == ("2022-04", "2023-03")
    monthly = _monthly("2020-01", "2024-03").set_index("month")["count"]
    assert figures.count_current == monthly["2023-04":"2024-03"].sum()
    assert figures.count_previous == monthly["2022-04":"2023-03"].sum()


def test_a_month_without_incidents_counts_as_zero():
    monthly = _monthly("2023-01", "2024-02").query("month != '2023-02'")
    figures = compare_periods(monthly, "2023-01", "2024-02")
    assert figures.previous == ("2023-01", "2023-02") and figures.count_previous == 1



def test_an_earlier_window_the_store_does_not_hold_is_no_comparison():
    """Real police.uk months 2018-03 and 2024-01..04: the last 12 months read '+1,039' against an
    empty 2022-05..2023-04. A month the store holds nothing in is not a zero."""
    monthly = pd.DataFrame({"month": ["2018-03", "2024-01", "2024-02", "2024-03", "2024-04"],
                            "count": [90, 80, 85, 95, 100]})
    stored = set(monthly["month"])
    figures = compare_periods(monthly, "2018-03", "2024-04", stored)
    assert (figures.case, figures.previous, figures.count_previous, figures.change_pct) == ("totals", None, None, None)
    assert figures.current == ("2023-05", "2024-04") and figures.count_current == 360
    assert "are not all stored" in figures.line
    whole = set(months_between("2018-03", "2024-04"))  # every month held: the same months compare
    assert compare_periods(monthly, "2018-03", "2024-04", whole).case == "last-12"

def test_the_mean_per_month_divides_by_the_stored_months_only():
    """The real months read 'Per month 86.6' (1,039 over twelve months, eight of them unstored); the
    four stored months of 2024 hold about 260 a month."""
    monthly = pd.DataFrame({"month": ["2018-03", "2024-01", "2024-02", "2024-03", "2024-04"],
                            "count": [90, 80, 85, 95, 100]})
    figures = compare_periods(monthly, "2018-03", "2024-04", set(monthly["month"]))
    assert figures.months_held == 4 and figures.per_month == pytest.approx(360 / 4)
    assert "Only 4 of the 12 months 2023-05 to 2024-04 are stored." in figures.line
    whole = compare_periods(_monthly("2024-01", "2024-06"), "2024-01", "2024-06", set(months_between("2024-01", "2024-06")))
    assert whole.months_held == 6 and whole.per_month == pytest.approx(21 / 6) and "Only" not in whole.line


# -- the page on stores of 1, 6, 12 and 13+ months ------------------------------------------------

@pytest.fixture(scope="module")
def month_stores(sample_dir, tmp_path_factory) -> dict[str, Path]:
    """Stores holding the sample's last 1, 6, 12 and 13 months (incidents only: no patrols)."""
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    out = tmp_path_factory.mktemp("month_stores")
    incidents = pd.read_csv(sample_dir / "incidents.csv", dtype=str)
    month = incidents["occurred_at"].str[:7]
    stores = {}
    for n, first in ((1, "2024-03"), (6, "2023-10"), (12, "2023-04"), (13, "2023-03")):
        csv = out / f"incidents_{n}.csv"
        incidents[month >= first].to_csv(csv, index=False)
        stores[str(n)] = out / f"store_{n}.duckdb"
        con = connect(stores[str(n)])
        ingest_paths(con, [csv])
        con.close()
    return stores


@pytest.mark.slow
@pytest.mark.parametrize(("months", "case_text"), [
    ("1", "1 month loaded"), ("6", "6 months loaded"), ("12", "12 months loaded"),
    ("13", "13 months are loaded: the last 1 (2024-03 to 2024-03) against the same months a year earlier"),
])
def test_overview_shows_figures_on_every_store(month_stores, months, case_text, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("HOTSPOT_DB", str(month_stores[months]))
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
        assert not at.exception, [e.value for e in at.exception]
        captions = [c.value.replace("\\", "") for c in at.caption]
        assert any(case_text in c for c in captions), captions
        metric = next(m for m in at.metric if m.label == "Serious violence")
        assert int(metric.value.replace(",", "")) > 0
        assert bool(metric.delta) == (months == "13")
        assert not [i for i in at.info if "needs two complete financial years" in i.value]
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()


# -- the monthly chart: months the store does not hold are gaps, not zeros (issue 27) ---------------

def test_months_the_store_does_not_hold_are_gaps_and_held_empty_months_zeros():
    """The real police.uk store holds 2018-03 and 2024-01..04: the chart drew 2018-04..2023-12 as zeros."""
    from hotspot_engine.filters import Filters
    from ui.overview.monthly_chart import complete_months, unstored_spans

    held = ["2018-03", "2024-01", "2024-02", "2024-03", "2024-04"]
    monthly = pd.DataFrame({"month": held + ["2024-01"], "offence_group": ["robbery"] * 5 + ["weapons"],
                            "count": [9, 8, 7, 6, 5, 3], "harm": [1.0] * 6})
    full = complete_months(monthly, Filters(date_from="2018-03", date_to="2024-04"), frozenset(held))
    assert len(full) == 2 * len(months_between("2018-03", "2024-04"))
    gaps = full[~full["month"].isin(held)]
    assert gaps["count"].isna().all() and len(gaps) == 2 * 69  # not zeros
    weapons = full[(full["offence_group"] == "weapons") & full["month"].isin(held)].set_index("month")["count"]
    assert weapons.to_dict() == {"2018-03": 0, "2024-01": 3, "2024-02": 0, "2024-03": 0, "2024-04": 0}
    assert unstored_spans(full) == ["2018-04 to 2023-12"]
    # Without the stored months (every month held), a missing month is a zero, as before.
    assert complete_months(monthly, Filters(date_from="2018-03", date_to="2024-04"))["count"].notna().all()
    assert unstored_spans(full[full["month"] <= "2018-05"]) == ["2018-04 to 2018-05"]


@pytest.fixture(scope="module")
def gap_store(sample_dir, tmp_path_factory) -> Path:
    """The sample's 2019-04..06 and 2024-01..03 only: two years of months the store does not hold."""
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    out = tmp_path_factory.mktemp("gap_store")
    incidents = pd.read_csv(sample_dir / "incidents.csv", dtype=str)
    month = incidents["occurred_at"].str[:7]
    csv = out / "incidents.csv"
    incidents[month.between("2019-04", "2019-06") | month.between("2024-01", "2024-03")].to_csv(csv, index=False)
    con = connect(out / "gap.duckdb")
    ingest_paths(con, [csv])
    con.close()
    return out / "gap.duckdb"


@pytest.mark.slow  # AppTest runs of the Overview, at the desk and on the wall screen
@pytest.mark.parametrize("present", [False, True])
def test_overview_chart_draws_unstored_months_as_gaps(gap_store, present, monkeypatch):
    import pyarrow as pa
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("HOTSPOT_DB", str(gap_store))
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
        if present:
            at.query_params["present"] = "1"
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        chart = at.get("vega_lite_chart")[-1].proto
        data = pa.ipc.open_stream(chart.datasets[0].data.data).read_all().to_pandas()
        by_month = data.groupby("month")["count"]
        assert by_month.apply(lambda c: c.isna().all()).loc["2019-07":"2023-12"].all()  # gaps, not zeros
        assert by_month.apply(lambda c: c.notna().all()).loc[["2019-04", "2019-06", "2024-01", "2024-03"]].all()
        captions = " ".join(c.value for c in at.caption)
        assert "no data for 2019-07 to 2023-12: left as gaps, not zeros" in captions, captions
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
