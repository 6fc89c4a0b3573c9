"""The place-day analysis of a randomised patrol trial (issue 28): frames in, frames out.

Primary comparison: incidents on patrol days against control days inside each hotspot, by the arm
the schedule gave (intention to treat), whatever was delivered. Pooled model: Poisson GLM of daily
counts with hotspot fixed effects, day of week and the arm; its 95% interval is cluster-robust by
hotspot (sandwich with the small-sample factor, t with hotspots - 1 degrees of freedom), so days
that share a hotspot's drifts and an effect that differs between hotspots widen the interval rather
than being taken as independent. Chosen on benchmarks/bench_trial.py (300 runs; 19 hotspots x 183
days at 0.1-0.5 a day, negative-binomial days, level drift, effects varying by hotspot, 85%
compliance): with no effect 5.3% of its intervals exclude 1 (quasi-Poisson 6.3%); with -20% on
delivered days it holds the truth in 97.7% (quasi 96.7%) and lies below 1 in 60% (quasi 66%; over
365 days 89%). The quasi-Poisson alternative (``inference='quasi'``) is shorter but assumes one
common effect. Randomisation inference (:mod:`trial_ri`: re-drawing the schedule inside its own
blocks) can be added beside it on the pooled row (``ri_*`` columns).

Per hotspot: the rate ratio with a quasi-Poisson interval (log ratio +- 1.96 sqrt(phi (1/y_p + 1/y_c)),
phi the hotspot's Pearson dispersion of daily counts around its arm means, at least 1; 0.5 added to
both counts when one is zero). Per protocol (days a visit of the target length was delivered against
days with none, whatever the schedule said) is a labelled secondary: delivery is not random.
Control days marked as washout (just after a patrol day) are left out of every comparison.

Delivery (CONSORT-style flow): days scheduled, patrol days delivered (a visit of at least the
target minutes, :class:`~hotspot_engine.analyse.dosage.DosageTarget`), patrol days with any visit
(``compliance`` in the CONTRACT sense), control days visited anyway (contamination).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspot_engine.analyse.trial_design import DESIGN_NAME

RESULT_COLUMNS = [
    "hotspot_id", "hotspot_name", "days_patrol", "days_control", "incidents_patrol", "incidents_control",
    "rate_ratio", "ci_low", "ci_high", "p_value", "compliance", "dosed_share", "contamination",
    "harm_patrol", "harm_control", "harm_ratio", "harm_ci_low", "harm_ci_high",
    "pp_rate_ratio", "pp_ci_low", "pp_ci_high", "days_washout", "ri_ci_low", "ri_ci_high", "ri_p_value",
]
WEEKLY_COLUMNS = ["week", "week_start", "hotspot_id", "hotspot_name", "patrol_days", "delivered", "control_days",
                  "contaminated", "delivered_share", "behind"]
DETERRENCE_BANDS = ((0, 5, "under 5 min"), (5, 10, "5-9 min"), (10, 16, "10-15 min"), (16, 10_000, "over 15 min"))
#: A hotspot is behind in a week when fewer than this share of its patrol days were delivered.
BEHIND_BELOW = 0.8


@dataclass(frozen=True)
class Fit:
    rate_ratio: float
    ci_low: float
    ci_high: float
    p_value: float


NO_FIT = Fit(math.nan, math.nan, math.nan, math.nan)


@dataclass
class TrialResult:
    table: pd.DataFrame  # RESULT_COLUMNS: one row per hotspot plus 'pooled'
    flow: dict  # CONSORT-style counts
    weekly: pd.DataFrame  # WEEKLY_COLUMNS
    deterrence: pd.DataFrame  # band, visits, median_hours_to_next
    displacement: Fit | None  # buffer (rings 1-2) patrol vs control days
    notes: list[str] = field(default_factory=list)

    @property
    def pooled(self) -> pd.Series:
        return self.table[self.table["hotspot_id"] == "pooled"].iloc[0]

    def summary_line(self) -> str:
        p = self.pooled
        if not np.isfinite(p["rate_ratio"]):
            return "pooled: no incidents in the trial days to compare"
        return (f"pooled rate ratio {p['rate_ratio']:.2f} (95% {p['ci_low']:.2f} to {p['ci_high']:.2f}, "
                f"p={p['p_value']:.3f}) by intention to treat; compliance {p['compliance']:.0%}, "
                f"control days visited {p['contamination']:.0%}{self.ri_line()}")

    def ri_line(self) -> str:
        """'; by re-randomisation 95% .. to .., p=..' when randomisation inference was run, else ''."""
        p = self.pooled
        if not np.isfinite(p["ri_p_value"]):
            return ""
        return (f"; by re-randomisation (randomisation inference) 95% {p['ri_ci_low']:.2f} to "
                f"{p['ri_ci_high']:.2f}, p={p['ri_p_value']:.3f}")


# --------------------------------------------------------------------------------------------
# Panel
# --------------------------------------------------------------------------------------------
def build_panel(schedule: pd.DataFrame, daily: pd.DataFrame, delivery: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per scheduled hotspot-day: schedule columns, ``count``, ``harm``, ``visits``, ``dosed``.

    ``daily``: hotspot_id, date, count, harm (days with none may be left out); ``delivery``:
    hotspot_id, date, visits, dosed."""
    panel = schedule.copy()
    panel["date"] = pd.to_datetime(panel["date"]).dt.normalize()
    keys = ["hotspot_id", "date"]
    for extra, cols in ((daily, ["count", "harm"]), (delivery, ["visits", "dosed"])):
        frame = extra if extra is not None else pd.DataFrame(columns=keys + cols)
        frame = frame.assign(date=pd.to_datetime(frame["date"]).dt.normalize(), hotspot_id=frame["hotspot_id"].astype(str))
        panel = panel.merge(frame[keys + cols], on=keys, how="left")
    panel[["count", "harm", "visits"]] = panel[["count", "harm", "visits"]].apply(pd.to_numeric).fillna(0.0)
    panel["dosed"] = panel["dosed"].astype("boolean").fillna(False).astype(bool)
    panel["treat"] = (panel["arm"] == "patrol").astype(float)
    panel["dow"] = panel["date"].dt.day_of_week
    return panel


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------
def _design(panel: pd.DataFrame, treat: str) -> tuple[np.ndarray, np.ndarray]:
    """(treatment and weekday columns, hotspot codes): the hotspot effects are concentrated out."""
    dow = np.eye(7)[panel["dow"].to_numpy(int)][:, 1:]
    return np.column_stack([panel[treat].to_numpy(float), dow]), pd.Categorical(panel["hotspot_id"]).codes


