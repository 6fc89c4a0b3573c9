"""Patrol dosage, time grids, weekly series, plan and briefing (hotspot_engine.analyse.patrols).

Hand-built frames for the arithmetic; the built-in sample for agreement with a direct count of
patrols.csv (2,934 patrols in 2023-24 in 19 hotspots: HIPS VRP annual report 2023-24, DOMAIN.md)."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from hotspot_engine import service
from hotspot_engine.analyse import patrols as P
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters

# Real res-9 cells (the briefing draws them): two neighbours in Southampton, one in Portswood, one in Gosport.
CELL_A, CELL_A2, CELL_B, CELL_OUT = (np.uint64(int(c, 16)) for c in (
    "8919590258bffff", "89195902587ffff", "89195910b13ffff", "891959ab193ffff"))
WEEK = (date(2024, 1, 1), date(2024, 1, 7))  # Monday to Sunday


def _areas() -> pd.DataFrame:
    return pd.DataFrame({"hotspot_rank": [1, 2], "hotspot_id": ["A", "B"], "hotspot_name": ["Alpha St", "Beta Rd"],
                         "district": ["Southampton", "Portsmouth"], "n_cells": [2, 1]})


def _cells() -> pd.DataFrame:
    return pd.DataFrame({"h3": np.array([CELL_A, CELL_A2, CELL_B], dtype=np.uint64), "hotspot_id": ["A", "A", "B"],
                         "hotspot_name": ["Alpha St", "Alpha St", "Beta Rd"]})


def _patrols() -> pd.DataFrame:
    rows = []
    # A: a 15-minute visit every evening at 21:50 (crosses the hour), half of them in its second cell.
    for d in range(7):
        rows.append((f"A{d}", "log", pd.Timestamp(2024, 1, 1 + d, 21, 50), 15.0, CELL_A if d % 2 else CELL_A2, None))
    # B: 5-minute visits (too short to dose) on Mon-Wed, 12-minute ones Thu and Fri, a 40-minute GPS visit Fri.
    for d in range(3):
        rows.append((f"B{d}", "log", pd.Timestamp(2024, 1, 1 + d, 14, 0), 5.0, CELL_B, None))
    rows.append(("B3", "log", pd.Timestamp(2024, 1, 4, 10, 0), 12.0, CELL_B, None))
    rows.append(("B4", "gps", pd.Timestamp(2024, 1, 5, 10, 0), 12.0, CELL_B, None))
    rows.append(("B5", "gps", pd.Timestamp(2024, 1, 5, 18, 0), 40.0, CELL_B, None))
    rows.append(("X1", "log", pd.Timestamp(2024, 1, 3, 9, 0), 20.0, CELL_OUT, None))  # outside every hotspot
    rows.append(("R1", "log", pd.Timestamp(2024, 1, 6, 9, 0), 10.0, None, "B"))  # no position, names hotspot B
    rows.append(("L1", "log", pd.Timestamp(2024, 1, 9, 9, 0), 10.0, CELL_A, None))  # after the period
    frame = pd.DataFrame([r[:4] + r[5:] for r in rows], columns=["patrol_id", "source", "start", "minutes", "hotspot_ref"])
    # Built from Python ints: through float64 an H3 id would lose its last bits.
    frame["h3"] = pd.array([None if r[4] is None else int(r[4]) for r in rows], dtype="UInt64")
    return frame


def _incidents() -> pd.DataFrame:
    # hotspot, day, hour, count, harm; one month-only record (no day) in A.
    rows = [("A", "2024-01-05", 22, 3, 300.0), ("A", "2024-01-06", 23, 2, 200.0), ("A", "2024-01-02", 10, 1, 50.0),
            ("B", "2024-01-03", 14, 1, 10.0), ("A", None, None, 4, 400.0)]
    frame = pd.DataFrame(rows, columns=["hotspot_id", "day", "hour", "count", "harm"])
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


@pytest.fixture(scope="module")
def small_report() -> P.PatrolReport:
    return P.patrol_report(_patrols(), _areas(), _cells(), _incidents(), WEEK,
                           actions=[("2024-01-03", "2024-01-04", "Op Sceptre")])


def test_target_thresholds_and_validation():
    target = P.DosageTarget()
    # UK trials: one 15-minute visit a day, every day; a visit counts from 10 minutes (Koper on stop length).
    assert (target.visits_per_day, target.min_minutes, target.max_minutes, target.days_per_week) == (1, 10, 20, 7)
    assert target.visit_minutes == 15 and "UK trials" in target.describe()
    assert "Koper" not in target.describe()
    assert P.DOSAGE_PRESETS["15 minutes at random every 2 hours in the hot hours (Sacramento)"].visits_per_day == 4
    assert P.DosageTarget(visits=2, per="shift").visits_per_day == 6
    assert [target.status(c) for c in (1.0, 0.8, 0.79, 0.5, 0.49, 0.0, float("nan"))] == \
        ["green", "green", "amber", "amber", "red", "red", "red"]
    for bad in ({"visits": 0}, {"min_minutes": 30, "max_minutes": 20}, {"green_at": 0.4, "amber_at": 0.5},
                {"per": "week"}, {"days_per_week": 0}, {"days_per_week": 8}):
        with pytest.raises(InputError):
            P.DosageTarget(**bad)


def test_patrols_are_assigned_to_hotspots():
    assigned = P.assign_patrols(_patrols(), _cells()).set_index("patrol_id")
    assert assigned.loc["A0", "hotspot_id"] == "A" and assigned.loc["A1", "hotspot_id"] == "A"
    assert assigned.loc["B5", "hotspot_name"] == "Beta Rd"
    assert assigned.loc["R1", "hotspot_id"] == "B"  # a log naming the hotspot, no position
    assert assigned.loc["X1", "hotspot_id"] is None and not assigned.loc["X1", "in_hotspot"]
    assert assigned.loc["A0", "end"] == pd.Timestamp(2024, 1, 1, 22, 5)


def test_dosage_by_hand(small_report):
    d = small_report.dosage.set_index("hotspot_id")
    # A: 7 visits of 15 min, one every day: fully dosed.
    assert d.loc["A", "patrols"] == 7 and d.loc["A", "minutes"] == 105
    assert d.loc["A", "patrolled_days"] == 7 and d.loc["A", "unpatrolled_days"] == 0
    assert d.loc["A", "dosed_days"] == 7 and d.loc["A", "compliance"] == 1.0 and d.loc["A", "status"] == "green"
    assert d.loc["A", "in_band_share"] == 1.0 and d.loc["A", "over_long_minutes"] == 0
    assert d.loc["A", "minutes_vs_target"] == pytest.approx(105 / (7 * 10))
    # A's incidents include the month-only record: 3 + 2 + 1 + 4.
    assert d.loc["A", "incidents"] == 10 and d.loc["A", "harm"] == 950
    # B: 5+5+5 (Mon-Wed, too short) + 12 (Thu) + 12 + 40 (Fri) + 10 (Sat, by reference) = 7 patrols on 6 days.
    assert d.loc["B", "patrols"] == 7 and d.loc["B", "minutes"] == 89
    assert d.loc["B", "patrolled_days"] == 6 and d.loc["B", "unpatrolled_days"] == 1
    assert d.loc["B", "dosed_days"] == 3  # Thu, Fri, Sat
    assert d.loc["B", "compliance"] == pytest.approx(3 / 7) and d.loc["B", "status"] == "red"
    assert d.loc["B", "over_long_minutes"] == 20  # the 40-minute visit, 20 beyond the 10-20 band
    assert d.loc["B", "in_band_share"] == pytest.approx(3 / 7)  # 12, 12, 10
    # B's one incident fell on Wednesday, a patrolled day.
    assert d.loc["B", "incidents_per_patrolled_day"] == pytest.approx(1 / 6)
    assert d.loc["B", "incidents_per_unpatrolled_day"] == 0
    s = small_report.summary
    assert s["patrols"] == 15 and s["patrols_in_hotspots"] == 14 and s["patrols_outside"] == 1
    assert s["by_source"] == {"gps": 2, "log": 13}
    assert s["hotspots_green"] == 1 and s["hotspots_red"] == 1
    assert any("outside 2024-01-01 to 2024-01-07" in n for n in small_report.notes)  # L1 left out
    assert any("no date or time" in n for n in small_report.notes)


def test_cell_dosage_by_hand(small_report):
    cells = small_report.cells.set_index("h3")
    assert cells.loc[CELL_A, "patrols"] == 3 and cells.loc[CELL_A2, "patrols"] == 4  # odd days / even days
    assert cells.loc[CELL_OUT, "patrols"] == 1 and cells.loc[CELL_OUT, "hotspot_id"] is None
    assert cells.loc[CELL_B, "minutes"] == 79  # the referenced patrol has no cell


def test_time_grid_splits_minutes_over_hours(small_report):
    grid = small_report.grid
    assert len(grid) == 3 * 7 * 24  # A, B and 'all', every slot
    a = grid[grid["hotspot_id"] == "A"].set_index(["dow", "hour"])
    # 21:50 + 15 min: 10 minutes in hour 21, 5 in hour 22, every day; the patrol counts in its start hour.
    assert (a.xs(21, level="hour")["patrol_minutes"] == 10).all()
    assert (a.xs(22, level="hour")["patrol_minutes"] == 5).all()
    assert a.xs(21, level="hour")["patrols"].sum() == 7 and a.xs(22, level="hour")["patrols"].sum() == 0
    assert a.loc[(4, 22), "incidents"] == 3  # Friday 22:00
    everything = grid[grid["hotspot_id"] == "all"]
    assert everything["patrol_minutes"].sum() == pytest.approx(105 + 89)  # every patrol in a hotspot, R1 included
    assert everything["incidents"].sum() == 7  # the month-only record is not in the grid


def test_grid_minutes_add_up_for_long_and_midnight_patrols():
    rng = np.random.default_rng(3)
    n = 300
    frame = pd.DataFrame({"patrol_id": [f"p{i}" for i in range(n)], "source": "gps",
                          "start": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 7 * 24 * 60, n), unit="m"),
                          "minutes": rng.uniform(0, 400, n), "h3": np.full(n, CELL_B, dtype=np.uint64)})
    period = (date(2024, 1, 1), date(2024, 1, 14))
    report = P.patrol_report(frame, _areas(), _cells(), _incidents().iloc[:0], period)
    grid = report.grid[report.grid["hotspot_id"] == "B"]
    assert grid["patrol_minutes"].sum() == pytest.approx(frame["minutes"].sum())
    assert grid["patrols"].sum() == n


def test_weekly_series_and_weeks_of_action(small_report):
    weekly = small_report.weekly
    b = weekly[weekly["hotspot_id"] == "B"]
    assert list(b["week"]) == [pd.Timestamp("2024-01-01")]
    assert b["patrols"].iloc[0] == 7 and b["incidents"].iloc[0] == 1 and b["days"].iloc[0] == 7
    # 2023-24 starts on a Saturday and ends on a Sunday: a 2-day first week, full weeks after.
    weeks = P.weekly_series(_incidents().iloc[:0], P.assign_patrols(_patrols().iloc[:0], _cells()),
                            (date(2023, 4, 1), date(2024, 3, 31)))
    first = weeks[weeks["hotspot_id"] == "all"].sort_values("week")
    assert first["days"].iloc[0] == 2 and (first["days"].iloc[1:] == 7).all() and first["days"].sum() == 366
    assert (weekly["action"] == "Op Sceptre").all()
    weeks = pd.Series(pd.to_datetime(["2023-12-25", "2024-01-01", "2024-01-08"]))
    actions = P.parse_actions([("2024-01-07", "2024-01-08", "Sceptre"), (date(2024, 1, 2), date(2024, 1, 3), "Night")])
    assert list(P.mark_actions(weeks, actions)) == ["", "Sceptre; Night", "Sceptre"]
    with pytest.raises(InputError):
        P.parse_actions([("2024-01-08", "2024-01-01", "backwards")])
    with pytest.raises(InputError):
        P.parse_actions([("not a date", "2024-01-01", "x")])


def test_trend_compares_the_last_four_weeks_with_the_four_before():
    period = (date(2024, 1, 1), date(2024, 2, 25))  # 8 weeks
    starts = [pd.Timestamp("2024-01-01") + pd.Timedelta(days=d) for d in range(0, 28, 7)]  # 4 in weeks 1-4
    starts += [pd.Timestamp("2024-01-29") + pd.Timedelta(days=d) for d in range(0, 28, 2)]  # 14 in weeks 5-8
    frame = pd.DataFrame({"patrol_id": [f"p{i}" for i in range(len(starts))], "start": starts, "minutes": 15.0,
                          "h3": np.full(len(starts), CELL_A, dtype=np.uint64)})
    d = P.patrol_report(frame, _areas(), _cells(), _incidents().iloc[:0], period).dosage.set_index("hotspot_id")
    assert (d.loc["A", "patrols_last_4w"], d.loc["A", "patrols_prev_4w"]) == (14, 4)
    assert d.loc["A", "trend_pct"] == pytest.approx(250.0) and d.loc["A", "trend"] == "up"
    assert d.loc["B", "trend"] == "none" and np.isnan(d.loc["B", "trend_pct"])
    assert d.loc["A", "recent_compliance"] == pytest.approx(14 / 28)


def _check_plan(plan: P.PatrolPlan, hotspot_ids, window_hours: int = 2) -> None:
    """The target, checked directly on the rows (not only through plan_meets_target)."""
    v = plan.visits
    assert list(v.columns) == P.PLAN_COLUMNS
    t = plan.target
    assert ((v["minutes"] >= t.min_minutes) & (v["minutes"] <= t.max_minutes)).all()
    days = [plan.week_start + timedelta(days=i) for i in range(7)]
    counts = v.groupby(["hotspot_id", "date"]).size()
    for h in hotspot_ids:
        for d in days:
            assert counts.get((h, d), 0) >= t.visits_per_day, (h, d)
    assert set(v["date"]) <= set(days)
    start, end = pd.to_datetime(v["window_start"]), pd.to_datetime(v["window_end"])
    suggested = pd.to_datetime(v["suggested_start"])
    assert ((end - start) == pd.Timedelta(hours=window_hours)).all()
    assert (suggested >= start).all()
    assert (suggested + pd.to_timedelta(v["minutes"], unit="m") <= end).all()
    # Two visits to one hotspot on one day never share a window.
    for _, same in v.groupby(["hotspot_id", "date"]):
        hours = sorted(pd.to_datetime(same["window_start"]).dt.hour)
        assert all(b - a >= window_hours for a, b in zip(hours, hours[1:]))
    assert plan.visits.equals(plan.visits)  # a frame, not a view on shared state
    assert P.plan_meets_target(plan, hotspot_ids)


def test_plan_is_reproducible_and_meets_the_target(small_report):
    one = P.suggest_plan(small_report, seed=7)
    again = P.suggest_plan(small_report, seed=7)
    other = P.suggest_plan(small_report, seed=8)
    pd.testing.assert_frame_equal(one.visits, again.visits)
    assert not one.visits["suggested_start"].equals(other.visits["suggested_start"])
    assert one.week_start == date(2024, 1, 8)  # the Monday after the period
    _check_plan(one, ["A", "B"])
    _check_plan(other, ["A", "B"])
    # 14 target visits + ceil(14 / 2) = 7 extra, most to A (all the recent harm but one incident).
    assert len(one.visits) == 21
    per = one.visits.groupby("hotspot_id").size()
    assert per["A"] > per["B"] >= 7


def test_plan_with_two_visits_a_day_and_no_extras():
    target = P.DosageTarget(visits=2, min_minutes=15, max_minutes=20)
    report = P.patrol_report(_patrols(), _areas(), _cells(), _incidents(), WEEK, target)
    plan = P.suggest_plan(report, week_start=date(2024, 3, 6), seed=1, extra_visits=0, window_hours=3)
    assert len(plan.visits) == 2 * 2 * 7
    _check_plan(plan, ["A", "B"], window_hours=3)
    assert plan.visits["minutes"].eq(18).all()  # middle of 15-20, rounded
    with pytest.raises(InputError):
        P.suggest_plan(report, window_hours=0)
    assert not P.plan_meets_target(P.PatrolPlan(plan.visits.iloc[1:], plan.week_start, 1, target), ["A", "B"])


def test_plan_follows_the_incident_peaks():
    """All of A's incidents at 22:00 on Fridays: most Friday windows should cover 22:00."""
    incidents = pd.DataFrame({"hotspot_id": ["A"] * 5 + ["B"], "day": pd.to_datetime(["2024-01-05"] * 5 + ["2024-01-02"]),
                              "hour": [22] * 5 + [3], "count": [20] * 5 + [1], "harm": [100.0] * 6})
    report = P.patrol_report(_patrols(), _areas(), _cells(), incidents, WEEK)
    hits = 0
    for seed in range(20):
        visits = P.suggest_plan(report, seed=seed, extra_visits=0).visits
        friday = visits[(visits["hotspot_id"] == "A") & (pd.to_datetime(visits["date"]).dt.day_of_week == 4)]
        at_peak = friday[pd.to_datetime(friday["window_start"]).dt.hour.isin([21, 22])]
        hits += len(at_peak)
        # The reason quotes the window's share of the day's expected incidents: nearly all of Friday's.
        shares = at_peak["reason"].str.extract(r"window: (\d+)%")[0].astype(int)
        assert (shares >= 80).all() and (shares <= 100).all()
    assert hits >= 15  # of 20; uniform choice would hit about 20 * 2 / 24 < 2


