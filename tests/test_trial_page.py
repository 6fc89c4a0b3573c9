"""The trial on the pages (issue 28): the Impact page's trial section and the Patrols page's schedule
maker, on the sample store with its trial, and one line when no schedule is stored."""
from __future__ import annotations

from pathlib import Path

import pytest

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


def _page(page: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_impact_page_shows_the_trial(store_at, trial_db, tmp_path, sample_truth):
    import shutil

    db = tmp_path / "app.duckdb"
    shutil.copy(trial_db, db)
    store_at(db)
    at = _page("pages/3_Impact.py")
    metrics = {m.label: m.value for m in at.metric}
    ratio = float(metrics["Rate ratio, patrol vs control days"])
    low, high = (float(v) for v in metrics["95% interval"].split(" to "))
    assert low < sample_truth["trial"]["itt_rate_ratio"] < high and low < ratio < high
    assert abs(float(metrics["Compliance"].rstrip("%")) / 100 - sample_truth["trial"]["compliance"]) < 0.05
    assert any("Randomised patrol days" in h.value for h in at.subheader)


def test_impact_page_says_in_one_line_when_no_trial_is_stored(store_at, app_db):
    store_at(app_db)
    at = _page("pages/3_Impact.py")
    assert any("No randomised trial schedule is stored" in i.value for i in at.info)


def test_patrols_page_offers_the_schedule_maker(store_at, trial_db, tmp_path):
    import shutil

    db = tmp_path / "app.duckdb"
    shutil.copy(trial_db, db)
    store_at(db)
    at = _page("pages/2_Patrols.py")
    assert any("Randomised trial schedule" in e.label for e in at.expander)
    assert any("patrol days delivered" in c.value for c in at.caption)  # the trial's latest week
    submit = next(b for b in at.get("form_submit_button") if "Make schedule" in str(b.proto.label))
    submit.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("smallest detectable effect" in m.value for m in at.markdown)
