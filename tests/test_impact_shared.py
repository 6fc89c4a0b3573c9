"""Hotspots of one CSP share its comparison series, so their corrected effects' errors move together:
the pooled interval adds that covariance (analyse/rtm.shared_comparison_covariance) instead of
treating the hotspots as independent (which excluded zero too often with no effect; see
benchmarks/bench_impact_rtm.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hotspot_engine.analyse.its import pool_random_effects
from hotspot_engine.analyse.rtm import shared_comparison_covariance, years_factor


def test_pool_without_covariance_is_unchanged_by_a_zero_matrix():
    y, se = np.array([-0.2, 0.1, 0.05, -0.1]), np.array([0.1, 0.2, 0.15, 0.3])
    for ci in ("z", "hk"):
        plain = pool_random_effects(y, se, ci=ci)
        zero = pool_random_effects(y, se, ci=ci, covariance=np.full((4, 4), 0.0))
        assert zero.log_effect_se == pytest.approx(plain.log_effect_se)
        assert zero.log_effect == pytest.approx(plain.log_effect)


def test_pool_adds_the_shared_covariance_to_the_variance_of_the_mean():
    """k equal effects of variance v with pairwise covariance c: the mean's variance is (v + (k-1)c)/k."""
    k, v, c = 5, 0.04, 0.01
    shared = np.full((k, k), c)
    np.fill_diagonal(shared, 99.0)  # the diagonal is each effect's own variance, given by ``ses``: not read
    pooled = pool_random_effects(np.zeros(k), np.full(k, math.sqrt(v)), ci="z", covariance=shared)
    assert pooled.log_effect_se**2 == pytest.approx((v + (k - 1) * c) / k)
    assert pool_random_effects(np.zeros(k), np.full(k, math.sqrt(v)), ci="z").log_effect_se**2 == pytest.approx(v / k)


def test_pool_drops_the_covariance_rows_of_failed_fits():
    shared = np.array([[0.0, 0.01, 5.0], [0.01, 0.0, 5.0], [5.0, 5.0, 0.0]])
    pooled = pool_random_effects(np.array([0.0, 0.0, np.nan]), np.array([0.2, 0.2, 0.2]), ci="z", covariance=shared)
    assert pooled.k == 2 and pooled.log_effect_se**2 == pytest.approx((0.04 + 0.01) / 2)


def test_shared_covariance_of_one_comparison_is_its_poisson_and_place_variance():
    """Two hotspots compared with the same cells share the comparison's change: Poisson (1/B + 1/A)
    plus the place variance of its cells weighted by their squared shares; disjoint comparisons share
    nothing."""
    counts = np.zeros((6, 24))
    counts[0, :12], counts[1, :12], counts[0, 12:], counts[1, 12:] = 10.0, 30.0, 12.0, 28.0  # comparison A
    counts[2:, :] = 5.0  # comparison B
    keep = np.ones(12, dtype=bool)
    place_var = 0.06
    cov = shared_comparison_covariance(counts, [np.array([0, 1]), np.array([0, 1]), np.array([2, 3, 4, 5])],
                                       keep, place_var, 12.0)
    base, after = np.array([120.0, 360.0]), np.array([144.0, 336.0])
    herfindahl = float(np.sum(base * (base - 1))) / base.sum() ** 2
    expected = 1 / base.sum() + 1 / after.sum() + place_var * years_factor(12, 12, 12.0) * herfindahl
    assert cov[0, 1] == pytest.approx(expected)
    assert cov[0, 2] == 0.0 and cov[1, 2] == 0.0
    assert years_factor(12, 12, 12.0) == pytest.approx(2.0)
