"""Unit tests of the ITS engine: effect scale, guards, counterfactual, controlled ITS, pooling."""
from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm

from hotspot_engine.analyse.its import (
    ItsResult,
    bandwidth_lags,
    controlled_its,
    fit_its,
    hac_covariance,
    its_design,
    newey_west_lags,
    pool_random_effects,
    simple_change,
)

N, T0 = 60, 48
PERIODS = [f"{2019 + (i + 3) // 12}-{(i + 3) % 12 + 1:02d}" for i in range(N)]


def _series(rng, base=30.0, ratio=1.0, slope=0.0, n=N, t0=T0, alpha=0.02):
    t = np.arange(n)
    mu = base * np.exp(0.25 * np.sin(2 * np.pi * t / 12) + np.log(ratio) * (t >= t0) + slope * np.maximum(t - t0, 0) * (t >= t0))
    return rng.poisson(rng.gamma(1 / alpha, alpha * mu))


def test_reported_change_is_exp_b2_minus_one_not_b2():
    """A halving: b2 = log(0.5) = -0.69, so reporting b2 * 100 would say -69%; the right figure is -50%."""
    rng = np.random.default_rng(11)
    y = _series(rng, base=200.0, ratio=0.5, alpha=0.001)
    result = fit_its(y, PERIODS, T0, model="poisson")
    X, names = its_design(N, T0)
    b2 = sm.GLM(y, X, family=sm.families.Poisson()).fit().params[names["level"]]
    assert result.ok, result.message
    assert result.log_effect == pytest.approx(b2, rel=1e-6)
    assert result.level_change_pct == pytest.approx((math.exp(b2) - 1) * 100, rel=1e-9)
    assert result.level_change_pct == pytest.approx(-50, abs=4)
    assert abs(result.level_change_pct - b2 * 100) > 15
    # The interval is transformed too, so it brackets the % change, not b2.
    assert result.ci_low_pct < result.level_change_pct < result.ci_high_pct < 0


def test_negbin_recovers_a_planted_reduction():
    rng = np.random.default_rng(3)
    y = _series(rng, base=80.0, ratio=0.83, alpha=0.01)
    result = fit_its(y, PERIODS, T0)
    assert result.ok and result.model == "negbin" and result.alpha > 0
    assert result.ci_low_pct < -17 < result.ci_high_pct
    assert result.level_change_pct == pytest.approx(-17, abs=8)
    assert "negative binomial" in result.description and "step change in level" in result.description


def test_hac_matches_statsmodels_for_poisson():
    """Our Newey-West sandwich (needed for the small-sample correction) equals statsmodels'
    cov_type='HAC' for the Poisson GLM."""
    rng = np.random.default_rng(5)
    y = _series(rng)
    X, _ = its_design(N, T0)
    ref = sm.GLM(y, X, family=sm.families.Poisson()).fit(cov_type="HAC", cov_kwds={"maxlags": 3})
    ours = hac_covariance(X, y, ref.mu, 0.0, 3)
    np.testing.assert_allclose(ours, ref.cov_params(), rtol=1e-8, atol=1e-12)
    plain = fit_its(y, PERIODS, T0, model="poisson", maxlags=3, small_sample="none")
    assert plain.log_effect_se == pytest.approx(math.sqrt(ref.cov_params()[2, 2]), rel=1e-8)


def test_fixed_b_critical_value_exceeds_the_normal_one():
    """Fixed-b inference: the critical value simulated for the design and bandwidth is larger than
    1.96 (the Newey-West variance is estimated from the same short series), so the interval is wider
    than plain Newey-West with the same lags, and the p-value agrees with the interval."""
    rng = np.random.default_rng(8)
    y = _series(rng)
    plain = fit_its(y, PERIODS, T0, small_sample="none", maxlags=11)
    fixed = fit_its(y, PERIODS, T0, maxlags=11)
    assert fixed.log_effect == pytest.approx(plain.log_effect)
    assert fixed.log_effect_se == pytest.approx(plain.log_effect_se)
    assert fixed.ci_high_pct - fixed.ci_low_pct > plain.ci_high_pct - plain.ci_low_pct
    assert (fixed.p_value < 0.05) == (fixed.ci_high_pct < 0 or fixed.ci_low_pct > 0)


