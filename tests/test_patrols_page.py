"""AppTest for the Patrols page on the built-in sample (2,934 patrols in 19 hotspots in 2023-24: HIPS
VRP annual report 2023-24, DOMAIN.md), and its guards (no patrols in the months, no hotspots)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from date_typing import type_date

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/2_Patrols.py"


def _page(query: dict):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


def _frame(at, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.mark.slow  # an AppTest with several reruns or pages; tests/test_app.py keeps the page smoke
def test_page_shows_dosage_grids_and_a_reproducible_plan(app_db, sample_dir, tmp_path):
    at = _page({"from": "2023-04", "to": "2024-03"})
    csv = pd.read_csv(sample_dir / "patrols.csv")
    assert _metric(at, "Patrols").value == f"{len(csv):,}" == "2,934"
    assert _metric(at, "Hotspots").value == "19"
    assert _metric(at, "Patrol minutes").value == f"{csv['duration_minutes'].sum():,}"
    table = _frame(at, "Days dosed")
    # Every logged patrol names a hotspot; a few were on streets just outside the measured areas.
    assert len(table) == 19 and 0.75 * len(csv) < table["Patrols"].sum() < len(csv)
    assert set(table["Status"]) == {"GREEN", "AMBER", "RED"}  # compliance varies across hotspots
    assert table["Days dosed"].between(0, 100).all()  # whole percent ("23%", not "22.68%")
    charts = at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")
    assert len(charts) >= 3  # two time grids and the weekly series
    plan = _frame(at, "reason")
    assert len(plan) == 19 * 7 + (19 * 7 + 1) // 2
    assert plan.groupby(["hotspot_name", "date"]).size().min() >= 1 and plan["hotspot_name"].nunique() == 19

    at.number_input(key="p_seed").set_value(5).run()
    five = _frame(at, "reason")
    at.number_input(key="p_seed").set_value(6).run()
    six = _frame(at, "reason")
    at.number_input(key="p_seed").set_value(5).run()
    assert not at.exception
    pd.testing.assert_frame_equal(_frame(at, "reason"), five)
    assert not five["start"].equals(six["start"])

    # A week of action marked on the weekly series (the form's default: the first week of the period).
    at.text_input[0].set_value("Op Sceptre")
    next(b for b in at.button if b.label == "Add period").click().run()
    assert not at.exception
    weekly = _frame(at, "action")
    assert (weekly["action"] == "Op Sceptre").sum() == 2  # 1-7 April 2023 spans two Monday weeks
    assert weekly["patrols"].sum() == table["Patrols"].sum()  # the all-hotspots series: every patrol in them
    # Typed dates (ui/date_field.py): a Monday-to-Sunday week is one week on the series; a date before
    # the period is refused and the last good one stands.
    type_date(at, "p_action_from", "2023-05-01")
    type_date(at, "p_action_to", "2023-05-07")
    type_date(at, "p_action_from", "2020-01-01")
    at.text_input[0].set_value("Second week")
    next(b for b in at.button if b.label == "Add period").click().run()
    assert not at.exception
    assert (_frame(at, "action")["action"] == "Second week").sum() == 1

    # A one-page briefing for the first hotspot, offered as a PDF download.
    at.selectbox(key="p_brief_for").select_index(1).run()
    next(b for b in at.button if b.label.startswith("Prepare the briefing")).click().run()
    assert not at.exception and not at.error
    briefing = at.session_state["p_briefing"]
    assert briefing[1] == (briefing[1][0],) and briefing[2].startswith(b"%PDF")
    if shutil.which("pdftotext"):  # the context every output carries (issue 27): area, months, source
        from tests.test_output_labels import page_text

        (page,) = page_text(briefing[2], tmp_path)
        assert "force-wide" in page and "figures 2023-04 to" in page and "Data: force crime records." in page

    at.selectbox(key="p_focus").select_index(1).run()  # the first hotspot alone
    assert not at.exception
    assert len(at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")) >= 3


def test_page_explains_months_without_patrols(app_db):
    at = _page({"from": "2021-04", "to": "2022-03"})  # patrols start in April 2023
    assert any("No patrols are recorded" in i.value for i in at.info)
    assert _metric(at, "Patrols").value == "0"
    assert len(_frame(at, "reason")) > 0  # a plan is still offered


def test_page_explains_when_there_are_no_hotspots(app_db):
    # The sample starts in April 2019, so nothing comes before it, and April in East Hampshire holds
    # no hotspot. (Hart's April holds one predicted place of 3 incidents since issue 24, where the Gi*
    # areas needed 5.)
    at = _page({"from": "2019-04", "to": "2019-04", "district": "East Hampshire"})
    assert any("No hotspots" in i.value for i in at.info)
    assert not at.metric and not at.error


@pytest.mark.slow  # AppTest runs of the Patrols page (2.8 s)
def test_dosage_target_presets_are_named_for_what_they_are(app_db):
    """Issue 27: presets (UK trials, Sacramento) and the user's own; Koper only for visit length."""
    at = _page({"from": "2023-04", "to": "2024-03"})
    preset = at.selectbox(key="p_preset")
    assert preset.value.startswith("one 15-minute visit a day (UK trials")
    assert len(preset.options) == 3
    assert not [n for n in at.number_input if n.key == "p_visits"]  # a preset's figures are not editable
    preset.set_value("your own target").run()
    assert not at.exception, [e.value for e in at.exception]
    at.number_input(key="p_visits").set_value(2).run()
    assert at.session_state["p_target"].visits == 2 and at.session_state["p_target"].name == "your own target"
