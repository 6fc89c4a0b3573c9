"""Concentration curve and Gini."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotspot_engine.analyse.concentration import concentration


def _gini_mean_difference(x: np.ndarray) -> float:
    """Gini as the relative mean absolute difference: sum_i sum_j |x_i - x_j| / (2 n^2 mean)."""
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean()))


def test_equal_values_have_zero_gini_and_a_diagonal_curve():
    c = concentration(np.full(10, 3.0))
    assert c.gini == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(c.value_share, c.cell_share)
    assert c.value_share_in_top(0.3) == pytest.approx(0.3)


def test_one_cell_holds_everything():
    values = np.zeros(50)
    values[17] = 12.0
    c = concentration(values)
    assert c.gini == pytest.approx(49 / 50)
    assert c.cells_for_share(1.0) == 1 and c.area_share_for(0.5) == pytest.approx(0.02)
    assert c.value_share_in_top(0.02) == pytest.approx(1.0)


def test_worked_example():
    # Ten cells, 100 incidents: 41 in the top cell (10% of area); Southend-style reading.
    values = np.array([41, 20, 10, 9, 8, 5, 4, 2, 1, 0], dtype=float)
    c = concentration(values)
    assert c.value_share_in_top(0.1) == pytest.approx(0.41)
    assert c.value_share_in_top(0.2) == pytest.approx(0.61)
    assert c.value_share_in_top(0.15) == pytest.approx(0.51)  # linear between cells
    assert c.cells_for_share(0.5) == 2 and c.cells_for_share(0.61) == 2 and c.cells_for_share(0.62) == 3
    assert c.gini == pytest.approx(_gini_mean_difference(values))
    assert "41% in the top 10% of the area" in c.summary(area_shares=(0.1,))


# Examples: the hypothesis profile (tests/conftest.py), 60 in CI, 15 in the inner loop
@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=40).filter(lambda v: sum(v) > 0))
def test_gini_equals_mean_difference_formula(values):
    x = np.array(values, dtype=float)
    c = concentration(x)
    assert c.gini == pytest.approx(_gini_mean_difference(x), abs=1e-12)
    assert np.all(np.diff(c.value_share) >= -1e-15) and c.value_share[-1] == 1.0


def test_empty_and_zero_inputs():
    assert concentration(np.zeros(5)).gini == 0.0
    assert concentration(np.zeros(0)).value_share_in_top(0.5) == 0.0
    with pytest.raises(ValueError):
        concentration(np.array([1.0, -1.0]))


def test_chance_curve_matches_scattered_incidents():
    """5,000 incidents at random over 44,270 cells: Gini about 0.90 by chance alone (DOMAIN.md)."""
    from hotspot_engine.analyse.concentration import chance_concentration

    chance = chance_concentration(5000, 44270)
    rng = np.random.default_rng(3)
    simulated = [concentration(np.bincount(rng.integers(0, 44270, 5000), minlength=44270)) for _ in range(5)]
    assert abs(chance.gini - np.mean([c.gini for c in simulated])) < 0.005
    assert abs(chance.value_share_in_top(0.05) - np.mean([c.value_share_in_top(0.05) for c in simulated])) < 0.01
    assert 0.88 < chance.gini < 0.92


def test_generalised_gini_reads_zero_at_maximal_equality_and_matches_gini_when_dense():
    from hotspot_engine.analyse.concentration import generalised_gini

    spread = np.zeros(100)
    spread[:10] = 1  # 10 incidents, each in a cell of its own: as equal as 10 incidents can be
    assert generalised_gini(concentration(spread).gini, 10, 100) == pytest.approx(0.0, abs=1e-9)
    one = np.zeros(100)
    one[0] = 10
    assert generalised_gini(concentration(one).gini, 10, 100) == pytest.approx(9 / 10)
    dense = np.arange(1.0, 101.0)
    assert generalised_gini(concentration(dense).gini, dense.sum(), 100) == pytest.approx(concentration(dense).gini)
