"""The trial on the pages (issue 28): the Impact page's trial section and the Patrols page's schedule
maker on the store the app builds at first start (the sample with its trial), one line when no
schedule is stored, and the report year's figures the trial's months must not move."""
from __future__ import annotations

from pathlib import Path

import pytest
from date_typing import type_date

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # the Impact page fits its models: several seconds a run


@pytest.fixture()
def store_at(monkeypatch):
    import streamlit as st

    def point(path: Path) -> None:
        monkeypatch.setenv("HOTSPOT_DB", str(path))
        st.cache_resource.clear()
        st.cache_data.clear()

    yield point
    st.cache_resource.clear()
    st.cache_data.clear()


def _page(page: str | None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _first_start(store_at, first_start_db, tmp_path) -> None:
    import shutil

    db = tmp_path / "app.duckdb"
    shutil.copy(first_start_db, db)
    store_at(db)


def _report_year_estimate(sample_db, tmp_path) -> str:
    """The corrected estimate for 2023-24 on the sample without its trial (a store ending 2024-03) on
    the set "Sample 2023-24", as the Impact page formats it."""
    import shutil

    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import sets
    from hotspot_engine.store.database import connect
    from ui.impact.forest import pct

    path = tmp_path / "no_trial.duckdb"
    shutil.copy(sample_db, path)
    con = connect(path)
    try:
        adopted = sets.adopt_sample_set(con)
        result = service.impact(con, Filters(sv_only=True), intervention="2023-04-01", hotspot_set=adopted)
    finally:
        con.close()
    return pct(result.table.set_index("hotspot_id").loc["pooled", "corrected_change_pct"])


def test_impact_page_shows_the_trial_at_first_start(store_at, first_start_db, sample_db, tmp_path, sample_truth):
    expected = _report_year_estimate(sample_db, tmp_path)
    _first_start(store_at, first_start_db, tmp_path)
    at = _page("pages/3_Impact.py")
    metrics = {m.label: m.value for m in at.metric}
    # The trial's months (to 2024-09) are past the set's year: the default evaluation stops at 2024-03.
    assert metrics["Effect, corrected for regression to the mean"] == expected
    assert at.selectbox(key="i_to").value == ""
    ratio = float(metrics["Rate ratio, patrol vs control days"])
    low, high = (float(v) for v in metrics["95% interval"].split(" to "))
    assert low < sample_truth["trial"]["itt_rate_ratio"] < high and low < ratio < high
    assert abs(float(metrics["Compliance"].rstrip("%")) / 100 - sample_truth["trial"]["compliance"]) < 0.05
    assert any("Randomised patrol days" in h.value for h in at.subheader)
    assert any(c.value.startswith("Randomisation inference") and "p = " in c.value for c in at.caption)


def test_impact_page_says_in_one_line_when_no_trial_is_stored(store_at, app_db):
    store_at(app_db)
    at = _page("pages/3_Impact.py")
    assert any("No randomised trial schedule is stored" in i.value for i in at.info)


def test_overview_keeps_the_report_years_estimate_at_first_start(store_at, first_start_db, sample_db, tmp_path):
    expected = _report_year_estimate(sample_db, tmp_path)
    _first_start(store_at, first_start_db, tmp_path)
    at = _page(None)
    line = next(m.value for m in at.markdown if "the evidence supports about" in m.value)
    assert f"about **{expected}**" in line, line


def test_patrols_page_offers_the_schedule_maker(store_at, first_start_db, tmp_path):
    _first_start(store_at, first_start_db, tmp_path)
    at = _page("pages/2_Patrols.py")
    assert any("Randomised trial schedule" in e.label for e in at.expander)
    assert any("patrol days delivered" in c.value for c in at.caption)  # the trial's latest week
    # Typed dates (ui/date_field.py): the plan's week and the trial's first day reach what is made.
    type_date(at, "p_week", "2024-06-03")
    plan_lines = [c.value.replace("\\", "") for c in at.caption if "visits for" in c.value]  # shown escaped
    assert any("visits for 2024-06-03 to 2024-06-09" in line for line in plan_lines), plan_lines
    type_date(at, "trial_start", "2025-01-06")
    submit = next(b for b in at.get("form_submit_button") if "Make schedule" in str(b.proto.label))
    submit.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("smallest detectable effect" in m.value for m in at.markdown)
    assert at.session_state["trial_plan"].design.start == "2025-01-06"


def test_patrols_page_measures_the_report_years_set_over_its_own_year_at_first_start(store_at, first_start_db,
                                                                                      sample_db, tmp_path):
    """The trial's patrols (April to September 2024, on its own set) are not counted as the report
    year's: the sample's 2,934 patrols stay 2,934 at first start, as on a store without the trial."""
    import shutil

    shutil.copy(sample_db, tmp_path / "without_trial.duckdb")
    store_at(tmp_path / "without_trial.duckdb")
    without_trial = _page("pages/2_Patrols.py")
    _first_start(store_at, first_start_db, tmp_path)
    at = _page("pages/2_Patrols.py")
    patrols = {m.label: m.value for m in at.metric}
    assert patrols["Patrols"] == {m.label: m.value for m in without_trial.metric}["Patrols"] == "2,934"
    assert any("2023-04 to 2024-03, the year the set was chosen for" in c.value.replace("\\", "") for c in at.caption)
