"""The impact estimate that stays right when hotspots were chosen on their recent history.

Places chosen for a high year fall back the next year with no intervention at all (regression to
the mean). Measured (issue 17): on simulated five-year histories with no patrol effect, hotspots
chosen on the year before showed a pooled ITS change of -23% on average, its 95% interval
excluding zero 8 times in 8; in real police.uk Hampshire data the 50 busiest violence cells of
January-April 2024 fell 18% against the force by January-April 2025 with no known intervention.

The corrected estimate combines two remedies from the literature on treated blackspots and hot
places, chosen over the Empirical Bayes before-after method (Hauer 1997) for the reason given below:

1. **A baseline that leaves out the selection window.** The months on which the hotspots were
   chosen are high partly by luck; months before them are not (the luck of one year does not carry
   into another when place-level variation is year to year). So the baseline is every month before
   the selection window, and the selection window itself is not fitted at all.
2. **A comparison series** (the rest of each hotspot's CSP outside every hotspot and buffer) that
   carries the area's trend, season and any common shock. The hotspot gets its own level but not
   its own trend: the counterfactual is the hotspot's baseline level moved as the comparison moved.
   A hotspot's own trend fitted through three or four noisy years and projected two years ahead is
   what made the uncorrected ITS look like a large fall.

Empirical Bayes would also use the selection year, shrunk towards a model for similar places with
weight 1 / (1 + mu / k). It needs that model (a safety performance function) to be right for
hotspots, which are by construction unlike the places it is fitted on; leaving the window out
needs only that earlier years exist. When they do not, no corrected figure is given and the
reason is said.

Uncertainty: each hotspot's level varies from year to year beyond Poisson noise (coefficient of
variation about 0.23-0.31 between periods in real police.uk data, DOMAIN.md). Monthly residuals
cannot see a shock shared by the twelve months of a year, so the variance of a hotspot's estimate
is the quasi-Poisson model variance plus ``place_variance * (1 / post_years + 1 / baseline_years)``,
with ``place_variance`` estimated across the hotspots from the spread of their yearly
hotspot-to-comparison ratios in the baseline, beyond Poisson (:func:`place_variance`). The pooled
figure is a random-effects pool with the Hartung-Knapp interval. Figures on simulated data are in
benchmarks/bench_impact_rtm.py.

Hotspots of one CSP share its comparison series, so the comparison's own noise (Poisson, and the
yearly variation of the places in it) enters every one of their estimates with the same sign. A pool
that treats them as independent is too narrow. On 400 simulated no-effect histories (the design of
benchmarks/bench_impact_rtm.py: 19 hotspots in 5 CSPs), the estimates of two hotspots in one CSP had
a covariance of 0.012 on the log scale, and 0.000 across CSPs. :func:`shared_comparison_covariance`
works it out from the comparison cells' counts (0.0095 on average, against 0.0094 measured for the
comparisons' changes), and the pool adds it. The benchmark, 200 no-effect runs:
- with the covariance, the pooled interval excluded zero in 4.0% (Monte-Carlo error 1.4%);
- without it, in 6.0%;
- the SE went from 0.087 to 0.098, against an SD of 0.096 of the pooled estimate across runs;
- a planted -10% was covered in 97% of 100 runs.

A cluster-robust (sandwich) variance by CSP was not used: a study area has 1-5 CSPs, so it is
either impossible or rests on a handful of degrees of freedom.

Not corrected: the estimate of a log level from one after-year is low by about a third of the place
variance (the log of a mean-one yearly multiplier). Under no effect the pooled estimate averaged
-1.2%, small beside its standard error of about 10%.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hotspot_engine.analyse.its import (
    ItsResult,
    _failed,
    _FitError,
    _glm_fit,
    _pct,
    fourier_terms,
    prediction_band,
)

#: Year-to-year place variance (log scale) used when the data cannot give one: CV 0.25, the middle
#: of the 0.23-0.31 measured between real police.uk periods (DOMAIN.md).
FALLBACK_PLACE_VARIANCE = math.log1p(0.25**2)


@dataclass(frozen=True)
class PlaceVariance:
    """``value``: variance of a place's yearly log level beyond Poisson; ``source`` says where it
    came from in words; ``df`` how many degrees of freedom it rests on (0 for the fallback)."""

    value: float
    source: str
    df: int


def yearly_blocks(keep_pre: np.ndarray, period_length: float) -> list[np.ndarray]:
    """Indices of whole years among the baseline periods (True in ``keep_pre``), counted back from
    the last baseline period; a part-year at the start is left out."""
    length = int(round(period_length))
    index = np.flatnonzero(keep_pre)
    blocks = []
    end = len(index)
    while end - length >= 0:
        block = index[end - length:end]
        if block[-1] - block[0] == length - 1:
            blocks.append(block)
        end -= length
    return blocks[::-1]


def place_variance(treated: list[np.ndarray], comparison: list[np.ndarray], keep_pre: np.ndarray,
                   period_length: float) -> PlaceVariance:
    """Moment estimate of the year-to-year variance of log(hotspot / comparison) beyond Poisson,
    pooled over hotspots: for each hotspot, the sample variance of its yearly log ratios in the
    baseline minus the mean Poisson part (1/H + 1/C), weighted by degrees of freedom; never below 0.
    With fewer than two baseline years the measured real-data figure (CV 0.25) is used and said."""
    blocks = yearly_blocks(keep_pre, period_length)
    if len(blocks) < 2:
        return PlaceVariance(FALLBACK_PLACE_VARIANCE, "fewer than two whole baseline years: assumed CV 0.25, as "
                             "measured between periods in real police.uk data", 0)
    excess, dof = 0.0, 0
    for h, c in zip(treated, comparison):
        hy = np.array([h[b].sum() for b in blocks])
        cy = np.array([c[b].sum() for b in blocks])
        if np.any(hy <= 0) or np.any(cy <= 0):
            continue
        ratios = np.log(hy / cy)
        excess += (len(blocks) - 1) * (float(np.var(ratios, ddof=1)) - float(np.mean(1 / hy + 1 / cy)))
        dof += len(blocks) - 1
    if dof == 0:
        return PlaceVariance(FALLBACK_PLACE_VARIANCE, "no hotspot had incidents in every baseline year: assumed "
                             "CV 0.25", 0)
    value = max(0.0, excess / dof)
    return PlaceVariance(value, f"estimated from {len(blocks)} baseline years of {len(treated)} hotspot(s) "
                         f"(CV {math.sqrt(math.expm1(value)):.2f} beyond Poisson)", dof)


def years_factor(n_base: int, n_post: int, period_length: float) -> float:
    """1 / after-years + 1 / baseline-years: how a yearly place variance enters a change between the
    two (a part-year after counts as a whole year: one yearly shock covers it)."""
    years_post = max(1.0, n_post / period_length)
    return 1.0 / math.ceil(years_post - 1e-9) + 1.0 / max(1.0, n_base / period_length)


def shared_comparison_covariance(counts: np.ndarray, comparisons: list[np.ndarray], keep_pre: np.ndarray,
                                 place_var: float, period_length: float) -> np.ndarray:
    """Covariance between hotspots' corrected log effects that comes from the comparison cells they
    share (every hotspot of a CSP is compared with the same rest of that CSP), k x k in the order of
    ``comparisons`` (row indices of ``counts``, cells x periods; periods from ``len(keep_pre)`` on are
    after). A comparison's change from baseline to after carries its cells' Poisson noise and their
    yearly place variation; a hotspot's effect is its own change minus that, so two hotspots sharing
    cells share that error:
    ``c_ij = sum over shared cells k of [b_k / (B_i B_j) + a_k / (A_i A_j)
    + place_var * years_factor * b_k (b_k - 1) / (B_i B_j)]``, b/a a cell's baseline (kept periods) and
    after counts, B/A the comparison totals; b(b - 1) is the unbiased estimate of a mean squared
    (each cell is taken as a place with the hotspots' yearly place variance, as they are)."""
    from scipy import sparse

    t0 = len(keep_pre)
    kept = np.zeros(counts.shape[1])
    kept[:t0] = np.asarray(keep_pre, dtype=float)
    base, after = counts @ kept, counts[:, t0:].sum(axis=1)
    member = sparse.csr_matrix((np.ones(sum(len(r) for r in comparisons)),
                                (np.repeat(np.arange(len(comparisons)), [len(r) for r in comparisons]),
                                 np.concatenate([np.asarray(r, dtype=int) for r in comparisons]) if comparisons
                                 else np.zeros(0, dtype=int))), shape=(len(comparisons), counts.shape[0]))
    base_share = sparse.diags(1.0 / np.maximum(member @ base, 1.0)) @ member
    after_share = sparse.diags(1.0 / np.maximum(member @ after, 1.0)) @ member
    factor = place_var * years_factor(int(np.sum(keep_pre)), counts.shape[1] - t0, period_length)
    baseline_part = base_share @ sparse.diags(factor * base * np.maximum(base - 1.0, 0.0) + base) @ base_share.T
    return np.asarray((baseline_part + after_share @ sparse.diags(after) @ after_share.T).todense())


def _design(n: int, t0: int, seasonal_pairs: int, period_length: float) -> np.ndarray:
    """Stacked design, treated rows first: [1, t, season..., post, treated, treated x post]. The
    comparison carries trend, season and the common change at the intervention; the hotspot adds
    its own level and its own change (the effect), not its own trend."""
    t = np.arange(n, dtype=float)
    post = (t >= t0).astype(float)
    pairs = min(seasonal_pairs, int(period_length // 2)) if period_length >= 2 else 0
    shared = np.column_stack([np.ones(n), t / period_length, fourier_terms(t, pairs, period_length), post])
    treated = np.column_stack([np.ones(n), post])
    return np.vstack([np.hstack([shared, treated]), np.hstack([shared, np.zeros_like(treated)])])


def corrected_its(treated: np.ndarray, comparison: np.ndarray, periods: list[str], intervention_index: int,
                  keep: np.ndarray, place_var: float, model: str = "negbin", seasonal_pairs: int = 2,
                  period_length: float = 12.0, min_baseline: int = 12) -> ItsResult:
    """Controlled ITS of one hotspot with the selection window left out (``keep`` False there).

    The level change is ``exp(b) - 1`` in %, b the treated x post coefficient: the hotspot's change
    beyond the comparison's, against a baseline free of the months it was chosen on. Never raises
    for bad data: returns ``ok=False`` with the reason."""
    y1 = np.asarray(treated, dtype=float)
    y0 = np.asarray(comparison, dtype=float)
    n, t0 = len(y1), int(intervention_index)
    keep = np.asarray(keep, dtype=bool)
    n_base, n_post = int(keep[:t0].sum()), max(0, n - t0)
    fail = lambda message: _failed(message, y1, periods, t0, model, "level", n_base, n_post)  # noqa: E731
    if n_base < min_baseline:
        unit = "months" if abs(period_length - 12) < 1e-9 else "weeks"
        return fail(f"only {n_base} {unit} before the intervention lie outside the window the hotspots were chosen "
                    f"on; the corrected estimate needs at least {min_baseline} (a year of data before that window)")
    if n_post == 0:
        return fail("no months or weeks after the intervention")
    rows = np.concatenate([keep, keep])
    for series, what in ((y1, "hotspot"), (y0, "comparison")):
        if series[keep[:n] & (np.arange(n) < t0)].sum() == 0:
            return fail(f"no incidents in the {what} series in the baseline")
        if series[t0:].sum() == 0:
            return fail(f"no incidents in the {what} series after the intervention: the change is unbounded")
    X_full = _design(n, t0, seasonal_pairs, period_length)
    y = np.concatenate([y1, y0])
    X, y_fit = X_full[rows], y[rows]
    try:
        result, alpha = _glm_fit(y_fit, X, None, "poisson" if model == "poisson" else model)
        params = np.asarray(result.params, dtype=float)
        mu = np.asarray(result.mu, dtype=float)
        w = mu / (1.0 + alpha * mu)
        info_inv = np.linalg.inv(X.T @ (X * w[:, None]))
        pearson = float(np.sum((y_fit - mu) ** 2 / (mu + alpha * mu * mu)) / max(len(y_fit) - X.shape[1], 1))
        cov = info_inv * max(pearson, 1.0)
    except (_FitError, np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        return fail(str(exc) if isinstance(exc, _FitError) else "the model could not be fitted")
    effect = X.shape[1] - 1
    years_base = max(1.0, n_base / period_length)
    variance = float(cov[effect, effect]) + place_var * years_factor(n_base, n_post, period_length)
    est, se = float(params[effect]), math.sqrt(variance)
    if not (math.isfinite(est) and se > 0) or abs(est) > math.log(1e4):
        return fail("the model did not give a usable estimate of the change")
    z = est / se
    from scipy import stats

    p = float(2.0 * stats.norm.sf(abs(z)))
    X_cf = X_full[:n].copy()
    X_cf[:, effect] = 0.0
    eta_cf = X_cf @ params
    fitted = np.exp(X_full[:n] @ params)
    cf_cov = cov.copy()
    cf_cov[effect - 1, effect - 1] += place_var / years_base  # the hotspot's baseline level carries the place variance
    se_cf = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X_cf, cf_cov, X_cf), 0.0))
    cf_low, cf_high = prediction_band(eta_cf, se_cf, alpha)
    post_cf = float(np.exp(eta_cf[t0:]).sum())
    return ItsResult(
        ok=True, message="", model=model, impact="level",
        level_change_pct=_pct(est), ci_low_pct=_pct(est - 1.959964 * se), ci_high_pct=_pct(est + 1.959964 * se),
        p_value=p, slope_change_pct_per_period=None, slope_ci_low_pct=None, slope_ci_high_pct=None,
        slope_p_value=None, periods=list(periods), intervention_index=t0, observed=y1, fitted=fitted,
        counterfactual=np.exp(eta_cf), cf_low=cf_low, cf_high=cf_high, log_effect=est, log_effect_se=se,
        post_vs_counterfactual_pct=float((y1[t0:].sum() / post_cf - 1.0) * 100.0) if post_cf > 0 else float("nan"),
        alpha=float(alpha), maxlags=0, df_resid=int(len(y_fit) - X.shape[1]), n_pre=n_base, n_post=n_post,
        description=describe_corrected(model, seasonal_pairs, period_length),
        extra={"comparison_observed": y0, "comparison_fitted": np.exp(X_full[n:] @ params), "kept": keep,
               "place_variance": place_var},
    )


def describe_corrected(model: str, seasonal_pairs: int, period_length: float) -> str:
    """One plain-English line on the corrected model, shown under its chart."""
    family = "negative binomial" if model == "negbin" else "quasi-Poisson"
    unit = "months" if abs(period_length - 12) < 1e-9 else "weeks"
    return (f"Corrected for regression to the mean: {family} regression of the hotspot beside the rest of its CSP, "
            f"with a shared trend and {seasonal_pairs} sine/cosine pairs of seasonality; the {unit} the hotspots "
            "were chosen on are left out of the baseline; the uncertainty includes year-to-year variation of places "
            "beyond Poisson noise.")


#: Multiplier of the standard error for the minimum detectable effect at 80% power with a 5% two-sided
#: test: z(0.975) + z(0.80) = 1.96 + 0.84 (Bloom 1995, "Minimum detectable effects").
MDE_FACTOR = 2.8016


def minimum_detectable_fall(log_se: float, dof: float = math.inf) -> float:
    """The smallest fall (in %, a positive number) that a test at 5% two-sided would detect with 80%
    power, given the estimate's standard error on the log scale; ``dof`` for a t-based interval (the
    pooled Hartung-Knapp one). NaN when the standard error is not usable."""
    if not (math.isfinite(log_se) and log_se > 0):
        return float("nan")
    from scipy import stats

    factor = MDE_FACTOR if not math.isfinite(dof) else float(stats.t.ppf(0.975, dof) + stats.t.ppf(0.80, dof))
    return float(-math.expm1(-factor * log_se) * 100.0)


@dataclass(frozen=True)
class PreTrend:
    """Parallel-trends check: the hotspot's baseline trend minus its comparison's, in % per year, with
    its 95% interval; ``log_slope``/``log_se`` on the log scale per year for pooling; ``message`` why
    it is missing."""

    pct: float
    low_pct: float
    high_pct: float
    log_slope: float = float("nan")
    log_se: float = float("nan")
    message: str = ""


def pretrend_difference(treated: np.ndarray, comparison: np.ndarray, keep_pre: np.ndarray, place_var: float,
                        period_length: float = 12.0) -> PreTrend:
    """Difference in trend between a hotspot and its comparison over the baseline (the periods before
    the intervention outside the selection window: ``keep_pre``, as long as the pre-period), from a
    quasi-Poisson model of both series with a shared level, season and trend plus the hotspot's own
    level and trend. The corrected estimate assumes this difference is zero (the hotspot moves as its
    comparison); an interval far from zero says that assumption fails. The variance adds the
    year-to-year place variance spread over the baseline years (a yearly shock tilts a trend)."""
    nan = float("nan")
    keep = np.asarray(keep_pre, dtype=bool)
    index = np.flatnonzero(keep)
    years = (index - index.mean()) / period_length if index.size else index.astype(float)
    if index.size < 2 * period_length or float(np.ptp(years)) < 1.0:
        return PreTrend(nan, nan, nan, message="needs two years of baseline before the selection window")
    y1, y0 = (np.asarray(s, dtype=float)[index] for s in (treated, comparison))
    if y1.sum() == 0 or y0.sum() == 0:
        return PreTrend(nan, nan, nan, message="no incidents in the baseline")
    pairs = min(2, int(period_length // 2))
    shared = np.column_stack([np.ones(index.size), years, fourier_terms(index.astype(float), pairs, period_length)])
    X = np.vstack([np.hstack([shared, np.ones((index.size, 1)), years[:, None]]),
                   np.hstack([shared, np.zeros((index.size, 2))])])
    try:
        result, _ = _glm_fit(np.concatenate([y1, y0]), X, None, "poisson")
        mu = np.asarray(result.mu, dtype=float)
        y = np.concatenate([y1, y0])
        dispersion = max(1.0, float(np.sum((y - mu) ** 2 / mu) / max(len(y) - X.shape[1], 1)))
        cov = np.linalg.inv(X.T @ (X * mu[:, None])) * dispersion
    except (_FitError, np.linalg.LinAlgError, ValueError, FloatingPointError):
        return PreTrend(nan, nan, nan, message="the trend model could not be fitted")
    year_of = np.floor((index - index[0]) / period_length)
    centred = np.unique(year_of) - np.unique(year_of).mean()
    spread = float(np.sum(centred**2))
    variance = float(cov[-1, -1]) + (place_var / spread if spread > 0 else 0.0)
    slope, se = float(result.params[-1]), math.sqrt(variance)
    return PreTrend(_pct(slope), _pct(slope - 1.959964 * se), _pct(slope + 1.959964 * se), slope, se)
