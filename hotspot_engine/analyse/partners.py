"""Partner data against police data: where police records alone miss violence (issue 21).

Funnel plot (Spiegelhalter 2005, Stat Med 24:1185). Each LSOA's partner count O (for example A&E
assault attendances) is set against what its police-recorded violence P predicts: expected
E = P x R, where R is the force-wide ratio of partner to police counts over the same months.

Limits are exact, and they include the police count's own chance variation. The textbook exact
Poisson funnel treats E as known; here E comes from a Poisson count too. Conditional on the
LSOA's combined count n = O + P, O is Binomial(n, R / (1 + R)) when the LSOA's partner/police
ratio is the force-wide one: the exact test of two Poisson counts. Counts are whole numbers, so
exact tails jump; as Spiegelhalter interpolates his discrete limits, the tails here are mid-p
(half the probability of the observed count itself). An LSOA is ``higher`` when its upper mid-p
tail is below 0.001 and ``lower`` when its lower one is (99.8%, two-sided); ``flag_95`` uses
0.025. As P grows the limits become Spiegelhalter's Poisson limits around E.

Overdispersion (issue 27; Spiegelhalter 2005, "Handling over-dispersion of performance indicators",
Qual Saf Health Care 14:347-351). Real partner/police ratios differ between LSOAs (hospital
catchments, recording): with a coefficient of variation of 0.4 the limits above flagged 1.5% of
ordinary LSOAs at 99.8% instead of 0.2%. So the extra variation is estimated from the data as an
additive random effect on the partner share pi_i = R_i / (1 + R_i): z-scores
z_i = (O_i - n_i pi) / sqrt(n_i pi (1 - pi)) are winsorised at their 10th and 90th percentiles (so
the LSOAs we look for do not inflate the estimate), phi = mean(z^2) / 0.68 (the shrinkage
winsorising causes under a normal spread; without it CV 0.4 was estimated as 0.17), and when I phi
exceeds the 95% point of chi-square on I - 1 (Spiegelhalter's test for overdispersion)
tau^2 = (I phi - (I - 1)) / (sum w - sum w^2 / sum w), w_i = n_i / (pi (1 - pi)). The tails are then
beta-binomial with intra-LSOA correlation rho = tau^2 / (pi (1 - pi)) (the binomial when tau^2 = 0,
so chance data keep their 0.2%), still mid-p. The estimate is reported as the coefficient of
variation of the ratio beyond chance, sqrt(tau^2) / (pi (1 - pi)).
Measured (benchmarks/bench_partner_funnel.py, 1,194 LSOAs): see the figures printed there and in
the README; tests/test_partners.py plants CV 0.4 plus six LSOAs at four times.

Earlier measurement, before overdispersion (benchmarks/bench_partner_funnel.py: 1,194 LSOAs, gamma-distributed rates with a mean of
20 police counts, 100 runs, nothing planted): the plain exact Poisson funnel flagged 0.44% of
LSOAs at 99.8% (nominal 0.2%) when partner counts are 0.3 x police counts, and 2.6% when they are
alike (at 95%: 5.5% and 14%); these limits flag 0.11% and 0.17% (95%: 4.0% and 4.6%). Plain
exact tails without mid-p flagged 0.07% and 0.10% (95%: 2.5% and 3.2%): needlessly blind.

Other functions here join partner layers to hotspot cells and rank cells by a weighted sum of
police harm and partner counts. All take frames and return frames; the store is read in
:mod:`hotspot_engine.store.partner_query`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError

LEVELS = (0.95, 0.998)
FLAG_LEVEL = 0.998
FUNNEL_COLUMNS = ("lsoa_code", "district", "csp", "partner_count", "police_count", "expected", "ratio", "funnel_z",
                  "flag", "flag_95", "p_higher", "p_lower")
#: Offence groups counted as police-recorded violence for the comparison: violence against the
#: person and robbery, the offences that send people to A&E or bring an ambulance. Possession of
#: weapons and public order offences are left out (no victim injured by definition). police.uk:
#: "Violence and sexual offences" (group violence_and_sexual) and "Robbery".
POLICE_VIOLENCE_GROUPS = ("murder", "attempted_murder", "gbh", "robbery", "knife_injury", "violent_disorder", "riot",
                          "other_violence", "violence_and_sexual")


@dataclass
class FunnelResult:
    """``table``: one row per LSOA (FUNNEL_COLUMNS); ``ratio``: force-wide partner/police ratio;
    ``limits``: the funnel's limits by expected count (expected, level, lower, upper as counts
    and as ratios); ``notes``: what the reader should know (one line each)."""

    table: pd.DataFrame
    ratio: float
    limits: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: Extra variation between LSOAs (see the module docstring): the coefficient of variation of the
    #: partner/police ratio beyond chance (0 when none is found), the beta-binomial rho the limits
    #: use, and Spiegelhalter's winsorised phi.
    ratio_cv: float = 0.0
    rho: float = 0.0
    phi: float = 1.0

    def flag_counts(self) -> dict[str, int]:
        flags = self.table["flag"].value_counts()
        return {"higher": int(flags.get("higher", 0)), "lower": int(flags.get("lower", 0))}


WINSOR = 0.10
#: Fewer LSOAs with counts than this give no estimate of the extra variation (plain limits): with a
#: handful, the winsorised quantiles and the chi-square test rest on almost nothing.
MIN_LSOAS_FOR_SPREAD = 30


@dataclass(frozen=True)
class Overdispersion:
    """Spiegelhalter's (2005) estimate on the partner share: ``phi`` (winsorised mean z^2), ``tau2``
    (additive random-effect variance of the share), ``rho`` (beta-binomial correlation) and
    ``ratio_cv`` (the same as a coefficient of variation of the partner/police ratio)."""

    phi: float
    tau2: float
    rho: float
    ratio_cv: float


def overdispersion(observed: np.ndarray, police: np.ndarray, share: float) -> Overdispersion:
    """Extra variation between LSOAs beyond the binomial (see the module docstring)."""
    n = (observed + police).astype(float)
    used = n > 0
    o, n = observed[used].astype(float), n[used]
    spread = share * (1.0 - share)
    if o.size < MIN_LSOAS_FOR_SPREAD or spread <= 0:
        return Overdispersion(1.0, 0.0, 0.0, 0.0)
    z = (o - n * share) / np.sqrt(n * spread)
    low, high = np.quantile(z, [WINSOR, 1.0 - WINSOR])
    phi = float(np.mean(np.clip(z, low, high) ** 2)) / _winsor_factor(WINSOR)
    k = o.size
    w = n / spread
    denominator = float(w.sum() - (w**2).sum() / w.sum())
    from scipy.stats import chi2

    # Spiegelhalter's test: widen only when I phi exceeds the 95% point of chi-square on I - 1, so
    # chance data keep the plain limits (and their 0.2%) 19 times in 20.
    if k * phi <= float(chi2.ppf(0.95, k - 1)) or denominator <= 0:
        return Overdispersion(phi, 0.0, 0.0, 0.0)
    tau2 = (k * phi - (k - 1)) / denominator
    rho = float(min(tau2 / spread, 0.5))
    return Overdispersion(phi, float(tau2), rho, float(np.sqrt(tau2) / spread))


def _winsor_factor(tail: float) -> float:
    """E[min(Z^2, q^2)] for a standard normal Z winsorised at its ``tail`` quantiles (q = z(1 - tail)):
    winsorising shrinks mean z^2 by this factor (0.68 at 10%), so dividing by it keeps phi about 1
    on chance data and lets it reach the true spread (uncorrected, CV 0.4 was estimated as 0.17)."""
    from scipy.stats import norm

    q = float(norm.isf(tail))
    return (1.0 - 2.0 * tail) - 2.0 * q * float(norm.pdf(q)) + 2.0 * q * q * tail


def _distribution(n, share: float, rho: float):
    """Frozen count distribution of O given O + P = n: binomial, or beta-binomial when rho > 0."""
    from scipy.stats import betabinom, binom

    if rho <= 0:
        return binom(n, share)
    scale = 1.0 / rho - 1.0
    return betabinom(n, share * scale, (1.0 - share) * scale)


def _tails(observed: np.ndarray, police: np.ndarray, share: float,
           rho: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mid-p tails (P(X > O) + P(X = O) / 2, and P(X < O) + P(X = O) / 2) and the z of the upper
    one, for X ~ Binomial(O + P, share) (beta-binomial with correlation ``rho`` when it is above
    0); NaN where O + P = 0."""
    from scipy.stats import norm

    n = observed + police
    dist = _distribution(n, share, rho)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = 0.5 * dist.pmf(observed)
        upper = dist.sf(observed) + half
        lower = dist.cdf(observed - 1) + half
        z = norm.isf(np.clip(upper, 1e-300, 1 - 1e-16))
    empty = n == 0
    for values in (upper, lower, z):
        values[empty] = np.nan
    return upper, lower, z


