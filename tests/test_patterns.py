"""Emerging hot spot classes (ArcGIS Emerging Hot Spot Analysis definitions) and Mann-Kendall."""
from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hotspot_engine.errors import InputError
from hotspot_engine.analyse.patterns import (
    PATTERN_LEGEND, PATTERNS, classify, emerging_hotspots, mann_kendall, period_of, periodise,
)

H, C, _ = "H", "C", "."


def _flags(row: str) -> tuple[np.ndarray, np.ndarray]:
    return np.array([c == H for c in row]), np.array([c == C for c in row])


def _one(row: str, trend_z: float = 0.0, trend_p: float = 0.5) -> str:
    hot, cold = _flags(row)
    return classify(hot[None], cold[None], np.array([trend_z]), np.array([trend_p]))[0]


# Ten periods, oldest first. The 90% rule: 9 of 10 periods.
CASES = [
    (".........H", 0, 1, "new hot spot"),
    ("......HHHH", 0, 1, "consecutive hot spot"),
    ("HHHHHHHHHH", 3.0, 0.001, "intensifying hot spot"),
    ("H.HHHHHHHH", 3.0, 0.001, "intensifying hot spot"),
    ("HHHHHHHHHH", 0.5, 0.6, "persistent hot spot"),
    ("HHHHHHHHHH", -3.0, 0.001, "diminishing hot spot"),
    ("..H..H...H", 0, 1, "sporadic hot spot"),
    ("HH.....HHH", 0, 1, "sporadic hot spot"),
    ("..C..H...H", 0, 1, "oscillating hot spot"),
    ("HHHHHHHHH.", 0, 1, "historical hot spot"),
    (".........C", 0, 1, "new cold spot"),
    ("........CC", 0, 1, "consecutive cold spot"),
    ("CCCCCCCCCC", -3.0, 0.001, "intensifying cold spot"),
    ("CCCCCCCCCC", 0.0, 0.9, "persistent cold spot"),
    ("CCCCCCCCCC", 3.0, 0.001, "diminishing cold spot"),
    ("C...C....C", 0, 1, "sporadic cold spot"),
    ("H...C...CC", 0, 1, "oscillating cold spot"),
    ("CCCCCCCCC.", 0, 1, "historical cold spot"),
    ("..........", 0, 1, "no pattern"),
    ("HHHHH.....", 0, 1, "no pattern"),  # hot in the past, not most of the time, not hot now
    ("HHHHHHHH..", 0, 1, "no pattern"),  # 80% < 90%
]


@pytest.mark.parametrize("row, trend_z, trend_p, expected", CASES)
def test_each_class(row, trend_z, trend_p, expected):
    assert _one(row, trend_z, trend_p) == expected


def test_every_class_is_covered_and_explained():
    assert {case[3] for case in CASES} == set(PATTERNS)
    assert all(text.endswith(".") and len(text.split()) >= 6 for text in PATTERN_LEGEND.values())


def test_classify_is_vectorised_over_rows():
    hot = np.array([_flags(r)[0] for r, *_ in CASES])
    cold = np.array([_flags(r)[1] for r, *_ in CASES])
    out = classify(hot, cold, np.array([c[1] for c in CASES], float), np.array([c[2] for c in CASES], float))
    assert out.tolist() == [c[3] for c in CASES]


def test_mann_kendall_against_hand_values_and_scipy():
    # Strictly increasing, n = 10: S = 45, Var(S) = n(n-1)(2n+5)/18 = 125,
    # z = (S - 1)/sqrt(Var) = 3.9354... (Mann 1945; Kendall 1975; continuity correction).
    s, tau, z, p = mann_kendall(np.arange(10.0)[None])
    assert s[0] == 45 and tau[0] == pytest.approx(1.0)
    assert z[0] == pytest.approx(44 / np.sqrt(125))
    assert p[0] == pytest.approx(2 * stats.norm.sf(44 / np.sqrt(125)))
    # With ties: tau-b against time equals scipy's kendalltau (tau-b), and the tie-corrected
    # variance (n(n-1)(2n+5) - sum t(t-1)(2t+5)) / 18 is used.
    x = np.array([[1, 2, 2, 3, 5, 5, 5, 4, 6, 1], [3, 3, 3, 3, 3, 3, 3, 3, 3, 3]], dtype=float)
    s, tau, z, p = mann_kendall(x)
    assert tau[0] == pytest.approx(stats.kendalltau(np.arange(10), x[0]).statistic)
    var = (10 * 9 * 25 - (2 * 1 * 9 + 2 * 1 * 9 + 3 * 2 * 11)) / 18  # ties: {1,1}, {2,2}, {5,5,5}
    assert z[0] == pytest.approx((s[0] - np.sign(s[0])) / np.sqrt(var))
    assert (s[1], z[1], p[1]) == (0, 0, 1)  # a constant series has no trend


def _grid_study(radius: int = 6) -> pd.DataFrame:
    centre = h3.latlng_to_cell(50.9063, -1.4043, 9)
    cells = sorted(h3.str_to_int(c) for c in h3.grid_disk(centre, radius))
    return pd.DataFrame({"h3": np.array(cells, dtype=np.uint64), "district": "Southampton"}), centre


