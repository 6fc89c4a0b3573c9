"""Randomised patrol days (issue 28): the schedule, power, the place-day analysis and the sample's trial."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.analyse import trial_analysis as ta
from hotspot_engine.analyse import trial_design as td
from hotspot_engine.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
SPOTS = pd.DataFrame({"hotspot_id": ["B", "A", "C"], "hotspot_name": ["Bee", "Ay", "Sea"]})


# -- schedule ----------------------------------------------------------------------------------
def test_schedule_is_made_again_exactly_from_its_seed():
    design = td.TrialDesign("2024-04-01", 90, 0.5, seed=7)
    first, again = td.make_schedule(SPOTS, design), td.make_schedule(SPOTS.iloc[::-1], design)
    pd.testing.assert_frame_equal(first, again)
    other = td.make_schedule(SPOTS, td.TrialDesign("2024-04-01", 90, 0.5, seed=8))
    assert (first["arm"] != other["arm"]).mean() > 0.3


def test_adding_a_hotspot_keeps_the_others_arms():
    design = td.TrialDesign("2024-04-01", 60, 0.5, seed=3)
    base = td.make_schedule(SPOTS, design)
    more = td.make_schedule(pd.concat([SPOTS, pd.DataFrame({"hotspot_id": ["D"], "hotspot_name": ["Dee"]})]), design)
    pd.testing.assert_frame_equal(base, more[more["hotspot_id"] != "D"].reset_index(drop=True))


@pytest.mark.parametrize("share", [0.5, 0.3, 0.7])
def test_each_weekday_gets_the_patrol_share_to_within_a_day(share):
    schedule = td.make_schedule(SPOTS, td.TrialDesign("2024-04-01", 183, share, seed=1))
    per = schedule.groupby(["hotspot_id", "weekday"])["arm"].agg(lambda a: ((a == "patrol").sum(), len(a)))
    for patrol, n in per:
        assert abs(patrol - share * n) <= 1


def test_blocks_cap_a_weekday_imbalance_inside_every_block():
    schedule = td.make_schedule(SPOTS, td.TrialDesign("2024-04-01", 182, 0.5, seed=2, block_weeks=2))
    for _, days in schedule.groupby(["hotspot_id", "weekday"]):
        flags = (days["arm"] == "patrol").to_numpy()
        assert (flags.reshape(-1, 2).sum(axis=1) == 1).all()


def test_washout_marks_control_days_just_after_a_patrol_day():
    schedule = td.make_schedule(SPOTS, td.TrialDesign("2024-04-01", 60, 0.5, seed=4, washout_days=2))
    for _, days in schedule.groupby("hotspot_id"):
        patrol = (days["arm"] == "patrol").to_numpy()
        after = np.zeros_like(patrol)
        after[1:] |= patrol[:-1]
        after[2:] |= patrol[:-2]
        assert (days["washout"].to_numpy() == (after & ~patrol)).all()


@pytest.mark.parametrize("change", [{"days": 3}, {"patrol_share": 1.0}, {"start": "2024-13-01"}, {"seed": -1}])
def test_bad_designs_name_the_option(change):
    values = {"start": "2024-04-01", "days": 30, "patrol_share": 0.5, "seed": 0} | change
    with pytest.raises(InputError, match="^--"):
        td.TrialDesign(**values)


def test_a_schedule_file_that_cannot_be_used_names_row_and_column():
    good = pd.DataFrame({"hotspot_id": ["A", "A"], "date": ["2024-04-01", "2024-04-02"], "arm": ["patrol", "control"]})
    assert len(td.check_schedule(good)) == 2
    with pytest.raises(InputError, match="row 3, column arm"):
        td.check_schedule(good.assign(arm=["patrol", "maybe"]))
    with pytest.raises(InputError, match="no column 'arm'"):
        td.check_schedule(good.drop(columns="arm"))
    with pytest.raises(InputError, match="twice"):
        td.check_schedule(good.assign(date="2024-04-01"))


# -- power -------------------------------------------------------------------------------------
def test_delivered_ratio_inverts_the_itt_ratio():
    for rr, c, k in [(0.8, 0.85, 0.0), (0.7, 0.9, 0.05), (1.0, 0.6, 0.1)]:
        assert td.delivered_ratio(td.itt_ratio(rr, c, k), c, k) == pytest.approx(rr)


def test_days_needed_give_the_target_as_the_detectable_effect():
    rates = np.linspace(0.1, 0.5, 19)
    first = td.power(rates, 0.3, 183, 0.5, 0.85, 0.0, target_rr=0.8)
    assert first.days_for_target is not None
    at_needed = td.power(rates, 0.3, first.days_for_target, 0.5, 0.85, 0.0, target_rr=0.8)
    assert at_needed.mde_delivered == pytest.approx(0.8, abs=0.005)
    assert td.power(rates, 0.3, 366).mde_itt > first.mde_itt  # more days: a smaller effect is detectable


def test_history_overdispersion_is_found_from_daily_counts():
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.4 * rng.gamma(1 / 0.5, 0.5, (10, 2000)))
    daily = pd.DataFrame({"hotspot_id": np.repeat(np.arange(10), 2000), "count": counts.ravel()})
    rates, alpha = td.history_rates(daily)
    assert rates.mean() == pytest.approx(0.4, abs=0.02) and alpha == pytest.approx(0.5, abs=0.12)


# -- analysis ----------------------------------------------------------------------------------
def _panel(seed: int, rr: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    schedule = td.make_schedule(pd.DataFrame({"hotspot_id": [f"H{i}" for i in range(8)], "hotspot_name": "x"}),
                                td.TrialDesign("2024-04-01", 120, 0.5, seed))
    mu = rng.uniform(0.5, 2.0, 8)[pd.Categorical(schedule["hotspot_id"]).codes]
    mu = mu * np.where(schedule["arm"] == "patrol", rr, 1.0)
    daily = schedule[["hotspot_id", "date"]].assign(count=rng.poisson(mu), harm=0.0)
    return ta.build_panel(schedule, daily)


def test_fixed_effects_poisson_equals_the_glm_with_dummies():
    import statsmodels.api as sm

    panel = _panel(11, 0.8)
    x, groups = ta._design(panel, "treat")
    beta, *_ = ta.poisson_fe(panel["count"].to_numpy(float), x, groups)
    dummies = np.column_stack([x, np.eye(groups.max() + 1)[groups]])
    glm = sm.GLM(panel["count"].to_numpy(float), dummies, family=sm.families.Poisson()).fit()
    assert beta == pytest.approx(glm.params[: x.shape[1]], abs=1e-6)


def test_a_planted_effect_is_recovered_and_covered():
    fit = ta.fit_pooled(_panel(5, 0.6))
    assert fit.ci_low < 0.6 < fit.ci_high and fit.ci_high < 1 and fit.p_value < 0.01


def test_the_table_has_the_contract_columns_and_counts_every_day():
    panel = _panel(3)
    table = ta.trial_table(panel)
    assert list(table.columns[:10]) == ["hotspot_id", "hotspot_name", "days_patrol", "days_control",
                                        "incidents_patrol", "incidents_control", "rate_ratio", "ci_low", "ci_high",
                                        "p_value"]
    pooled = table.set_index("hotspot_id").loc["pooled"]
    assert pooled["days_patrol"] + pooled["days_control"] == len(panel)
    assert pooled["incidents_patrol"] + pooled["incidents_control"] == panel["count"].sum()


def test_compliance_and_contamination_are_shares_of_scheduled_days():
    panel = _panel(6)
    patrol = panel["arm"] == "patrol"
    visits = np.where(patrol, np.arange(len(panel)) % 10 < 9, np.arange(len(panel)) % 20 == 0).astype(int)
    delivery = panel[["hotspot_id", "date"]].assign(visits=visits, dosed=visits > 0)
    table = ta.trial_table(ta.build_panel(panel[["hotspot_id", "hotspot_name", "date", "arm", "washout"]],
                                          panel[["hotspot_id", "date", "count", "harm"]], delivery))
    pooled = table.set_index("hotspot_id").loc["pooled"]
    assert pooled["compliance"] == pytest.approx(visits[patrol].mean())
    assert pooled["contamination"] == pytest.approx(visits[~patrol].mean())


def test_deterrence_times_run_from_the_visit_to_the_next_incident():
    visits = pd.DataFrame({"hotspot_id": ["A", "A"], "end": pd.to_datetime(["2024-04-01 20:00", "2024-04-02 20:00"]),
                           "minutes": [12, 3]})
    incidents = pd.DataFrame({"hotspot_id": ["A", "A"], "occurred_at": pd.to_datetime(["2024-04-01 23:00",
                                                                                      "2024-04-03 02:00"])})
    out = ta.residual_deterrence(visits, incidents).set_index("visit_length")
    assert out.loc["10-15 min", "median_hours_to_next"] == 3.0 and out.loc["under 5 min", "median_hours_to_next"] == 6.0


# -- the sample's trial, through the store and the command line ------------------------------
@pytest.mark.slow
def test_sample_trial_reports_compliance_and_covers_the_planted_effect(trial_db, sample_dir, sample_truth):
    from hotspot_engine.service import trial
    from hotspot_engine.store.database import connect

    truth = sample_truth["trial"]
    con = connect(trial_db, read_only=True)
    try:
        row, days = trial.load(con, truth["schedule"])
        result = trial.evaluate(con, days, row["set_name"])
    finally:
        con.close()
    written = pd.read_csv(sample_dir / "trial_schedule.csv")
    assert list(days["arm"]) == list(written["arm"])  # the stored schedule is the one the sample followed
    pooled = result.pooled
    assert abs(pooled["compliance"] - truth["compliance"]) < 0.05
    assert abs(pooled["contamination"] - truth["contamination"]) < 0.05
    assert pooled["ci_low"] < truth["itt_rate_ratio"] < pooled["ci_high"]
    assert result.flow["patrol_days"] + result.flow["control_days"] == truth["days"] * truth["hotspots"]
    assert row["design"]["seed"] == truth["seed"] and row["power"]["mde_itt"] < 1


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hotspot_engine", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_schedule_and_evaluate_on_the_command_line(trial_db, tmp_path):
    db = tmp_path / "t.duckdb"
    shutil.copy(trial_db, db)
    out = tmp_path / "plan.csv"
    made = _cli("schedule", "--set", "HIPS hotspots 2024 (sample)", "--start", "2024-04-01", "--days", "183",
                "--seed", "2024", "--db", str(db), "--out", str(out))
    assert made.returncode == 0, made.stderr
    for suffix in (".methods.json", ".protocol.md", ".protocol.pdf"):
        assert (tmp_path / f"plan{suffix}").exists()
    assert (tmp_path / "plan.protocol.pdf").read_bytes()[:4] == b"%PDF"
    assert json.loads((tmp_path / "plan.methods.json").read_text())["params"]["seed"] == 2024
    again = _cli("schedule", "--start", "2024-04-01", "--days", "183", "--seed", "2024", "--db", str(db),
                 "--out", str(out))
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1  # the name is taken
    result = tmp_path / "result.csv"
    ran = _cli("evaluate", "--schedule", str(out), "--db", str(db), "--out", str(result), "--permutations", "500")
    assert ran.returncode == 0, ran.stderr
    table = pd.read_csv(result)
    assert table["hotspot_id"].iloc[-1] == "pooled" and len(table) == 20
    assert {"compliance", "contamination", "rate_ratio", "ci_low", "ci_high"} <= set(table.columns)
    pooled = table.iloc[-1]  # randomisation inference beside the cluster-robust interval
    assert 0 < pooled["ri_ci_low"] < pooled["rate_ratio"] < pooled["ri_ci_high"] and 0 < pooled["ri_p_value"] <= 1
    assert "re-randomisation" in ran.stdout
    assert "500 re-draws" in json.loads((tmp_path / "result.methods.json").read_text())["method"]
    bad = _cli("evaluate", "--schedule", str(out), "--db", str(db), "--out", str(result), "--permutations", "x")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_evaluate_on_month_only_incidents_exits_2_with_one_line(tmp_path):
    from hotspot_engine.filters import Filters
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.sample_trial import set_result, trial_hotspots
    from hotspot_engine.service import sets
    from hotspot_engine.store.database import connect

    header = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
              "Crime type,Last outcome category,Context")
    rows = [f"id{k},2024-04,Hampshire Constabulary,Hampshire Constabulary,-1.4043,50.9063,On or near Above Bar Street,"
            f"E01032747,Southampton 029C,Robbery,,"for k in range(20)]
    path = tmp_path / "2024-04-hampshire-street.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    db = tmp_path / "p.duckdb"
    con = connect(db)
    ingest_paths(con, [path])
    sets.adopt(con, "S", set_result(trial_hotspots()), Filters(date_from="2024-04", date_to="2024-04"), {},
               Filters(), "test")
    con.close()
    schedule = td.make_schedule(trial_hotspots()[["hotspot_id", "hotspot_name"]], td.TrialDesign("2024-04-01", 30))
    schedule.to_csv(tmp_path / "s.csv", index=False)
    ran = _cli("evaluate", "--schedule", str(tmp_path / "s.csv"), "--set", "S", "--db", str(db),
               "--out", str(tmp_path / "r.csv"))
    assert ran.returncode == 2 and "month only" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1 and "Traceback" not in ran.stderr


def test_protocol_shows_names_as_text():
    from hotspot_engine.render.trial_protocol import protocol_markdown, protocol_pdf

    spots = pd.DataFrame({"hotspot_id": ["A"], "hotspot_name": ["[x](http://evil) $\\bad{x}$"]})
    design = td.TrialDesign("2024-04-01", 28)
    plan = type("P", (), {"design": design, "schedule": td.make_schedule(spots, design), "set_name": "**set**",
                          "power": td.power(np.array([0.3]), 0.1, 28), "history": "h"})()
    text = protocol_markdown(plan, "t")
    assert "](http" not in text and "**set**" not in text
    assert protocol_pdf(plan, "t")[:4] == b"%PDF"


# -- the weekly plan follows the schedule -----------------------------------------------------
def _plan(week: str = "2024-04-01"):
    from datetime import date

    from hotspot_engine.analyse.dosage import DosageTarget
    from hotspot_engine.analyse.patrol_plan import PLAN_COLUMNS, PatrolPlan

    start = date.fromisoformat(week)
    rows = [(h, f"name {h}", start + pd.Timedelta(days=d), pd.NaT, pd.NaT, pd.NaT, 15, "team to set", "target")
            for h in ("A", "B") for d in range(7) if not (h == "B" and d == 6)]
    return PatrolPlan(pd.DataFrame(rows, columns=PLAN_COLUMNS), start, 0, DosageTarget())


def test_plan_follows_the_schedule_control_days_say_no_dedicated_patrol():
    from hotspot_engine.analyse.trial_plan import CONTROL_REASON, PATROL_REASON, follow_schedule
    from hotspot_engine.render.briefing import plan_line

    schedule = td.make_schedule(pd.DataFrame({"hotspot_id": ["A", "B"], "hotspot_name": ["a", "b"]}),
                                td.TrialDesign("2024-04-01", 28, seed=9))
    plan = follow_schedule(_plan(), schedule, "t")
    week = schedule[pd.to_datetime(schedule["date"]) < pd.Timestamp("2024-04-08")]
    visits = plan.visits.assign(date=pd.to_datetime(plan.visits["date"]))
    for row in week.itertuples(index=False):
        on = visits[(visits["hotspot_id"] == row.hotspot_id) & (visits["date"] == pd.Timestamp(row.date))]
        if row.arm == "control":
            assert list(on["reason"]) == [CONTROL_REASON] and on["minutes"].sum() == 0
            assert plan_line(on.iloc[0]).endswith("control day: no dedicated patrol")
        else:
            assert len(on) >= 1 and CONTROL_REASON not in set(on["reason"])
    b_sunday = visits[(visits["hotspot_id"] == "B") & (visits["date"] == pd.Timestamp("2024-04-07"))]
    if week.set_index(["hotspot_id", "date"]).loc[("B", pd.Timestamp("2024-04-07").date()), "arm"] == "patrol":
        assert list(b_sunday["reason"]) == [PATROL_REASON]  # a patrol day the plan had left empty
    assert "control days" in plan.notes[-1]


def test_plan_outside_the_trial_is_unchanged():
    from hotspot_engine.analyse.trial_plan import follow_schedule

    schedule = td.make_schedule(pd.DataFrame({"hotspot_id": ["A"], "hotspot_name": ["a"]}),
                                td.TrialDesign("2024-05-01", 28))
    plan = _plan()
    assert follow_schedule(plan, schedule) is plan


@pytest.mark.slow
def test_removing_the_sample_removes_its_trial_and_keeps_a_users_schedule(trial_db, tmp_path):
    from hotspot_engine.service import remove_sample, trial
    from hotspot_engine.store.database import connect

    db = tmp_path / "r.duckdb"
    shutil.copy(trial_db, db)
    con = connect(db)
    try:
        row, _ = trial.load(con, "Sample trial 2024")
        made = trial.plan(con, row["set_name"], td.TrialDesign("2024-04-01", 28, seed=1))
        trial.adopt(con, "mine", made, created_by="analyst")
        remove_sample(con)
        assert list(trial.schedules(con)["name"]) == ["mine"]
    finally:
        con.close()


def test_latest_week_skips_a_partial_last_week():
    panel = _panel(2)  # 120 days: 17 full weeks and one of 1 day
    weekly = ta.weekly_delivery(panel)
    assert ta.latest_week(weekly)["week"].unique().tolist() == [17]


# -- randomisation inference -------------------------------------------------------------------
def _simulated_panel(rr: float, seed: int, days: int = 183) -> pd.DataFrame:
    """19 hotspots at 0.1-0.5 a day, negative-binomial days, rate x ``rr`` on every patrol day."""
    rng = np.random.default_rng(seed)
    spots = pd.DataFrame({"hotspot_id": [f"H{i:02d}" for i in range(19)], "hotspot_name": "x"})
    schedule = td.make_schedule(spots, td.TrialDesign("2024-04-01", days, 0.5, seed=seed))
    rates = dict(zip(spots["hotspot_id"], rng.uniform(0.1, 0.5, 19)))
    mu = schedule["hotspot_id"].map(rates).to_numpy() * np.where(schedule["arm"] == "patrol", rr, 1.0)
    counts = rng.poisson(mu * rng.gamma(1 / 0.3, 0.3, mu.size))
    daily = pd.DataFrame({"hotspot_id": schedule["hotspot_id"], "date": schedule["date"], "count": counts,
                          "harm": counts * 1.0})
    return ta.build_panel(schedule, daily)


def test_rerandomisation_keeps_every_blocks_patrol_days():
    from hotspot_engine.analyse import trial_ri

    panel = _simulated_panel(1.0, 4, days=56)
    drawn = trial_ri.shuffles(panel, 50, block_weeks=4, seed=1)
    observed = panel["treat"].to_numpy() > 0.5
    blocks = trial_ri._strata(panel, 4)
    for row in drawn:
        assert (np.bincount(blocks, weights=row) == np.bincount(blocks, weights=observed)).all()
    assert 0.3 < (drawn != observed).mean() < 0.7  # re-drawn, not copied
    assert (trial_ri.shuffles(panel, 50, 4, seed=1) == drawn).all()  # the same seed, the same re-draws


def test_randomisation_inference_finds_a_strong_effect_and_inverts_its_test():
    from hotspot_engine.analyse import trial_ri

    effect = trial_ri.randomisation_inference(_simulated_panel(0.6, 11), permutations=1000)
    assert effect.ci_low < 0.6 < effect.ci_high < 1 and effect.p_value < 0.01
    assert effect.ci_low < effect.rate_ratio < effect.ci_high
    none = trial_ri.randomisation_inference(_simulated_panel(1.0, 12), permutations=1000)
    assert none.ci_low < 1 < none.ci_high and none.p_value > 0.05
    table = ta.trial_table(_simulated_panel(0.6, 11), permutations=1000)
    pooled = table.iloc[-1]
    assert (pooled["ri_ci_low"], pooled["ri_ci_high"]) == pytest.approx((effect.ci_low, effect.ci_high))
    assert table["ri_p_value"].iloc[:-1].isna().all()  # on the pooled row only
    assert ta.trial_table(_simulated_panel(0.6, 11))[["ri_ci_low", "ri_p_value"]].isna().all().all()
