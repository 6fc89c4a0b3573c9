"""Patrols on real data: GPS visits per hotspot area, plans and briefings with times only where the
data has them, the street layer, grid references, data text that is never markup, and midnight.

Real police.uk rows (month only): tests/data/policeuk_sv_sample (Robbery and Possession of weapons in
Southampton and Portsmouth, January to April 2024; Open Government Licence v3.0)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspot_engine import service
from hotspot_engine.analyse import patrols as P
from hotspot_engine.filters import Filters
from hotspot_engine.render import briefing as B

REAL = Path(__file__).parent / "data" / "policeuk_sv_sample"
APRIL = Filters(date_from="2024-04", date_to="2024-04", sv_only=True)


def _figure_text(fig) -> str:
    texts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        texts += [t.get_text() for t in ax.texts] + [ax.get_title(loc="left")]
    return "\n".join(texts)


# -- GPS visits per area ----------------------------------------------------------------------------

def _three_cells():
    """Three neighbouring res-9 cells in Southampton city centre, as one hotspot area."""
    import h3

    from hotspot_engine.reference.geography import cells_for_points

    centre = int(cells_for_points(np.array([50.9063]), np.array([-1.4043]), 9)[0])
    ring = [h3.str_to_int(c) for c in h3.grid_ring(h3.int_to_str(centre), 1)]
    first = ring[0]
    second = next(c for c in ring[1:] if h3.are_neighbor_cells(h3.int_to_str(first), h3.int_to_str(c)))
    return [centre, first, second]


def _track(cells, minutes_each, start="2024-01-03 21:00", gap_after=None, callsign="FOOT-1"):
    """Pings once a minute walking through ``cells`` (minutes_each pings in each), at their centres."""
    from hotspot_engine.reference.geography import cell_centres

    lat, lon = cell_centres(np.array(cells, dtype=np.uint64))
    rows, t = [], pd.Timestamp(start)
    for k, (la, lo, n) in enumerate(zip(lat, lon, minutes_each)):
        for _ in range(n):
            rows.append((callsign, t, la, lo))
            t += pd.Timedelta(minutes=1)
        if gap_after is not None and k == gap_after[0]:
            t += pd.Timedelta(minutes=gap_after[1])
    return pd.DataFrame(rows, columns=["callsign", "timestamp", "lat", "lon"])


def _gps_report(pings, cells, period=(date(2024, 1, 1), date(2024, 1, 7)), target=None):
    from hotspot_engine.read.gps import pings_to_visits

    runs = pings_to_visits(pings)
    runs["h3"] = pd.array([int(c) for c in _cells_of_runs(runs)], dtype="UInt64")
    areas = pd.DataFrame({"hotspot_rank": [1], "hotspot_id": ["H"], "hotspot_name": ["Above Bar"],
                          "district": ["Southampton"], "n_cells": [3]})
    hot = pd.DataFrame({"h3": np.array(cells, dtype=np.uint64), "hotspot_id": "H", "hotspot_name": "Above Bar"})
    incidents = pd.DataFrame({"hotspot_id": pd.Series(dtype=object), "day": pd.Series(dtype="datetime64[ns]"),
                              "hour": pd.Series(dtype=float), "count": pd.Series(dtype=int),
                              "harm": pd.Series(dtype=float)})
    return runs, P.patrol_report(runs, areas, hot, incidents, period, target or P.DosageTarget())


def _cells_of_runs(runs):
    from hotspot_engine.reference.geography import cells_for_points

    return cells_for_points(runs["lat"].to_numpy(float), runs["lon"].to_numpy(float), 9)


def test_a_16_minute_walk_through_a_3_cell_hotspot_is_one_16_minute_visit():
    cells = _three_cells()
    pings = _track(cells, [6, 6, 5])  # 17 pings, one a minute: 21:00 to 21:16
    runs, report = _gps_report(pings, cells)
    assert len(runs) == 3  # the store keeps one run per cell (5, 5 and 4 minutes)
    assert sorted(runs["minutes"]) == [4.0, 5.0, 5.0]
    row = report.dosage.iloc[0]
    assert row["patrols"] == 1 and row["minutes"] == pytest.approx(16.0)
    assert row["dosed_days"] == 1  # one qualifying visit of 10 minutes or more
    assert report.summary["gps_runs_joined"] == 2
    assert any("joined into area visits" in n for n in report.notes)


def test_the_gap_rule_splits_visits_after_more_than_five_minutes_without_a_ping():
    cells = _three_cells()
    _, report = _gps_report(_track(cells, [6, 6, 5], gap_after=(0, 7)), cells)  # 8 minutes between pings
    assert report.dosage.iloc[0]["patrols"] == 2
    _, report = _gps_report(_track(cells, [6, 6, 5], gap_after=(0, 3)), cells)  # 4 minutes: same visit
    assert report.dosage.iloc[0]["patrols"] == 1 and report.dosage.iloc[0]["minutes"] == pytest.approx(19.0)
    two = pd.concat([_track(cells, [6, 6, 5]), _track(cells, [6, 6, 5], callsign="FOOT-2")])
    _, report = _gps_report(two, cells)
    assert report.dosage.iloc[0]["patrols"] == 2  # two officers, two visits


def test_a_per_shift_target_needs_a_visit_in_every_shift():
    cells = _three_cells()
    target = P.DosageTarget(per="shift")
    day = [_track(cells, [5, 5, 2], start=f"2024-01-03 {h}") for h in ("09:00", "17:00")]
    _, report = _gps_report(pd.concat(day), cells, (date(2024, 1, 3), date(2024, 1, 3)), target)
    assert report.dosage.iloc[0]["patrols"] == 2 and report.dosage.iloc[0]["dosed_days"] == 0  # no night visit
    night = pd.concat(day + [_track(cells, [5, 5, 2], start="2024-01-03 23:30")])
    _, report = _gps_report(night, cells, (date(2024, 1, 3), date(2024, 1, 3)), target)
    assert report.dosage.iloc[0]["dosed_days"] == 1


# -- briefing text, grid reference, midnight -------------------------------------------------------

def test_grid_reference_round_trip():
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(442135.0, 111855.0)
    assert B.grid_reference(lat, lon) == "SU 4213 1185"
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(216675.0, 771255.0)
    assert B.grid_reference(lat, lon) == "NN 1667 7125"  # Ben Nevis: the grid skips the letter I
    assert B.grid_reference(40.0, -3.0) == ""  # Spain: off the grid


def _small():
    from tests.test_patrols import _areas, _cells, _incidents, _patrols  # hand-built frames

    return P.patrol_report(_patrols(), _areas(), _cells(), _incidents(), (date(2024, 1, 1), date(2024, 1, 7)))


def test_a_visit_after_midnight_is_listed_under_its_own_day():
    report = _small()
    plan = P.suggest_plan(report, seed=3)
    visits = plan.visits.copy()
    row = visits.index[visits["hotspot_id"] == "A"][0]
    visits.loc[row, ["date", "window_start", "window_end", "suggested_start"]] = [
        date(2024, 1, 8), pd.Timestamp("2024-01-08 23:00"), pd.Timestamp("2024-01-09 01:00"),
        pd.Timestamp("2024-01-09 00:16")]
    line = B.plan_line(next(visits.loc[[row]].itertuples(index=False)))
    assert line.startswith("Tue 09 Jan 00:16") and "window Mon 23:00-01:00" in line
    plan.visits = visits
    text = _figure_text(B.briefing_page(report, plan, "A"))
    assert "Tue 09 Jan 00:16" in text and "Mon 08 Jan 00:16" not in text


def test_the_briefing_shows_the_predicted_rate_a_hotspot_was_ranked_on():
    """Audit item 3: #16 held 1 incident while the next ranked held 15, and nothing said why."""
    report = _small()
    text = _figure_text(B.briefing_page(report, None, "A"))
    assert "predicted a month" not in text and "Ranked by predicted" not in text  # not ranked by prediction
    report.predicted = {"A": 0.587}
    text = _figure_text(B.briefing_page(report, None, "A"))
    assert "Incidents in the period  ·  predicted a month" in text and "  ·  0.6" in text
    assert B.RANKED_LINE.split(",")[0] in text