def _series(study: pd.DataFrame, clusters: list[tuple[str, object]], periods: list[str], seed: int = 4) -> pd.DataFrame:
    """Background Poisson(0.3) counts plus, for each (centre cell, value per period index) cluster,
    that value added to the centre's ring-1 disk."""
    rng = np.random.default_rng(seed)
    rows = []
    for t, period in enumerate(periods):
        rows += [(int(cell), period, float(rng.poisson(0.3))) for cell in study["h3"]]
        for centre, value in clusters:
            rows += [(h3.str_to_int(c), period, float(value(t))) for c in h3.grid_disk(centre, 1)]
    return pd.DataFrame(rows, columns=["h3", "period", "value"])


PERIODS = [f"{y}-{(y + 1) % 100:02d}" for y in range(2014, 2024)]


def test_emerging_hotspots_intensifying_end_to_end():
    """Per-period Gi* on constructed counts: a cluster hot in every year with a rising count, whose
    Gi* z rises with it, is intensifying; a quiet cell has no pattern."""
    study, centre = _grid_study()
    values = _series(study, [(centre, lambda t: 1.0 + 1.0 * t)], PERIODS)
    out = emerging_hotspots(values, study, k=1).set_index("h3")
    assert len(out) == len(study)
    assert out.loc[centre, "pattern"] == "intensifying hot spot"
    assert out.loc[centre, "mk_tau"] > 0.5 and out.loc[centre, "n_hot"] >= 9
    assert out.loc[h3.grid_ring(centre, 6)[0], "pattern"] == "no pattern"
    assert out.attrs["periods"] == PERIODS


def test_emerging_hotspots_new_and_consecutive_end_to_end():
    study, centre = _grid_study()
    other = h3.grid_ring(centre, 4)[0]
    values = _series(study, [(centre, lambda t: 8.0 if t >= 8 else 0.0), (other, lambda t: 8.0 if t == 9 else 0.0)], PERIODS)
    out = emerging_hotspots(values, study, k=1).set_index("h3")
    assert out.loc[centre, "pattern"] == "consecutive hot spot"
    assert out.loc[other, "pattern"] == "new hot spot"


def test_periods_and_errors():
    months = pd.Series(["2023-03", "2023-04", "2024-01"])
    assert period_of(months, "fy").tolist() == ["2022-23", "2023-24", "2023-24"]
    assert period_of(months, "quarter").tolist() == ["2023Q1", "2023Q2", "2024Q1"]
    frame = pd.DataFrame({"h3": [1, 1, 2], "month": ["2023-03", "2023-02", "2023-04"], "count": [2, 3, 1], "harm": [5.0, 1.0, 2.0]})
    out = periodise(frame, "fy", "harm").sort_values(["h3", "period"])
    assert out["value"].tolist() == [6.0, 2.0]
    study, _ = _grid_study(1)
    with pytest.raises(InputError):
        emerging_hotspots(pd.DataFrame({"h3": [], "period": [], "value": []}), study)
    with pytest.raises(InputError):
        period_of(months, "week")


def test_find_patterns_on_the_sample(sample_store, sample_truth):
    """The sample's planted hotspots are constant for four years and 17% lower in the fifth
    (hotspot_engine/sample.py): over five financial years they are hot every year."""
    con, truth = sample_store, sample_truth
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import patterns as find_patterns

    out = find_patterns(con, Filters(date_from="2019-04", date_to="2024-03", res=9), by="fy").set_index("h3")
    assert out.attrs["periods"] == ["2019-20", "2020-21", "2021-22", "2022-23", "2023-24"]
    planted = [h3.latlng_to_cell(hs["lat"], hs["lon"], 9) for hs in truth["hotspots"]]
    hot_every_year = {"persistent hot spot", "intensifying hot spot", "diminishing hot spot"}
    assert sum(out.loc[c, "pattern"] in hot_every_year for c in planted) >= 18
    assert (out["pattern"] != "no pattern").sum() < 0.02 * len(out)


def test_incomplete_final_period_is_flagged():
    from hotspot_engine.analyse.patterns import period_coverage

    coverage = period_coverage([f"2023-{m:02d}" for m in range(4, 13)] + ["2024-01", "2024-02", "2024-03",
                                                                          "2024-04", "2024-05", "2024-06"])
    assert coverage == {"2023-24": (12, 12), "2024-25": (3, 12)}
    study, values = _incomplete_inputs()
    out = emerging_hotspots(values, study, k=1, period_months=coverage)
    assert out["last_period_incomplete"].all()
    assert any("holds only 3 of its 12 months" in n for n in out.attrs["notes"])
    whole = emerging_hotspots(values, study, k=1, period_months={"2023-24": (12, 12), "2024-25": (12, 12)})
    assert not whole["last_period_incomplete"].any()


def _incomplete_inputs():
    import h3

    centre = h3.latlng_to_cell(50.9097, -1.4044, 9)
    disk = sorted(h3.grid_disk(centre, 4))
    study = pd.DataFrame({"h3": disk})
    values = pd.DataFrame({"h3": [centre, centre], "period": ["2023-24", "2024-25"], "value": [30.0, 8.0]})
    return study, values
