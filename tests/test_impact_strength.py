"""Issue 27: the Impact figures tell the truth about their own strength: minimum detectable fall,
parallel-trends check, Total Net Effect from the corrected counterfactual and gated, every point
inside its own interval, and a selection window that names only months the data hold."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hotspot_engine.analyse.displacement import net_effect, wdq, wdq_interval
from hotspot_engine.analyse.impact import POOLED_ID, ImpactOptions, impact_table
from hotspot_engine.analyse.rtm import minimum_detectable_fall, pretrend_difference
from tests.test_impact import MONTHS, _frames


def test_wdq_interval_is_not_given_when_the_success_measure_crosses_zero():
    """The issue's case: SM near zero makes the point WDQ huge (+30) while the redraw percentiles
    were -8.7 to +10.3. Now no interval is given then, and a given one holds its point."""
    args = (100, 99, 60, 90, 1000, 1000)
    point = wdq(*args)
    assert abs(point.wdq) > 10
    interval = wdq_interval(*args)
    assert not interval.significant
    assert math.isnan(interval.wdq_low) and math.isnan(interval.wdq_high)
    strong = (200, 100, 150, 130, 2000, 2000)
    interval = wdq_interval(*strong)
    assert interval.significant
    assert interval.wdq_low <= wdq(*strong).wdq <= interval.wdq_high


@pytest.mark.parametrize("b,se", [(-0.3, 0.1), (0.2, 0.4), (0.0, 0.05), (-1.5, 0.9)])
def test_net_effect_point_lies_inside_its_interval(b, se):
    tne = net_effect(120.0, b, se)
    assert tne.low <= tne.tne <= tne.high
    assert (tne.tne > 0) == (b < 0)


def test_minimum_detectable_fall_is_about_2_8_standard_errors():
    assert minimum_detectable_fall(0.1) == pytest.approx((1 - math.exp(-0.28016)) * 100, rel=1e-3)
    assert minimum_detectable_fall(0.1, dof=5) > minimum_detectable_fall(0.1)
    assert math.isnan(minimum_detectable_fall(float("nan")))


def test_pretrend_check_finds_a_hotspot_drifting_below_its_comparison():
    rng = np.random.default_rng(2)
    t = np.arange(48)
    keep = np.ones(36, dtype=bool)
    comparison = rng.poisson(400 * np.ones(48))
    drifting = rng.poisson(60 * np.exp(np.log(0.8) * t / 12))
    parallel = rng.poisson(60 * np.ones(48))
    drift = pretrend_difference(drifting, comparison, keep, 0.0)
    assert drift.high_pct < 0 and drift.low_pct < -20 < drift.high_pct
    flat = pretrend_difference(parallel, comparison, keep, 0.0)
    assert flat.low_pct < 0 < flat.high_pct
    short = pretrend_difference(parallel, comparison, np.ones(18, dtype=bool), 0.0)
    assert math.isnan(short.pct) and "two years" in short.message


@pytest.fixture(scope="module")
def table():
    cell_month, hotspots, study = _frames(hot_ratio=1.0)
    return impact_table(cell_month, hotspots, study, MONTHS, "2023-04-01").table.set_index("hotspot_id")


def test_table_states_power_pretrend_and_a_gated_total_net_effect(table):
    for h, row in table.iterrows():
        assert row["corrected_mde_pct"] > 0, h
        assert row["pretrend_low_pct"] <= row["pretrend_pct"] <= row["pretrend_high_pct"], h
        assert row["tne_low"] <= row["tne"] <= row["tne_high"], h
        assert row["corrected_ci_low_pct"] <= row["corrected_change_pct"] <= row["corrected_ci_high_pct"], h
        if not row["corrected_p_value"] < 0.05:
            assert row["tne_reading"] != "", h
        if math.isfinite(row["wdq"]) and math.isfinite(row["wdq_low"]):
            assert row["wdq_low"] <= row["wdq"] <= row["wdq_high"], h
    assert table.loc[POOLED_ID, "corrected_mde_pct"] < table.drop(POOLED_ID)["corrected_mde_pct"].min() * 1.5


def test_selection_window_names_no_month_before_the_data():
    cell_month, hotspots, study = _frames()
    months = [m for m in MONTHS if m >= "2022-10"]
    result = impact_table(cell_month[cell_month["month"] >= "2022-10"], hotspots, study, months, "2023-04-01",
                          ImpactOptions(selection_window=("2022-04", "2023-03"), min_pre=3))
    assert result.selection_window == ("2022-10", "2023-03")