def funnel(counts: pd.DataFrame, level: float = FLAG_LEVEL, districts: list[str] | None = None) -> FunnelResult:
    """Funnel table for per-LSOA counts.

    ``counts`` has lsoa_code, district, csp, partner_count, police_count (one row per LSOA of the
    whole force area; zeros included): the ratio is force-wide. ``districts`` keeps only those
    districts' LSOAs in the table. Raises InputError when either total is zero (no ratio)."""
    missing = {"lsoa_code", "partner_count", "police_count"} - set(counts.columns)
    if missing:
        raise ValueError(f"funnel: missing columns {sorted(missing)}")
    partner = counts["partner_count"].to_numpy(dtype=np.int64)
    police = counts["police_count"].to_numpy(dtype=np.int64)
    if police.sum() == 0:
        raise InputError("partners: no police-recorded violence in these months; nothing to compare with")
    if partner.sum() == 0:
        raise InputError("partners: the partner layer has no counts in these months")
    ratio = float(partner.sum() / police.sum())
    share = ratio / (1.0 + ratio)
    extra = overdispersion(partner, police, share)
    p_higher, p_lower, z = _tails(partner, police, share, extra.rho)
    alpha = (1.0 - level) / 2.0
    expected = police * ratio
    table = counts.copy()
    table["expected"] = expected
    with np.errstate(invalid="ignore", divide="ignore"):
        table["ratio"] = np.where(expected > 0, partner / np.where(expected > 0, expected, 1.0), np.nan)
    table["funnel_z"] = z
    table["p_higher"] = p_higher
    table["p_lower"] = p_lower
    table["flag"] = _flags(p_higher, p_lower, alpha)
    table["flag_95"] = _flags(p_higher, p_lower, 0.025)
    for col in ("district", "csp"):
        if col not in table:
            table[col] = None
    if districts is not None:
        table = table[table["district"].isin(districts)]
    table = table[list(FUNNEL_COLUMNS)].sort_values(["funnel_z", "lsoa_code"], ascending=[False, True],
                                                    na_position="last").reset_index(drop=True)
    notes = _funnel_notes(table, ratio, extra)
    return FunnelResult(table, ratio, funnel_limits(ratio, int(police.max()) if police.size else 0, rho=extra.rho),
                        notes, extra.ratio_cv, extra.rho, extra.phi)