def test_counterfactual_band_is_a_prediction_interval():
    """Most single pre-intervention months fall inside the band (a confidence band of the mean
    left about half outside, issue 17)."""
    rng = np.random.default_rng(9)
    y = _series(rng)
    r = fit_its(y, PERIODS, T0)
    inside = (y[:T0] >= r.cf_low[:T0]) & (y[:T0] <= r.cf_high[:T0])
    assert inside.mean() >= 0.85


def test_newey_west_lag_rule():
    assert [newey_west_lags(n) for n in (12, 60, 120, 156)] == [2, 3, 4, 4]  # floor(4 (n/100)^(2/9))


@pytest.mark.parametrize(
    "counts, t0, words",
    [
        (np.ones(60), 5, "too few periods before"),
        (np.ones(60), 57, "too few periods after"),
        (np.zeros(60), 48, "no incidents at all"),
        (np.r_[np.zeros(48), np.ones(12)], 48, "no incidents in the series before"),
        (np.r_[np.full(48, 3.0), np.zeros(12)], 48, "perfect separation"),
        (np.r_[np.full(59, 3.0), -1.0], 48, "negative"),
        (np.r_[np.full(59, 3.0), np.nan], 48, "missing"),
    ],
)
def test_guards_return_a_message_instead_of_raising(counts, t0, words):
    for model in ("negbin", "poisson"):
        result = fit_its(counts, PERIODS, t0, model=model)
        assert not result.ok
        assert words in result.message
        assert math.isnan(result.level_change_pct) and math.isnan(result.log_effect)
        assert len(result.observed) == 60 and np.isnan(result.fitted).all()


def test_guard_thresholds_are_configurable_and_options_checked():
    y = _series(np.random.default_rng(1))
    assert fit_its(y, PERIODS, T0, min_post=13).message.startswith("too few periods after")
    assert fit_its(y, PERIODS, T0, min_post=12).ok
    assert "unknown count model" in fit_its(y, PERIODS, T0, model="ols").message
    assert "unknown impact model" in fit_its(y, PERIODS, T0, impact="step").message
    assert "period labels" in fit_its(y, PERIODS[:-1], T0).message
    assert "exposure" in fit_its(y, PERIODS, T0, exposure=np.zeros(N)).message


def test_sparse_series_does_not_raise():
    """Mostly zeros with a few ones: no model can be fitted, and the result says so in words with
    no figure, instead of raising or reporting a number."""
    y = np.zeros(60)
    y[[3, 20, 50]] = 1
    for model in ("negbin", "poisson"):
        result = fit_its(y, PERIODS, T0, model=model)
        assert isinstance(result, ItsResult)
        assert not result.ok and "did not converge" in result.message
        assert np.isnan([result.level_change_pct, result.ci_low_pct, result.ci_high_pct, result.p_value]).all()


def test_counterfactual_band():
    rng = np.random.default_rng(4)
    y = _series(rng, base=50.0, ratio=0.7)
    r = fit_its(y, PERIODS, T0)
    np.testing.assert_allclose(r.counterfactual[:T0], r.fitted[:T0])
    assert np.all(r.counterfactual[T0:] > r.fitted[T0:])
    assert np.all(r.cf_low < r.counterfactual) and np.all(r.counterfactual < r.cf_high)
    # With a level-only model the post fit is the counterfactual scaled by exp(b2).
    np.testing.assert_allclose(r.fitted[T0:] / r.counterfactual[T0:], math.exp(r.log_effect))
    assert r.post_vs_counterfactual_pct == pytest.approx(r.level_change_pct)


