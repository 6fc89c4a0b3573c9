"""Size, power and coverage of the randomised patrol-day evaluation (issue 28), where the truth is known.

Each run: 19 hotspots x 183 days (the sample's trial: 2024-04-01 for six months), a schedule from
:func:`make_schedule` (permuted weekday blocks, half patrol), daily counts negative-binomial
(overdispersion a = 0.3; hotspot rates 0.1-0.5 a day; weekday pattern; a slow AR(1) drift of each
hotspot's level, sd 0.15 on the log scale, correlation 0.9 day to day), patrols delivered on 85% of
patrol days and 5% of control days; on a delivered day the rate is multiplied by the hotspot's own
effect (log-normal around the planted rate ratio, sd 0.1). The ITT truth is the expected ratio of
scheduled arms, (c RR + 1 - c) / (k RR + 1 - k).

Prints, for each inference ('cluster': cluster-robust by hotspot, t with 18 df; 'quasi': Pearson
scale; 'ri': randomisation inference, the schedule re-drawn inside its blocks, analyse/trial_ri.py):
the median pooled rate ratio, the share of 95% intervals excluding 1 (no effect: size;
-20%: power), the share holding the ITT truth (coverage), and the analytic power of
:func:`power` beside the simulated power.

    python benchmarks/bench_trial.py            # 300 runs per scenario (about 4 minutes on 2 busy cores)
    python benchmarks/bench_trial.py --quick    # 100 runs
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotspot_engine.analyse.trial_analysis import build_panel, fit_pooled  # noqa: E402
from hotspot_engine.analyse.trial_design import (  # noqa: E402
    TrialDesign,
    history_rates,
    itt_ratio,
    make_schedule,
    power,
)
from hotspot_engine.analyse.trial_ri import randomisation_inference  # noqa: E402

HOTSPOTS, DAYS, ALPHA, COMPLIANCE, CONTAMINATION = 19, 183, 0.3, 0.85, 0.05
DOW = np.array([0.85, 0.8, 0.85, 0.95, 1.2, 1.45, 1.25])
#: Re-draws per run for randomisation inference (the product uses 2,000; 500 keeps the benchmark short:
#: the p-value's Monte Carlo error at 0.05 is then about 0.01).
RI_PERMUTATIONS = 500


def simulate(rr: float, seed: int, days: int = DAYS) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, float]:
    rng = np.random.default_rng(seed)
    spots = pd.DataFrame({"hotspot_id": [f"H{i:02d}" for i in range(HOTSPOTS)], "hotspot_name": "x"})
    schedule = make_schedule(spots, TrialDesign("2024-04-01", days, 0.5, seed=seed))
    rates = rng.uniform(0.1, 0.5, HOTSPOTS)
    effect = np.exp(np.log(rr) + rng.normal(0, 0.1, HOTSPOTS)) if rr != 1 else np.ones(HOTSPOTS)
    drift = np.zeros((HOTSPOTS, days))
    for t in range(1, days):
        drift[:, t] = 0.9 * drift[:, t - 1] + rng.normal(0, 0.15 * np.sqrt(1 - 0.81), HOTSPOTS)
    spot = schedule["hotspot_id"].str[1:].astype(int).to_numpy()
    day = (pd.to_datetime(schedule["date"]) - pd.Timestamp("2024-04-01")).dt.days.to_numpy()
    patrol = (schedule["arm"] == "patrol").to_numpy()
    delivered = np.where(patrol, rng.uniform(size=patrol.size) < COMPLIANCE, rng.uniform(size=patrol.size) < CONTAMINATION)
    mu = rates[spot] * DOW[schedule["weekday"].to_numpy()] / DOW.mean() * np.exp(drift[spot, day] - 0.5 * 0.15**2)
    mu = mu * np.where(delivered, effect[spot], 1.0)
    counts = rng.poisson(mu * rng.gamma(1 / ALPHA, ALPHA, mu.size))
    daily = pd.DataFrame({"hotspot_id": schedule["hotspot_id"], "date": schedule["date"], "count": counts,
                          "harm": counts * 3.0})
    delivery = pd.DataFrame({"hotspot_id": schedule["hotspot_id"], "date": schedule["date"],
                             "visits": delivered.astype(int), "dosed": delivered})
    truth = itt_ratio(float(np.exp(np.log(effect).mean())), COMPLIANCE, CONTAMINATION)
    return schedule, daily, delivery, truth


def scenario(rr: float, runs: int, offset: int, days: int = DAYS) -> None:
    results: dict[str, list] = {"cluster": [], "quasi": [], "ri": []}
    truths = []
    for k in range(runs):
        schedule, daily, delivery, truth = simulate(rr, offset + k, days)
        panel = build_panel(schedule, daily, delivery)
        truths.append(truth)
        for inference in ("cluster", "quasi"):
            results[inference].append(fit_pooled(panel, "count", "treat", inference))
        results["ri"].append(randomisation_inference(panel, "count", RI_PERMUTATIONS, 4, seed=k))
    # The analytic power as a user gets it: rates and overdispersion estimated from a year of history
    # drawn from the same process (drift included), no patrols.
    _, history, _, _ = simulate(1.0, offset + 99_999, 365)
    rates, alpha = history_rates(history)
    analytic = power(rates, alpha, days, 0.5, COMPLIANCE, CONTAMINATION, target_rr=rr)
    from scipy import stats

    itt = itt_ratio(rr, COMPLIANCE, CONTAMINATION)
    crit = stats.t.ppf(0.975, HOTSPOTS - 1)  # as power() and the cluster-robust interval use

    def analytic_power(sd: float) -> float:
        z = abs(np.log(itt)) / sd if itt != 1 else 0.0
        return stats.norm.sf(crit - z) + stats.norm.sf(crit + z)
    print(f"{days} days, planted rate ratio {rr:.2f} on delivered days (ITT truth {np.mean(truths):.3f}), {runs} runs:")
    for inference, fits in results.items():
        ratio = np.array([f.rate_ratio for f in fits])
        low = np.array([f.ci_low for f in fits])
        high = np.array([f.ci_high for f in fits])
        excl = np.mean((low > 1) | (high < 1))
        below = np.mean(high < 1)
        cover = np.mean((low <= np.array(truths)) & (np.array(truths) <= high))
        print(f"  {inference:8s} median RR {np.nanmedian(ratio):.3f}  interval excludes 1 {excl:5.1%}  "
              f"below 1 {below:5.1%}  holds truth {cover:5.1%}  median width {np.nanmedian(high / low):.3f}x  "
              f"sd of log RR over runs {np.nanstd(np.log(ratio)):.4f}")
    bare = analytic.sd_log_rr / analytic.allowance
    print(f"  analytic power {analytic_power(analytic.sd_log_rr):.1%} with the allowance x{analytic.allowance:.2f} "
          f"(bare formula {analytic_power(bare):.1%}) from a simulated year of history (overdispersion {alpha:.2f}; "
          f"sd of log RR {analytic.sd_log_rr:.4f}, bare {bare:.4f}); MDE on delivered days "
          f"{analytic.mde_delivered:.3f} (bare {analytic.mde_delivered_formula:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 runs per scenario instead of 300")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args()
    runs = args.runs or (100 if args.quick else 300)
    started = time.perf_counter()
    scenario(1.0, runs, 10_000)
    scenario(0.8, runs, 20_000)
    scenario(0.8, runs, 30_000, days=365)  # a year: what the analytic power says -20% needs at these rates
    print(f"{time.perf_counter() - started:.0f} s (2 shared cores, other work beside: timings inflated)")


if __name__ == "__main__":
    main()
