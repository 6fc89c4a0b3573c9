"""Pages on an adopted hotspot set (issue 26): the Patrols plan does not depend on how the page was
reached, and a set adopted on the map carries its ids, numbers and names to Patrols, Impact, Data &
export and the briefing."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import app_serving, run_app

ROOT = Path(__file__).resolve().parent.parent
PATROLS = "pages/2_Patrols.py"

#: Each AppTest runs whole pages on the sample store (seconds each).
pytestmark = pytest.mark.slow


def _app(query: dict, page: str | None = None):
    return run_app(page, query, timeout=300)


def _plain(markdown: str) -> str:
    """Text as shown (the pages escape Markdown in text that comes from data or users)."""
    return markdown.replace("\\", "")


def _frame(at, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_the_plan_is_the_same_whichever_way_the_page_was_reached(app_db):
    wide = _app({"from": "2023-04", "to": "2024-03"}, PATROLS)
    wide_plan = _frame(wide, "reason")
    wide.multiselect(key="f_district").set_value(["Southampton"]).run()
    assert not wide.exception, [e.value for e in wide.exception]
    after_change = _frame(wide, "reason")
    direct = _app({"from": "2023-04", "to": "2024-03", "district": "Southampton"}, PATROLS)
    direct_plan = _frame(direct, "reason")
    assert len(after_change) < len(wide_plan)  # the change of area reached the plan
    pd.testing.assert_frame_equal(after_change.reset_index(drop=True), direct_plan.reset_index(drop=True))


MAP, IMPACT, DATA = "pages/1_Hotspot_map.py", "pages/3_Impact.py", "pages/4_Data_and_export.py"


@pytest.fixture()
def own_store(sample_db, tmp_path):
    """A private copy of the sample store for the app (a set adopted here stays here), fresh caches."""
    import shutil

    path = tmp_path / "own.duckdb"
    shutil.copy(sample_db, path)
    with app_serving(path):
        yield path


def test_a_set_adopted_on_the_map_is_the_list_on_every_page(own_store):
    at = _app({"from": "2022-04", "to": "2023-03"}, MAP)
    assert any("No hotspot set is adopted yet" in i.value for i in at.info)
    ranked = _frame(at, "hotspot_id")  # the map's ranked table: no, place, id
    expected = pd.DataFrame({"No": ranked["no"].astype(int), "Id": ranked["hotspot_id"], "Hotspot": ranked["hotspot_name"]})
    at.text_input(key="s_new_name").input("FY 2023-24")
    at.text_area(key="s_new_note").input("The report's list")
    next(b for b in at.button if b.label == "Adopt").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Adopted 'FY 2023-24': 19 hotspots" in _plain(s.value) for s in at.success)
    assert at.selectbox(key="s_set").value == ""  # the latest: the set just adopted
    assert at.query_params.get("set") in (None, [], "")  # the default is not written to the URL

    def same(frame: pd.DataFrame, no: str, hotspot_id: str, name: str) -> None:
        got = frame[[no, hotspot_id, name]].set_axis(["No", "Id", "Hotspot"], axis=1)
        got = got.assign(No=got["No"].astype(int)).sort_values("No").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected.reset_index(drop=True), check_dtype=False)

    at.switch_page(PATROLS).run()
    assert not at.exception, [e.value for e in at.exception]
    same(_frame(at, "Days dosed"), "No", "Id", "Hotspot")
    briefing = at.selectbox(key="p_brief_for").options
    assert briefing[1:] == [f"{n}. {name}" for n, name in zip(expected["No"], expected["Hotspot"])]
    assert any("Hotspot set: FY 2023-24 (19 hotspots" in _plain(c.value) for c in at.caption)

    at.switch_page(IMPACT).run()
    assert not at.exception, [e.value for e in at.exception]
    table = _frame(at, "Hotspot number")
    same(table[table["Hotspot id"] != "pooled"], "Hotspot number", "Hotspot id", "Hotspot name")

    at.switch_page(DATA).run()
    assert not at.exception, [e.value for e in at.exception]
    same(_frame(at, "Hotspot id"), "No", "Hotspot id", "Hotspot")


def test_without_a_set_patrols_numbers_the_maps_places(own_store):
    # Patrols used to choose on the 12 months before its period (2022-04..2023-03 here) while the map
    # chose on the period's last 12 months: the same numbers named other places (audit, real months)
    at = _app({"from": "2023-04", "to": "2024-03"}, MAP)
    assert any("No hotspot set is adopted yet" in i.value for i in at.info)
    ranked = _frame(at, "hotspot_id")
    expected = pd.DataFrame({"No": ranked["no"].astype(int), "Id": ranked["hotspot_id"],
                             "Hotspot": ranked["hotspot_name"]}).sort_values("No").reset_index(drop=True)
    at.switch_page(PATROLS).run()
    assert not at.exception, [e.value for e in at.exception]
    table = _frame(at, "Days dosed")
    got = table[["No", "Id", "Hotspot"]].assign(No=table["No"].astype(int)).sort_values("No").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    briefing = at.selectbox(key="p_brief_for").options
    assert briefing[1:] == [f"{n}. {name}" for n, name in zip(expected["No"], expected["Hotspot"])]


def test_the_briefing_prints_the_sets_numbers_and_names(sample_db, tmp_path):
    import shutil

    from hotspot_engine.filters import Filters
    from hotspot_engine.render import briefing as B
    from hotspot_engine.service import analyses, sets
    from hotspot_engine.store.database import connect

    shutil.copy(sample_db, tmp_path / "copy.duckdb")
    con = connect(tmp_path / "copy.duckdb")
    try:
        window = Filters(date_from="2022-04", date_to="2023-03")
        chosen = analyses.hotspots(con, window)
        stored = sets.adopt(con, "FY", chosen, window, chosen.params, window, "t")
        report = sets.patrol_report(con, Filters(date_from="2023-04", date_to="2023-06"), stored)
    finally:
        con.close()
    hotspots = stored.hotspots()
    assert len(hotspots) == 19
    for row in hotspots.itertuples():
        text = _figure_text(B.briefing_page(report, None, row.hotspot_id))
        assert f"#{row.hotspot_number}  {row.hotspot_name}" in text


def _figure_text(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def test_the_sets_page_compares_two_sets(own_store):
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import analyses, sets
    from hotspot_engine.store.database import connect

    con = connect(own_store)
    try:
        for name, first, last in (("FY 2022-23", "2021-04", "2022-03"), ("FY 2023-24", "2022-04", "2023-03")):
            window = Filters(date_from=first, date_to=last, sv_only=True)
            chosen = analyses.hotspots(con, window)
            sets.adopt(con, name, chosen, window, chosen.params, window, "t")
            con.execute("UPDATE hotspot_sets SET adopted_at = adopted_at - INTERVAL 1 DAY WHERE name = 'FY 2022-23'")
        older, newer = sets.load(con, "FY 2022-23"), sets.load(con, "FY 2023-24")
    finally:
        con.close()
    from hotspot_engine.analyse.set_changes import compare, summary

    expected = compare(older.cells, newer.cells)
    at = _app({}, "pages/6_Hotspot_sets.py")
    assert _frame(at, "adopted_by")["name"].tolist() == ["FY 2023-24", "FY 2022-23"]
    assert at.selectbox(key="s_cmp_old").value == "FY 2022-23" and at.selectbox(key="s_cmp_new").value == "FY 2023-24"
    assert any(summary(expected) in _plain(m.value) for m in at.markdown)
    table = _frame(at, "Shared cells")
    assert table["Status"].tolist() == expected["status"].tolist()
    assert table["Id"].tolist() == expected["hotspot_id"].tolist()
    assert len(at.get("deck_gl_json_chart")) == 1
    at.selectbox(key="s_cmp_new").set_value("(today)").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Today's hotspots" in _plain(m.value) for m in at.markdown)
    shown = _app({"present": "1"}, "pages/6_Hotspot_sets.py")  # the wall screen: the map, no tables
    assert not shown.dataframe and len(shown.get("deck_gl_json_chart")) == 1
    import json

    from hotspot_engine.render.deck import fitted_force_view

    # The wall screen fits the whole force (AppTest measures no screen: the default 1000x560) and
    # numbers the later list's hotspots, as the Hotspot map does.
    deck = json.loads(shown.get("deck_gl_json_chart")[0].proto.json)
    assert deck["initialViewState"]["zoom"] == fitted_force_view(1000, 560)["zoom"]
    labels = next(layer for layer in deck["layers"] if layer["id"] == "hotspot-labels")
    assert sorted(int(row["text"]) for row in labels["data"]) == sorted(
        newer.hotspots()["hotspot_number"].astype(int).tolist())


@pytest.fixture()
def no_patrol_store(real_stores, tmp_path):
    """The force extract without patrols, with a set adopted (a private copy), fresh caches."""
    import shutil

    from hotspot_engine.filters import Filters
    from hotspot_engine.service import analyses, sets
    from hotspot_engine.store.database import connect

    path = tmp_path / "no_patrols.duckdb"
    shutil.copy(real_stores["force_extract_no_patrols"], path)
    con = connect(path)
    window = Filters(date_from="2022-04", date_to="2023-03", sv_only=True)
    chosen = analyses.hotspots(con, window)
    sets.adopt(con, "FY 2023-24", chosen, window, chosen.params, window, "t", replace=True)
    con.close()
    with app_serving(path):
        yield path


def test_without_patrol_data_no_page_shows_red_or_a_patrol_layer(no_patrol_store):
    at = _app({"from": "2023-04", "to": "2024-03", "colour": "patrols", "dosage": "1"}, PATROLS)
    table = _frame(at, "Status")
    assert "Days dosed" not in table.columns and "Patrols" not in table.columns
    status = table["Status"]
    assert set(status) == {"no patrol data"}
    assert next(m for m in at.metric if m.label == "Hotspots").delta == "no patrol data"
    texts = [_plain(e.value) for e in (*at.markdown, *at.caption, *at.info)]
    import re

    assert not [t for t in texts if re.search(r"\bRED\b|\d+ red\b|(?<![\d.])0%", t)]  # no status, count or 0% of dosage
    assert any("No patrol data is loaded" in t for t in texts)
    assert any("Monitoring the set" in s.value for s in at.subheader)
    at.switch_page(MAP).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "patrols" not in at.selectbox(key="m_colour").options
    assert at.selectbox(key="m_colour").value == "count"
    assert at.toggle(key="m_patrols").disabled
    import json

    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert "patrols" not in [layer.get("id") for layer in deck["layers"]]
    assert "set-areas" in [layer.get("id") for layer in deck["layers"]]