def poisson_fe(y: np.ndarray, x: np.ndarray, groups: np.ndarray, iterations: int = 50):
    """Poisson regression with one fixed effect per group, the effects concentrated out.

    Returns (beta, hessian, per-group scores, fitted means). For Poisson the group effect that
    maximises the likelihood given beta is log(sum y / sum exp(x beta)) in the group, so Newton steps
    run on beta alone (7 columns), not on 7 + hotspots. Same estimate as the GLM with dummies
    (tests/test_trial.py), about 30 times faster, which keeps the benchmark's thousands of fits short."""
    beta = np.zeros(x.shape[1])
    n_groups = int(groups.max()) + 1
    totals = np.bincount(groups, weights=y, minlength=n_groups)
    for _ in range(iterations):
        eta = np.exp(x @ beta)
        mu = eta * (totals / np.bincount(groups, weights=eta, minlength=n_groups))[groups]
        resid = y - mu
        score = x.T @ resid
        sums = np.stack([np.bincount(groups, weights=mu * x[:, j], minlength=n_groups) for j in range(x.shape[1])], 1)
        mean_x = sums.astype(float) / np.maximum(totals, 1e-12)[:, None]
        centred = x - mean_x[groups]
        hessian = (centred * mu[:, None]).T @ centred
        step = np.linalg.solve(hessian, score)
        beta += step
        if np.abs(step).max() < 1e-9:
            break
    scores = np.stack([np.bincount(groups, weights=centred[:, j] * resid, minlength=n_groups)
                       for j in range(x.shape[1])], 1)
    return beta, hessian, scores, mu