def test_text_from_data_is_never_mathtext():
    report = _small()
    hostile = r"$\undefinedcmd{x}$ Street"
    report.dosage.loc[report.dosage["hotspot_id"] == "A", "hotspot_name"] = hostile
    report.streets = pd.DataFrame({"hotspot_id": ["A", "A"], "street": [hostile, "Cost $5 Lane"], "n": [3, 1],
                                   "lat": [50.906, 50.907], "lon": [-1.404, -1.405], "inside": [True, False]})
    pdf = P.briefing_pdf(report, P.suggest_plan(report), ["A"])
    assert pdf.startswith(b"%PDF")
    fig = B.briefing_page(report, None, "A")
    fig.canvas.draw()  # would raise a mathtext ParseError if the '$' were not escaped
    assert r"\$\undefinedcmd{x}\$ Street" in _figure_text(fig)  # escaped, so drawn as typed


# -- real police.uk months: no times anywhere -----------------------------------------------------

@pytest.fixture(scope="module")
def real_db(tmp_path_factory) -> Path:
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    path = tmp_path_factory.mktemp("real") / "policeuk.duckdb"
    con = connect(path)
    summaries = ingest_paths(con, [REAL])
    con.close()
    assert len(summaries) == 4 and all(s.balanced for s in summaries)
    return path


