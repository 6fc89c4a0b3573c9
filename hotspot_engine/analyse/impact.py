"""The impact table: per-hotspot and pooled effects of the intervention, from aggregated frames.

No database access here: the caller passes (cell, month) counts, the hotspot cells and the study
area's cells, and gets one row per hotspot plus a ``pooled`` row, with the fitted models kept for
the charts. Columns (``ImpactResult.table``):

- ``months_pre``/``months_post``, ``mean_pre``/``mean_post``: months and mean monthly count over the
  whole period before / after the intervention;
- ``simple_change_pct``: the annual report's kind of figure, total of the first ``simple_window``
  months after vs the last ``simple_window`` before (``simple_pre``/``simple_post`` are those totals,
  so it can be checked against a direct count);
- ``its_change_pct``, ``ci_low_pct``, ``ci_high_pct``, ``p_value``: modelled level change,
  ``(exp(b2) - 1) * 100`` (see :mod:`hotspot_engine.analyse.its`). In the ``pooled`` row these are the
  DerSimonian-Laird random-effects pool of the hotspot effects (``i2``, ``tau2``, ``k_pooled``;
  Hartung-Knapp interval by default),
  and ``aggregate_*`` is one ITS fitted to the summed series of all hotspots;
- ``cits_*``: controlled ITS, the hotspot's change minus the comparison series' change (as a
  ratio, in %). Comparison (``comparison`` column): by default ('csp') every cell of the hotspot's
  CSP(s) outside every hotspot and buffer; or ('matched') those of them whose pre-period levels are
  closest to the hotspot's cells. 'matched' is not the default because choosing cells *for* their
  high pre-period counts picks lucky cells that regress to the mean afterwards: on the built-in
  sample the matched comparison fell about 38% at the intervention with nothing planted there, so
  the controlled effect came out near +50% instead of about -20%;
- ``wdq``, ``wdq_sm``, ``wdq_bdm``, ``wdq_note``: Weighted Displacement Quotient over the same
  windows as the simple change; buffer = k-ring around the hotspot minus hotspot cells; control =
  the rest of the hotspot's CSP(s) minus every hotspot and every buffer;
- ``message``: why a figure is missing, in plain English (empty when all went well).

Weekly analysis (``period='week'``): the same table from (cell, week) counts, weeks labelled by
their Monday ('YYYY-MM-DD', ISO weeks). The column names keep "months" for a stable contract, but
then ``months_pre``/``months_post``/``mean_*``/``simple_window`` count weeks; seasonality has a
52.18-week period, at least 52 weeks before and 26 after are required by default, and the simple
change compares 52 weeks after with 52 before. A partly treated week counts as before, as a partly
treated month does: the first week after is the one starting on the intervention date when that is
a Monday, otherwise the following Monday (see :func:`first_post_week`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspot_engine.analyse.displacement import Wdq, wdq
from hotspot_engine.analyse.its import (
    WEEKS_PER_YEAR,
    ItsResult,
    Pooled,
    controlled_its,
    fit_its,
    pool_random_effects,
    simple_change,
)
from hotspot_engine.errors import InputError
from hotspot_engine.filters import parse_month, shift_month
from hotspot_engine.reference.geography import ring_neighbours

POOLED_ID = "pooled"
PERIODS = ("month", "week")
# Per period: (seasonal period length, min before, min after, simple-change window), all in periods.
PERIOD_DEFAULTS = {"month": (12.0, 12, 6, 12), "week": (WEEKS_PER_YEAR, 52, 26, 52)}
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True, eq=False)
class ImpactResult:
    """``table``: see the module docstring. ``fits``/``controlled``/``displacement`` are keyed by
    hotspot_id (as str); ``aggregate`` is the ITS of the summed hotspot series and
    ``aggregate_controlled`` its controlled version; ``pooled``/``pooled_controlled`` the
    random-effects pools; ``series`` the monthly counts (index month, one column per hotspot_id
    plus ``pooled`` for the sum) used in the fits. With ``period='week'``, ``months`` holds week
    Mondays 'YYYY-MM-DD' and ``intervention_month`` the first week after."""

    table: pd.DataFrame
    fits: dict[str, ItsResult]
    controlled: dict[str, ItsResult]
    displacement: dict[str, Wdq]
    aggregate: ItsResult
    aggregate_controlled: ItsResult
    pooled: Pooled
    pooled_controlled: Pooled
    series: pd.DataFrame
    months: list[str]
    intervention_month: str
    intervention_index: int
    description: str
    notes: list[str] = field(default_factory=list)
    period: str = "month"


def _parse_day(value: str, what: str) -> pd.Timestamp:
    m = DATE_RE.match(str(value).strip())
    if not m:
        raise InputError(f"{what}: expected YYYY-MM-DD, got '{value}'")
    year, month, day = (int(g) for g in m.groups())
    try:
        return pd.Timestamp(year=year, month=month, day=day)
    except ValueError as exc:
        raise InputError(f"{what}: '{value}' is not a calendar date") from exc


def first_post_month(intervention: str) -> str:
    """The first month counted as 'after': the month of ``intervention`` ('YYYY-MM-DD') when it is
    the 1st, otherwise the next month (a month only partly treated counts as before)."""
    day = _parse_day(intervention, "intervention date")
    first = f"{day.year:04d}-{day.month:02d}"
    return first if day.day == 1 else shift_month(first, 1)


def first_post_week(intervention: str) -> str:
    """The first week counted as 'after', as the 'YYYY-MM-DD' of its Monday: the intervention date
    itself when it is a Monday, otherwise the following Monday (a week only partly treated counts
    as before, as a partly treated month does)."""
    day = _parse_day(intervention, "intervention date")
    return (day + pd.Timedelta(days=(7 - day.weekday()) % 7)).strftime("%Y-%m-%d")


def week_of(day: str) -> str:
    """The Monday ('YYYY-MM-DD') of the ISO week holding ``day`` ('YYYY-MM-DD')."""
    stamp = _parse_day(day, "date")
    return (stamp - pd.Timedelta(days=stamp.weekday())).strftime("%Y-%m-%d")


def weeks_between(first_day: str, last_day: str) -> list[str]:
    """Mondays ('YYYY-MM-DD') of every ISO week from the one holding ``first_day`` to the one
    holding ``last_day``, inclusive."""
    start, end = week_of(first_day), week_of(last_day)
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(start, end, freq="7D")]


def _parse_week(label: str, what: str) -> str:
    day = _parse_day(label, what)
    if day.weekday() != 0:
        raise InputError(f"{what}: week labels are the Monday of each week; '{label}' is not a Monday")
    return day.strftime("%Y-%m-%d")


def as_cells(values) -> np.ndarray:
    """H3 cells as uint64 from integers or hex strings (hotspot files store hex ids)."""
    series = pd.Series(values)
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_float_dtype(series.dtype):
        return series.to_numpy().astype(np.uint64)
    try:
        return np.array([int(str(v), 16) for v in series], dtype=np.uint64)
    except ValueError as exc:
        raise InputError("h3: expected H3 cell ids (integers or hexadecimal strings)") from exc


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)}")


def _window_sums(series: np.ndarray, t0: int, window: int) -> tuple[float, float]:
    if window <= 0:
        return float("nan"), float("nan")
    return float(series[t0 - window:t0].sum()), float(series[t0:t0 + window].sum())


def _matched_comparison(counts: np.ndarray, candidates: np.ndarray, hotspot_rows: np.ndarray, t0: int) -> np.ndarray:
    """Rows of candidate cells with pre-period means closest to the hotspot's mean per cell, taken
    in that order until their summed pre-period mean reaches the hotspot's (and at least as many
    cells as the hotspot has), so the comparison series runs at a similar level."""
    if len(candidates) == 0 or t0 == 0:
        return candidates
    pre_means = counts[candidates, :t0].mean(axis=1)
    target_total = counts[hotspot_rows, :t0].mean(axis=1).sum()
    target_cell = target_total / max(len(hotspot_rows), 1)
    order = np.argsort(np.abs(pre_means - target_cell), kind="stable")
    cumulative = np.cumsum(pre_means[order])
    enough = int(np.searchsorted(cumulative, target_total) + 1)
    take = min(len(order), max(enough, len(hotspot_rows)))
    return candidates[order[:take]]


def _its_columns(result: ItsResult, prefix: str = "") -> dict:
    return {
        f"{prefix}its_change_pct" if not prefix else f"{prefix}change_pct": result.level_change_pct if result.impact != "slope" else result.slope_change_pct_per_period,
        f"{prefix}ci_low_pct": result.ci_low_pct if result.impact != "slope" else result.slope_ci_low_pct,
        f"{prefix}ci_high_pct": result.ci_high_pct if result.impact != "slope" else result.slope_ci_high_pct,
        f"{prefix}p_value": result.p_value if result.impact != "slope" else result.slope_p_value,
    }


def impact_table(cell_month: pd.DataFrame, hotspot_cells: pd.DataFrame, study_cells: pd.DataFrame,
                 months: list[str], intervention: str, model: str = "negbin", buffer_k: int = 1,
                 simple_window: int | None = None, impact: str = "level", comparison: str = "csp",
                 seasonal_pairs: int = 2, min_pre: int | None = None, min_post: int | None = None,
                 pool_ci: str = "hk", period: str = "month") -> ImpactResult:
    """Per-hotspot and pooled impact figures (see the module docstring for the columns).

    ``period``: 'month' (default) or 'week'. For weeks, ``cell_month`` has a ``week`` column (or
    ``month`` holding week labels) and ``months`` is the full list of week Mondays 'YYYY-MM-DD'
    (:func:`weeks_between`); ``min_pre``/``min_post`` default to 52/26 weeks (12/6 months) and
    ``simple_window`` to 52 weeks (12 months).

    ``cell_month``: h3 (uint64), month 'YYYY-MM', count; only non-zero pairs are needed.
    ``hotspot_cells``: h3, hotspot_id, hotspot_name. ``study_cells``: h3, district, csp for every
    cell of the study area. ``months``: the full month range, zeros included. ``intervention``:
    'YYYY-MM-DD' (see :func:`first_post_month`). ``pool_ci``: 'hk' (default: DerSimonian-Laird
    tau² with the Hartung-Knapp interval, t(k - 1); in benchmarks/bench_its_coverage.py it covered
    97% against 91% for the normal interval over 19 simulated hotspots) or 'z' (the plain
    DerSimonian-Laird normal interval) for the pooled rows. Fitting problems never raise: they become NaN
    figures with a ``message``. Malformed arguments raise :class:`InputError`.
    """
    if period not in PERIODS:
        raise InputError(f"period: expected month or week, got '{period}'")
    period_length, default_pre, default_post, default_window = PERIOD_DEFAULTS[period]
    min_pre = default_pre if min_pre is None else min_pre
    min_post = default_post if min_post is None else min_post
    simple_window = default_window if simple_window is None else simple_window
    if period == "week":
        if "week" in cell_month.columns:
            cell_month = cell_month.rename(columns={"month": "calendar_month"}).rename(columns={"week": "month"})
    unit = "months" if period == "month" else "weeks"
    _require(cell_month, ("h3", "month", "count"), "cell-month counts" if period == "month" else "cell-week counts")
    _require(hotspot_cells, ("h3", "hotspot_id"), "hotspot cells")
    _require(study_cells, ("h3", "csp"), "study-area cells")
    if period == "month":
        months = [parse_month(m, "months") for m in months]
    else:
        months = [_parse_week(m, "weeks") for m in months]
    if months != sorted(set(months)):
        raise InputError(f"{unit}: must be sorted, without repeats")
    if buffer_k < 1:
        raise InputError(f"buffer: k must be at least 1, got {buffer_k}")
    if pool_ci not in ("z", "hk"):
        raise InputError(f"pooled interval: expected z or hk, got '{pool_ci}'")
    if comparison not in ("matched", "csp"):
        raise InputError(f"comparison: expected matched or csp, got '{comparison}'")
    post_month = first_post_month(intervention) if period == "month" else first_post_week(intervention)
    t0 = int(sum(m < post_month for m in months))
    n_months = len(months)

    # Cell universe: the study area plus any hotspot cell that lies outside it.
    study = study_cells[["h3", "csp"]].copy()
    study["h3"] = as_cells(study["h3"])
    hotspots = hotspot_cells.copy()
    hotspots["h3"] = as_cells(hotspots["h3"])
    hotspots["hotspot_id"] = hotspots["hotspot_id"].astype(str)
    if "hotspot_name" not in hotspots.columns:
        hotspots["hotspot_name"] = hotspots["hotspot_id"]
    extra_cells = np.setdiff1d(hotspots["h3"].to_numpy(), study["h3"].to_numpy())
    universe = np.concatenate([study["h3"].to_numpy(), extra_cells])
    universe, first_index = np.unique(universe, return_index=True)
    csp_of = np.concatenate([study["csp"].astype(object).to_numpy(), np.full(len(extra_cells), None, dtype=object)])[first_index]
    row_of = pd.Series(np.arange(len(universe)), index=universe)

    # Dense (cell x month) counts: a few thousand cells x a few dozen months.
    counts = np.zeros((len(universe), n_months))
    month_pos = pd.Series(np.arange(n_months), index=months)
    cm = cell_month[["h3", "month", "count"]]
    cm = cm[cm["month"].astype(str).isin(month_pos.index)]
    cell_values = as_cells(cm["h3"])
    inside = np.isin(cell_values, universe)
    rows = row_of.reindex(cell_values[inside]).to_numpy()
    cols = month_pos.reindex(cm["month"].astype(str).to_numpy()[inside]).to_numpy()
    np.add.at(counts, (rows, cols), cm["count"].to_numpy(dtype=float)[inside])

    hotspot_ids = list(dict.fromkeys(hotspots["hotspot_id"]))
    rows_of_hotspot = {h: np.unique(row_of.reindex(hotspots.loc[hotspots["hotspot_id"] == h, "h3"].to_numpy()).to_numpy())
                       for h in hotspot_ids}
    names = hotspots.drop_duplicates("hotspot_id").set_index("hotspot_id")["hotspot_name"].astype(str)
    is_hotspot = np.zeros(len(universe), dtype=bool)
    for r in rows_of_hotspot.values():
        is_hotspot[r] = True

    source, target = ring_neighbours(universe, buffer_k)
    buffers: dict[str, np.ndarray] = {}
    for h, r in rows_of_hotspot.items():
        ring = np.unique(target[np.isin(source, r)])
        buffers[h] = ring[~is_hotspot[ring]]
    in_any_buffer = np.zeros(len(universe), dtype=bool)
    for b in buffers.values():
        in_any_buffer[b] = True
    free = ~is_hotspot & ~in_any_buffer

    window = max(0, min(simple_window, t0, n_months - t0))
    records: list[dict] = []
    fits: dict[str, ItsResult] = {}
    controlled: dict[str, ItsResult] = {}
    displacement: dict[str, Wdq] = {}
    comparison_rows_all: list[np.ndarray] = []
    control_rows_all: list[np.ndarray] = []
    series_columns: dict[str, np.ndarray] = {}
    its_kwargs: dict = dict(model=model, impact=impact, seasonal_pairs=seasonal_pairs, min_pre=min_pre, min_post=min_post,
                      period_length=period_length)

    def describe_series(series: np.ndarray) -> dict:
        pre_total, post_total = _window_sums(series, t0, window)
        return {
            "months_pre": t0, "months_post": n_months - t0,
            "mean_pre": float(series[:t0].mean()) if t0 else float("nan"),
            "mean_post": float(series[t0:].mean()) if n_months > t0 else float("nan"),
            "simple_window": window, "simple_pre": pre_total, "simple_post": post_total,
            "simple_change_pct": simple_change(series[t0 - window:t0], series[t0:t0 + window]) if window else float("nan"),
        }

    def wdq_columns(target_rows, buffer_rows, control_rows) -> tuple[Wdq, dict]:
        a0, a1 = _window_sums(counts[target_rows].sum(axis=0), t0, window)
        b0, b1 = _window_sums(counts[buffer_rows].sum(axis=0), t0, window)
        c0, c1 = _window_sums(counts[control_rows].sum(axis=0), t0, window)
        if window == 0:
            result = Wdq(float("nan"), float("nan"), float("nan"), f"WDQ undefined: no {unit} before or after.",
                         f"there are no {unit} on one side of the intervention")
        elif len(control_rows) == 0:
            result = Wdq(float("nan"), float("nan"), float("nan"), "WDQ undefined: no control area.",
                         "the CSP has no cells left outside the hotspots and buffers to act as control")
        else:
            result = wdq(a0, a1, b0, b1, c0, c1)
        return result, {"wdq": result.wdq, "wdq_sm": result.sm, "wdq_bdm": result.bdm,
                        "wdq_note": result.undefined_reason or "", "wdq_reading": result.reading,
                        "buffer_cells": len(buffer_rows), "control_cells": len(control_rows)}

    for h in hotspot_ids:
        r = rows_of_hotspot[h]
        series = counts[r].sum(axis=0)
        series_columns[h] = series
        csps = sorted({c for c in csp_of[r] if pd.notna(c)})
        control_rows = np.flatnonzero(free & np.isin(csp_of, csps)) if csps else np.array([], dtype=int)
        control_rows_all.append(control_rows)
        fit = fit_its(series, months, t0, **its_kwargs)
        fits[h] = fit
        comp_rows = _matched_comparison(counts, control_rows, r, t0) if comparison == "matched" else control_rows
        comp_kind = comparison
        cits = controlled_its(series, counts[comp_rows].sum(axis=0), months, t0, **its_kwargs)
        if not cits.ok and comparison == "matched" and len(comp_rows) < len(control_rows):
            # A thin matched comparison (zeros in one period) falls back to the whole CSP remainder.
            comp_rows, comp_kind = control_rows, "csp"
            cits = controlled_its(series, counts[comp_rows].sum(axis=0), months, t0, **its_kwargs)
        controlled[h] = cits
        comparison_rows_all.append(comp_rows)
        displacement[h], wdq_cols = wdq_columns(r, buffers[h], control_rows)
        messages = [m for m in (fit.message, f"controlled ITS: {cits.message}" if cits.message else "") if m]
        if not csps:
            messages.append("the hotspot lies outside the study area, so it has no CSP for a control area")
        records.append({
            "hotspot_id": h, "hotspot_name": names.get(h, h), "cells": len(r), "csp": "; ".join(csps),
            **describe_series(series), **_its_columns(fit),
            "slope_change_pct": fit.slope_change_pct_per_period, "its_model": fit.model, "impact": fit.impact,
            "post_vs_counterfactual_pct": fit.post_vs_counterfactual_pct,
            **_its_columns(cits, "cits_"), "comparison": comp_kind, "comparison_cells": len(comp_rows),
            **wdq_cols, "message": "; ".join(messages),
        })

    # Pooled row: random-effects pool of the hotspot effects, plus one model of the summed series.
    all_rows = np.flatnonzero(is_hotspot)
    total = counts[all_rows].sum(axis=0) if len(all_rows) else np.zeros(n_months)
    series_columns[POOLED_ID] = total
    pooled = pool_random_effects(np.array([f.log_effect for f in fits.values()]),
                                 np.array([f.log_effect_se for f in fits.values()]), ci=pool_ci)
    pooled_cits = pool_random_effects(np.array([f.log_effect for f in controlled.values()]),
                                      np.array([f.log_effect_se for f in controlled.values()]), ci=pool_ci)
    aggregate = fit_its(total, months, t0, **its_kwargs)
    union_comparison = np.unique(np.concatenate(comparison_rows_all)) if comparison_rows_all else np.array([], dtype=int)
    aggregate_cits = controlled_its(total, counts[union_comparison].sum(axis=0), months, t0, **its_kwargs)
    union_buffer = np.flatnonzero(in_any_buffer)
    union_control = np.unique(np.concatenate(control_rows_all)) if control_rows_all else np.array([], dtype=int)
    displacement[POOLED_ID], pooled_wdq = wdq_columns(all_rows, union_buffer, union_control)
    pooled_messages = []
    if pooled.k < len(hotspot_ids):
        pooled_messages.append(f"{len(hotspot_ids) - pooled.k} of {len(hotspot_ids)} hotspots had no model and are left out of the pool")
    if pooled.k == 0:
        pooled_messages.append("no hotspot could be modelled, so there is nothing to pool")
    if not aggregate.ok:
        pooled_messages.append(f"summed series: {aggregate.message}")
    records.append({
        "hotspot_id": POOLED_ID, "hotspot_name": "All hotspots", "cells": len(all_rows),
        "csp": "; ".join(sorted({c for c in csp_of[all_rows] if pd.notna(c)})),
        **describe_series(total),
        "its_change_pct": pooled.pct, "ci_low_pct": pooled.ci_low_pct, "ci_high_pct": pooled.ci_high_pct,
        "p_value": pooled.p_value, "i2": pooled.i2, "tau2": pooled.tau2, "k_pooled": pooled.k,
        "aggregate_its_change_pct": aggregate.level_change_pct if aggregate.impact != "slope" else aggregate.slope_change_pct_per_period,
        "aggregate_ci_low_pct": aggregate.ci_low_pct if aggregate.impact != "slope" else aggregate.slope_ci_low_pct,
        "aggregate_ci_high_pct": aggregate.ci_high_pct if aggregate.impact != "slope" else aggregate.slope_ci_high_pct,
        "aggregate_p_value": aggregate.p_value if aggregate.impact != "slope" else aggregate.slope_p_value,
        "slope_change_pct": aggregate.slope_change_pct_per_period, "its_model": model, "impact": impact,
        "post_vs_counterfactual_pct": aggregate.post_vs_counterfactual_pct,
        "cits_change_pct": pooled_cits.pct, "cits_ci_low_pct": pooled_cits.ci_low_pct,
        "cits_ci_high_pct": pooled_cits.ci_high_pct, "cits_p_value": pooled_cits.p_value,
        **{f"aggregate_{k}": v for k, v in _its_columns(aggregate_cits, "cits_").items()},
        "comparison": comparison, "comparison_cells": len(union_comparison),
        **pooled_wdq, "message": "; ".join(pooled_messages),
    })
    columns = [
        "hotspot_id", "hotspot_name", "cells", "csp", "months_pre", "months_post", "mean_pre", "mean_post",
        "simple_window", "simple_pre", "simple_post", "simple_change_pct",
        "its_change_pct", "ci_low_pct", "ci_high_pct", "p_value", "slope_change_pct", "post_vs_counterfactual_pct",
        "its_model", "impact", "i2", "tau2", "k_pooled",
        "aggregate_its_change_pct", "aggregate_ci_low_pct", "aggregate_ci_high_pct", "aggregate_p_value",
        "cits_change_pct", "cits_ci_low_pct", "cits_ci_high_pct", "cits_p_value",
        "aggregate_cits_change_pct", "aggregate_cits_ci_low_pct", "aggregate_cits_ci_high_pct", "aggregate_cits_p_value",
        "comparison", "comparison_cells",
        "wdq", "wdq_sm", "wdq_bdm", "wdq_note", "wdq_reading", "buffer_cells", "control_cells", "message",
    ]
    table = pd.DataFrame.from_records(records).reindex(columns=columns)
    table["hotspot_id"] = table["hotspot_id"].astype(str)
    float_columns = [c for c in columns if c.endswith(("_pct", "_value", "mean_pre", "mean_post")) or c in ("wdq", "wdq_sm", "wdq_bdm", "i2", "tau2")]
    table[float_columns] = table[float_columns].astype(float)
    table["slope_change_pct"] = table["slope_change_pct"].astype(float)
    for c in ("wdq_note", "wdq_reading", "message", "csp", "comparison", "its_model", "impact"):
        table[c] = table[c].fillna("").astype(str)

    description = aggregate.description or (next((f.description for f in fits.values() if f.ok), ""))
    first_after = f"{unit} from {post_month}" if period == "month" else f"weeks from the week of Monday {post_month}"
    notes = [
        f"Intervention {intervention}: {first_after} count as after ({n_months - t0} {unit}), "
        f"{t0} {unit} before."
        + (" Weekly analysis: a week only partly after the intervention counts as before; the "
           "monthly column names (months_pre, months_post, simple_window) count weeks." if period == "week" else ""),
        f"Simple change: total of the first {window} {unit} after vs the last {window} {unit} before, "
        "as in the annual report; it does not allow for trend, season or chance.",
        "Pooled row: its_change_pct is a random-effects (DerSimonian-Laird) pool of the hotspot effects"
        + (" with a Hartung-Knapp interval; " if pool_ci == "hk" else "; ") +
        "aggregate_its_change_pct is one model of the summed series of all hotspots.",
        ("Controlled ITS: comparison = the rest of each hotspot's CSP outside every hotspot and buffer."
         if comparison == "csp" else
         "Controlled ITS: comparison = CSP cells with pre-period levels like the hotspot's; cells chosen for "
         "high counts tend to fall back afterwards (regression to the mean), which biases the difference upward."),
        f"Displacement: buffer = {buffer_k}-ring of cells around each hotspot; control = the rest of the "
        "hotspot's CSP outside every hotspot and buffer.",
    ]
    series = pd.DataFrame(series_columns, index=pd.Index(months, name=period))
    return ImpactResult(table=table, fits=fits, controlled=controlled, displacement=displacement,
                        aggregate=aggregate, aggregate_controlled=aggregate_cits, pooled=pooled,
                        pooled_controlled=pooled_cits, series=series, months=months,
                        intervention_month=post_month, intervention_index=t0, description=description,
                        notes=notes, period=period)
