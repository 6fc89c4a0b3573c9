"""Interrupted time-series (ITS) models for the impact of hotspot patrols.

Segmented regression after Lopez Bernal, Cummins & Gasparrini (2017), "Interrupted time series
regression for the evaluation of public health interventions: a tutorial", IJE 46(1):348-355::

    log E[Y_t] = b0 + b1 t + b2 post_t + b3 (t - t0) post_t + Fourier seasonality [+ log exposure]

``b2`` is the level change and ``b3`` the slope change; both are reported as percentages,
``(exp(b) - 1) * 100``, never as the raw log coefficient. Counts are overdispersed, so the model is
a negative binomial GLM (dispersion ``alpha`` from the Pearson moment equation on a Poisson fit,
refined once from the NB means, then held fixed) or a quasi-Poisson GLM (Poisson point estimates;
the robust sandwich below does not depend on the dispersion, so it is quasi-Poisson inference).
Autocorrelation is handled by Newey-West (HAC) standard errors with a wide bandwidth (b = 0.2 of
the series) and fixed-b critical values (Kiefer & Vogelsang 2005, Econometric Theory 21:1130-1164):
plain Newey-West with normal critical values rejected a true null 13% of the time at
autocorrelation 0.7 (issue 17); the fixed-b figures are in benchmarks/bench_its_coverage.py.

Design matrices are built once in numpy: the statsmodels formula API costs ~8 ms a fit, the GLM
itself under 1 ms (MEASURED.md). Nothing here raises on bad data: every function that fits a model
returns a result whose ``ok`` is False and whose ``message`` says why in plain English.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

IMPACT_MODELS = ("level", "slope", "both")
COUNT_MODELS = ("negbin", "poisson")
MIN_PRE_DEFAULT = 12
MIN_POST_DEFAULT = 6
WEEKS_PER_YEAR = 52.18

def newey_west_lags(n: int) -> int:
    """Newey & West (1994) plug-in rule floor(4 (n/100)^(2/9)): 3 lags for 60 months, 4 for 120,
    4 for 156 weeks. Never fewer than 1, so a lag-1 autocorrelation is always allowed for."""
    return max(1, int(math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0))))


@dataclass(frozen=True, eq=False)
class ItsResult:
    """One fitted (or refused) ITS model. Percentages are ``(exp(coef) - 1) * 100``.

    ``counterfactual``/``cf_low``/``cf_high``: the modelled series with the post-intervention terms
    set to zero, with a 95% prediction band for single periods (see :func:`prediction_band`).
    ``log_effect``/``log_effect_se``: the headline coefficient on the log scale (``b2`` for the
    'level' and 'both' impact models, ``b3`` for 'slope') and its robust standard error, for pooling.
    """

    ok: bool
    message: str
    model: str
    impact: str
    level_change_pct: float
    ci_low_pct: float
    ci_high_pct: float
    p_value: float
    slope_change_pct_per_period: float | None
    slope_ci_low_pct: float | None
    slope_ci_high_pct: float | None
    slope_p_value: float | None
    periods: list[str]
    intervention_index: int
    observed: np.ndarray
    fitted: np.ndarray
    counterfactual: np.ndarray
    cf_low: np.ndarray
    cf_high: np.ndarray
    log_effect: float
    log_effect_se: float
    post_vs_counterfactual_pct: float = float("nan")
    alpha: float = float("nan")
    maxlags: int = 0
    df_resid: int = 0
    n_pre: int = 0
    n_post: int = 0
    description: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def effect_pct(self) -> float | None:
        """The headline % change: the level change, or the slope change for impact='slope'."""
        return self.slope_change_pct_per_period if self.impact == "slope" else self.level_change_pct


def _pct(log_value: float) -> float:
    return float(np.expm1(log_value) * 100.0)


def _nan_array(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def _failed(message: str, counts: np.ndarray, periods: list[str], intervention_index: int, model: str,
            impact: str, n_pre: int = 0, n_post: int = 0) -> ItsResult:
    n = len(counts)
    nan = float("nan")
    slope = None if impact == "level" else nan
    return ItsResult(
        ok=False, message=message, model=model, impact=impact,
        level_change_pct=nan, ci_low_pct=nan, ci_high_pct=nan, p_value=nan,
        slope_change_pct_per_period=slope, slope_ci_low_pct=slope, slope_ci_high_pct=slope, slope_p_value=slope,
        periods=list(periods), intervention_index=int(intervention_index),
        observed=np.asarray(counts, dtype=float), fitted=_nan_array(n), counterfactual=_nan_array(n),
        cf_low=_nan_array(n), cf_high=_nan_array(n), log_effect=nan, log_effect_se=nan,
        n_pre=n_pre, n_post=n_post,
    )


def fourier_terms(t: np.ndarray, pairs: int, period_length: float) -> np.ndarray:
    """Columns sin(2 pi k t / P), cos(2 pi k t / P) for k = 1..pairs (no intercept)."""
    cols = []
    for k in range(1, pairs + 1):
        angle = 2.0 * np.pi * k * t / period_length
        cols.extend([np.sin(angle), np.cos(angle)])
    return np.column_stack(cols) if cols else np.empty((len(t), 0))


def its_design(n: int, intervention_index: int, impact: str = "level", seasonal_pairs: int = 2,
               period_length: float = 12.0) -> tuple[np.ndarray, dict[str, int]]:
    """Design matrix [1, t, post?, (t - t0) post?, Fourier...] and the column index of each named
    term ('level', 'slope'). Time is in periods from the start, so ``b3`` is per period."""
    t = np.arange(n, dtype=float)
    post = (t >= intervention_index).astype(float)
    cols = [np.ones(n), t]
    names = ["const", "trend"]
    if impact in ("level", "both"):
        cols.append(post)
        names.append("level")
    if impact in ("slope", "both"):
        cols.append((t - intervention_index) * post)
        names.append("slope")
    X = np.column_stack(cols)
    # Fourier pairs beyond the Nyquist limit repeat earlier columns and make X singular.
    pairs = min(seasonal_pairs, int(period_length // 2)) if period_length >= 2 else 0
    X = np.column_stack([X, fourier_terms(t, pairs, period_length)])
    return X, {name: i for i, name in enumerate(names)}


def estimate_nb_alpha(y: np.ndarray, mu: np.ndarray, df_resid: int) -> float:
    """Negative binomial dispersion by the Pearson moment equation (Breslow 1984):
    sum (y - mu)^2 / (mu + alpha mu^2) = n - p. Zero when the Poisson fit is not overdispersed."""
    resid2 = (y - mu) ** 2

    def excess(alpha: float) -> float:
        return float(np.sum(resid2 / (mu + alpha * mu * mu)) - df_resid)

    if df_resid <= 0 or excess(0.0) <= 0:
        return 0.0
    upper = 1.0
    while excess(upper) > 0 and upper < 1e6:
        upper *= 10.0
    if excess(upper) > 0:
        return upper
    return float(optimize.brentq(excess, 0.0, upper, xtol=1e-8))


class _FitError(Exception):
    """Internal: a fit that cannot be trusted; the message is shown to the user."""


def _glm_fit(y: np.ndarray, X: np.ndarray, offset: np.ndarray | None, model: str):
    """Fit the count GLM by IRLS; return (results, alpha). Covariance is computed separately."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    def fit(family):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = sm.GLM(y, X, family=family, offset=offset).fit(maxiter=100)
            except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
                raise _FitError(f"the model could not be fitted ({type(exc).__name__})") from exc
        kinds = {w.category for w in caught}
        if any(issubclass(k, PerfectSeparationWarning) for k in kinds):
            raise _FitError("perfect separation: the counts are zero in a whole segment, so the change is unbounded")
        if not res.converged or any(issubclass(k, ConvergenceWarning) for k in kinds):
            raise _FitError("the model did not converge")
        return res

    poisson = fit(sm.families.Poisson())
    if model == "poisson":
        return poisson, 0.0
    df_resid = len(y) - X.shape[1]
    alpha = estimate_nb_alpha(y, poisson.mu, df_resid)
    if alpha <= 1e-8:
        # No overdispersion beyond Poisson: the NB GLM with alpha ~ 0 is the Poisson model.
        return poisson, 0.0
    result = fit(sm.families.NegativeBinomial(alpha=alpha))
    # One refinement: alpha from the NB means rather than the Poisson means.
    alpha2 = estimate_nb_alpha(y, result.mu, df_resid)
    if alpha2 > 1e-8 and abs(alpha2 - alpha) > 0.05 * alpha:
        alpha = alpha2
        result = fit(sm.families.NegativeBinomial(alpha=alpha))
    return result, alpha