@pytest.mark.slow  # the command line, a PDF and a briefing page per hotspot
def test_police_uk_plan_and_briefing_carry_no_invented_times(real_db, tmp_path):
    from hotspot_engine.__main__ import main

    out, pdf = tmp_path / "plan.csv", tmp_path / "brief.pdf"
    assert main(["patrol-plan", "--db", str(real_db), "--from", "2024-04", "--to", "2024-04", "--out", str(out),
                 "--briefing", str(pdf)]) == 0
    plan = pd.read_csv(out, keep_default_na=False)
    assert len(plan) > 0 and plan["hotspot_id"].nunique() >= 1
    assert (plan[["window_start", "window_end", "suggested_start"]] == "").all().all()  # no hour windows
    assert (plan["time_basis"] == "team to set").all() and plan["reason"].str.contains("team to set").all()
    assert pdf.read_bytes().startswith(b"%PDF")

    from hotspot_engine.store.database import connect

    con = connect(real_db, read_only=True)
    try:
        report = service.patrol_report(con, APRIL)
    finally:
        con.close()
    assert not report.has_times and report.timed_incidents == 0 and report.untimed_incidents > 0
    assert P.peak_windows(report.grid, report.dosage["hotspot_id"].iloc[0]) == []
    for hotspot_id in report.dosage["hotspot_id"]:
        fig = B.briefing_page(report, P.suggest_plan(report), hotspot_id)
        images = [im for ax in fig.axes for im in ax.images]
        assert images == []  # no hour x day grid: it would be empty
        text = _figure_text(fig)
        assert "No grid: the records give a month only" in text
        assert "Times are for the team to set" in text
        assert "grid ref S" in text  # Hampshire lies in the SU and SZ squares
        # Audit item 3: the predicted rate the hotspot was ranked on, beside its count, and why.
        assert f"{report.predicted[hotspot_id]:.1f}" in text and "predicted a month" in text
        assert "Ranked by predicted rate a month, not by count" in text
    assert set(report.predicted) == set(report.dosage["hotspot_id"])
    # The streets in and around come from the records' own location text, with counts.
    assert report.streets is not None and len(report.streets) > 0
    assert not report.streets["street"].str.startswith("On or near").any()


def test_a_store_without_patrols_gives_no_measured_zeros_on_the_briefing(real_db):
    """Audit on the real months: with no patrol data at all the page read 'Visits 0 / 0', 'Days dosed
    0 of 366 required' and weeks of '0 of 7' beside 'no patrol data loaded'; nothing was measured."""
    from hotspot_engine.store.database import connect

    con = connect(real_db, read_only=True)
    try:
        report = service.patrol_report(con, APRIL)
    finally:
        con.close()
    assert report.summary["no_patrol_data"]
    text = _figure_text(B.briefing_page(report, None, report.dosage["hotspot_id"].iloc[0]))
    assert "no patrol data loaded: visits cannot be counted" in text
    assert "- (of " in text
    assert " of 7" not in text and "0 / 0" not in text


def test_balanced_days_when_the_target_is_fewer_days_a_week(real_db):
    from hotspot_engine.store.database import connect

    con = connect(real_db, read_only=True)
    try:
        report = service.patrol_report(con, APRIL, P.DosageTarget(days_per_week=3))
    finally:
        con.close()
    plan = P.suggest_plan(report, seed=5, extra_visits=0)
    per_hotspot = plan.visits.groupby("hotspot_id")["date"].nunique()
    assert (per_hotspot == 3).all()
    load = plan.visits.groupby("date").size()
    assert load.max() - load.min() <= 1  # every weekday carries a similar load
    assert P.plan_meets_target(plan, report.dosage["hotspot_id"])
    assert P.suggest_plan(report, seed=5, extra_visits=0).visits.equals(plan.visits)


# -- street layer ------------------------------------------------------------------------------------

