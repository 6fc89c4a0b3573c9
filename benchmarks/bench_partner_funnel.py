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

    python benchmarks/bench_partner_funnel.py [--runs 200] [--ratio 0.3] [--factor 3.5]
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


def one_run(rng: np.random.Generator, ratio: float, planted: int, factor: float) -> dict[str, float]:
    rate = rng.gamma(2.0, 10.0, LSOAS)
    boost = np.ones(LSOAS)
    boost[:planted] = factor
    police = rng.poisson(rate)
    partner = rng.poisson(ratio * rate * boost)
    counts = pd.DataFrame({"lsoa_code": [f"L{i:04d}" for i in range(LSOAS)], "partner_count": partner,
                           "police_count": police})
    table = partners.funnel(counts).table.set_index("lsoa_code").loc[counts["lsoa_code"]]
    exact_998 = (table["flag"] != "").to_numpy()
    exact_95 = (table["flag_95"] != "").to_numpy()
    half = 0.5 * binom.pmf(partner, partner + police, partner.sum() / (partner.sum() + police.sum()))
    tails = np.minimum(table["p_higher"].to_numpy(), table["p_lower"].to_numpy()) + half
    plain_998, plain_95 = tails < 0.001, tails < 0.025
    naive_998 = poisson_funnel_flags(partner, police, 0.998)
    naive_95 = poisson_funnel_flags(partner, police, 0.95)
    null = slice(planted, None)
    out = {"midp_998_false": exact_998[null].mean(), "midp_95_false": exact_95[null].mean(),
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
    args = parser.parse_args()
    rng = np.random.default_rng(21)
    for label, planted in (("null (no LSOA different)", 0), (f"{args.planted} LSOAs x{args.factor}", args.planted)):
        runs = pd.DataFrame([one_run(rng, args.ratio, planted, args.factor) for _ in range(args.runs)])
        print(f"{label}, ratio {args.ratio}, {args.runs} runs of {LSOAS} LSOAs:")
        for column, value in runs.mean().items():
            per_run = value * (LSOAS - planted) if column.endswith("false") else value
            unit = f"{100 * value:.3f}% of LSOAs ({per_run:.2f} per run)" if column.endswith("false") else f"{100 * value:.1f}%"
            print(f"  {column:20s} {unit}")


if __name__ == "__main__":
    main()