def _flags(p_higher: np.ndarray, p_lower: np.ndarray, alpha: float) -> np.ndarray:
    flags = np.full(p_higher.shape, "", dtype=object)
    flags[np.nan_to_num(p_higher, nan=1.0) < alpha] = "higher"
    flags[np.nan_to_num(p_lower, nan=1.0) < alpha] = "lower"
    return flags


def ratio_note(ratio: float) -> str:
    return f"Force-wide ratio: {ratio:.3f} partner counts per police-recorded violent offence"


def _funnel_notes(table: pd.DataFrame, ratio: float, extra: Overdispersion) -> list[str]:
    notes = [ratio_note(ratio)]
    if extra.rho > 0:
        notes.append(f"The ratio differs between LSOAs beyond chance (coefficient of variation about "
                     f"{extra.ratio_cv:.2f}; Spiegelhalter 2005 random effect from 10%-winsorised z-scores): the "
                     "limits are widened for it, so flagged LSOAs stand out from that variation, not only from chance")
    else:
        notes.append("No variation of the ratio between LSOAs beyond chance was found (Spiegelhalter 2005 check): "
                     "plain limits")
    no_police = int(((table["police_count"] == 0) & (table["partner_count"] > 0)).sum())
    if no_police:
        notes.append(f"{no_police} LSOAs have partner counts but no police-recorded violence: no ratio, tested "
                     f"against the combined count")
    empty = int(((table["police_count"] == 0) & (table["partner_count"] == 0)).sum())
    if empty:
        notes.append(f"{empty} LSOAs have neither partner nor police counts: no funnel position")
    return notes


