"""Hold-out scores (hotspot_engine.analyse.holdout): hit rate, area share, PAI, beside the count ranking."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.analyse.holdout import holdout_scores, ranking_cells


def _cells():
    # 100 cells; the method chose cells c0 and c1; by count the top two are c0 and c2.
    ids = [f"c{k:02d}" for k in range(100)]
    count = np.zeros(100)
    count[[0, 1, 2]] = [9, 3, 5]
    return pd.DataFrame({"h3": ids, "count": count, "harm": count * 10,
                         "is_hotspot": [k in (0, 1) for k in range(100)], "next_ranked": False})


def test_hit_rate_area_share_and_pai_by_hand():
    test = pd.DataFrame({"h3": ["c00", "c01", "c02", "c50", "zz"], "count": [4, 1, 3, 2, 10]})
    result = holdout_scores(_cells(), test, ("2024-01", "2024-02"), ("2024-03", "2024-04"), cell_km2=0.1)
    method, ranking = result.table.iloc[0], result.table.iloc[-1]
    assert result.test_incidents == 10  # 'zz' lies outside the study area
    assert method["hit_rate"] == pytest.approx(0.5) and method["area_share"] == pytest.approx(0.02)
    assert method["pai"] == pytest.approx(25.0) and method["area_km2"] == pytest.approx(0.2)
    assert ranking["hit_rate"] == pytest.approx(0.7) and ranking["pai"] == pytest.approx(35.0)
    assert result.pai_ratio() == pytest.approx(25 / 35)
    assert "PAI 25.0" in result.summary and "PAI 35.0" in result.summary


def test_ranking_breaks_ties_by_the_other_measure_then_id():
    cells = pd.DataFrame({"h3": ["b", "a", "c"], "count": [2, 2, 2], "harm": [1, 1, 5]})
    assert ranking_cells(cells, 2).tolist() == ["c", "a"]


def test_no_test_incidents_says_so():
    result = holdout_scores(_cells(), pd.DataFrame({"h3": [], "count": []}), ("a", "b"), ("c", "d"), 0.1)
    assert "nothing to score" in result.summary
    assert result.pai_ratio() is None
