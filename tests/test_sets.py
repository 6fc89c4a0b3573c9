"""Adopted hotspot sets (issue 26): stored once, read back exactly, never recomputed."""
from __future__ import annotations

import pandas as pd
import pytest
from conftest import TWO_DISTRICTS

from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters
from hotspot_engine.service import analyses, sets
from hotspot_engine.store.database import connect

# The fixtures `store` (a writable copy of the sample) and `chosen` (its hotspots in WINDOW) come
# from conftest.py, shared by the adopted-set test modules.
WINDOW = TWO_DISTRICTS


def test_adopt_keeps_the_maps_ids_numbers_and_names(store, chosen):
    adopted = sets.adopt(store, "FY 2023-24", chosen, WINDOW, chosen.params, WINDOW, "analyst", "for the board")
    areas = chosen.areas
    hotspots = adopted.hotspots()
    assert list(hotspots["hotspot_id"]) == list(areas["hotspot_id"])
    assert list(hotspots["hotspot_number"]) == list(areas["hotspot_rank"]) == list(range(1, len(areas) + 1))
    assert list(hotspots["hotspot_name"]) == list(areas["hotspot_name"])
    assert list(hotspots["cells"]) == list(areas["n_cells"])
    hot = chosen.cells[chosen.cells["is_hotspot"].astype(bool)]
    assert sorted(adopted.cells["h3"]) == sorted(hot["h3"])
    assert (adopted.name, adopted.adopted_by, adopted.note) == ("FY 2023-24", "analyst", "for the board")
    assert adopted.method == chosen.params.method  # whatever the selection used
    assert (adopted.window_from, adopted.window_to) == ("2023-04", "2024-03")
    assert adopted.filters == WINDOW and adopted.params["top"] == 19
    assert len(adopted.cell_ids()) == len(adopted.cells)


def test_list_and_load_newest_first(store, chosen):
    assert sets.load(store) is None
    assert sets.list_sets(store).empty
    sets.adopt(store, "first", chosen, WINDOW, chosen.params, WINDOW, "a")
    store.execute("UPDATE hotspot_sets SET adopted_at = adopted_at - INTERVAL 1 DAY WHERE name = 'first'")
    sets.adopt(store, "second", chosen, WINDOW, chosen.params, WINDOW, "b")
    listing = sets.list_sets(store)
    assert list(listing["name"]) == ["second", "first"]
    assert list(listing.columns) == sets.LIST_COLUMNS
    assert listing["hotspots"].tolist() == [len(chosen.areas)] * 2
    assert sets.load(store).name == "second"
    assert sets.load(store, "first").adopted_by == "a"
    with pytest.raises(InputError, match="no such hotspot set"):
        sets.load(store, "third")


def test_a_taken_name_needs_replace(store, chosen):
    sets.adopt(store, "q1", chosen, WINDOW, chosen.params, WINDOW, "a")
    with pytest.raises(InputError, match="exists"):
        sets.adopt(store, "q1", chosen, WINDOW, chosen.params, WINDOW, "a")
    other = analyses.hotspots(store, Filters(date_from="2022-04", date_to="2023-03", districts=("Southampton",)))
    replaced = sets.adopt(store, "q1", other, other_window := Filters(date_from="2022-04", date_to="2023-03"),
                          other.params, other_window, "b", replace=True)
    assert replaced.adopted_by == "b" and len(sets.list_sets(store)) == 1
    assert set(replaced.cells["hotspot_id"]) == set(other.areas["hotspot_id"])


def test_bad_names_and_empty_results_are_refused(store, chosen):
    with pytest.raises(InputError, match="set name"):
        sets.adopt(store, "  ", chosen, WINDOW, chosen.params, WINDOW, "a")
    with pytest.raises(InputError, match="set name"):
        sets.adopt(store, "a\nb", chosen, WINDOW, chosen.params, WINDOW, "a")
    empty = analyses.hotspots(store, Filters(date_from="2015-01", date_to="2015-12"))
    with pytest.raises(InputError, match="no hotspots"):
        sets.adopt(store, "none", empty, WINDOW, empty.params, WINDOW, "a")


def test_the_set_is_unchanged_after_a_new_month_is_ingested(store, chosen, real_month_csv):
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store import query

    before = sets.adopt(store, "adopted", chosen, WINDOW, chosen.params, WINDOW, "a")
    version = query.data_version(store)
    summaries = ingest_paths(store, [real_month_csv])
    assert summaries[0].added > 0 and query.data_version(store) != version
    after = sets.load(store, "adopted")
    pd.testing.assert_frame_equal(before.cells, after.cells)
    assert (before.adopted_at, before.params, before.filters, before.window_from, before.window_to) == (
        after.adopted_at, after.params, after.filters, after.window_from, after.window_to)
    assert after.hotspots()["hotspot_id"].tolist() == chosen.areas["hotspot_id"].tolist()