def _street_file(path: Path, lat: float, lon: float, name_key: str = "name") -> Path:
    """A few LineStrings around (lat, lon) and one in London, outside the 14 districts."""
    d = 0.0015
    lines = [("Test High Street", [(lon - 2 * d, lat), (lon + 2 * d, lat)]),
             ("Test Cross Road", [(lon, lat - 2 * d), (lon, lat + 2 * d)]),
             ("", [(lon - d, lat - d), (lon + d, lat + d)]),  # an unnamed link: drawn, not labelled
             ("Far Away Road", [(-0.12, 51.50), (-0.11, 51.51)])]
    features = [{"type": "Feature", "properties": {name_key: name},
                 "geometry": {"type": "LineString", "coordinates": coords}} for name, coords in lines]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


@pytest.mark.slow  # loads a street layer and draws briefing pages
def test_street_layer_loads_with_an_account_and_is_drawn(real_db, tmp_path, capsys):
    import shutil

    from hotspot_engine.__main__ import main
    from hotspot_engine.store.database import connect

    db = tmp_path / "with_streets.duckdb"
    shutil.copy(real_db, db)
    con = connect(db, read_only=True)
    try:
        before = service.patrol_report(con, APRIL)
    finally:
        con.close()
    first = before.dosage.sort_values("hotspot_rank")["hotspot_id"].iloc[0]
    lat, lon = B._centre(before, first)
    roads = _street_file(tmp_path / "roads.geojson", lat, lon, name_key="name1")  # OS Open Roads spelling
    assert main(["ingest", str(roads), "--db", str(db), "--format", "streets"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[0]
    assert line == ("roads.geojson [streets]: read 4, added 3, already present 0, rejected 1 "
                    "(outside the 14 districts: 1)")
    assert main(["ingest", str(roads), "--db", str(db), "--format", "streets"]) == 0
    assert "added 0, already present 3" in capsys.readouterr().out
    other = _street_file(tmp_path / "osm.geojson", lat, lon, name_key="LABEL")
    assert main(["ingest", str(other), "--db", str(db), "--format", "streets"]) == 2  # no known name column
    assert "--name-column" in capsys.readouterr().err
    assert main(["ingest", str(other), "--db", str(db), "--format", "streets", "--name-column", "LABEL"]) == 0

    con = connect(db, read_only=True)
    try:
        report = service.patrol_report(con, APRIL)
        loads = con.execute("SELECT count(*) FROM loads WHERE format = 'streets'").fetchall()[0][0]
    finally:
        con.close()
    assert loads == 3
    mine = report.street_lines[report.street_lines["hotspot_id"] == first]
    assert {"Test High Street", "Test Cross Road"} <= set(mine["name"])
    fig = B.briefing_page(report, None, first)
    text = _figure_text(fig)
    assert "Test High Street" in text and "street layer" in text
    pdf = P.briefing_pdf(report, None, [first])
    assert pdf.startswith(b"%PDF")


def test_street_layer_as_deck_layers():
    import shapely

    from hotspot_engine.render import deck
    from hotspot_engine.store.streets import path_records

    lines = pd.DataFrame({"name": ["A Road", ""], "geometry": [
        shapely.to_wkb(shapely.LineString([(-1.40, 50.90), (-1.39, 50.91)])),
        shapely.to_wkb(shapely.MultiLineString([[(-1.41, 50.90), (-1.40, 50.90)], [(-1.42, 50.9), (-1.41, 50.91)]]))]})
    records = path_records(lines)
    assert len(records) == 3 and records["path"].iloc[0] == [[-1.4, 50.9], [-1.39, 50.91]]
    layers = deck.street_layers(lines)
    assert [layer.type for layer in layers] == ["PathLayer", "TextLayer"]
    spec = json.loads(deck.build_deck(pd.DataFrame({"h3": [], "count": []}), streets=lines)[0].to_json())
    ids = [layer["id"] for layer in spec["layers"]]
    assert "streets" in ids and "street-names" in ids
    streets = {layer["id"]: layer for layer in spec["layers"] if layer["id"].startswith("street")}
    assert "http" not in json.dumps(streets)
    # Units are literal strings: pydeck would otherwise send them as '@@=meters' expressions.
    assert streets["streets"]["widthUnits"] == "meters" and streets["street-names"]["sizeUnits"] == "meters"


def test_month_only_incidents_with_patrol_logs_take_windows_from_the_patrol_history():
    from tests.test_patrols import CELL_A, CELL_B, _areas, _cells

    starts = [pd.Timestamp("2024-01-01 21:40") + pd.Timedelta(days=d % 28) for d in range(40)]
    patrols = pd.DataFrame({"patrol_id": [f"p{i}" for i in range(40)], "source": "log", "start": starts,
                            "minutes": 15.0, "h3": np.array([CELL_A if i % 2 else CELL_B for i in range(40)],
                                                            dtype=np.uint64)})
    month_only = pd.DataFrame({"hotspot_id": ["A", "B"], "day": pd.to_datetime([None, None]), "hour": [None, None],
                               "count": [12, 5], "harm": [100.0, 40.0]})
    report = P.patrol_report(patrols, _areas(), _cells(), month_only, (date(2024, 1, 1), date(2024, 1, 28)))
    assert not report.has_times
    plan = P.suggest_plan(report, seed=2, extra_visits=0)
    assert plan.time_basis == "patrol history" and (plan.visits["time_basis"] == "patrol history").all()
    hours = pd.to_datetime(plan.visits["window_start"]).dt.hour
    assert hours.isin([20, 21]).mean() > 0.6  # the team's own evening slot, not a uniform day
    assert any("40 logged visits" in n and "not when incidents happen" in n for n in plan.notes)
    fig = B.briefing_page(report, plan, "A")
    assert [im for ax in fig.axes for im in ax.images] == []  # still no incident grid


def test_sample_export_counts_2934_logged_hotspot_patrols(sample_db, tmp_path):
    from hotspot_engine.__main__ import main

    out = tmp_path / "patrols.csv"
    assert main(["export", "patrols", "--db", str(sample_db), "--from", "2023-04", "--to", "2024-03",
                 "--out", str(out)]) == 0
    rows = pd.read_csv(out)
    # How the 2,934 is counted: patrol logs naming one of the 19 hotspots (the report's count).
    assert len(rows) == 2934 and rows["hotspot_ref"].notna().all() and rows["hotspot_ref"].nunique() == 19


def test_street_layer_from_a_geopackage_upload(real_db, tmp_path):
    """The Data & export upload path: a GeoPackage with an OpenStreetMap-style ``name`` column."""
    import shutil

    import geopandas as gpd
    import shapely

    from hotspot_engine.errors import InputError
    from hotspot_engine.store.database import connect

    frame = gpd.GeoDataFrame({"name": ["Above Bar Street", "Ocean Road"]}, geometry=[
        shapely.LineString([(-1.4045, 50.9040), (-1.4041, 50.9090)]),  # Southampton city centre
        shapely.LineString([(2.35, 48.85), (2.36, 48.86)])], crs=4326)  # Paris: outside the districts
    gpkg = tmp_path / "osm_extract.gpkg"
    frame.to_crs(27700).to_file(gpkg, driver="GPKG")  # British National Grid: reprojected on load
    db = tmp_path / "upload.duckdb"
    shutil.copy(real_db, db)
    con = connect(db)
    try:
        (summary,) = service.ingest_street_upload(con, gpkg.name, gpkg.read_bytes())
        assert summary.line() == ("osm_extract.gpkg [streets]: read 2, added 1, already present 0, rejected 1 "
                                  "(outside the 14 districts: 1)")
        with pytest.raises(InputError, match="upload a street layer as .gpkg or .geojson"):
            service.ingest_street_upload(con, "roads.csv", b"name\n")
        lines = con.execute("SELECT name, minx, maxy FROM streets").df()
    finally:
        con.close()
    assert list(lines["name"]) == ["Above Bar Street"] and lines["minx"].iloc[0] == pytest.approx(-1.4045, abs=1e-4)


def test_long_titles_stay_on_the_page_and_place_types_are_not_listed_as_streets():
    """Issue 27: a long hotspot name ran off the page; "Parking Area (38)" was listed as a street."""
    from tests.test_output_context import _texts_inside

    report = _small()
    long_name = "Southampton - Landguard Road / Blechynden Terrace (parking area by the station car park)"
    report.dosage.loc[report.dosage["hotspot_id"] == "A", "hotspot_name"] = long_name
    report.streets = pd.DataFrame({"hotspot_id": ["A"] * 3, "street": ["Parking Area", "Landguard Road", "Supermarket"],
                                   "n": [38, 5, 2], "lat": [50.906, 50.907, 50.905],
                                   "lon": [-1.404, -1.405, -1.403], "inside": [True, True, False]})
    fig = B.briefing_page(report, None, "A", synthetic=True)
    texts = _texts_inside(fig)
    street_list = next(t for t in texts if "Landguard Road" in t and "   " in t)
    assert "Parking Area" not in street_list and "Supermarket" not in street_list
    # A place point wholly in the ring around the outline is starred, like a street (audit on real months).
    assert any("place points: Parking Area (38), Supermarket (2) *" in t.replace("\n", " ") for t in texts)
    assert long_name in " ".join(t.replace("\n", " ") for t in texts)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.texts if t.get_text()]
    assert not [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j and a.overlaps(b)]