def time_kernel(time: np.ndarray, maxlags: int) -> np.ndarray:
    """Bartlett (Newey-West) weights 1 - |t_i - t_j| / (maxlags + 1), zero beyond ``maxlags``.
    Rows of a stacked panel that share a period get weight 1 (Driscoll-Kraay)."""
    gap = np.abs(np.subtract.outer(time, time)).astype(float)
    return np.clip(1.0 - gap / (maxlags + 1.0), 0.0, None)


def _working(X: np.ndarray, mu: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """IRLS weights of a log-link count GLM (Poisson alpha = 0, NB2 alpha > 0) and the inverse
    expected information."""
    w = mu / (1.0 + alpha * mu)
    return w, np.linalg.inv(X.T @ (X * w[:, None]))


def hac_covariance(X: np.ndarray, y: np.ndarray, mu: np.ndarray, alpha: float, maxlags: int,
                   time: np.ndarray | None = None) -> np.ndarray:
    """Newey-West sandwich H^-1 (U' K U) H^-1 for a log-link count GLM, with scores
    U_i = x_i (y_i - mu_i) / (1 + alpha mu_i) and K the Bartlett kernel over ``time``. For one
    series (time = 0..n-1) this equals statsmodels' ``cov_type='HAC'`` for a Poisson GLM (tested);
    for the NB GLM it uses the expected rather than the observed information."""
    time = np.arange(len(y)) if time is None else np.asarray(time)
    _, Hinv = _working(X, mu, alpha)
    U = X * ((y - mu) / (1.0 + alpha * mu))[:, None]
    return Hinv @ (U.T @ time_kernel(time, maxlags) @ U) @ Hinv


FIXED_B_DRAWS = 1000


def fixed_b_null(X: np.ndarray, mu: np.ndarray, alpha: float, maxlags: int, index: int,
                 time: np.ndarray | None = None, draws: int = FIXED_B_DRAWS, seed: int = 0) -> np.ndarray:
    """|t| statistics of coefficient ``index`` under the null, simulated for this very design.

    Fixed-b inference (Kiefer & Vogelsang 2005, "A new asymptotic theory for heteroskedasticity-
    autocorrelation robust tests", Econometric Theory 21(6):1130-1164): the Newey-West t statistic
    is compared not with the normal but with its limit for the bandwidth actually used, a
    distribution free of the errors' autocorrelation. Kiefer and Vogelsang tabulate that limit for
    stationary regressors; a step at the intervention with 12 of 60 months after is not one (its
    post-period residuals sum to zero, which biases the Newey-West variance down), so the limit is
    simulated for the model's own weighted design instead: independent standard normal errors,
    residualised on the design, the same kernel and bandwidth (as Bunzel & Vogelsang 2005 do for
    trend regressors). Seeded, 1,000 draws: a few milliseconds."""
    time = np.arange(len(mu)) if time is None else np.asarray(time)
    w, Hinv = _working(X, mu, alpha)
    Z = X * np.sqrt(w)[:, None]
    a = Z @ Hinv[:, index]
    errors = np.random.default_rng(seed).standard_normal((len(mu), draws))
    residuals = errors - Z @ (Hinv @ (Z.T @ errors))
    scores = a[:, None] * residuals
    variance = np.sum(scores * (time_kernel(time, maxlags) @ scores), axis=0)
    return np.abs(a @ errors) / np.sqrt(np.maximum(variance, 1e-300))


def _matching_dof(crit: float) -> float:
    """Degrees of freedom of the Student t whose 97.5% point is ``crit`` (infinite at 1.96)."""
    if crit <= 1.96:
        return math.inf
    return float(optimize.brentq(lambda d: float(stats.t.ppf(0.975, d)) - crit, 0.05, 1e7))


#: Default HAC bandwidth as a share of the series: b = 0.2 (12 lags on 60 months). Measured in
#: benchmarks/bench_its_coverage.py: with the Newey-West (1994) lag rule (b ~ 0.07) the fixed-b test
#: still over-rejects under strong autocorrelation; a larger b with its fixed-b critical value holds
#: the size (Kiefer & Vogelsang 2005 recommend large b for size, at some cost in power).
DEFAULT_BANDWIDTH = 0.2


def bandwidth_lags(n: int, bandwidth: float = DEFAULT_BANDWIDTH) -> int:
    """Newey-West lags for a bandwidth ratio: M = round(b n) kernel width, maxlags = M - 1 (>= 1)."""
    return max(1, int(round(bandwidth * n)) - 1)


SMALL_SAMPLE = ("fixedb", "df", "none")


@dataclass(frozen=True)
class _Estimate:
    est: float
    se: float
    low: float
    high: float
    p: float
    df: float
    factor: float


def _t_crit(dof: float) -> float:
    """97.5% point of Student t (normal for infinite df). Unfrozen scipy calls: freezing a
    distribution costs ~3 ms, more than the GLM fit."""
    return float(stats.t.ppf(0.975, dof)) if math.isfinite(dof) else float(stats.norm.ppf(0.975))


def _t_sf(z: float, dof: float) -> float:
    return float(stats.t.sf(z, dof)) if math.isfinite(dof) else float(stats.norm.sf(z))


def _infer(X, y, mu, alpha, params, cov, index, lags, small_sample, df_resid, time) -> _Estimate:
    """Estimate, robust SE, 95% CI and two-sided p for one coefficient."""
    factor, dof = 1.0, math.inf
    est = float(params[index])
    if small_sample == "fixedb":
        se = float(math.sqrt(max(cov[index, index], 0.0)))
        null = fixed_b_null(X, mu, alpha, lags, index, time)
        crit = float(np.quantile(null, 0.95))
        p = float((1 + np.sum(null >= abs(est) / se)) / (1 + null.size)) if se > 0 else float("nan")
        # The Student t with the same 97.5% point stands in for the simulated law in the bands.
        return _Estimate(est, se, est - crit * se, est + crit * se, p, _matching_dof(crit), factor)
    if small_sample == "df":
        # statsmodels' use_correction=True, use_t=True: n / (n - p) and t with n - p df.
        factor, dof = len(y) / df_resid, float(df_resid)
    se = float(math.sqrt(max(cov[index, index] * factor, 0.0)))
    crit = _t_crit(dof)
    p = float(2.0 * _t_sf(abs(est) / se, dof)) if se > 0 else float("nan")
    return _Estimate(est, se, est - crit * se, est + crit * se, p, dof, factor)


def describe_model(model: str, impact: str, seasonal_pairs: int, period_length: float, maxlags: int,
                   exposure: bool = False, controlled: bool = False) -> str:
    """One plain-English line that says which model was fitted, shown under the charts."""
    family = "negative binomial" if model == "negbin" else "quasi-Poisson"
    what = {"level": "a step change in level", "slope": "a change in trend",
            "both": "a step change in level and a change in trend"}[impact]
    unit = "months" if abs(period_length - 12) < 1e-9 else ("weeks" if abs(period_length - WEEKS_PER_YEAR) < 0.5 else "periods")
    season = f"{seasonal_pairs} sine/cosine pairs of seasonality" if seasonal_pairs else "no seasonal terms"
    offset = ", with an exposure offset" if exposure else ""
    versus = (" The hotspot series is modelled together with a comparison series; the effect is the "
              "difference between their changes.") if controlled else ""
    return (f"Segmented {family} regression with a linear trend and {season}{offset}; impact model "
            f"(chosen before fitting): {what} at the intervention; Newey-West standard errors over "
            f"{maxlags} lag{'s' if maxlags != 1 else ''} of {unit} with fixed-b critical values (Kiefer & Vogelsang "
            f"2005).{versus}")


def _check_series(y: np.ndarray, n_labels: int, t0: int, min_pre: int, min_post: int, what: str = "") -> str | None:
    """Plain-English reason why a series cannot be modelled, or None."""
    n = len(y)
    if n_labels != n:
        return f"{n_labels} period labels for {n} counts"
    if min(t0, n) < min_pre:
        return f"too few periods before the intervention: {max(0, min(t0, n))}, at least {min_pre} needed"
    if n - t0 < min_post:
        return f"too few periods after the intervention: {max(0, n - t0)}, at least {min_post} needed"
    if not np.all(np.isfinite(y)) or np.any(y < 0):
        return f"the {what}counts contain missing or negative values"
    if y.sum() == 0:
        return f"no incidents at all in the {what}series: there is nothing to model"
    if y[:t0].sum() == 0:
        return f"no incidents in the {what}series before the intervention: a change cannot be estimated"
    if y[t0:].sum() == 0:
        return (f"no incidents in the {what}series after the intervention: the change is unbounded "
                "(perfect separation), so no percentage can be given")
    return None


def _validate_options(model: str, impact: str, small_sample: str) -> str | None:
    if model not in COUNT_MODELS:
        return f"unknown count model '{model}' (use negbin or poisson)"
    if impact not in IMPACT_MODELS:
        return f"unknown impact model '{impact}' (use level, slope or both)"
    if small_sample not in SMALL_SAMPLE:
        return f"unknown small-sample option '{small_sample}' (use fixedb, df or none)"
    return None


def _fit_design(y, X, offset, time, names: dict[str, int], effect_names: tuple[str, str], impact: str,
                model: str, lags: int, small_sample: str):
    """Fit, robust inference on the effect terms, fitted values and counterfactual (effect terms at 0).

    ``effect_names`` are the design columns of the (level, slope) effects. Returns a dict or raises
    _FitError with a plain-English message."""
    n = len(y)
    df_resid = n - X.shape[1]
    if df_resid < 2:
        raise _FitError(f"too few periods ({n}) for a model with {X.shape[1]} terms")
    try:
        result, alpha = _glm_fit(y, X, offset, model)
        params = np.asarray(result.params, dtype=float)
        mu = np.asarray(result.mu, dtype=float)
        cov = hac_covariance(X, y, mu, alpha, lags, time)
        if not np.all(np.isfinite(params)) or not np.all(np.isfinite(cov)):
            raise _FitError("the model gave non-finite estimates")
        estimates: dict[str, _Estimate] = {}
        for kind, name in zip(("level", "slope"), effect_names):
            if name in names:
                estimates[kind] = _infer(X, y, mu, alpha, params, cov, names[name], lags, small_sample, df_resid, time)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        raise _FitError("the model's information matrix is singular (too little variation in the series)") from exc
    headline = estimates["slope" if impact == "slope" else "level"]
    if not (headline.se > 0 and math.isfinite(headline.se)) or abs(headline.est) > math.log(1e4):
        raise _FitError("the model did not give a usable estimate of the change (separation or a degenerate series)")
    off = np.zeros(n) if offset is None else offset
    X_cf = X.copy()
    for name in effect_names:
        if name in names:
            X_cf[:, names[name]] = 0.0
    eta_cf = X_cf @ params + off
    se_cf = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X_cf, cov * headline.factor, X_cf), 0.0))
    cf_low, cf_high = prediction_band(eta_cf, se_cf, alpha)
    return {
        "alpha": alpha, "df_resid": df_resid, "estimates": estimates, "headline": headline,
        "fitted": np.exp(X @ params + off), "counterfactual": np.exp(eta_cf),
        "cf_low": cf_low, "cf_high": cf_high,
    }


