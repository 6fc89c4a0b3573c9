"""The impact table built from small synthetic aggregated frames (no store, no sample)."""
from __future__ import annotations

import math

import h3.api.basic_int as h3
import numpy as np
import pandas as pd
import pytest

from hotspot_engine.analyse.displacement import wdq
from hotspot_engine.errors import InputError
from hotspot_engine.filters import months_between
from hotspot_engine.analyse.impact import POOLED_ID, first_post_month, impact_table
from hotspot_engine.analyse.its import fit_its, pool_random_effects

MONTHS = months_between("2019-04", "2024-03")
T0 = MONTHS.index("2023-04")
CONTRACT_COLUMNS = ["hotspot_id", "hotspot_name", "months_pre", "months_post", "mean_pre", "mean_post",
                    "simple_change_pct", "its_change_pct", "ci_low_pct", "ci_high_pct", "p_value", "wdq"]


def _area():
    centre = h3.latlng_to_cell(50.9, -1.4, 9)
    cells = np.array(sorted(h3.grid_disk(centre, 8)), dtype=np.uint64)
    # Two CSPs split by position, as a stand-in for district boundaries.
    csp = np.where(np.arange(len(cells)) < len(cells) // 2, "North", "South")
    return pd.DataFrame({"h3": cells, "district": "Somewhere", "csp": csp})


def _frames(seed=0, hot_ratio=0.83, hot_base=12.0, background=0.4, extra=None):
    """Three one- or two-cell hotspots with a planted change; background cells unchanged."""
    rng = np.random.default_rng(seed)
    study = _area()
    cells = study["h3"].to_numpy()
    hot_cells = {"H1": [cells[10], int(h3.grid_disk(int(cells[10]), 1)[1])], "H2": [cells[150]], "H3": [cells[200]]}
    hotspots = pd.DataFrame([(np.uint64(c), h, f"Place {h}") for h, cs in hot_cells.items() for c in cs],
                            columns=["h3", "hotspot_id", "hotspot_name"])
    hotspots["h3"] = hotspots["h3"].astype(np.uint64)
    t = np.arange(len(MONTHS))
    season = np.exp(0.2 * np.sin(2 * np.pi * t / 12))
    rows = []
    hot_set = set(hotspots["h3"].tolist())
    for c in cells:
        if int(c) in hot_set:
            mu = hot_base * season * np.where(t >= T0, hot_ratio, 1.0)
        else:
            mu = background * season
        y = rng.poisson(mu)
        rows += [(c, m, int(v)) for m, v in zip(MONTHS, y) if v]
    for c, m, v in extra or []:
        rows.append((np.uint64(c), m, v))
    cell_month = pd.DataFrame(rows, columns=["h3", "month", "count"])
    cell_month["h3"] = cell_month["h3"].astype(np.uint64)
    cell_month = cell_month.groupby(["h3", "month"], as_index=False)["count"].sum()
    return cell_month, hotspots, study


@pytest.fixture(scope="module")
def result():
    cell_month, hotspots, study = _frames()
    return impact_table(cell_month, hotspots, study, MONTHS, "2023-04-01"), (cell_month, hotspots, study)


def test_first_post_month():
    assert first_post_month("2023-04-01") == "2023-04"
    assert first_post_month("2023-04-15") == "2023-05"
    assert first_post_month("2023-12-02") == "2024-01"
    for bad in ("2023-04", "01/04/2023", "2023-02-30"):
        with pytest.raises(InputError):
            first_post_month(bad)


def test_table_shape_and_contract_columns(result):
    res, _ = result
    table = res.table
    assert list(table["hotspot_id"]) == ["H1", "H2", "H3", POOLED_ID]
    assert set(CONTRACT_COLUMNS) <= set(table.columns)
    assert (table["months_pre"] == 48).all() and (table["months_post"] == 12).all()
    assert table.loc[0, "hotspot_name"] == "Place H1" and table.loc[0, "cells"] == 2
    assert res.intervention_month == "2023-04" and res.intervention_index == T0
    assert set(res.fits) == {"H1", "H2", "H3"} and all(f.ok for f in res.fits.values())
    assert (table["message"] == "").all()


def test_simple_change_matches_a_direct_count(result):
    res, (cell_month, hotspots, _) = result
    for _, row in res.table.iterrows():
        cells = hotspots["h3"] if row["hotspot_id"] == POOLED_ID else hotspots.loc[hotspots["hotspot_id"] == row["hotspot_id"], "h3"]
        rows = cell_month[cell_month["h3"].isin(cells)]
        before = rows.loc[rows["month"].between("2022-04", "2023-03"), "count"].sum()
        after = rows.loc[rows["month"].between("2023-04", "2024-03"), "count"].sum()
        assert row["simple_pre"] == before and row["simple_post"] == after
        assert row["simple_change_pct"] == pytest.approx((after / before - 1) * 100)


def test_its_figures_are_the_engine_figures(result):
    res, _ = result
    table = res.table.set_index("hotspot_id")
    for h, fit in res.fits.items():
        series = res.series[h].to_numpy()
        again = fit_its(series, MONTHS, T0)
        assert table.loc[h, "its_change_pct"] == pytest.approx(again.level_change_pct)
        assert table.loc[h, "its_change_pct"] == pytest.approx((math.exp(fit.log_effect) - 1) * 100)
        assert table.loc[h, "mean_pre"] == pytest.approx(series[:T0].mean())
    pooled = pool_random_effects(np.array([f.log_effect for f in res.fits.values()]),
                                 np.array([f.log_effect_se for f in res.fits.values()]), ci="hk")
    assert table.loc[POOLED_ID, "its_change_pct"] == pytest.approx(pooled.pct)
    assert table.loc[POOLED_ID, "i2"] == pytest.approx(pooled.i2)
    assert table.loc[POOLED_ID, "ci_low_pct"] == pytest.approx(pooled.ci_low_pct)
    assert table.loc[POOLED_ID, "k_pooled"] == 3
    summed = fit_its(res.series[POOLED_ID].to_numpy(), MONTHS, T0)
    assert table.loc[POOLED_ID, "aggregate_its_change_pct"] == pytest.approx(summed.level_change_pct)
    np.testing.assert_array_equal(res.series[POOLED_ID], res.series[["H1", "H2", "H3"]].sum(axis=1))
    # The planted -17% over ~40 incidents a month: the pool's interval holds it.
    assert table.loc[POOLED_ID, "ci_low_pct"] < -17 < table.loc[POOLED_ID, "ci_high_pct"]


def test_wdq_uses_ring_buffer_and_csp_control():
    """Incidents moved into H2's ring-1 buffer after the intervention show up as displacement; the
    figures equal wdq() on counts taken directly from the frames."""
    study = _area()
    cells = study["h3"].to_numpy()
    neighbour = [int(c) for c in h3.grid_disk(int(cells[150]), 1) if c != cells[150]][0]
    extra = [(neighbour, m, 6) for m in MONTHS[T0:]]
    cell_month, hotspots, study = _frames(seed=1, extra=extra)
    res = impact_table(cell_month, hotspots, study, MONTHS, "2023-04-01", buffer_k=1)
    row = res.table.set_index("hotspot_id").loc["H2"]
    hot = set(hotspots["h3"].tolist())
    ring = {c for c in h3.grid_disk(int(cells[150]), 1)} - hot
    buffers = {c for hc in hot for c in h3.grid_disk(int(hc), 1)} - hot
    csp = study.set_index("h3").loc[np.uint64(cells[150]), "csp"]
    control = set(study.loc[study["csp"] == csp, "h3"].tolist()) - hot - buffers

    def window_sum(which, first, last):
        rows = cell_month[cell_month["h3"].isin(list(which)) & cell_month["month"].between(first, last)]
        return rows["count"].sum()

    expected = wdq(window_sum({cells[150]}, "2022-04", "2023-03"), window_sum({cells[150]}, "2023-04", "2024-03"),
                   window_sum(ring, "2022-04", "2023-03"), window_sum(ring, "2023-04", "2024-03"),
                   window_sum(control, "2022-04", "2023-03"), window_sum(control, "2023-04", "2024-03"))
    assert row["buffer_cells"] == len(ring) and row["control_cells"] == len(control)
    assert row["wdq"] == pytest.approx(expected.wdq)
    assert row["wdq_sm"] == pytest.approx(expected.sm) and row["wdq_bdm"] == pytest.approx(expected.bdm)
    assert row["wdq_bdm"] > 0  # the buffer rose relative to the control
    k2 = impact_table(cell_month, hotspots, study, MONTHS, "2023-04-01", buffer_k=2).table.set_index("hotspot_id")
    assert k2.loc["H2", "buffer_cells"] > row["buffer_cells"]


def test_controlled_its_against_the_rest_of_the_csp_by_default(result):
    res, (cell_month, hotspots, study) = result
    table = res.table.set_index("hotspot_id")
    csp = table
    assert (csp["comparison"] == "csp").all()
    assert (csp["control_cells"] == csp["comparison_cells"]).all()
    # The background has no change, so the controlled pooled effect is close to the uncontrolled one.
    assert csp.loc[POOLED_ID, "cits_ci_low_pct"] < -17 < csp.loc[POOLED_ID, "cits_ci_high_pct"]
    matched = impact_table(cell_month, hotspots, study, MONTHS, "2023-04-01", comparison="matched").table.set_index("hotspot_id")
    assert (matched["comparison"] == "matched").all() and matched["cits_change_pct"].notna().all()
    assert (matched["comparison_cells"][:-1] < csp["comparison_cells"][:-1]).all()
    assert (matched["comparison_cells"][:-1] >= hotspots.groupby("hotspot_id").size()).all()


def test_problem_hotspots_get_a_message_not_an_exception():
    cell_month, hotspots, study = _frames(seed=2)
    empty_cell = study["h3"].to_numpy()[60]
    cell_month = cell_month[cell_month["h3"] != empty_cell]
    outside = np.uint64(h3.latlng_to_cell(51.5, -0.1, 9))
    more = pd.DataFrame({"h3": np.array([empty_cell, outside], dtype=np.uint64), "hotspot_id": ["EMPTY", "AWAY"],
                         "hotspot_name": ["No incidents", "Outside the area"]})
    res = impact_table(cell_month, pd.concat([hotspots, more], ignore_index=True), study, MONTHS, "2023-04-01")
    table = res.table.set_index("hotspot_id")
    assert "no incidents at all" in table.loc["EMPTY", "message"]
    assert math.isnan(table.loc["EMPTY", "its_change_pct"])
    assert "outside the study area" in table.loc["AWAY", "message"]
    assert table.loc["AWAY", "wdq_note"] != ""
    assert table.loc[POOLED_ID, "k_pooled"] == 3
    assert "left out of the pool" in table.loc[POOLED_ID, "message"]


def test_intervention_too_late_gives_messages():
    cell_month, hotspots, study = _frames(seed=3)
    res = impact_table(cell_month, hotspots, study, MONTHS, "2024-01-01")
    table = res.table
    assert (table["months_post"] == 3).all()
    assert table.loc[:2, "message"].str.contains("too few periods after").all()
    assert table["its_change_pct"].isna().all()
    assert (table["simple_window"] == 3).all()


def test_bad_arguments_raise_input_error():
    cell_month, hotspots, study = _frames(seed=4)
    with pytest.raises(InputError, match="hotspot_id"):
        impact_table(cell_month, hotspots.drop(columns="hotspot_id"), study, MONTHS, "2023-04-01")
    with pytest.raises(InputError, match="sorted"):
        impact_table(cell_month, hotspots, study, MONTHS[::-1], "2023-04-01")
    with pytest.raises(InputError, match="intervention"):
        impact_table(cell_month, hotspots, study, MONTHS, "April 2023")


def test_files_leave_a_wdq_without_an_interval_empty():
    """Audit item 5: the impact CSV kept WDQ -110.0 and +62.4 beside "No reading"; the page shows
    "not read". A quotient with its interval stays; one without is left empty, its SM kept."""
    from hotspot_engine.analyse.impact import COLUMNS, published_table

    nan = float("nan")
    table = pd.DataFrame({c: [nan, nan, nan] for c in COLUMNS})
    table["wdq"], table["wdq_low"], table["wdq_high"] = [-110.0, 0.8, nan], [nan, 0.2, nan], [nan, 1.4, nan]
    table["wdq_sm"] = [0.01, -0.4, nan]
    shown = published_table(table)
    assert math.isnan(shown.loc[0, "wdq"]) and shown.loc[1, "wdq"] == 0.8 and math.isnan(shown.loc[2, "wdq"])
    assert shown.loc[0, "wdq_sm"] == 0.01 and table.loc[0, "wdq"] == -110.0  # the analysis table is left as it was
    assert list(shown.columns) == list(table.columns)  # `wdq` stays a column (CONTRACT)