def test_plan_csv_and_briefing(small_report):
    plan = P.suggest_plan(small_report, seed=3)
    frame = pd.read_csv(__import__("io").BytesIO(P.plan_csv(plan)))
    assert list(frame.columns) == P.PLAN_COLUMNS and len(frame) == len(plan.visits)
    assert frame["window_start"].str.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$").all()
    pdf = P.briefing_pdf(small_report, plan, ["B"], synthetic=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 1
    assert P.peak_windows(small_report.grid, "A", top=1) == ["Fri 21:00-23:00"] or \
        P.peak_windows(small_report.grid, "A", top=1) == ["Fri 22:00-00:00"]


def test_no_patrols_and_no_hotspots():
    empty = _patrols().iloc[:0]
    report = P.patrol_report(empty, _areas(), _cells(), _incidents(), WEEK)
    assert report.summary["patrols"] == 0 and (report.dosage["compliance"] == 0).all()
    assert (report.dosage["status"] == "red").all()
    _check_plan(P.suggest_plan(report, seed=1), ["A", "B"])
    none = P.patrol_report(_patrols(), _areas().iloc[:0], _cells().iloc[:0], _incidents().iloc[:0], WEEK)
    assert none.dosage.empty and none.summary["patrols_outside"] == none.summary["patrols"]
    assert P.suggest_plan(none).visits.empty


# -- on the built-in sample ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_report(sample_store):
    return service.patrol_report(sample_store, Filters(date_from="2023-04", date_to="2024-03", sv_only=True))


def test_sample_dosage_agrees_with_a_direct_count(sample_report, sample_dir, sample_truth):
    csv = pd.read_csv(sample_dir / "patrols.csv")
    csv["start"] = pd.to_datetime(csv["start"])
    report = sample_report
    # HIPS VRP annual report 2023-24: 2,934 patrols in 19 hotspots (DOMAIN.md), counted as the report
    # did: patrol logs naming one of the 19 hotspots.
    assert report.summary["patrols"] == len(csv) == sample_truth["patrols_2023_24"] == 2934
    assert csv["hotspot_id"].notna().all() and csv["hotspot_id"].nunique() == 19
    assert len(report.dosage) == len(sample_truth["hotspots"]) == 19

    # Where the officers were decides dosage: a patrol counts in the Gi* area (chosen on 2022-23)
    # whose cell holds its position. Some logged patrols were on nearby streets outside the area.
    area_of_cell = dict(zip(report.hotspot_cells["h3"].astype(np.uint64).tolist(), report.hotspot_cells["hotspot_id"]))
    csv["area"] = [area_of_cell.get(int(h, 16)) for h in csv["h3"].astype(str)]
    inside = csv[csv["area"].notna()]
    assert report.summary["patrols_in_hotspots"] == len(inside)
    # Issue 24: the default hotspots are the predicted places, only the cells the prediction chose
    # (72 cells, 70 of them in the planted peaks' ring-1 disks); the sample's officers walk where its
    # incidents are, so most patrols fall inside them (2,481), the rest on quiet cells or outside.
    assert 0.75 * 2934 < len(inside) < 2934
    dosage = report.dosage.set_index("hotspot_id")
    inside = inside.assign(day=inside["start"].dt.normalize())
    for area, mine in inside.groupby("area"):
        assert dosage.loc[area, "patrols"] == len(mine), area
        assert dosage.loc[area, "minutes"] == mine["duration_minutes"].sum()
        assert dosage.loc[area, "patrolled_days"] == mine["day"].nunique()
        dosed = mine[mine["duration_minutes"] >= 10]["day"].nunique()
        assert dosage.loc[area, "compliance"] == pytest.approx(dosed / 366)  # 2023-24 is a leap year
    # Compliance varies, as in real deployments: some hotspots green, some amber, some red.
    assert {"green", "amber", "red"} <= set(report.dosage["status"])

    # Per cell: the res-9 cell that holds each patrol's position, as patrols.csv gives it; the
    # visits are spread over each area's cells, not piled on its centre.
    csv["h3"] = csv["h3"].astype(str)
    per_cell = csv.groupby("h3").agg(patrols=("patrol_id", "size"), minutes=("duration_minutes", "sum"))
    cells = report.cells.assign(hex=[format(int(c), "x") for c in report.cells["h3"]]).set_index("hex")
    patrolled = cells[cells["patrols"] > 0]
    assert set(patrolled.index) == set(per_cell.index)
    assert (patrolled.loc[per_cell.index, "patrols"].to_numpy() == per_cell["patrols"].to_numpy()).all()
    assert (patrolled.loc[per_cell.index, "minutes"].to_numpy() == per_cell["minutes"].to_numpy()).all()
    in_area = cells[cells["hotspot_id"].notna()]
    # Predicted places (issue 24) hold 1-7 cells, only those the prediction chose; with the other
    # offences in the prior (issue 24 item 1) 4 of them have 3 or more patrolled cells (was 5).
    assert (in_area.groupby("hotspot_id")["patrols"].apply(lambda p: (p > 0).sum()) >= 1).all()
    assert (in_area.groupby("hotspot_id")["patrols"].apply(lambda p: (p > 0).sum()) >= 3).sum() >= 4

    # Grids and weekly series add up to the same patrols and minutes in the hotspots.
    everything = report.grid[report.grid["hotspot_id"] == P.ALL_HOTSPOTS]
    assert everything["patrols"].sum() == len(inside)
    assert everything["patrol_minutes"].sum() == pytest.approx(inside["duration_minutes"].sum())
    weekly_all = report.weekly[report.weekly["hotspot_id"] == P.ALL_HOTSPOTS]
    assert weekly_all["patrols"].sum() == len(inside)


def test_sample_plan_reproducible_and_meets_the_target(sample_report):
    one = P.suggest_plan(sample_report, seed=11)
    again = P.suggest_plan(sample_report, seed=11)
    pd.testing.assert_frame_equal(one.visits, again.visits)
    ids = sample_report.dosage["hotspot_id"].tolist()
    _check_plan(one, ids)
    assert one.week_start == date(2024, 4, 1)
    assert len(one.visits) == 19 * 7 + int(np.ceil(19 * 7 / 2))


@pytest.mark.slow  # the patrol plan and dosage through the command line
def test_command_line_plan(sample_db, tmp_path, capsys):
    from hotspot_engine.__main__ import main

    out, dosage = tmp_path / "plan.csv", tmp_path / "dosage.csv"
    code = main(["patrol-plan", "--db", str(sample_db), "--from", "2023-04", "--to", "2024-03", "--seed", "4",
                 "--out", str(out), "--dosage", str(dosage)])
    assert code == 0
    plan = pd.read_csv(out)
    assert list(plan.columns) == P.PLAN_COLUMNS and plan["hotspot_id"].nunique() == 19
    assert plan.groupby(["hotspot_id", "date"]).size().min() >= 1 and plan["date"].nunique() == 7
    assert 0.75 * 2934 < pd.read_csv(dosage)["patrols"].sum() < 2934  # the rest were outside the places
    assert "2,934 patrols" in capsys.readouterr().out
    again = tmp_path / "again.csv"
    assert main(["patrol-plan", "--db", str(sample_db), "--from", "2023-04", "--to", "2024-03", "--seed", "4",
                 "--out", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()
    assert main(["patrol-plan", "--db", str(sample_db), "--from", "2023-04", "--to", "2024-03",
                 "--week-start", "2024-13-01", "--out", str(again)]) == 2


def test_briefing_draws_mathtext_and_markup_in_names_as_text():
    areas = _areas()
    areas["hotspot_name"] = [r"$\undefinedcmd{x}$ Street", "Cost $5 and $6 ![b](http://127.0.0.1:9/x.png)"]
    areas["district"] = ["Southampton $x^2$", "Portsmouth"]
    report = P.patrol_report(_patrols(), areas, _cells(), _incidents(), WEEK)
    pdf = P.briefing_pdf(report, P.suggest_plan(report, seed=1))  # mathtext would raise ValueError here
    assert pdf.startswith(b"%PDF")