def fit_pooled(panel: pd.DataFrame, outcome: str = "count", treat: str = "treat", inference: str = "cluster") -> Fit:
    """Rate ratio of ``treat`` (1 vs 0) from a Poisson model with hotspot and weekday effects.

    ``inference='cluster'``: cluster-robust by hotspot (small-sample factor G/(G-1)), t with G - 1
    df; ``'quasi'``: Pearson dispersion, normal."""
    from scipy import stats

    used = panel[panel.groupby("hotspot_id")[outcome].transform("sum") > 0]
    if used.empty or used[treat].nunique() < 2 or used[outcome].sum() == 0:
        return NO_FIT
    x, groups = _design(used, treat)
    x = x[:, np.ptp(x, axis=0) > 0]  # a weekday absent from short data
    y = used[outcome].to_numpy(float)
    beta, hessian, scores, mu = poisson_fe(y, x, groups)
    bread = np.linalg.inv(hessian)
    clusters = np.unique(groups).size
    if inference == "cluster" and clusters >= 3:
        cov = bread @ (scores.T @ scores) @ bread * clusters / (clusters - 1)
        crit, df = stats.t.ppf(0.975, clusters - 1), clusters - 1
    else:
        phi = float(((y - mu) ** 2 / np.maximum(mu, 1e-12)).sum() / max(y.size - x.shape[1] - clusters, 1))
        cov, crit, df = bread * phi, stats.norm.ppf(0.975), None
    b, se = float(beta[0]), float(np.sqrt(cov[0, 0]))
    if not (np.isfinite(b) and np.isfinite(se)) or se == 0:
        return NO_FIT
    z = abs(b) / se
    p = float(2 * (stats.t.sf(z, df) if df else stats.norm.sf(z)))
    return Fit(math.exp(b), math.exp(b - crit * se), math.exp(b + crit * se), p)


def fit_simple(y_treat: float, d_treat: float, y_ctrl: float, d_ctrl: float, phi: float = 1.0) -> Fit:
    """Rate ratio of two arms' totals with a quasi-Poisson interval (0.5 added when one is zero)."""
    from scipy import stats

    if d_treat <= 0 or d_ctrl <= 0 or (y_treat + y_ctrl) <= 0:
        return NO_FIT
    add = 0.5 if min(y_treat, y_ctrl) == 0 else 0.0
    a, c = y_treat + add, y_ctrl + add
    b = math.log(a / d_treat) - math.log(c / d_ctrl)
    se = math.sqrt(max(phi, 1.0) * (1 / a + 1 / c))
    p = float(2 * stats.norm.sf(abs(b) / se))
    return Fit(math.exp(b), math.exp(b - 1.96 * se), math.exp(b + 1.96 * se), p)


def _dispersion(days: pd.DataFrame, outcome: str, arm: str) -> float:
    """Pearson dispersion of daily counts around their arm means (at least 1)."""
    mean = days.groupby(arm)[outcome].transform("mean")
    ok = mean > 0
    if ok.sum() <= 2:
        return 1.0
    return float(max(1.0, (((days[outcome] - mean)[ok] ** 2) / mean[ok]).sum() / max(int(ok.sum()) - 2, 1)))


# --------------------------------------------------------------------------------------------
# Table
# --------------------------------------------------------------------------------------------
def _arm_row(days: pd.DataFrame, hotspot_id: str, name: str) -> dict:
    patrol, control = days[days["treat"] == 1], days[days["treat"] == 0]
    row = {"hotspot_id": hotspot_id, "hotspot_name": name, "days_patrol": len(patrol), "days_control": len(control),
           "incidents_patrol": int(patrol["count"].sum()), "incidents_control": int(control["count"].sum()),
           "compliance": _share(patrol["visits"] > 0), "dosed_share": _share(patrol["dosed"]),
           "contamination": _share(control["visits"] > 0),
           "harm_patrol": float(patrol["harm"].sum()), "harm_control": float(control["harm"].sum())}
    return row


def _share(flags: pd.Series) -> float:
    return float(flags.mean()) if len(flags) else math.nan


def _fit_columns(fit: Fit, prefix: str = "", names: tuple[str, ...] = ("rate_ratio", "ci_low", "ci_high")) -> dict:
    return {prefix + names[0]: fit.rate_ratio, prefix + names[1]: fit.ci_low, prefix + names[2]: fit.ci_high}