PREDICTION_DRAWS = 2000


def prediction_band(eta: np.ndarray, se_eta: np.ndarray, alpha: float, level: float = 0.95,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Where single periods are expected to fall (a prediction interval), not where their mean is.

    Simulated: the log mean is drawn from N(eta, se_eta^2) (parameter uncertainty) and a count from
    the negative binomial (Poisson when ``alpha`` = 0) around it; the band is the central ``level``
    of the draws per period. A confidence band for the mean alone leaves about half of ordinary
    months outside it (issue 17), which invites reading "below the band" as an effect. Seeded, so
    the same data always draw the same band."""
    rng = np.random.default_rng(seed)
    eta = np.asarray(eta, dtype=float)
    draws = eta[None, :] + rng.standard_normal((PREDICTION_DRAWS, eta.size)) * np.asarray(se_eta)[None, :]
    mu = np.exp(np.clip(draws, -50, 50))
    if alpha > 0:
        mu = rng.gamma(1.0 / alpha, alpha * mu)
    # A degenerate fit (a few periods, se_eta in the tens) draws means beyond numpy's Poisson limit
    # (about 9.2e18), which raised "lam value too large" instead of a band; no real count comes near 1e18.
    counts = rng.poisson(np.minimum(mu, 1e18))
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(counts, [tail, 100.0 - tail], axis=0)
    return low.astype(float), high.astype(float)


def _result(y, periods, t0, model, impact, lags, fit, description, n_pre, n_post, rows=slice(None), extra=None) -> ItsResult:
    nan = float("nan")
    level, slope = fit["estimates"].get("level"), fit["estimates"].get("slope")
    fitted, cf = fit["fitted"][rows], fit["counterfactual"][rows]
    post_cf = cf[t0:].sum()
    headline = fit["headline"]
    return ItsResult(
        ok=True, message="", model=model, impact=impact,
        level_change_pct=_pct(level.est) if level else nan,
        ci_low_pct=_pct(level.low) if level else nan,
        ci_high_pct=_pct(level.high) if level else nan,
        p_value=level.p if level else nan,
        slope_change_pct_per_period=_pct(slope.est) if slope else None,
        slope_ci_low_pct=_pct(slope.low) if slope else None,
        slope_ci_high_pct=_pct(slope.high) if slope else None,
        slope_p_value=slope.p if slope else None,
        periods=list(periods), intervention_index=t0, observed=np.asarray(y, dtype=float),
        fitted=fitted, counterfactual=cf, cf_low=fit["cf_low"][rows], cf_high=fit["cf_high"][rows],
        log_effect=headline.est, log_effect_se=headline.se,
        post_vs_counterfactual_pct=float((fitted[t0:].sum() / post_cf - 1.0) * 100.0) if post_cf > 0 else nan,
        alpha=float(fit["alpha"]), maxlags=lags, df_resid=int(fit["df_resid"]), n_pre=n_pre, n_post=n_post,
        description=description, extra={"effect_df": headline.df, "se_factor": headline.factor, **(extra or {})},
    )


def fit_its(counts: np.ndarray, periods: list[str], intervention_index: int, model: str = "negbin",
            impact: str = "level", seasonal_pairs: int = 2, period_length: float = 12,
            exposure: np.ndarray | None = None, maxlags: int | None = None,
            min_pre: int = MIN_PRE_DEFAULT, min_post: int = MIN_POST_DEFAULT,
            small_sample: str = "fixedb") -> ItsResult:
    """Fit the segmented regression to one count series.

    ``intervention_index`` is the position of the first post-intervention period. ``impact`` is
    'level', 'slope' or 'both' and must be chosen before looking at the result. ``exposure``
    (e.g. population, or days in a partial period) enters as a log offset. ``maxlags`` defaults to
    :func:`bandwidth_lags` (b = 0.2). ``small_sample``: 'fixedb' (default) Newey-West with
    fixed-b critical values simulated for the design (see :func:`fixed_b_null`); 'df' the n/(n-p) correction with
    t(n-p); 'none' plain Newey-West with normal intervals (statsmodels ``cov_type='HAC'``).
    Never raises for bad data: returns ``ok=False`` with a plain-English ``message``.
    """
    y = np.asarray(counts, dtype=float).ravel()
    periods = list(periods)
    n, t0 = len(y), int(intervention_index)
    n_pre, n_post = max(0, min(t0, n)), max(0, n - t0)
    impact_shown = impact if impact in IMPACT_MODELS else "level"
    fail = lambda message: _failed(message, y, periods, t0, model, impact_shown, n_pre, n_post)  # noqa: E731
    problem = _validate_options(model, impact, small_sample) or _check_series(y, len(periods), t0, min_pre, min_post)
    if problem:
        return fail(problem)
    offset = None
    if exposure is not None:
        exposure = np.asarray(exposure, dtype=float).ravel()
        if exposure.shape != y.shape or not np.all(np.isfinite(exposure)) or np.any(exposure <= 0):
            return fail("the exposure must be positive for every period")
        offset = np.log(exposure)
    X, names = its_design(n, t0, impact, seasonal_pairs, period_length)
    lags = bandwidth_lags(n) if maxlags is None else max(0, int(maxlags))
    try:
        fit = _fit_design(y, X, offset, np.arange(n), names, ("level", "slope"), impact, model, lags, small_sample)
    except _FitError as exc:
        return fail(str(exc))
    description = describe_model(model, impact, seasonal_pairs, period_length, lags, exposure is not None)
    return _result(y, periods, t0, model, impact, lags, fit, description, n_pre, n_post)


def controlled_its(treated: np.ndarray, comparison: np.ndarray, periods: list[str], intervention_index: int,
                   model: str = "negbin", impact: str = "level", seasonal_pairs: int = 2,
                   period_length: float = 12, maxlags: int | None = None,
                   min_pre: int = MIN_PRE_DEFAULT, min_post: int = MIN_POST_DEFAULT,
                   small_sample: str = "fixedb") -> ItsResult:
    """Controlled ITS: the treated and comparison series stacked in one model with every term
    interacted with a treated indicator (own level, trend, seasonality and change for each series).

    The reported level change (and slope change) is the *difference in change*:
    ``exp(b2_treated - b2_comparison) - 1``, in %: the change in the hotspot beyond the change seen
    in the comparison series. The counterfactual is the treated series had it changed as the
    comparison did. Newey-West weights run over periods, summing both series' scores within a
    period (Driscoll-Kraay), so shocks common to both series are allowed for.
    ``extra`` holds the comparison's observed and fitted series.
    """
    y1 = np.asarray(treated, dtype=float).ravel()
    y0 = np.asarray(comparison, dtype=float).ravel()
    periods = list(periods)
    n, t0 = len(y1), int(intervention_index)
    n_pre, n_post = max(0, min(t0, n)), max(0, n - t0)
    impact_shown = impact if impact in IMPACT_MODELS else "level"
    fail = lambda message: _failed(message, y1, periods, t0, model, impact_shown, n_pre, n_post)  # noqa: E731
    problem = _validate_options(model, impact, small_sample)
    if not problem and len(y0) != n:
        problem = f"the comparison series has {len(y0)} periods, the hotspot series {n}"
    problem = (problem or _check_series(y1, len(periods), t0, min_pre, min_post)
               or _check_series(y0, len(periods), t0, min_pre, min_post, "comparison "))
    if problem:
        return fail(problem)
    base, names = its_design(n, t0, impact, seasonal_pairs, period_length)
    X = np.vstack([np.hstack([base, base]), np.hstack([base, np.zeros_like(base)])])
    width = base.shape[1]
    stacked_names = {**names, **{f"treated_{k}": v + width for k, v in names.items()}}
    y = np.concatenate([y1, y0])
    time = np.concatenate([np.arange(n), np.arange(n)])
    lags = bandwidth_lags(n) if maxlags is None else max(0, int(maxlags))
    try:
        fit = _fit_design(y, X, None, time, stacked_names, ("treated_level", "treated_slope"), impact, model,
                          lags, small_sample)
    except _FitError as exc:
        return fail(str(exc))
    extra = {"comparison_observed": y0, "comparison_fitted": fit["fitted"][n:]}
    description = describe_model(model, impact, seasonal_pairs, period_length, lags, controlled=True)
    return _result(y1, periods, t0, model, impact, lags, fit, description, n_pre, n_post, rows=slice(0, n), extra=extra)


def simple_change(pre: np.ndarray, post: np.ndarray) -> float:
    """Percentage change of the total over equal windows, ``(sum(post) / sum(pre) - 1) * 100``: the
    annual report's kind of figure. NaN when the windows differ in length or ``pre`` sums to zero."""
    pre = np.asarray(pre, dtype=float)
    post = np.asarray(post, dtype=float)
    if len(pre) != len(post) or len(pre) == 0 or pre.sum() <= 0:
        return float("nan")
    return float((post.sum() / pre.sum() - 1.0) * 100.0)


@dataclass(frozen=True)
class Pooled:
    """Random-effects pooled effect, as % change (exp(mu) - 1) * 100 with its 95% CI.
    ``i2`` is Higgins' I² in % (share of variation due to heterogeneity), ``tau2`` the
    between-hotspot variance on the log scale, ``k`` the number of effects pooled; ``q`` Cochran's Q;
    ``log_effect``/``log_effect_se`` the pooled log effect and its standard error."""

    pct: float
    ci_low_pct: float
    ci_high_pct: float
    p_value: float
    i2: float
    tau2: float
    k: int
    q: float = float("nan")
    log_effect: float = float("nan")
    log_effect_se: float = float("nan")


def pool_random_effects(log_effects: np.ndarray, ses: np.ndarray, ci: str = "z",
                        covariance: np.ndarray | None = None) -> Pooled:
    """DerSimonian-Laird random-effects meta-analysis in log space (DerSimonian & Laird 1986).

    ``ci='z'`` (default): the usual normal interval. ``ci='hk'``: the Hartung-Knapp(-Sidik-Jonkman)
    interval, variance sum w*(y - mu)^2 / ((k - 1) sum w*) (never below the DL variance) with
    t(k - 1): more honest when the per-hotspot standard errors are themselves estimated from few
    months (see benchmarks/bench_its_coverage.py). Non-finite effects or standard errors (failed
    fits) are left out; ``k`` counts those used. With one effect it is returned unchanged
    (tau² = 0, I² = 0); with none, every figure is NaN.

    ``covariance`` (k x k, in the order of ``log_effects``; its diagonal is not read): covariances
    between the effects' errors, e.g. hotspots sharing one comparison series. They add
    sum_{i != j} w_i w_j c_ij / (sum w)^2 to the pooled variance, and the Hartung-Knapp factor scales
    that variance, not the one that assumes independent errors (see :mod:`hotspot_engine.analyse.rtm`)."""
    y = np.asarray(log_effects, dtype=float).ravel()
    se = np.asarray(ses, dtype=float).ravel()
    keep = np.isfinite(y) & np.isfinite(se) & (se > 0)
    y, se = y[keep], se[keep]
    shared = np.zeros((len(y), len(y))) if covariance is None else np.asarray(covariance, dtype=float)[np.ix_(keep, keep)]
    np.fill_diagonal(shared, 0.0)
    k = len(y)
    nan = float("nan")
    if k == 0:
        return Pooled(nan, nan, nan, nan, nan, nan, 0)
    v = se**2
    w = 1.0 / v
    fixed = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - fixed) ** 2))
    denominator = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - (k - 1)) / denominator) if k > 1 and denominator > 0 else 0.0
    i2 = max(0.0, (q - (k - 1)) / q) * 100.0 if k > 1 and q > 0 else 0.0
    w_re = 1.0 / (v + tau2)
    mu = float(np.sum(w_re * y) / np.sum(w_re))
    variance = float((1.0 + w_re @ shared @ w_re / np.sum(w_re)) / np.sum(w_re))
    se_mu = math.sqrt(max(variance, 0.0))
    dof = math.inf
    if ci == "hk" and k > 1:
        hk_factor = float(np.sum(w_re * (y - mu) ** 2) / (k - 1))
        se_mu = max(se_mu, math.sqrt(max(hk_factor * variance, 0.0)))
        dof = float(k - 1)
    elif ci not in ("z", "hk"):
        raise ValueError(f"ci: expected 'z' or 'hk', got {ci!r}")
    crit = _t_crit(dof)
    p = 2.0 * _t_sf(abs(mu) / se_mu, dof)
    return Pooled(_pct(mu), _pct(mu - crit * se_mu), _pct(mu + crit * se_mu), p, i2, tau2, k, q, mu, se_mu)
