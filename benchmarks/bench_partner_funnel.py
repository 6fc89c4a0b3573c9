"""How often the partner funnel flags LSOAs when nothing is there, and how often it finds what is.

Simulated LSOAs (1,194, as in the 14 districts) each get one underlying rate of violence, drawn
from a gamma distribution (mean 20 over the window, the sample's two-year police count per LSOA);
police counts are Poisson(rate) and partner counts Poisson(r x rate) for a partner/police ratio r.
With no LSOA different (the null), every flag is a false alarm: the 99.8% limits should flag about
0.2% of LSOAs (two-sided) and the 95% limits about 5%. Then a few LSOAs get ``--factor`` times the
partner rate (the planted under-reporting) and the share found is the power.

Compared: the limits in hotspot_engine.analyse.partners (binomial mid-p, conditional on the
LSOA's combined count, so the police count's own noise is included), the same with plain exact
tails, and the textbook exact Poisson funnel around E = police x ratio (E treated as known).

Issue 27 adds ratios that differ between LSOAs: each LSOA's partner/police ratio is the force-wide
one times a gamma multiplier with coefficient of variation ``--cv`` (0.4, as real hospital
catchments differ), the planted LSOAs (of at least average size) at exactly ``--factor`` times it.
The funnel then estimates that extra variation (Spiegelhalter 2005) and widens its limits; printed:
flags among ordinary LSOAs, planted ones found, and the estimated CV.

    python benchmarks/bench_partner_funnel.py [--runs 200] [--ratio 0.3] [--factor 3.5] [--cv 0.4] [--quick]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binom, poisson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotspot_engine.analyse import partners  # noqa: E402

LSOAS = 1194


def poisson_funnel_flags(partner: np.ndarray, police: np.ndarray, level: float) -> np.ndarray:
    """Flags of the plain exact Poisson funnel: O against Poisson(E), E = police x ratio."""
    expected = police * partner.sum() / police.sum()
    alpha = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        higher = (expected > 0) & (poisson.sf(partner - 1, expected) < alpha)
        lower = (expected > 0) & (poisson.cdf(partner, expected) < alpha)
    return higher | lower


def one_run(rng: np.random.Generator, ratio: float, planted: int, factor: float, cv: float = 0.0,
            scale: float = 10.0) -> dict[str, float]:
    rate = rng.gamma(2.0, scale, LSOAS)
    if cv:
        rate = rate[np.argsort(rate < 2.0 * scale, kind="stable")]  # planted among LSOAs of average size or more
    boost = rng.gamma(1 / cv**2, cv**2, LSOAS) if cv else np.ones(LSOAS)
    boost[:planted] = factor
    police = rng.poisson(rate)
    partner = rng.poisson(ratio * rate * boost)
    counts = pd.DataFrame({"lsoa_code": [f"L{i:04d}" for i in range(LSOAS)], "partner_count": partner,
                           "police_count": police})
    table = partners.funnel(counts).table.set_index("lsoa_code").loc[counts["lsoa_code"]]
    exact_998 = (table["flag"] != "").to_numpy()
    exact_95 = (table["flag_95"] != "").to_numpy()
    # Plain exact tails: the binomial without mid-p and without the widening for extra variation.
    share = partner.sum() / (partner.sum() + police.sum())
    upper, lower, _ = partners._tails(partner, police, share, 0.0)
    half = 0.5 * binom.pmf(partner, partner + police, share)
    tails = np.minimum(upper, lower) + half
    plain_998, plain_95 = tails < 0.001, tails < 0.025
    naive_998 = poisson_funnel_flags(partner, police, 0.998)
    naive_95 = poisson_funnel_flags(partner, police, 0.95)
    null = slice(planted, None)
    result = partners.funnel(counts)
    out = {"estimated_cv": result.ratio_cv, "midp_998_false": exact_998[null].mean(), "midp_95_false": exact_95[null].mean(),
           "plain_exact_998_false": plain_998[null].mean(), "plain_exact_95_false": plain_95[null].mean(),
           "poisson_998_false": naive_998[null].mean(), "poisson_95_false": naive_95[null].mean()}
    if planted:
        out["midp_998_found"] = (table["flag"].to_numpy()[:planted] == "higher").mean()
        out["plain_exact_998_found"] = plain_998[:planted].mean()
        out["poisson_998_found"] = naive_998[:planted].mean()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--ratio", type=float, default=0.3)
    parser.add_argument("--factor", type=float, default=3.5)
    parser.add_argument("--planted", type=int, default=6)
    parser.add_argument("--cv", type=float, default=0.4, help="coefficient of variation of the ratio between LSOAs")
    parser.add_argument("--quick", action="store_true", help="20 runs per scenario")
    args = parser.parse_args()
    if args.quick:
        args.runs = 20
    rng = np.random.default_rng(21)
    scenarios = (("null (no LSOA different)", 0, args.factor, 0.0, 10.0),
                 (f"{args.planted} LSOAs x{args.factor}", args.planted, args.factor, 0.0, 10.0),
                 (f"ratios differ (CV {args.cv}), nothing planted, mean 50 police counts", 0, 4.0, args.cv, 25.0),
                 (f"ratios differ (CV {args.cv}), {args.planted} LSOAs x4, mean 50 police counts", args.planted, 4.0,
                  args.cv, 25.0))
    for label, planted, factor, cv, scale in scenarios:
        runs = pd.DataFrame([one_run(rng, args.ratio, planted, factor, cv, scale) for _ in range(args.runs)])
        print(f"{label}, ratio {args.ratio}, {args.runs} runs of {LSOAS} LSOAs:")
        for column, value in runs.mean().items():
            if column == "estimated_cv":
                print(f"  {column:20s} {value:.3f}")
                continue
            per_run = value * (LSOAS - planted) if column.endswith("false") else value
            unit = f"{100 * value:.3f}% of LSOAs ({per_run:.2f} per run)" if column.endswith("false") else f"{100 * value:.1f}%"
            print(f"  {column:20s} {unit}")


if __name__ == "__main__":
    main()