def _per_hotspot(days: pd.DataFrame, hotspot_id: str, name: str) -> dict:
    row = _arm_row(days, hotspot_id, name)
    fit = fit_simple(row["incidents_patrol"], row["days_patrol"], row["incidents_control"], row["days_control"],
                     _dispersion(days, "count", "treat"))
    harm = fit_simple(row["harm_patrol"], row["days_patrol"], row["harm_control"], row["days_control"],
                      _dispersion(days, "harm", "treat"))
    dosed = days["dosed"]
    pp = fit_simple(days.loc[dosed, "count"].sum(), dosed.sum(), days.loc[~dosed, "count"].sum(), (~dosed).sum(),
                    _dispersion(days.assign(d=dosed), "count", "d"))
    return {**row, **_fit_columns(fit), "p_value": fit.p_value,
            **_fit_columns(harm, names=("harm_ratio", "harm_ci_low", "harm_ci_high")),
            **_fit_columns(pp, "pp_")}


def trial_table(panel: pd.DataFrame, inference: str = "cluster", permutations: int = 0,
                block_weeks: int = 4) -> pd.DataFrame:
    """:data:`RESULT_COLUMNS`, one row per hotspot then ``pooled`` (washout days left out). With
    ``permutations`` the pooled row also carries the randomisation-inference interval and p-value
    (:mod:`trial_ri`, shuffles inside the design's weekday blocks of ``block_weeks``); NaN otherwise."""
    from hotspot_engine.analyse.trial_ri import NO_RI, randomisation_inference

    used = panel[~panel["washout"].astype(bool)]
    washout = panel.groupby("hotspot_id")["washout"].sum()
    rows = [_per_hotspot(days, str(spot), str(days["hotspot_name"].iloc[0]))
            for spot, days in used.groupby("hotspot_id", sort=True)]
    pooled = _arm_row(used, "pooled", "All hotspots (pooled)")
    fit = fit_pooled(used, "count", "treat", inference)
    harm = fit_pooled(used, "harm", "treat", inference)
    pp = fit_pooled(used.assign(pp=used["dosed"].astype(float)), "count", "pp", inference)
    ri = randomisation_inference(used, "count", permutations, block_weeks) if permutations else NO_RI
    rows.append({**pooled, **_fit_columns(fit), "p_value": fit.p_value,
                 **_fit_columns(harm, names=("harm_ratio", "harm_ci_low", "harm_ci_high")), **_fit_columns(pp, "pp_"),
                 "ri_ci_low": ri.ci_low, "ri_ci_high": ri.ci_high, "ri_p_value": ri.p_value})
    table = pd.DataFrame(rows)
    table["days_washout"] = table["hotspot_id"].map(washout).fillna(washout.sum()).astype(int)
    return table[RESULT_COLUMNS]


def consort_flow(panel: pd.DataFrame) -> dict:
    """Days scheduled, delivered and contaminated (the CONSORT-style flow)."""
    patrol, control = panel["arm"] == "patrol", panel["arm"] == "control"
    wash = panel["washout"].astype(bool)
    visited = panel["visits"] > 0
    return {"hotspots": int(panel["hotspot_id"].nunique()), "days": int(panel["date"].nunique()),
            "place_days": len(panel), "patrol_days": int(patrol.sum()),
            "patrol_delivered": int((patrol & panel["dosed"]).sum()), "patrol_visited": int((patrol & visited).sum()),
            "patrol_not_visited": int((patrol & ~visited).sum()), "control_days": int(control.sum()),
            "control_washout": int((control & wash).sum()),
            "control_contaminated": int((control & ~wash & visited).sum()),
            "control_clean": int((control & ~wash & ~visited).sum())}