def test_slope_and_both_models():
    rng = np.random.default_rng(9)
    y = _series(rng, base=3000.0, slope=-0.03, alpha=1e-4)
    slope_only = fit_its(y, PERIODS, T0, impact="slope")
    assert slope_only.ok and math.isnan(slope_only.level_change_pct)
    assert slope_only.slope_change_pct_per_period == pytest.approx((math.exp(-0.03) - 1) * 100, abs=0.5)
    assert slope_only.effect_pct == slope_only.slope_change_pct_per_period
    both = fit_its(y, PERIODS, T0, impact="both")
    assert both.ok and both.slope_change_pct_per_period is not None and not math.isnan(both.level_change_pct)
    level_only = fit_its(y, PERIODS, T0)
    assert level_only.slope_change_pct_per_period is None


def test_exposure_offset_removes_a_change_in_exposure():
    """Exposure doubles after the intervention with the rate unchanged: without the offset the model
    sees +100%, with it about 0%."""
    rng = np.random.default_rng(2)
    exposure = np.where(np.arange(N) >= T0, 2.0, 1.0)
    y = rng.poisson(40.0 * exposure)
    without = fit_its(y, PERIODS, T0, model="poisson")
    with_offset = fit_its(y, PERIODS, T0, model="poisson", exposure=exposure)
    assert without.level_change_pct == pytest.approx(100, abs=20)
    assert with_offset.ci_low_pct < 0 < with_offset.ci_high_pct
    assert "exposure offset" in with_offset.description


def test_weekly_series():
    rng = np.random.default_rng(6)
    n, t0 = 156, 104
    t = np.arange(n)
    y = rng.poisson(20 * np.exp(0.2 * np.sin(2 * np.pi * t / 52.18)) * np.where(t >= t0, 0.8, 1.0))
    r = fit_its(y, [f"w{i}" for i in range(n)], t0, period_length=52.18)
    assert r.ok and r.maxlags == bandwidth_lags(156) and "weeks" in r.description
    assert r.ci_low_pct < -20 < r.ci_high_pct


def test_controlled_its_is_the_difference_in_change():
    """Hotspot -30%, comparison -10%: the difference in change is 0.7 / 0.9 - 1 = -22.2%."""
    rng = np.random.default_rng(12)
    treated = _series(rng, base=3000.0, ratio=0.7, alpha=1e-4)
    comparison = _series(rng, base=6000.0, ratio=0.9, alpha=1e-4)
    r = controlled_its(treated, comparison, PERIODS, T0)
    assert r.ok, r.message
    assert r.level_change_pct == pytest.approx((0.7 / 0.9 - 1) * 100, abs=3)
    assert r.ci_low_pct < r.level_change_pct < r.ci_high_pct
    # Fully interacted, so the point estimate is the ratio of the two separate level changes
    # (up to the shared NB dispersion).
    single = fit_its(treated, PERIODS, T0)
    other = fit_its(comparison, PERIODS, T0)
    assert single.level_change_pct == pytest.approx(-30, abs=3)
    assert r.log_effect == pytest.approx(single.log_effect - other.log_effect, abs=1e-3)
    assert len(r.fitted) == N and len(r.extra["comparison_fitted"]) == N
    # Counterfactual: the hotspot had it changed like the comparison (-10%), above the fit.
    assert np.all(r.counterfactual[T0:] > r.fitted[T0:])
    assert "comparison" in controlled_its(treated, np.zeros(N), PERIODS, T0).message


def test_simple_change():
    assert simple_change(np.full(12, 10.0), np.full(12, 8.3)) == pytest.approx(-17.0)
    assert math.isnan(simple_change(np.zeros(12), np.ones(12)))
    assert math.isnan(simple_change(np.ones(12), np.ones(11)))


# BCG vaccine trials (Colditz et al. 1994), the standard meta-analysis example: tpos, tneg, cpos, cneg.
BCG = [(4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619), (33, 5036, 47, 5761),
       (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892), (29, 7470, 45, 7232),
       (17, 1699, 65, 1600), (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825)]