def _pmf(o: np.ndarray, n: int, share: float, rho: float) -> np.ndarray:
    """P(O = o | O + P = n): binomial, or beta-binomial with correlation ``rho`` (log-gamma form,
    vectorised over o; scipy's frozen beta-binomial sums its pmf per call and took 14 s here)."""
    from scipy.special import betaln, gammaln

    log_choose = gammaln(n + 1.0) - gammaln(o + 1.0) - gammaln(n - o + 1.0)
    if rho <= 0:
        return np.exp(log_choose + o * np.log(share) + (n - o) * np.log1p(-share))
    scale = 1.0 / rho - 1.0
    a, b = share * scale, (1.0 - share) * scale
    return np.exp(log_choose + betaln(o + a, n - o + b) - betaln(a, b))


def funnel_limits(ratio: float, max_police: int, levels: tuple[float, ...] = LEVELS, rho: float = 0.0) -> pd.DataFrame:
    """The funnel's limits for police counts 1..max_police: columns police_count, expected, level,
    lower, upper (partner counts at the limits: O <= lower is flagged lower, O >= upper higher)
    and lower_ratio, upper_ratio (the same divided by expected), for drawing; ``rho`` widens them
    for extra variation between LSOAs (:func:`overdispersion`). Walks the combined count n once:
    each n's distribution gives the mid-p tails of every split (O, P = n - O)."""
    share = ratio / (1.0 + ratio)
    most = max(max_police, 1)
    top = int(np.ceil(ratio * most * 3 + 50))
    upper = {level: np.full(most + 1, np.inf) for level in levels}
    lower = {level: np.full(most + 1, -np.inf) for level in levels}
    for n in range(1, most + top + 1):
        o = np.arange(max(0, n - most), min(n - 1, top) + 1)
        if o.size == 0:
            continue
        full = _pmf(np.arange(n + 1.0), n, share, rho)
        cdf = np.cumsum(full)
        pmf = full[o]
        upper_p = np.clip(1.0 - cdf[o], 0.0, None) + 0.5 * pmf
        lower_p = cdf[o] - 0.5 * pmf
        police = n - o
        for level in levels:
            alpha = (1.0 - level) / 2.0
            hit = upper_p < alpha
            np.minimum.at(upper[level], police[hit], o[hit])
            hit = lower_p < alpha
            np.maximum.at(lower[level], police[hit], o[hit])
    rows = []
    for level in levels:
        for p in range(1, most + 1):
            up, low = upper[level][p], lower[level][p]
            rows.append((p, p * ratio, level, low if np.isfinite(low) else np.nan, up if np.isfinite(up) else np.nan))
    limits = pd.DataFrame(rows, columns=["police_count", "expected", "level", "lower", "upper"])
    limits["lower_ratio"] = limits["lower"] / limits["expected"]
    limits["upper_ratio"] = limits["upper"] / limits["expected"]
    return limits


# --------------------------------------------------------------------------------------------
# Partner layers on hotspots, and a combined ranking
# --------------------------------------------------------------------------------------------


def hotspot_partner_counts(hotspot_cells: pd.DataFrame, cell_lsoas: pd.DataFrame, area_counts: pd.DataFrame,
                           point_cells: pd.DataFrame) -> pd.DataFrame:
    """What partners know about each hotspot: one row per hotspot_id, one column per layer.

    ``hotspot_cells``: h3, hotspot_id (the hotspot's cells). ``cell_lsoas``: h3, lsoa_code (the
    LSOAs each hotspot cell touches). ``area_counts``: source, lsoa_code, count (an area layer's
    total per LSOA over the window): a hotspot gets the sum over the LSOAs it touches, each LSOA
    once. ``point_cells``: source, h3, count (events or places per cell): a hotspot gets those
    inside its cells. Columns are named ``<source>_count``."""
    out = pd.DataFrame({"hotspot_id": pd.unique(hotspot_cells["hotspot_id"])})
    touched = hotspot_cells.merge(cell_lsoas, on="h3")[["hotspot_id", "lsoa_code"]].drop_duplicates()
    for source, layer in area_counts.groupby("source", sort=True):
        summed = touched.merge(layer[["lsoa_code", "count"]], on="lsoa_code").groupby("hotspot_id")["count"].sum()
        out[f"{source}_count"] = out["hotspot_id"].map(summed).fillna(0).astype(np.int64)
    for source, layer in point_cells.groupby("source", sort=True):
        inside = hotspot_cells.merge(layer[["h3", "count"]], on="h3").groupby("hotspot_id")["count"].sum()
        out[f"{source}_count"] = out["hotspot_id"].map(inside).fillna(0).astype(np.int64)
    return out