def weekly_delivery(panel: pd.DataFrame) -> pd.DataFrame:
    """Per week and hotspot: patrol days delivered (a visit of the target length), control days
    visited anyway, and ``behind`` when under :data:`BEHIND_BELOW` of the patrol days were delivered."""
    first = panel["date"].min()
    frame = panel.assign(week=((panel["date"] - first).dt.days // 7 + 1).astype(int),
                         is_patrol=panel["arm"] == "patrol", is_control=panel["arm"] == "control")
    frame["delivered_day"] = frame["is_patrol"] & frame["dosed"]
    frame["contaminated_day"] = frame["is_control"] & (frame["visits"] > 0)
    out = frame.groupby(["week", "hotspot_id", "hotspot_name"], as_index=False).agg(
        patrol_days=("is_patrol", "sum"), delivered=("delivered_day", "sum"), control_days=("is_control", "sum"),
        contaminated=("contaminated_day", "sum"))
    out["week_start"] = (first + pd.to_timedelta((out["week"] - 1) * 7, unit="D")).dt.date
    out["delivered_share"] = (out["delivered"] / out["patrol_days"].where(out["patrol_days"] > 0)).astype(float)
    out["behind"] = out["delivered_share"] < BEHIND_BELOW
    return out[WEEKLY_COLUMNS]


def latest_week(weekly: pd.DataFrame) -> pd.DataFrame:
    """The rows of the latest week with all seven days scheduled (a trial's last, partial week
    would read 1 of 1 or 0 of 1), else of the latest week."""
    full = weekly[(weekly["patrol_days"] + weekly["control_days"]) == 7]
    frame = full if len(full) else weekly
    return frame[frame["week"] == frame["week"].max()]


def residual_deterrence(visits: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """Time from the end of each visit to the next incident in the same hotspot, by visit length
    (Koper). ``visits``: hotspot_id, end, minutes; ``incidents``: hotspot_id, occurred_at. Visits
    with no later incident are left out (their time is censored at the trial's end)."""
    rows = []
    nxt = pd.Series(dtype=float)
    if not visits.empty and not incidents.empty:
        inc = incidents.sort_values("occurred_at")
        parts = []
        for spot, v in visits.sort_values("end").groupby("hotspot_id"):
            times = inc.loc[inc["hotspot_id"] == spot, "occurred_at"].to_numpy("datetime64[ns]")
            ends = v["end"].to_numpy("datetime64[ns]")
            idx = np.searchsorted(times, ends, side="left")
            hours = np.full(ends.size, np.nan)
            ok = idx < times.size
            hours[ok] = (times[idx[ok]] - ends[ok]).astype("timedelta64[s]").astype(float) / 3600
            parts.append(pd.Series(hours, index=v.index))
        nxt = pd.concat(parts) if parts else nxt
    for low, high, label in DETERRENCE_BANDS:
        band = visits[(visits["minutes"] >= low) & (visits["minutes"] < high)] if not visits.empty else visits
        hours = nxt.reindex(band.index).dropna() if len(band) else pd.Series(dtype=float)
        rows.append({"visit_length": label, "visits": int(len(band)), "with_next_incident": int(hours.size),
                     "median_hours_to_next": float(hours.median()) if hours.size else math.nan})
    return pd.DataFrame(rows)


def analyse_trial(schedule: pd.DataFrame, daily: pd.DataFrame, delivery: pd.DataFrame | None = None,
                  visits: pd.DataFrame | None = None, timed: pd.DataFrame | None = None,
                  buffer_daily: pd.DataFrame | None = None, inference: str = "cluster", permutations: int = 0,
                  block_weeks: int = 4) -> TrialResult:
    """Everything the evaluation reports. ``visits``/``timed`` (incident times) feed residual
    deterrence; ``buffer_daily`` (hotspot_id, date, count in rings 1-2) feeds displacement;
    ``permutations``/``block_weeks``: randomisation inference on the pooled row (:func:`trial_table`)."""
    panel = build_panel(schedule, daily, delivery)
    notes = [f"Design: {DESIGN_NAME}; analysis by intention to treat (the scheduled arm)."]
    displacement = None
    if buffer_daily is not None:
        buffer_panel = build_panel(schedule, buffer_daily.assign(harm=0.0), None)
        displacement = fit_pooled(buffer_panel[~buffer_panel["washout"].astype(bool)], "count", "treat", inference)
    deterrence = residual_deterrence(visits if visits is not None else pd.DataFrame(columns=["hotspot_id", "end", "minutes"]),
                                     timed if timed is not None else pd.DataFrame(columns=["hotspot_id", "occurred_at"]))
    return TrialResult(trial_table(panel, inference, permutations, block_weeks), consort_flow(panel), weekly_delivery(panel), deterrence,
                       displacement, notes)


__all__ = ["Fit", "TrialResult", "RESULT_COLUMNS", "WEEKLY_COLUMNS", "build_panel", "fit_pooled", "fit_simple",
           "trial_table", "consort_flow", "weekly_delivery", "latest_week", "residual_deterrence", "analyse_trial"]
