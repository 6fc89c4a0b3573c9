"""Issue 24: the hotspots predict at least as well as the better of an analyst's two plain baselines
(ranking cells by last period's count, a 150 m kernel density surface) at the same area, on a whole
real year held out from the predictor's settings: Durham Constabulary 2021, every split of
``benchmarks/bench_predict.py``'s design (each month -> the next, each two months -> the next month,
each quarter -> the next, first half -> second half). This is the force whose three months (2021-10..12)
had left violence at 0.98 of the better baseline; the whole year gives 1.014 (mean of 25 splits) and
1.009 (incidents caught, pooled). The margin is thin on purpose: a change to the predictor that loses
to the baselines here fails this test. Data: benchmarks/data (its README gives the source and licence).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from hotspot_engine.reference import geography

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_predict.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_predict", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    geography.use_area(())  # the benchmark switches the process-wide area to Durham's districts


@pytest.mark.slow
def test_durham_2021_hotspots_catch_at_least_the_better_baseline(bench, capsys):
    paths, year, splits, role = bench.FORCES["Durham 2021"]
    assert role == "held out" and len(splits) == 25
    ratios = {("Durham 2021", group): [] for group in bench.GROUPS}
    bench.run_force("Durham 2021", paths, year, splits, ratios)
    capsys.readouterr()  # the benchmark's per-split tables
    for group in bench.GROUPS:
        values = ratios[("Durham 2021", group)]
        assert len(values) >= 23, group  # a split with no hotspot place is not scored
        mine = sum(v[1] for v in values)
        theirs = sum(v[2] for v in values)
        defined = [v[0] for v in values if v[2] >= 1]
        assert mine >= theirs, (group, mine, theirs)
        assert np.mean(defined) >= 1.0, (group, np.mean(defined))
