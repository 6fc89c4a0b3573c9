"""Seeded simulation: do the ITS intervals mean what they say?

Issue 10 "done means": a few hundred monthly series (60 months, intervention at month 48) with
negative binomial overdispersion, seasonality and AR(1) noise on the log scale; the 95% CI must
cover the true effect (-17%) in 90-98% of series, and a zero effect must be rejected at 5% in at
most 8% of series. benchmarks/bench_its_coverage.py runs a larger version over several settings.

Setting (a hotspot-sized series): about 15 incidents a month, NB alpha 0.05, seasonal amplitude
0.2 on the log scale, a slight downward trend, AR(1) noise with rho 0.4 and marginal SD 0.15.
Plain Newey-West fails this (coverage about 86%, null rejection about 13-15% in the benchmark);
Newey-West with fixed-b critical values simulated for the design (its.fixed_b_null) passes.
"""
from __future__ import annotations

import numpy as np
import pytest

from hotspot_engine.analyse.its import fit_its

pytestmark = pytest.mark.slow  # a seeded simulation of 600 fits (benchmarks/ has the larger one)

TRUE_EFFECT = float(np.log(0.83))


def simulate_series(rng: np.random.Generator, n: int = 60, t0: int = 48, base: float = 15.0,
                    effect: float = TRUE_EFFECT, rho: float = 0.4, sd: float = 0.15, alpha: float = 0.05,
                    trend: float = -0.002, amplitude: float = 0.2) -> np.ndarray:
    """One monthly count series: log mu_t = log(base) + trend t + season_t + e_t + effect post_t,
    e an AR(1) with lag-1 correlation ``rho`` and marginal SD ``sd``; counts are gamma-Poisson
    (negative binomial with dispersion ``alpha``) around mu."""
    t = np.arange(n)
    noise = np.empty(n)
    noise[0] = rng.normal(0.0, sd)
    innovations = rng.normal(0.0, sd * np.sqrt(1.0 - rho**2), n)
    for i in range(1, n):
        noise[i] = rho * noise[i - 1] + innovations[i]
    season = amplitude * np.sin(2 * np.pi * t / 12 + 0.7) + 0.5 * amplitude * np.cos(4 * np.pi * t / 12)
    mu = base * np.exp(trend * t + season + noise + effect * (t >= t0))
    return rng.poisson(rng.gamma(1.0 / alpha, alpha * mu))


def coverage_study(n_series: int, seed: int, effect: float, **settings) -> dict:
    """Share of fitted series whose 95% CI covers ``effect`` and share with p < 0.05."""
    fit_options = {k: settings.pop(k) for k in ("model", "maxlags", "small_sample", "impact") if k in settings}
    rng = np.random.default_rng(seed)
    n = settings.get("n", 60)
    t0 = settings.get("t0", 48)
    periods = [str(i) for i in range(n)]
    covered = rejected = fitted = 0
    for _ in range(n_series):
        result = fit_its(simulate_series(rng, effect=effect, **settings), periods, t0, **fit_options)
        if not result.ok:
            continue
        fitted += 1
        low, high = np.log1p(result.ci_low_pct / 100), np.log1p(result.ci_high_pct / 100)
        covered += low <= effect <= high
        rejected += result.p_value < 0.05
    return {"fitted": fitted, "coverage": covered / max(fitted, 1), "rejection": rejected / max(fitted, 1)}


def test_ci_covers_the_true_effect():
    study = coverage_study(300, seed=20261127, effect=TRUE_EFFECT)
    assert study["fitted"] >= 295
    assert 0.90 <= study["coverage"] <= 0.98, study


def test_zero_effect_rarely_rejected():
    study = coverage_study(300, seed=20261128, effect=0.0)
    assert study["fitted"] >= 295
    assert study["rejection"] <= 0.08, study