def test_an_old_store_gains_the_tables_on_open(tmp_path):
    import duckdb

    path = tmp_path / "old.duckdb"
    duckdb.connect(str(path)).execute("CREATE TABLE incidents (incident_id VARCHAR)").close()
    con = connect(path, read_only=True)
    assert sets.load(con) is None and sets.list_sets(con).empty
    con.close()
    con = connect(path)
    assert sets.list_sets(con).empty
    con.close()


def test_compare_names_kept_new_and_dropped_by_shared_cells():
    from hotspot_engine.analyse.set_changes import compare, summary

    older = pd.DataFrame({"h3": ["a", "b", "c", "d"], "hotspot_id": ["H1", "H1", "H2", "H3"],
                          "hotspot_number": [1, 1, 2, 3], "hotspot_name": ["One", "One", "Two", "Three"]})
    # H1 kept under a new id (its peak moved to b), H2 dropped, H3 kept, H9 new.
    newer = pd.DataFrame({"h3": ["b", "e", "d", "x"], "hotspot_id": ["H1b", "H1b", "H3", "H9"],
                          "hotspot_number": [1, 1, 2, 3], "hotspot_name": ["One", "One", "Three", "Nine"]})
    changes = compare(older, newer)
    assert summary(changes) == "2 kept, 1 new, 1 dropped"
    kept = changes[changes["status"] == "kept"].set_index("hotspot_id")
    assert kept.loc["H1b", "other_id"] == "H1" and kept.loc["H1b", "shared_cells"] == 1
    assert int(kept.loc["H3", "other_number"]) == 3
    assert changes.loc[changes["status"] == "new", "hotspot_id"].tolist() == ["H9"]
    assert changes.loc[changes["status"] == "dropped", "hotspot_id"].tolist() == ["H2"]
    same = compare(older, older)
    assert summary(same) == "3 kept, 0 new, 0 dropped" and (same["hotspot_id"] == same["other_id"]).all()


@pytest.mark.slow  # two patrol reports on the sample (seconds)
def test_monitoring_counts_the_sets_weeks_against_the_year_before(store):
    from hotspot_engine.service import monitoring
    from hotspot_engine.store import query

    window = Filters(date_from="2022-04", date_to="2023-03", sv_only=True)
    chosen = analyses.hotspots(store, window)
    adopted = sets.adopt(store, "FY", chosen, window, chosen.params, window, "t")
    watch = monitoring.monitor(store, adopted)
    weekly = watch.weekly
    assert str(watch.start) == "2023-04-01" and watch.patrol_data
    assert weekly["week"].iloc[0] == pd.Timestamp("2023-03-27") and weekly["week"].dt.day_of_week.eq(0).all()
    # Every dated incident inside the set's cells from the start to the end, week by week.
    hot = sets.hot_cells(adopted)
    rows = query.incidents_by_hotspot_hour(store, sets.counting_filters(adopted, Filters(date_from="2023-04", date_to="2024-03")), hot)
    assert int(weekly["incidents"].sum()) == int(rows["count"].sum())
    before = query.incidents_by_hotspot_hour(store, sets.counting_filters(adopted, Filters(date_from="2022-04", date_to="2023-04")), hot)
    days = before.dropna(subset=["day"])
    inside = days[(days["day"] >= "2022-04-02") & (days["day"] <= "2023-04-02")]
    assert int(weekly["incidents_year_before"].sum()) == int(inside["count"].sum())
    assert weekly["dosage_share"].between(0, 1).all() and (weekly["required_days"] > 0).all()
    # Not visited: no patrol of the last 7 days fell in their cells.
    patrols = query.patrol_rows(store, Filters(date_from="2024-03", date_to="2024-03"))
    recent = patrols[pd.to_datetime(patrols["start"]).dt.date >= watch.last_patrol - pd.Timedelta(days=6)]
    visited = set(sets.tag_hotspots(recent, adopted)["hotspot_id"].dropna())
    assert set(watch.not_visited["hotspot_id"]) == set(adopted.hotspots()["hotspot_id"]) - visited


def _adopted_and_watched(con, name: str, window: Filters):
    """The hotspots of ``window`` adopted as ``name`` on ``con``, and what monitoring says of them."""
    from hotspot_engine.service import monitoring

    chosen = analyses.hotspots(con, window)
    adopted = sets.adopt(con, name, chosen, window, chosen.params, window, "t", replace=True)
    return adopted, monitoring.monitor(con, adopted)


