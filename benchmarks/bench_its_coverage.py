"""ITS interval coverage, false-positive rate, power and speed (issue 10), the larger version of
tests/test_its_simulation.py.

Monthly series, 60 months, intervention at month 48, negative binomial counts with seasonality and
AR(1) noise on the log scale (generator: ``simulate_series`` in the test). For each setting it fits
``--series`` series with a true level change of -17% and as many with none, and prints:

- coverage: share of 95% CIs that contain the true effect (target 90-98%);
- null rejection: share of p < 0.05 when there is no effect (target <= 8%);
- power: share of p < 0.05 at -17%;
- ms per fit (fit_its end to end, including the guards and the counterfactual band).

Small-sample options compared on the headline setting: 'fixedb' (the default: Newey-West with
Kiefer-Vogelsang 2005 fixed-b critical values, its.fixed_b_critical, bandwidth b = 0.2 = 11 lags on
60 months), 'df' (statsmodels' n/(n-p) correction with t(n-p)), 'none' (plain Newey-West with normal
intervals, statsmodels cov_type='HAC'), with the default bandwidth and with 3 (the Newey-West 1994
lag rule) or 6 lags. The settings include autocorrelation 0.7 (issue 17: null rejection reported). A last block pools 19 simulated
hotspots of 2-12 incidents a month (random-effects, DerSimonian-Laird tau²) and checks the pooled CI
with the normal interval and with the Hartung-Knapp interval (impact_table's default).

Usage: ``python benchmarks/bench_its_coverage.py [--series 2000] [--seed 1]``
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotspot_engine.analyse.its import fit_its, pool_random_effects  # noqa: E402

_spec = importlib.util.spec_from_file_location("its_simulation", ROOT / "tests" / "test_its_simulation.py")
_sim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sim)
simulate_series, TRUE_EFFECT = _sim.simulate_series, _sim.TRUE_EFFECT

HEADLINE = {"base": 15.0, "rho": 0.4, "sd": 0.15}
SETTINGS = [
    ("headline: 15/month, AR rho 0.4, sd 0.15", HEADLINE, {}),
    ("no autocorrelation: 15/month, sd 0.10", {"base": 15.0, "rho": 0.0, "sd": 0.10}, {}),
    ("sparse: 3/month, AR rho 0.4, sd 0.15", {"base": 3.0, "rho": 0.4, "sd": 0.15}, {}),
    ("busy: 60/month, AR rho 0.4, sd 0.15", {"base": 60.0, "rho": 0.4, "sd": 0.15}, {}),
    ("stress: 40/month, AR rho 0.6, sd 0.20", {"base": 40.0, "rho": 0.6, "sd": 0.20}, {}),
    ("stress, 6 lags", {"base": 40.0, "rho": 0.6, "sd": 0.20}, {"maxlags": 6}),
    ("autocorrelation 0.7: 15/month, AR rho 0.7, sd 0.20", {"base": 15.0, "rho": 0.7, "sd": 0.20}, {}),
    ("autocorrelation 0.7, Newey-West lag rule (3)", {"base": 15.0, "rho": 0.7, "sd": 0.20}, {"maxlags": 3}),
    ("headline, quasi-Poisson", HEADLINE, {"model": "poisson"}),
    ("headline, level+slope model", HEADLINE, {"impact": "both"}),
]
METHODS = [("fixedb", None), ("fixedb", 3), ("fixedb", 6), ("df", None), ("df", 3), ("none", 3)]


def study(n_series: int, seed: int, effect: float, sim: dict, fit: dict) -> dict:
    rng = np.random.default_rng(seed)
    periods = [str(i) for i in range(60)]
    covered = rejected = fitted = 0
    elapsed = 0.0
    for _ in range(n_series):
        y = simulate_series(rng, effect=effect, **sim)
        t = time.perf_counter()
        r = fit_its(y, periods, 48, **fit)
        elapsed += time.perf_counter() - t
        if not r.ok:
            continue
        fitted += 1
        low, high = np.log1p(r.ci_low_pct / 100), np.log1p(r.ci_high_pct / 100)
        covered += low <= effect <= high
        rejected += r.p_value < 0.05
    return {"fitted": fitted, "coverage": covered / max(fitted, 1), "rejection": rejected / max(fitted, 1),
            "ms": elapsed / n_series * 1000}


def line(label: str, n: int, seed: int, sim: dict, fit: dict) -> None:
    with_effect = study(n, seed, TRUE_EFFECT, sim, fit)
    null = study(n, seed + 1, 0.0, sim, fit)
    flag = "ok " if 0.90 <= with_effect["coverage"] <= 0.98 and null["rejection"] <= 0.08 else "BAD"
    print(f"{flag} {label:<48} coverage {with_effect['coverage']:6.1%}  null rejection {null['rejection']:6.1%}  "
          f"power {with_effect['rejection']:6.1%}  fitted {with_effect['fitted'] + null['fitted']}/{2 * n}  "
          f"{(with_effect['ms'] + null['ms']) / 2:5.1f} ms/fit", flush=True)


def pooled_block(replications: int, seed: int) -> None:
    """19 hotspots of 2-12 incidents a month, each with the true -17%: coverage of the pooled CI."""
    rng = np.random.default_rng(seed)
    bases = np.linspace(2.0, 12.0, 19)
    periods = [str(i) for i in range(60)]
    tallies = {ci: {"covered": 0, "rejected": 0, "widths": []} for ci in ("z", "hk")}
    for effect in (TRUE_EFFECT, 0.0):
        for _ in range(replications):
            fits = [fit_its(simulate_series(rng, base=b, effect=effect), periods, 48) for b in bases]
            effects, ses = np.array([f.log_effect for f in fits]), np.array([f.log_effect_se for f in fits])
            for ci, tally in tallies.items():
                pooled = pool_random_effects(effects, ses, ci=ci)
                low, high = np.log1p(pooled.ci_low_pct / 100), np.log1p(pooled.ci_high_pct / 100)
                if effect != 0.0:
                    tally["covered"] += low <= effect <= high
                    tally["widths"].append(pooled.ci_high_pct - pooled.ci_low_pct)
                else:
                    tally["rejected"] += pooled.p_value < 0.05
    for ci, tally in tallies.items():
        name = "DerSimonian-Laird, normal CI" if ci == "z" else "DerSimonian-Laird, Hartung-Knapp CI"
        print(f"pooled 19 hotspots of 2-12/month, {name} ({replications} replications): coverage "
              f"{tally['covered'] / replications:6.1%}  null rejection {tally['rejected'] / replications:6.1%}  "
              f"median CI width {np.median(tally['widths']):.1f} points", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=2000, help="series per setting and effect (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {args.series} series per cell, seed {args.seed}")
    print("Small-sample options on the headline setting (lags: default b = 0.2, or 3, or 6):")
    for method, lags in METHODS:
        label = f"small_sample={method}, maxlags={'rule' if lags is None else lags}"
        fit = {"small_sample": method} if lags is None else {"small_sample": method, "maxlags": lags}
        line(label, args.series, args.seed, HEADLINE, fit)
    print("Default fit (fixedb, b = 0.2) across settings:")
    for label, sim, fit in SETTINGS:
        line(label, args.series, args.seed + 10, sim, fit)
    pooled_block(max(50, args.series // 10), args.seed + 20)


if __name__ == "__main__":
    main()
