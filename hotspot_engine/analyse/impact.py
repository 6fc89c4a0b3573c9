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
- ``corrected_change_pct``, ``corrected_ci_low_pct``, ``corrected_ci_high_pct``,
  ``corrected_p_value``: the estimate corrected for regression to the mean (see
  :mod:`hotspot_engine.analyse.rtm`): the hotspot beside its CSP comparison, with the months the
  hotspots were chosen on (``selection_window``) left out of the baseline (``baseline_months``).
  This is the figure to lead with; ``its_change_pct`` (uncorrected ITS) and ``simple_change_pct``
  (plain before/after) stay beside it, labelled. The pooled row pools the hotspots' corrected
  effects (random effects, Hartung-Knapp), its variance adding the covariance of hotspots that share
  comparison cells (:func:`hotspot_engine.analyse.rtm.shared_comparison_covariance`);
- ``corrected_mde_pct``: the smallest fall (a positive %) the corrected estimate would detect with
  80% power at 5% two-sided, from its standard error (about 2.8 SE on the log scale; Hartung-Knapp
  t quantiles for the pooled row). When the interval includes zero the page says "cannot tell a fall
  of X% from none" with this X, never "no effect";
- ``pretrend_pct``, ``pretrend_low_pct``, ``pretrend_high_pct``: the parallel-trends check beside the
  corrected estimate: the hotspot's baseline trend minus its comparison's, % per year, with its 95%
  interval (:func:`hotspot_engine.analyse.rtm.pretrend_difference`; random-effects pool in the
  pooled row); ``pretrend_note`` why it is missing;
- ``wdq_low``/``wdq_high``, ``sm_low``/``sm_high``: 95% intervals of the WDQ and its success measure
  from Poisson redraws (the WDQ's only when SM's lies below zero); ``wdq_reading`` reads the WDQ
  only when the success measure's interval lies below zero;
- ``tne``/``tne_low``/``tne_high``: Total Net Effect (Guerette & Bowers 2009), incidents fewer than
  expected in hotspot and buffer over the whole after-period, from the corrected counterfactual of
  hotspot + buffer against the same CSP comparison (:func:`hotspot_engine.analyse.displacement.net_effect`);
  ``tne_reading`` is empty when it may be read (the corrected effect and the TNE interval both beyond
  chance) and otherwise says why not: the figure is gated like the WDQ;
- ``message``: why a figure is missing, in plain English (empty when all went well).