@pytest.mark.slow  # builds the real-data stores
def test_monitoring_without_patrol_data_says_so(real_stores):
    con = connect(real_stores["force_extract_no_patrols"])
    try:
        adopted, watch = _adopted_and_watched(con, "FY", Filters(date_from="2022-04", date_to="2023-03", sv_only=True))
        report = sets.patrol_report(con, Filters(date_from="2023-04", date_to="2024-03"), adopted)
    finally:
        con.close()
    assert not watch.patrol_data and watch.not_visited is None
    assert any("No patrol data is loaded" in line for line in watch.lines)
    assert watch.weekly["dosage_share"].isna().all() and watch.weekly["incidents"].sum() > 0
    assert set(report.dosage["status"]) == {"no patrol data"} and report.summary["hotspots_red"] == 0


@pytest.mark.slow  # builds the real-data stores
def test_monitoring_police_uk_months_compares_months(real_stores):
    con = connect(real_stores["police_uk_three_months"])
    try:
        _, watch = _adopted_and_watched(con, "Jan", Filters(date_from="2024-01", date_to="2024-01", sv_only=True))
    finally:
        con.close()
    assert watch.monthly is not None and list(watch.monthly["month"]) == ["2024-02", "2024-03"]
    assert any("month by month" in line for line in watch.lines)


def test_within_keeps_the_sets_hotspots_in_the_places_with_their_numbers(store, chosen):
    adopted = sets.adopt(store, "all", chosen, WINDOW, chosen.params, WINDOW, "t")
    south = sets.within(adopted, Filters(districts=("Southampton",)))
    hotspots, every = south.hotspots(), adopted.hotspots()
    assert 0 < len(hotspots) < len(every) and set(hotspots["district"]) == {"Southampton"}
    numbers = every.set_index("hotspot_id")["hotspot_number"]
    assert (hotspots["hotspot_number"] == hotspots["hotspot_id"].map(numbers)).all()
    assert sets.within(adopted, Filters()) is adopted
    with pytest.raises(InputError, match="none of its hotspots"):
        sets.within(south, Filters(districts=("Rushmoor",)))


@pytest.mark.slow  # a patrol report on the sample (seconds)
def test_patrols_on_a_set_in_one_district_keep_the_sets_numbers(store, chosen):
    adopted = sets.adopt(store, "all", chosen, WINDOW, chosen.params, WINDOW, "t")
    report = sets.patrol_report(store, Filters(date_from="2023-04", date_to="2023-06", districts=("Southampton",)),
                                adopted)
    expected = sets.within(adopted, Filters(districts=("Southampton",))).hotspots()
    dosage = report.dosage.sort_values("hotspot_rank")
    assert list(dosage["hotspot_id"]) == list(expected["hotspot_id"])
    assert list(dosage["hotspot_rank"]) == list(expected["hotspot_number"])
    assert list(dosage["hotspot_name"]) == list(expected["hotspot_name"])


def test_overview_headline_counts_in_the_set_adopted_on_the_year_before(store):
    """The Overview judges the list that was patrolled: a set adopted on the year before the latest
    financial year is the headline's hotspots, whatever today's selection would choose."""
    from hotspot_engine.analyse.hotspots import HotspotParams

    places = Filters(districts=("Portsmouth", "Southampton"))
    before = places.with_(date_from="2022-04", date_to="2023-03")
    assert analyses.headline(store, places).hotspot_set is None  # none adopted: chosen today
    three = analyses.hotspots(store, before, HotspotParams(method="top-n", top=3))
    sets.adopt(store, "three cells", three, before, three.params, before, "analyst")
    head = analyses.headline(store, places)
    assert head.hotspot_set == "three cells" and head.hotspots == 3 and head.hotspot_cells == 3
    adopted = sets.load(store, "three cells")
    from hotspot_engine.store import query

    sv = places.with_(sv_only=True, date_from="2023-04", date_to="2024-03")
    assert head.hotspot_sv_after == query.count_in_cells(store, sv, adopted.cell_ids())


def test_a_transaction_is_stored_whole_or_not_at_all(tmp_path):
    """store.transaction (how sets and trial schedules are written): a block that fails part-way (its
    second INSERT breaks a NOT NULL) leaves no trace of its first; a block that ends stores everything."""
    from hotspot_engine.store.transaction import transaction

    con = connect(tmp_path / "t.duckdb")
    try:
        con.execute("CREATE TABLE t (x INTEGER NOT NULL)")
        with pytest.raises(Exception, match="NOT NULL"):
            with transaction(con):
                con.execute("INSERT INTO t VALUES (1)")
                con.execute("INSERT INTO t VALUES (NULL)")
        assert con.execute("SELECT count(*) FROM t").fetchall()[0][0] == 0
        with transaction(con):
            con.execute("INSERT INTO t VALUES (1), (2)")
        assert con.execute("SELECT count(*) FROM t").fetchall()[0][0] == 2
    finally:
        con.close()