def spread_area_counts(area_counts: pd.DataFrame, cell_of_lsoa: pd.DataFrame) -> pd.DataFrame:
    """An area layer's LSOA counts shared equally among the cells whose centre lies in the LSOA:
    columns source, h3, count (float). ``cell_of_lsoa``: h3, lsoa_code."""
    cells_per_lsoa = cell_of_lsoa.groupby("lsoa_code")["h3"].transform("size")
    share = cell_of_lsoa.assign(share=1.0 / cells_per_lsoa)
    spread = area_counts.merge(share, on="lsoa_code")
    spread["count"] = spread["count"] * spread["share"]
    return spread.groupby(["source", "h3"], as_index=False)["count"].sum()


def combined_ranking(cells: pd.DataFrame, partner_cells: pd.DataFrame, weights: dict[str, float],
                     police_column: str = "harm", shown_only: dict[str, int] | None = None) -> pd.DataFrame:
    """Cells ranked by a weighted sum of police harm and partner counts.

    ``cells``: h3 and ``police_column``. ``partner_cells``: source, h3, count. ``weights``: layer
    name -> weight, with ``"police"`` for the police measure. Each measure is first divided by its
    total over the cells, so a weight is the share of the score that measure carries whatever its
    units (days of harm, attendances, premises). Returns h3, the police measure, one column per
    partner layer (``<source>``), ``score`` and ``rank`` (1 = highest), sorted by rank.

    ``shown_only`` (layer -> threshold; restricted layers on screen) ranks those layers on their
    counts as shown (:func:`banded`: under the threshold hidden and counted as 0, the rest rounded),
    and returns them so with a ``suppressed`` flag. Ranked on the exact counts, a shown score gave
    away the layer's total over the area (a shown count over its score), and that total less the
    shown counts gave back a cell hidden alone (issue 25)."""
    bad = {k: v for k, v in weights.items() if not np.isfinite(v) or v < 0}
    if bad:
        raise InputError(f"combined ranking: weight for '{next(iter(bad))}' must be a number at least 0")
    if not any(v > 0 for v in weights.values()):
        raise InputError("combined ranking: at least one weight must be above 0")
    table = cells[["h3", police_column]].copy()
    if not partner_cells.empty:
        wide = partner_cells.pivot_table(index="h3", columns="source", values="count", aggfunc="sum", fill_value=0)
        # Study-area cells only: partner points outside the selected districts do not rank.
        table = table.merge(wide, left_on="h3", right_index=True, how="left")
        table[list(wide.columns)] = table[list(wide.columns)].fillna(0)
    hidden = np.zeros(len(table), dtype=bool)
    for name, threshold in (shown_only or {}).items():
        if name in table:
            table[name], small = banded(table[name].to_numpy(dtype=float), threshold)
            hidden |= small
    score = np.zeros(len(table))
    for name, weight in weights.items():
        column = police_column if name == "police" else name
        if column not in table or weight == 0:
            continue
        values = np.nan_to_num(table[column].to_numpy(dtype=float))
        total = values.sum()
        if total > 0:
            score += weight * values / total
    table["score"] = score / sum(weights.values())
    if shown_only:
        table["suppressed"] = hidden
    table = table.sort_values(["score", "h3"], ascending=[False, True]).reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def banded(values: np.ndarray, threshold: int, round_to: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(counts as a partner-safe table shows them, which were hidden): counts below ``threshold``
    blanked (NaN), the rest rounded to the nearest ``round_to`` (the threshold by default; 1 keeps
    them exact) and never below the threshold. Rounded, a total less the shown counts leaves a band
    of possible values rather than one hidden count (tests/test_disclosure_recovery.py)."""
    values = np.array(values, dtype=float)
    step = int(threshold) if round_to is None else int(round_to)
    small = np.isfinite(values) & (values < threshold)
    if step > 1:
        big = np.isfinite(values) & ~small
        values[big] = np.maximum(np.round(values[big] / step) * step, threshold)
    values[small] = np.nan
    return values, small


def suppress_small(frame: pd.DataFrame, columns: list[str], threshold: int) -> pd.DataFrame:
    """Counts in ``columns`` as a partner-safe table shows them (:func:`banded`), for layers whose
    sharing level hides small numbers on screen; a ``suppressed`` column says which rows hide one."""
    out = frame.copy()
    flag = np.zeros(len(out), dtype=bool)
    for column in columns:
        out[column], small = banded(pd.to_numeric(out[column], errors="coerce").to_numpy(dtype=float), threshold)
        flag |= small
    out["suppressed"] = flag
    return out