def _bcg_log_rr():
    a, b, c, d = (np.array(col, dtype=float) for col in zip(*BCG))
    yi = np.log((a / (a + b)) / (c / (c + d)))
    vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    return yi, np.sqrt(vi)


def test_random_effects_pool_matches_metafor_bcg():
    """metafor's documented DerSimonian-Laird result for dat.bcg (rma(yi, vi, method="DL")):
    estimate -0.7141, se 0.1787, tau^2 0.3088, Q(df = 12) = 152.2330, I^2 = 92.12%
    (Viechtbauer 2010, J Stat Softw 36(3), and the metafor rma.uni help page)."""
    yi, se = _bcg_log_rr()
    pooled = pool_random_effects(yi, se)
    assert pooled.k == 13
    assert pooled.log_effect == pytest.approx(-0.7141, abs=5e-4)
    assert pooled.log_effect_se == pytest.approx(0.1787, abs=5e-4)
    assert pooled.tau2 == pytest.approx(0.3088, abs=5e-4)
    assert pooled.q == pytest.approx(152.2330, abs=1e-3)
    assert pooled.i2 == pytest.approx(92.12, abs=0.01)
    assert pooled.pct == pytest.approx((math.exp(-0.7141) - 1) * 100, abs=0.05)
    assert pooled.ci_low_pct < pooled.pct < pooled.ci_high_pct < 0


def test_random_effects_pool_matches_statsmodels():
    """An independent implementation: statsmodels.stats.meta_analysis.combine_effects (DL)."""
    from statsmodels.stats.meta_analysis import combine_effects

    yi, se = _bcg_log_rr()
    ref = combine_effects(yi, se**2, method_re="dl")
    pooled = pool_random_effects(yi, se)
    assert pooled.log_effect == pytest.approx(ref.mean_effect_re, rel=1e-9)
    assert pooled.log_effect_se == pytest.approx(ref.sd_eff_w_re, rel=1e-9)
    assert pooled.tau2 == pytest.approx(ref.tau2, rel=1e-9)


def test_random_effects_pool_edge_cases():
    one = pool_random_effects(np.array([math.log(0.83)]), np.array([0.1]))
    assert one.k == 1 and one.pct == pytest.approx(-17) and one.tau2 == 0 and one.i2 == 0
    homogeneous = pool_random_effects(np.full(5, -0.2), np.full(5, 0.1))
    assert homogeneous.tau2 == 0 and homogeneous.i2 == 0
    assert homogeneous.log_effect_se == pytest.approx(0.1 / math.sqrt(5))
    skipped = pool_random_effects(np.array([-0.2, np.nan, -0.1]), np.array([0.1, 0.1, np.nan]))
    assert skipped.k == 1
    assert pool_random_effects(np.array([]), np.array([])).k == 0


def test_hartung_knapp_interval():
    """HK variance sum w*(y - mu)^2 / ((k - 1) sum w*), t(k - 1), never narrower than DL's."""
    yi, se = _bcg_log_rr()
    dl = pool_random_effects(yi, se)
    hk = pool_random_effects(yi, se, ci="hk")
    w = 1 / (se**2 + dl.tau2)
    expected_se = math.sqrt(np.sum(w * (yi - dl.log_effect) ** 2) / (12 * np.sum(w)))
    assert hk.log_effect == pytest.approx(dl.log_effect)
    assert hk.log_effect_se == pytest.approx(max(expected_se, dl.log_effect_se))
    from scipy import stats

    crit = stats.t.ppf(0.975, 12)
    assert hk.ci_low_pct == pytest.approx((math.exp(dl.log_effect - crit * hk.log_effect_se) - 1) * 100)
    assert hk.ci_high_pct - hk.ci_low_pct >= dl.ci_high_pct - dl.ci_low_pct
