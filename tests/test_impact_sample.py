"""Acceptance on the built-in sample (issue 17 "done when").

For the hotspots Gi* finds in 2022-23 (serious violence, res 9, default parameters), with the
intervention of truth.json (2023-04-01):
- the plain before/after is the report's -17% within 1 point (truth.json ``report_change``: the
  HIPS VRP annual report 2023-24, "serious violence in the hotspots -17%") and equals a direct count;
- the headline (corrected for regression to the mean) 95% interval covers ``true_effect`` (what the
  sample's patrols really do) and is at most 30 points wide;
- the uncorrected ITS overstates the fall: it lies below the true effect (the sample chose its
  hotspots on a high year, as the report did).
"""
from __future__ import annotations

import pytest

from hotspot_engine.analyse.hotspots import HotspotParams
from hotspot_engine.analyse.impact import POOLED_ID, ImpactOptions, as_cells, impact_table
from hotspot_engine.filters import Filters, months_between


@pytest.fixture(scope="module")
def sample_impact(sample_store, sample_truth):
    from hotspot_engine.analyse.hotspots import score_cells  # noqa: F401  (the engine's hotspot finder exists)
    from hotspot_engine.service import hotspots
    from hotspot_engine.store.query import cell_month_counts, extent

    con, truth = sample_store, sample_truth
    # The acceptance was written for the Gi* areas (issue 17); the predicted places (the default since
    # issue 24) hold fewer incidents: their interval covers the true effect too, 30.6 points wide.
    found = hotspots(con, Filters(date_from="2022-04", date_to="2023-03", sv_only=True), HotspotParams(method="gistar"))
    cells = found.cells
    hotspot_cells = cells.loc[cells["is_hotspot"].astype(bool), ["h3", "hotspot_id", "hotspot_name"]]
    cell_month = cell_month_counts(con, Filters(sv_only=True, res=9))
    span = extent(con)
    months = months_between(span.first_month, span.last_month)
    result = impact_table(cell_month, hotspot_cells, cells[["h3", "district", "csp"]], months,
                          truth["intervention_date"], ImpactOptions(selection_window=("2022-04", "2023-03")))
    return con, truth, hotspot_cells, result


def test_truth_records_the_report_figure_and_a_smaller_true_effect(sample_truth):
    assert sample_truth["report_change"] == -0.17
    assert -0.17 < sample_truth["true_effect"] < 0


def test_headline_interval_covers_the_true_effect_and_is_narrow(sample_impact):
    _, truth, _, result = sample_impact
    true_pct = truth["true_effect"] * 100
    pooled = result.table.set_index("hotspot_id").loc[POOLED_ID]
    assert pooled["k_corrected"] >= 15, result.table[["hotspot_id", "message"]]
    assert pooled["corrected_ci_low_pct"] < true_pct < pooled["corrected_ci_high_pct"], pooled
    assert pooled["corrected_ci_high_pct"] - pooled["corrected_ci_low_pct"] <= 30, pooled
    assert pooled["baseline_months"] == 36 and pooled["selection_window"] == "2022-04 to 2023-03"


def test_uncorrected_its_counts_regression_to_the_mean_as_an_effect(sample_impact):
    _, truth, _, result = sample_impact
    pooled = result.table.set_index("hotspot_id").loc[POOLED_ID]
    assert pooled["its_change_pct"] < pooled["corrected_change_pct"]
    assert pooled["its_change_pct"] < truth["true_effect"] * 100


def test_simple_change_is_the_report_figure_and_a_direct_count(sample_impact):
    con, truth, hotspot_cells, result = sample_impact
    pooled = result.table.set_index("hotspot_id").loc[POOLED_ID]
    assert pooled["simple_window"] == 12
    assert pooled["simple_change_pct"] == pytest.approx(truth["report_change"] * 100, abs=1.0)
    cells = [int(c) for c in as_cells(hotspot_cells["h3"])]
    before, after = con.execute(
        """SELECT count(*) FILTER (WHERE month BETWEEN DATE '2022-04-01' AND DATE '2023-03-01'),
                  count(*) FILTER (WHERE month BETWEEN DATE '2023-04-01' AND DATE '2024-03-01')
           FROM incidents WHERE sv_category IS NOT NULL AND h3_r9 IN (SELECT unnest(?))""",
        [cells]).fetchall()[0]
    assert (pooled["simple_pre"], pooled["simple_post"]) == (before, after)
    assert pooled["simple_change_pct"] == pytest.approx((after / before - 1) * 100)


def test_counterfactual_band_holds_most_baseline_months(sample_impact):
    _, _, _, result = sample_impact
    fit = result.aggregate_corrected
    kept = fit.extra["kept"][: fit.intervention_index]
    observed = fit.observed[: fit.intervention_index][kept]
    inside = (observed >= fit.cf_low[: fit.intervention_index][kept]) & (observed <= fit.cf_high[: fit.intervention_index][kept])
    assert inside.mean() >= 0.8


@pytest.mark.slow  # a second impact run on the sample
def test_placebo_before_the_selection_window_is_about_zero(sample_store):
    from hotspot_engine.service import placebo_runs

    runs = placebo_runs(sample_store, Filters(sv_only=True), ("2022-04", "2023-03"))
    assert len(runs) == 1 and runs[0].pseudo_date == "2021-04-01"
    assert runs[0].corrected_low < 0 < runs[0].corrected_high