Hotspots of police forces whose stored months differ (``months_of``): each hotspot's row is fitted
on the unbroken run of months its own force holds, on a panel of the hotspots of that run alone
(their place variance estimated among them), so its figures are those of a store of its force only
(tests/test_impact_gaps.py). The pooled ``its``/``cits``/``corrected`` figures and the parallel-trends
check pool those own effects (hotspots of different forces share no CSP, so no comparison cells: their
corrected effects' covariance is zero), and ``tne`` sums the hotspots' own. What needs one run of months
for every hotspot keeps the months all their forces hold, and the note beginning
:data:`OWN_MONTHS_NOTE` says so: the pooled row's months_pre/months_post, means, plain before/after and
WDQ, and the summed-series models (``aggregate_*``, the pooled chart). On Cleveland 2021 + Durham
2021-10..12 at 2021-12-01 every hotspot had been cut to Durham's 2 months before; now Cleveland's 16
keep their 11 (8 outside a 2021-09..11 selection window), and with the minimums lowered to 6 before
and 1 after the corrected pool, none before, is +103% (95% -11% to +363%) over 8 Cleveland hotspots.

Weekly analysis (``period='week'``): the same table from (cell, week) counts, weeks labelled by
their Monday ('YYYY-MM-DD', ISO weeks). The column names keep "months" for a stable contract, but
then ``months_pre``/``months_post``/``mean_*``/``simple_window`` count weeks; seasonality has a
52.18-week period, at least 52 weeks before and 26 after are required by default, and the simple
change compares 52 weeks after with 52 before. A partly treated week counts as before, as a partly
treated month does: the first week after is the one starting on the intervention date when that is
a Monday, otherwise the following Monday (see :func:`first_post_week`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from hotspot_engine.analyse.displacement import NetEffect, Wdq, WdqInterval, net_effect, wdq, wdq_interval
from hotspot_engine.analyse.its import (
    WEEKS_PER_YEAR,
    ItsResult,
    Pooled,
    controlled_its,
    fit_its,
    pool_random_effects,
    simple_change,
)
from hotspot_engine.analyse.rtm import (
    PlaceVariance,
    PreTrend,
    corrected_its,
    minimum_detectable_fall,
    place_variance,
    pretrend_difference,
    shared_comparison_covariance,
)
from hotspot_engine.errors import InputError
from hotspot_engine.filters import parse_month, shift_month
from hotspot_engine.reference.geography import ring_neighbours

POOLED_ID = "pooled"
PERIODS = ("month", "week")
# Per period: (seasonal period length, min before, min after, simple-change window), all in periods.
PERIOD_DEFAULTS = {"month": (12.0, 12, 6, 12), "week": (WEEKS_PER_YEAR, 52, 26, 52)}
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class ImpactOptions:
    """How the impact table is made. ``None`` fields take the period's default (see
    :data:`PERIOD_DEFAULTS`). ``selection_window``: first and last month ('YYYY-MM') of the window
    the hotspots were chosen on; ``None`` assumes the 12 months (52 weeks) before the intervention,
    the usual choice and what ``impact`` does without ``--hotspots``."""

    model: str = "negbin"
    buffer_k: int = 1
    simple_window: int | None = None
    impact: str = "level"
    comparison: str = "csp"
    seasonal_pairs: int = 2
    min_pre: int | None = None
    min_post: int | None = None
    pool_ci: str = "hk"
    period: str = "month"
    selection_window: tuple[str, str] | None = None

    def resolved(self) -> ImpactOptions:
        """Checked options with the period's defaults filled in; raises :class:`InputError`."""
        if self.period not in PERIODS:
            raise InputError(f"period: expected month or week, got '{self.period}'")
        if self.buffer_k < 1:
            raise InputError(f"buffer: k must be at least 1, got {self.buffer_k}")
        if self.pool_ci not in ("z", "hk"):
            raise InputError(f"pooled interval: expected z or hk, got '{self.pool_ci}'")
        if self.comparison not in ("matched", "csp"):
            raise InputError(f"comparison: expected matched or csp, got '{self.comparison}'")
        if self.selection_window is not None:
            first, last = (parse_month(m, "selection window") for m in self.selection_window)
            if first > last:
                raise InputError("selection window: the first month is after the last")
        _, pre, post, window = PERIOD_DEFAULTS[self.period]
        return replace(self, min_pre=pre if self.min_pre is None else self.min_pre,
                       min_post=post if self.min_post is None else self.min_post,
                       simple_window=window if self.simple_window is None else self.simple_window)

    @property
    def period_length(self) -> float:
        return PERIOD_DEFAULTS[self.period][0]

    @property
    def unit(self) -> str:
        return "months" if self.period == "month" else "weeks"

    def its_kwargs(self) -> dict:
        return dict(model=self.model, impact=self.impact, seasonal_pairs=self.seasonal_pairs, min_pre=self.min_pre,
                    min_post=self.min_post, period_length=self.period_length)


@dataclass(frozen=True, eq=False)
class ImpactResult:
    """``table``: see the module docstring. ``fits``/``controlled``/``corrected``/``displacement``/
    ``wdq_intervals`` are keyed by hotspot_id (as str); ``aggregate`` is the ITS of the summed
    hotspot series, ``aggregate_controlled`` its controlled version and ``aggregate_corrected`` its
    corrected version (for the pooled chart); ``pooled``/``pooled_controlled``/``pooled_corrected``
    the random-effects pools; ``series`` the counts (index period, one column per hotspot_id plus
    ``pooled`` for the sum). ``selection_window``: the months the hotspots were chosen on (first,
    last) and ``selection_assumed`` whether that was assumed rather than told. With
    ``period='week'``, ``months`` holds week Mondays 'YYYY-MM-DD' and ``intervention_month`` the
    first week after. ``placebo`` is filled by the caller (see :func:`placebo_summary`)."""

    table: pd.DataFrame
    fits: dict[str, ItsResult]
    controlled: dict[str, ItsResult]
    corrected: dict[str, ItsResult]
    displacement: dict[str, Wdq]
    wdq_intervals: dict[str, WdqInterval]
    aggregate: ItsResult
    aggregate_controlled: ItsResult
    aggregate_corrected: ItsResult
    pooled: Pooled
    pooled_controlled: Pooled
    pooled_corrected: Pooled
    place_variance: PlaceVariance
    series: pd.DataFrame
    months: list[str]
    intervention_month: str
    intervention_index: int
    description: str
    selection_window: tuple[str, str] = ("", "")
    selection_assumed: bool = True
    notes: list[str] = field(default_factory=list)
    period: str = "month"
    placebo: list = field(default_factory=list)


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




@dataclass(frozen=True, eq=False)
class _Panel:
    """Dense (cell x period) counts and the hotspot layout every step works from."""

    months: list[str]
    t0: int
    post_label: str
    counts: np.ndarray
    csp_of: np.ndarray
    rows_of_hotspot: dict[str, np.ndarray]
    names: pd.Series
    buffers: dict[str, np.ndarray]
    is_hotspot: np.ndarray
    in_any_buffer: np.ndarray
    window: int
    selected: np.ndarray
    selection_window: tuple[str, str]

    @property
    def n(self) -> int:
        return len(self.months)

    @property
    def free(self) -> np.ndarray:
        return ~self.is_hotspot & ~self.in_any_buffer

    def csps(self, rows: np.ndarray) -> list[str]:
        return sorted({c for c in self.csp_of[rows] if c is not None and c == c})

    def control_rows(self, rows: np.ndarray) -> np.ndarray:
        """The rest of the hotspot's CSP(s) outside every hotspot and buffer."""
        csps = self.csps(rows)
        return np.flatnonzero(self.free & np.isin(self.csp_of, csps)) if csps else np.array([], dtype=int)


def _checked_inputs(cell_month: pd.DataFrame, hotspot_cells: pd.DataFrame, study_cells: pd.DataFrame,
                    months: list[str], options: ImpactOptions) -> tuple[pd.DataFrame, list[str]]:
    if options.period == "week" and "week" in cell_month.columns:
        cell_month = cell_month.rename(columns={"month": "calendar_month"}).rename(columns={"week": "month"})
    _require(cell_month, ("h3", "month", "count"), "cell-month counts" if options.period == "month" else "cell-week counts")
    _require(hotspot_cells, ("h3", "hotspot_id"), "hotspot cells")
    _require(study_cells, ("h3", "csp"), "study-area cells")
    if options.period == "month":
        months = [parse_month(m, "months") for m in months]
    else:
        months = [_parse_week(m, "weeks") for m in months]
    if months != sorted(set(months)):
        raise InputError(f"{options.unit}: must be sorted, without repeats")
    return cell_month, months


def _dense_counts(cell_month: pd.DataFrame, hotspots: pd.DataFrame, study_cells: pd.DataFrame,
                  months: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Series]:
    """Cell universe (the study area plus any hotspot cell outside it), each cell's CSP, the dense
    (cell x period) counts (a few thousand cells x a few dozen periods) and the row of each cell."""
    study = study_cells[["h3", "csp"]].copy()
    study["h3"] = as_cells(study["h3"])
    extra_cells = np.setdiff1d(hotspots["h3"].to_numpy(), study["h3"].to_numpy())
    universe = np.concatenate([study["h3"].to_numpy(), extra_cells])
    universe, first_index = np.unique(universe, return_index=True)
    csp_of = np.concatenate([study["csp"].astype(object).to_numpy(),
                             np.full(len(extra_cells), None, dtype=object)])[first_index]
    row_of = pd.Series(np.arange(len(universe)), index=universe)
    counts = np.zeros((len(universe), len(months)))
    month_pos = pd.Series(np.arange(len(months)), index=months)
    cm = cell_month[["h3", "month", "count"]]
    cm = cm[cm["month"].astype(str).isin(month_pos.index)]
    cell_values = as_cells(cm["h3"])
    inside = np.isin(cell_values, universe)
    rows = row_of.reindex(cell_values[inside]).to_numpy()
    cols = month_pos.reindex(cm["month"].astype(str).to_numpy()[inside]).to_numpy()
    np.add.at(counts, (rows, cols), cm["count"].to_numpy(dtype=float)[inside])
    return universe, csp_of, counts, row_of


def _selection_mask(months: list[str], t0: int, options: ImpactOptions) -> tuple[np.ndarray, tuple[str, str]]:
    """Periods inside the window the hotspots were chosen on (a week counts when any of its days is
    in the window's months); without a window, the year before the intervention."""
    n = len(months)
    if options.selection_window is None:
        length = int(round(options.period_length))
        mask = (np.arange(n) >= t0 - length) & (np.arange(n) < t0)
        chosen = [months[i] for i in np.flatnonzero(mask)]
        label = (chosen[0][:7], chosen[-1][:7]) if chosen else ("", "")
        return mask, label
    first, last = options.selection_window
    # The label names only months the data hold: a window assumed as "the year before" can begin before
    # the first stored month (issue 27: "a bad year (2024-07 to 2025-06)" on data from 2025-01).
    label = (max(first, months[0][:7]), last) if months and months[0][:7] <= last else (first, last)
    if options.period == "month":
        return np.array([first <= m <= last for m in months], dtype=bool), label
    start = pd.Timestamp(first + "-01")
    end = pd.Timestamp(last + "-01") + pd.offsets.MonthEnd(0)
    mondays = pd.to_datetime(pd.Series(months))
    return ((mondays + pd.Timedelta(days=6) >= start) & (mondays <= end)).to_numpy(), label


def build_panel(cell_month: pd.DataFrame, hotspot_cells: pd.DataFrame, study_cells: pd.DataFrame,
                months: list[str], intervention: str, options: ImpactOptions) -> _Panel:
    """Everything the impact steps share: counts, hotspots, buffers, windows. Raises InputError."""
    cell_month, months = _checked_inputs(cell_month, hotspot_cells, study_cells, months, options)
    post_label = first_post_month(intervention) if options.period == "month" else first_post_week(intervention)
    t0 = int(sum(m < post_label for m in months))
    hotspots = hotspot_cells.copy()
    hotspots["h3"] = as_cells(hotspots["h3"])
    hotspots["hotspot_id"] = hotspots["hotspot_id"].astype(str)
    if "hotspot_name" not in hotspots.columns:
        hotspots["hotspot_name"] = hotspots["hotspot_id"]
    universe, csp_of, counts, row_of = _dense_counts(cell_month, hotspots, study_cells, months)
    hotspot_ids = list(dict.fromkeys(hotspots["hotspot_id"]))
    rows_of_hotspot = {h: np.unique(row_of.reindex(hotspots.loc[hotspots["hotspot_id"] == h, "h3"].to_numpy()).to_numpy())
                       for h in hotspot_ids}
    is_hotspot = np.zeros(len(universe), dtype=bool)
    for r in rows_of_hotspot.values():
        is_hotspot[r] = True
    source, target = ring_neighbours(universe, options.buffer_k)
    buffers = {}
    for h, r in rows_of_hotspot.items():
        ring = np.unique(target[np.isin(source, r)])
        buffers[h] = ring[~is_hotspot[ring]]
    in_any_buffer = np.zeros(len(universe), dtype=bool)
    for b in buffers.values():
        in_any_buffer[b] = True
    selected, window_label = _selection_mask(months, t0, options)
    return _Panel(months=months, t0=t0, post_label=post_label, counts=counts, csp_of=csp_of,
                  rows_of_hotspot=rows_of_hotspot,
                  names=hotspots.drop_duplicates("hotspot_id").set_index("hotspot_id")["hotspot_name"].astype(str),
                  buffers=buffers, is_hotspot=is_hotspot, in_any_buffer=in_any_buffer,
                  window=max(0, min(int(options.simple_window or 0), t0, len(months) - t0)),
                  selected=selected, selection_window=window_label)


def _describe_series(panel: _Panel, series: np.ndarray) -> dict:
    t0, n, window = panel.t0, panel.n, panel.window
    pre_total, post_total = _window_sums(series, t0, window)
    return {
        "months_pre": t0, "months_post": n - t0,
        "mean_pre": float(series[:t0].mean()) if t0 else float("nan"),
        "mean_post": float(series[t0:].mean()) if n > t0 else float("nan"),
        "simple_window": window, "simple_pre": pre_total, "simple_post": post_total,
        "simple_change_pct": simple_change(series[t0 - window:t0], series[t0:t0 + window]) if window else float("nan"),
        "baseline_months": int((~panel.selected[:t0]).sum()),
        "selection_window": " to ".join(panel.selection_window) if panel.selection_window[0] else "",
    }


def _wdq_columns(panel: _Panel, target: np.ndarray, buffer: np.ndarray, control: np.ndarray,
                 unit: str) -> tuple[Wdq, WdqInterval, dict]:
    """WDQ over the simple-change windows, with Poisson-redraw intervals and Total Net Effect."""
    t0, window, counts = panel.t0, panel.window, panel.counts
    a0, a1 = _window_sums(counts[target].sum(axis=0), t0, window)
    b0, b1 = _window_sums(counts[buffer].sum(axis=0), t0, window)
    c0, c1 = _window_sums(counts[control].sum(axis=0), t0, window)
    nan = float("nan")
    if window == 0:
        result = Wdq(nan, nan, nan, f"WDQ undefined: no {unit} before or after.",
                     f"there are no {unit} on one side of the intervention")
    elif len(control) == 0:
        result = Wdq(nan, nan, nan, "WDQ undefined: no control area.",
                     "the CSP has no cells left outside the hotspots and buffers to act as control")
    else:
        result = wdq(a0, a1, b0, b1, c0, c1)
    interval = (wdq_interval(a0, a1, b0, b1, c0, c1) if result.defined
                else WdqInterval(nan, nan, nan, nan, False, result.reading))
    return result, interval, {
        "wdq": result.wdq, "wdq_low": interval.wdq_low, "wdq_high": interval.wdq_high,
        "wdq_sm": result.sm, "sm_low": interval.sm_low, "sm_high": interval.sm_high, "wdq_bdm": result.bdm,
        "wdq_note": result.undefined_reason or "", "wdq_reading": interval.reading,
        "buffer_cells": len(buffer), "control_cells": len(control)}


NO_EFFECT_READING = ("No reading: the effect corrected for regression to the mean is within chance (its 95% interval "
                     "includes zero), so there is no effect to be displaced.")


NO_ESTIMATE_READING = ("No reading: there is no effect corrected for regression to the mean (see the message), so "
                       "nothing to read displacement against.")


def _read_only_if_significant(wdq_cols: dict, p_value: float) -> dict:
    """The WDQ is read only when the corrected effect itself is beyond chance: its success measure is
    a plain before/after against the control, which counts regression to the mean as success."""
    if np.isnan(p_value):  # "within chance" would claim an interval that was never estimated
        return {**wdq_cols, "wdq_reading": NO_ESTIMATE_READING}
    if not p_value < 0.05:
        return {**wdq_cols, "wdq_reading": NO_EFFECT_READING}
    return wdq_cols


def _effect_columns(result: ItsResult, prefix: str) -> dict:
    return {f"{prefix}change_pct": result.level_change_pct, f"{prefix}ci_low_pct": result.ci_low_pct,
            f"{prefix}ci_high_pct": result.ci_high_pct, f"{prefix}p_value": result.p_value}


def _pool_columns(pooled: Pooled, prefix: str) -> dict:
    return {f"{prefix}change_pct": pooled.pct, f"{prefix}ci_low_pct": pooled.ci_low_pct,
            f"{prefix}ci_high_pct": pooled.ci_high_pct, f"{prefix}p_value": pooled.p_value}


def _pool(fits: dict[str, ItsResult], ci: str, covariance: np.ndarray | None = None) -> Pooled:
    return pool_random_effects(np.array([f.log_effect for f in fits.values()]),
                               np.array([f.log_effect_se for f in fits.values()]), ci=ci, covariance=covariance)


@dataclass(frozen=True, eq=False)
class _HotspotFits:
    fit: ItsResult
    controlled: ItsResult
    corrected: ItsResult
    comparison_rows: np.ndarray
    comparison_kind: str
    control_rows: np.ndarray
    net: ItsResult
    pretrend: PreTrend


def _corrected(panel: _Panel, target: np.ndarray, control: np.ndarray, options: ImpactOptions,
               place_var: float) -> ItsResult:
    return corrected_its(target, control, panel.months, panel.t0, ~panel.selected, place_var, model=options.model,
                         seasonal_pairs=options.seasonal_pairs, period_length=options.period_length,
                         min_baseline=int(options.min_pre or 0))


def _fit_hotspot(panel: _Panel, rows: np.ndarray, buffer: np.ndarray, options: ImpactOptions,
                 place_var: float) -> _HotspotFits:
    """Uncorrected ITS, controlled ITS and the corrected estimate of one hotspot's series; the
    corrected model of hotspot + buffer (for the Total Net Effect) and the parallel-trends check."""
    series = panel.counts[rows].sum(axis=0)
    control = panel.control_rows(rows)
    kwargs = options.its_kwargs()
    fit = fit_its(series, panel.months, panel.t0, **kwargs)
    comp_rows = (_matched_comparison(panel.counts, control, rows, panel.t0) if options.comparison == "matched"
                 else control)
    comp_kind = options.comparison
    cits = controlled_its(series, panel.counts[comp_rows].sum(axis=0), panel.months, panel.t0, **kwargs)
    if not cits.ok and options.comparison == "matched" and len(comp_rows) < len(control):
        # A thin matched comparison (zeros in one period) falls back to the whole CSP remainder.
        comp_rows, comp_kind = control, "csp"
        cits = controlled_its(series, panel.counts[comp_rows].sum(axis=0), panel.months, panel.t0, **kwargs)
    comparison = panel.counts[control].sum(axis=0)
    corrected = _corrected(panel, series, comparison, options, place_var)
    net = _corrected(panel, series + panel.counts[buffer].sum(axis=0), comparison, options, place_var)
    pretrend = pretrend_difference(series, comparison, ~panel.selected[:panel.t0], place_var, options.period_length)
    return _HotspotFits(fit, cits, corrected, comp_rows, comp_kind, control, net, pretrend)


def _concentration(panel: _Panel, parts: list[np.ndarray]) -> float:
    """Sum of squared baseline shares of the places in a summed series: the share of one place's
    year-to-year variance the sum keeps. 1/k only when the k places are equal; with unequal
    hotspots the biggest dominate. Measured (benchmarks/bench_impact_rtm.py, no effect): with 1/k
    the summed series' Total Net Effect interval excluded zero in 12.5% of 40 runs."""
    totals = np.array([panel.counts[rows, :panel.t0].sum() for rows in parts], dtype=float)
    if totals.sum() <= 0:
        return 1.0 / max(len(parts), 1)
    shares = totals / totals.sum()
    return float(np.sum(shares**2))


def _pooled_tne(hotspots: list[dict], pooled: dict) -> dict:
    """All hotspots' Total Net Effect: the sum of theirs, its interval the sum of their interval ends
    (as if their errors moved together: hotspots of one CSP share its comparison series). Measured
    (benchmarks/bench_impact_rtm.py, 40 no-effect runs): one model of the summed series, even with
    the place variance weighted by size, excluded zero in 10% of runs; see the README for this form."""
    rows = [r for r in hotspots if math.isfinite(r["tne"]) and math.isfinite(r["tne_low"])]
    if not rows:
        return pooled
    low, high = sum(r["tne_low"] for r in rows), sum(r["tne_high"] for r in rows)
    reading = pooled["tne_reading"]
    if reading in ("", TNE_WITHIN_CHANCE) or reading.startswith("not estimable"):
        reading = TNE_WITHIN_CHANCE if low <= 0 <= high else ""
        if not pooled["corrected_p_value"] < 0.05:
            reading = "not read: the corrected effect is within chance"
    return {**pooled, "tne": sum(r["tne"] for r in rows), "tne_low": low, "tne_high": high, "tne_reading": reading}


TNE_WITHIN_CHANCE = "within chance: its 95% interval includes zero"


def _strength_columns(corrected: ItsResult, net: ItsResult, pretrend: PreTrend, log_se: float, dof: float,
                      after_total: float) -> dict:
    """Minimum detectable fall, parallel-trends check and the gated Total Net Effect of one row."""
    tne: NetEffect = net_effect(after_total, net.log_effect, net.log_effect_se)
    if not math.isfinite(tne.tne):
        reading = f"not estimable: {net.message}" if net.message else "not estimable"
    elif not (corrected.ok and corrected.p_value < 0.05):
        reading = "not read: the corrected effect is within chance"
    elif tne.low <= 0 <= tne.high:
        reading = TNE_WITHIN_CHANCE
    else:
        reading = ""
    return {"corrected_mde_pct": minimum_detectable_fall(log_se, dof), "pretrend_pct": pretrend.pct,
            "pretrend_low_pct": pretrend.low_pct, "pretrend_high_pct": pretrend.high_pct,
            "pretrend_note": pretrend.message, "tne": tne.tne, "tne_low": tne.low, "tne_high": tne.high,
            "tne_reading": reading}


def _hotspot_record(panel: _Panel, h: str, fits: _HotspotFits, wdq_cols: dict) -> dict:
    rows = panel.rows_of_hotspot[h]
    fit, cits, corrected = fits.fit, fits.controlled, fits.corrected
    messages = [m for m in (fit.message, f"controlled ITS: {cits.message}" if cits.message else "",
                            f"corrected estimate: {corrected.message}" if corrected.message else "") if m]
    csps = panel.csps(rows)
    if not csps:
        messages.append("the hotspot lies outside the study area, so it has no CSP for a control area")
    return {
        "hotspot_id": h, "hotspot_name": panel.names.get(h, h), "cells": len(rows), "csp": "; ".join(csps),
        **_describe_series(panel, panel.counts[rows].sum(axis=0)), **_its_columns(fit),
        **_effect_columns(corrected, "corrected_"),
        "slope_change_pct": fit.slope_change_pct_per_period, "its_model": fit.model, "impact": fit.impact,
        "post_vs_counterfactual_pct": fit.post_vs_counterfactual_pct,
        **_its_columns(cits, "cits_"), "comparison": fits.comparison_kind, "comparison_cells": len(fits.comparison_rows),
        **_read_only_if_significant(wdq_cols, corrected.p_value), "message": "; ".join(messages),
        **_strength_columns(corrected, fits.net, fits.pretrend, corrected.log_effect_se, math.inf,
                            float(fits.net.observed[panel.t0:].sum())),
    }


def _pooled_pretrend(fits: dict[str, _HotspotFits], ci: str) -> PreTrend:
    pool = pool_random_effects(np.array([f.pretrend.log_slope for f in fits.values()]),
                               np.array([f.pretrend.log_se for f in fits.values()]), ci=ci)
    if pool.k == 0:
        return PreTrend(*(float("nan"),) * 3, message="no hotspot has two years of baseline before the selection window")
    return PreTrend(pool.pct, pool.ci_low_pct, pool.ci_high_pct, pool.log_effect, pool.log_effect_se)


def _pooled_record(panel: _Panel, pools: dict[str, Pooled], aggregates: dict[str, ItsResult], n_hotspots: int,
                   options: ImpactOptions, comparison_cells: int, wdq_cols: dict, pretrend: PreTrend) -> dict:
    pooled, corrected, aggregate = pools["its"], pools["corrected"], aggregates["its"]
    messages = []
    if corrected.k == 0 and n_hotspots:
        messages.append(f"corrected estimate: {aggregates['corrected'].message or 'no hotspot could be corrected'}")
    if pooled.k < n_hotspots:
        messages.append(f"{n_hotspots - pooled.k} of {n_hotspots} hotspots had no model and are left out of the pool")
    if pooled.k == 0:
        messages.append("no hotspot could be modelled, so there is nothing to pool")
    if not aggregate.ok:
        messages.append(f"summed series: {aggregate.message}")
    all_rows = np.flatnonzero(panel.is_hotspot)
    return {
        "hotspot_id": POOLED_ID, "hotspot_name": "All hotspots", "cells": len(all_rows),
        "csp": "; ".join(panel.csps(all_rows)),
        **_describe_series(panel, panel.counts[all_rows].sum(axis=0) if len(all_rows) else np.zeros(panel.n)),
        "its_change_pct": pooled.pct, "ci_low_pct": pooled.ci_low_pct, "ci_high_pct": pooled.ci_high_pct,
        "p_value": pooled.p_value, "i2": pooled.i2, "tau2": pooled.tau2, "k_pooled": pooled.k,
        **_pool_columns(corrected, "corrected_"), "k_corrected": corrected.k,
        **{f"aggregate_{k}": v for k, v in _its_columns(aggregate).items()},
        "slope_change_pct": aggregate.slope_change_pct_per_period, "its_model": options.model, "impact": options.impact,
        "post_vs_counterfactual_pct": aggregate.post_vs_counterfactual_pct,
        **_pool_columns(pools["controlled"], "cits_"),
        **{f"aggregate_{k}": v for k, v in _its_columns(aggregates["controlled"], "cits_").items()},
        "comparison": options.comparison, "comparison_cells": comparison_cells,
        **_read_only_if_significant(wdq_cols, corrected.p_value), "message": "; ".join(messages),
        **_strength_columns(aggregates["corrected"] if corrected.k == 0 else _pooled_as_fit(corrected),
                            aggregates["net"], pretrend, corrected.log_effect_se,
                            float(corrected.k - 1) if options.pool_ci == "hk" and corrected.k > 1 else math.inf,
                            float(aggregates["net"].observed[panel.t0:].sum())),
    }


def _pooled_as_fit(pooled: Pooled) -> ItsResult:
    """The pooled corrected effect in the shape the gate reads (ok, p_value)."""
    return ItsResult(ok=math.isfinite(pooled.p_value), message="", model="", impact="level",
                     level_change_pct=pooled.pct, ci_low_pct=pooled.ci_low_pct, ci_high_pct=pooled.ci_high_pct,
                     p_value=pooled.p_value, slope_change_pct_per_period=None, slope_ci_low_pct=None,
                     slope_ci_high_pct=None, slope_p_value=None, periods=[], intervention_index=0,
                     observed=np.zeros(0), fitted=np.zeros(0), counterfactual=np.zeros(0), cf_low=np.zeros(0),
                     cf_high=np.zeros(0), log_effect=pooled.log_effect, log_effect_se=pooled.log_effect_se)


COLUMNS = [
    "hotspot_id", "hotspot_name", "cells", "csp", "months_pre", "months_post", "mean_pre", "mean_post",
    "simple_window", "simple_pre", "simple_post", "simple_change_pct",
    "its_change_pct", "ci_low_pct", "ci_high_pct", "p_value",
    "corrected_change_pct", "corrected_ci_low_pct", "corrected_ci_high_pct", "corrected_p_value",
    "corrected_mde_pct", "pretrend_pct", "pretrend_low_pct", "pretrend_high_pct", "pretrend_note",
    "selection_window", "baseline_months", "k_corrected",
    "slope_change_pct", "post_vs_counterfactual_pct", "its_model", "impact", "i2", "tau2", "k_pooled",
    "aggregate_its_change_pct", "aggregate_ci_low_pct", "aggregate_ci_high_pct", "aggregate_p_value",
    "cits_change_pct", "cits_ci_low_pct", "cits_ci_high_pct", "cits_p_value",
    "aggregate_cits_change_pct", "aggregate_cits_ci_low_pct", "aggregate_cits_ci_high_pct", "aggregate_cits_p_value",
    "comparison", "comparison_cells",
    "wdq", "wdq_low", "wdq_high", "wdq_sm", "sm_low", "sm_high", "wdq_bdm", "tne", "tne_low", "tne_high",
    "tne_reading", "wdq_note", "wdq_reading", "buffer_cells", "control_cells", "message",
]
TEXT_COLUMNS = ("wdq_note", "wdq_reading", "tne_reading", "pretrend_note", "message", "csp", "comparison", "its_model", "impact", "selection_window")


def _finish_table(records: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame.from_records(records).reindex(columns=COLUMNS)
    table["hotspot_id"] = table["hotspot_id"].astype(str)
    numeric = [c for c in COLUMNS if c.endswith(("_pct", "_value", "mean_pre", "mean_post", "_low", "_high"))
               or c in ("wdq", "wdq_sm", "wdq_bdm", "tne", "i2", "tau2")]
    table[numeric] = table[numeric].astype(float)
    for c in TEXT_COLUMNS:
        table[c] = table[c].fillna("").astype(str)
    return table


def published_table(table: pd.DataFrame) -> pd.DataFrame:
    """The impact table as written to files: ``wdq`` left empty where it has no interval (its success
    measure within chance), as the Impact page shows "not read". On the real Hampshire months the CSV
    kept quotients of -110.0 and +62.4 beside "No reading" (audit item 5): quotients of a near-zero
    success measure, which issue 17 measured reading "diffusion" by chance a third of the time.
    ``wdq_sm`` and ``wdq_reading`` keep what was measured and why no quotient is given."""
    out = table.copy()
    low, high = out["wdq_low"].to_numpy(dtype=float), out["wdq_high"].to_numpy(dtype=float)
    out["wdq"] = out["wdq"].where(np.isfinite(low) & np.isfinite(high))
    return out


def _notes(panel: _Panel, options: ImpactOptions, intervention: str, place_var: PlaceVariance,
           assumed: bool) -> list[str]:
    unit, t0, n = options.unit, panel.t0, panel.n
    first_after = (f"{unit} from {panel.post_label}" if options.period == "month"
                   else f"weeks from the week of Monday {panel.post_label}")
    window = " to ".join(panel.selection_window) if panel.selection_window[0] else "none before the intervention"
    return [
        f"Intervention {intervention}: {first_after} count as after ({n - t0} {unit}), {t0} {unit} before."
        + (" Weekly analysis: a week only partly after the intervention counts as before; the monthly column "
           "names (months_pre, months_post, simple_window) count weeks." if options.period == "week" else ""),
        f"Corrected estimate (lead with this): hotspots chosen on {window}"
        + (" (assumed: the year before the intervention; give the window if it was another)" if assumed else "")
        + f"; those {unit} are left out of the baseline and each hotspot is compared with the rest of its CSP, so "
        f"its fall back from a high year (regression to the mean) is not counted as an effect. Place-level "
        f"variation: {place_var.source}.",
        f"Uncorrected ITS (its_change_pct): the hotspot's own trend through every {unit[:-1]} before, the selection "
        "window included; it counts regression to the mean as an effect when hotspots were chosen on a high year.",
        f"Simple change (plain before/after): total of the first {panel.window} {unit} after vs the last "
        f"{panel.window} before, as in the annual report; it does not allow for trend, season, chance or "
        "regression to the mean.",
        "Pooled row: random-effects (DerSimonian-Laird) pools of the hotspot effects"
        + (" with Hartung-Knapp intervals; " if options.pool_ci == "hk" else "; ")
        + "the corrected pool allows for hotspots of one CSP sharing its comparison (their errors move together); "
        "aggregate_its_change_pct is one model of the summed series of all hotspots.",
        ("Controlled ITS: comparison = the rest of each hotspot's CSP outside every hotspot and buffer."
         if options.comparison == "csp" else
         "Controlled ITS: comparison = CSP cells with pre-period levels like the hotspot's; cells chosen for "
         "high counts tend to fall back afterwards (regression to the mean), which biases the difference upward."),
        f"Displacement: buffer = {options.buffer_k}-ring of cells around each hotspot; control = the rest of the "
        "hotspot's CSP outside every hotspot and buffer; intervals from Poisson redraws; a WDQ is read only when "
        "the hotspot's fall relative to the control is beyond chance.",
    ]


@dataclass(frozen=True, eq=False)
class _GroupFits:
    """The figures of the hotspots that share one run of periods: their panel, the place variance
    estimated among them, each one's fits, table row, WDQ, and the covariance of their corrected
    effects (hotspots of one CSP share its comparison)."""

    panel: _Panel
    place_var: PlaceVariance
    fits: dict[str, _HotspotFits]
    records: dict[str, dict]
    displacement: dict[str, Wdq]
    intervals: dict[str, WdqInterval]
    covariance: np.ndarray


def _comparison_sums(panel: _Panel, ids: list[str]) -> dict[str, np.ndarray]:
    return {h: panel.counts[panel.control_rows(panel.rows_of_hotspot[h])].sum(axis=0) for h in ids}


def _place_variance(panel: _Panel, ids: list[str], options: ImpactOptions) -> PlaceVariance:
    comparisons = _comparison_sums(panel, ids)
    return place_variance([panel.counts[panel.rows_of_hotspot[h]].sum(axis=0) for h in ids],
                          [comparisons[h] for h in ids], ~panel.selected[:panel.t0], options.period_length)


def _fit_group(panel: _Panel, options: ImpactOptions) -> _GroupFits:
    """Every figure of the hotspots of one panel (the periods their police force holds), as in a store of it."""
    ids = list(panel.rows_of_hotspot)
    place_var = _place_variance(panel, ids, options)
    fits = {h: _fit_hotspot(panel, panel.rows_of_hotspot[h], panel.buffers[h], options, place_var.value) for h in ids}
    records, displacement, intervals = {}, {}, {}
    for h in ids:
        displacement[h], intervals[h], wdq_cols = _wdq_columns(panel, panel.rows_of_hotspot[h], panel.buffers[h],
                                                               fits[h].control_rows, options.unit)
        records[h] = _hotspot_record(panel, h, fits[h], wdq_cols)
    covariance = shared_comparison_covariance(panel.counts, [fits[h].control_rows for h in ids],
                                              ~panel.selected[:panel.t0], place_var.value, options.period_length)
    return _GroupFits(panel, place_var, fits, records, displacement, intervals, covariance)


#: How the note of a table whose hotspots use different months begins (the Impact page shows it).
OWN_MONTHS_NOTE = "Each hotspot's own figures use the months its police force holds"


def _month_groups(panel: _Panel, months_of: dict[str, list[str]] | None) -> dict[tuple[str, ...], list[str]]:
    """Hotspot ids by the run of periods they are fitted on: their own (``months_of``) or the panel's."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for h in panel.rows_of_hotspot:
        groups.setdefault(tuple((months_of or {}).get(h) or panel.months), []).append(h)
    return groups


def _group_fits(panel: _Panel, cell_month: pd.DataFrame, hotspot_cells: pd.DataFrame, study_cells: pd.DataFrame,
                intervention: str, options: ImpactOptions, months_of: dict[str, list[str]] | None) -> list[_GroupFits]:
    """One :class:`_GroupFits` per run of periods. Hotspots of a force holding more months than
    another are fitted on their panel alone, as in a store of their force only (the same figures:
    tests/test_impact_gaps.py); on one run it is the common panel itself, the code of before."""
    groups = _month_groups(panel, months_of)
    if all(list(months) == panel.months for months in groups):
        return [_fit_group(panel, options)]
    ids_of = hotspot_cells["hotspot_id"].astype(str)
    return [_fit_group(build_panel(cell_month, hotspot_cells[ids_of.isin(ids)], study_cells, list(months),
                                   intervention, options), options) for months, ids in groups.items()]


def _common(panel: _Panel, groups: list[_GroupFits]) -> bool:
    """Whether every hotspot was fitted on the common panel (one force, or forces holding the same months)."""
    return len(groups) == 1 and groups[0].panel is panel


def _joined(panel: _Panel, groups: list[_GroupFits], ids: list[str]) -> tuple[dict[str, _HotspotFits], np.ndarray]:
    """All hotspots' fits in table order, and the covariance of their corrected effects: hotspots of
    different runs (forces) share no CSP, so no comparison cells; their covariance is zero."""
    if _common(panel, groups):
        return groups[0].fits, groups[0].covariance
    fits = {h: g.fits[h] for h in ids for g in groups if h in g.fits}
    position = {h: i for i, h in enumerate(ids)}
    covariance = np.zeros((len(ids), len(ids)))
    for g in groups:
        at = np.array([position[h] for h in g.fits], dtype=int)
        covariance[np.ix_(at, at)] = g.covariance
    return fits, covariance


def _union_rows(panel: _Panel, groups: list[_GroupFits], options: ImpactOptions) -> dict[str, np.ndarray]:
    """Comparison and control rows of all hotspots together, as rows of the common ``panel``."""
    if _common(panel, groups):
        fits = groups[0].fits.values()
        return {key: np.unique(np.concatenate([getattr(f, key) for f in fits])) if fits else np.array([], dtype=int)
                for key in ("comparison_rows", "control_rows")}
    control = {h: panel.control_rows(r) for h, r in panel.rows_of_hotspot.items()}
    comparison = control if options.comparison == "csp" else {
        h: _matched_comparison(panel.counts, control[h], r, panel.t0) for h, r in panel.rows_of_hotspot.items()}
    return {"comparison_rows": np.unique(np.concatenate(list(comparison.values()))),
            "control_rows": np.unique(np.concatenate(list(control.values())))}


def _aggregates(panel: _Panel, union: dict[str, np.ndarray], options: ImpactOptions, place_var: float) -> dict:
    """The summed series of all hotspots over the common periods: ITS, controlled, corrected, net."""
    ids = list(panel.rows_of_hotspot)
    all_rows = np.flatnonzero(panel.is_hotspot)
    total = panel.counts[all_rows].sum(axis=0) if len(all_rows) else np.zeros(panel.n)
    kwargs = options.its_kwargs()
    control = panel.counts[union["control_rows"]].sum(axis=0)
    return {
        "total": total,
        "its": fit_its(total, panel.months, panel.t0, **kwargs),
        "controlled": controlled_its(total, panel.counts[union["comparison_rows"]].sum(axis=0), panel.months,
                                     panel.t0, **kwargs),
        "corrected": _corrected(panel, total, control, options,
                                place_var * _concentration(panel, [panel.rows_of_hotspot[h] for h in ids])),
        "net": _corrected(panel, total + panel.counts[np.flatnonzero(panel.in_any_buffer)].sum(axis=0), control,
                          options, place_var * _concentration(panel, [np.concatenate([panel.rows_of_hotspot[h],
                                                                                      panel.buffers[h]]) for h in ids])),
    }


def _own_months_note(panel: _Panel, groups: list[_GroupFits], options: ImpactOptions) -> str:
    unit = options.unit
    runs = "; ".join(f"{len(g.fits)} hotspot(s) {g.panel.months[0]} to {g.panel.months[-1]} ({g.panel.t0} {unit} "
                     f"before, {g.panel.n - g.panel.t0} after)" for g in groups)
    return (f"{OWN_MONTHS_NOTE}: {runs}. The pooled effects pool those figures, each hotspot's place variation "
            f"estimated among the hotspots of its {unit}. The pooled row's counts, plain before/after and WDQ and "
            f"the summed-series model (aggregate_*) need the same {unit} for every hotspot, so they use only the "
            f"{unit} all these forces hold, {panel.months[0]} to {panel.months[-1]}.")


def _place_variance_of(panel: _Panel, groups: list[_GroupFits], options: ImpactOptions) -> PlaceVariance:
    """The place variance shown (and used by the summed series): the hotspots' own, or with several
    runs the common panel's, its words naming each run's."""
    if _common(panel, groups):
        return groups[0].place_var
    common = _place_variance(panel, list(panel.rows_of_hotspot), options)
    words = "; ".join(f"hotspots of {g.panel.months[0]} to {g.panel.months[-1]}: {g.place_var.source}" for g in groups)
    return PlaceVariance(common.value, f"{words}; the summed series of all hotspots: {common.source}", common.df)


def _series(panel: _Panel, groups: list[_GroupFits], ids: list[str], total: np.ndarray, period: str) -> pd.DataFrame:
    """Counts per period, one column per hotspot (empty in periods its force does not hold) and the sum."""
    index = sorted({m for g in groups for m in g.panel.months})
    columns = {h: pd.Series(g.panel.counts[g.panel.rows_of_hotspot[h]].sum(axis=0), index=g.panel.months)
               for g in groups for h in g.fits}
    common = _common(panel, groups)
    series = {h: columns[h].to_numpy() if common else columns[h].reindex(index) for h in ids}
    series[POOLED_ID] = total if common else pd.Series(total, index=panel.months).reindex(index)
    return pd.DataFrame(series, index=pd.Index(index, name=period))


def impact_table(cell_month: pd.DataFrame, hotspot_cells: pd.DataFrame, study_cells: pd.DataFrame,
                 months: list[str], intervention: str, options: ImpactOptions | None = None,
                 months_of: dict[str, list[str]] | None = None, **overrides) -> ImpactResult:
    """Per-hotspot and pooled impact figures (see the module docstring for the columns).

    ``cell_month``: h3 (uint64), month 'YYYY-MM', count; only non-zero pairs are needed (for weeks,
    a ``week`` column or ``month`` holding week Mondays). ``hotspot_cells``: h3, hotspot_id,
    hotspot_name. ``study_cells``: h3, district, csp for every cell of the study area. ``months``:
    the full period range, zeros included. ``intervention``: 'YYYY-MM-DD' (see
    :func:`first_post_month`). ``options`` (or keyword overrides of its fields): see
    :class:`ImpactOptions`. ``months_of``: hotspot_id -> its own run of periods when it differs from
    ``months`` (the months its police force holds, ``months`` those every force of the hotspots
    holds): its own figures use those, the pooled row's summed figures ``months``. Fitting problems
    never raise: they become NaN figures with a ``message``. Malformed arguments raise :class:`InputError`.
    """
    options = replace(options or ImpactOptions(), **overrides).resolved()
    panel = build_panel(cell_month, hotspot_cells, study_cells, months, intervention, options)
    ids = list(panel.rows_of_hotspot)
    groups = _group_fits(panel, cell_month, hotspot_cells, study_cells, intervention, options, months_of)
    fits, covariance = _joined(panel, groups, ids)
    place_var = _place_variance_of(panel, groups, options)
    union = _union_rows(panel, groups, options)
    aggregates = _aggregates(panel, union, options, place_var.value)
    pools = {"its": _pool({h: f.fit for h, f in fits.items()}, options.pool_ci),
             "controlled": _pool({h: f.controlled for h, f in fits.items()}, options.pool_ci),
             "corrected": _pool({h: f.corrected for h, f in fits.items()}, options.pool_ci, covariance)}
    all_rows = np.flatnonzero(panel.is_hotspot)
    displacement = {h: g.displacement[h] for h in ids for g in groups if h in g.fits}
    intervals = {h: g.intervals[h] for h in ids for g in groups if h in g.fits}
    displacement[POOLED_ID], intervals[POOLED_ID], pooled_wdq = _wdq_columns(
        panel, all_rows, np.flatnonzero(panel.in_any_buffer), union["control_rows"], options.unit)
    records = [g.records[h] for h in ids for g in groups if h in g.fits]
    records.append(_pooled_tne(records, _pooled_record(panel, pools, aggregates, len(ids), options,
                                                       len(union["comparison_rows"]), pooled_wdq,
                                                       _pooled_pretrend(fits, options.pool_ci))))
    description = aggregates["its"].description or next((f.fit.description for f in fits.values() if f.fit.ok), "")
    notes = _notes(panel, options, intervention, place_var, options.selection_window is None)
    return ImpactResult(
        table=_finish_table(records), fits={h: f.fit for h, f in fits.items()},
        controlled={h: f.controlled for h, f in fits.items()}, corrected={h: f.corrected for h, f in fits.items()},
        displacement=displacement, wdq_intervals=intervals, aggregate=aggregates["its"],
        aggregate_controlled=aggregates["controlled"], aggregate_corrected=aggregates["corrected"],
        pooled=pools["its"], pooled_controlled=pools["controlled"], pooled_corrected=pools["corrected"],
        place_variance=place_var, series=_series(panel, groups, ids, aggregates["total"], options.period),
        months=panel.months, intervention_month=panel.post_label, intervention_index=panel.t0,
        description=description, selection_window=panel.selection_window,
        selection_assumed=options.selection_window is None,
        notes=notes + ([] if _common(panel, groups) else [_own_months_note(panel, groups, options)]),
        period=options.period)
