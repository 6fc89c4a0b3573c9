"""A suggested week of patrols: which hotspots on which days, and times only where the data has them.

Times come from one of three places, in this order (``PatrolPlan.time_basis``):

1. ``incidents``: the hotspots' own incident times, when at least :data:`MIN_TIMED_INCIDENTS`
   incidents in them carry a time (force extracts). Each visit's window is drawn with probability
   rising with the incidents expected in it (the hotspot's hour x day grid shrunk to the all-hotspot
   profile), and the plan says how many timed incidents that rests on.
2. ``patrol history``: when incidents have no time (police.uk gives a month only) but the patrol
   logs hold at least :data:`MIN_TIMED_PATROLS` visits to the hotspots, windows follow the hours
   the team has patrolled each hotspot on that weekday: the team's own practice, not a claim about
   when incidents happen.
3. ``team to set``: otherwise no time is printed. Measured on the five police.uk months: every
   window the old planner printed was 2/24 = 8% of a uniform day, an invented time.

Days and hotspots are always chosen: every hotspot gets the target dose on its required days
(``days_per_week`` of 7, balanced so each weekday carries a similar load, ties broken by the seed),
and extra visits go to hotspots by recent harm x under-dosage, or evenly where neither was measured
(police.uk months give no day to place recent harm in; no patrol data gives no dosage): the reasons
name only what was measured. Same inputs and seed, same plan.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from hotspot_engine.analyse.dosage import ALL_HOTSPOTS, DAY_NAMES, DosageTarget, PatrolReport
from hotspot_engine.errors import InputError

PLAN_COLUMNS = ["hotspot_id", "hotspot_name", "date", "window_start", "window_end", "suggested_start", "minutes",
                "time_basis", "reason"]
#: Fewer timed incidents than this in all the hotspots together give no hour profile worth drawing (the
#: windows are shrunk to the all-hotspot profile anyway; police.uk data have none at all).
MIN_TIMED_INCIDENTS = 5
#: Fewer logged visits than this give no usable picture of when the team patrols.
MIN_TIMED_PATROLS = 30
TEAM_TO_SET = "team to set"


@dataclass
class PatrolPlan:
    """A suggested week of patrols: ``visits`` has :data:`PLAN_COLUMNS` (one row per visit; the
    window and start are timestamps, or NaT when the times are for the team to set)."""

    visits: pd.DataFrame
    week_start: date
    seed: int
    target: DosageTarget
    notes: list[str] = field(default_factory=list)
    time_basis: str = TEAM_TO_SET

    @property
    def has_times(self) -> bool:
        return self.time_basis != TEAM_TO_SET


def _grid_matrix(grid: pd.DataFrame, hotspot_id: str, column: str) -> np.ndarray:
    sub = grid[grid["hotspot_id"] == hotspot_id].sort_values(["dow", "hour"])
    if sub.empty:
        return np.zeros((7, 24))
    return sub[column].to_numpy(float).reshape(7, 24)


def _slot_weights(grid: pd.DataFrame, hotspot_id: str, column: str = "incidents", prior_weight: float = 0.5) -> np.ndarray:
    """7 x 24 expected events per slot for a hotspot, shrunk towards the all-hotspot profile (one
    hotspot holds too few for a stable 168-slot profile) plus a small floor, so no slot is
    impossible (unpredictability)."""
    own = _grid_matrix(grid, hotspot_id, column)
    every = _grid_matrix(grid, ALL_HOTSPOTS, column)
    own_total, every_total = own.sum(), every.sum()
    profile = every / every_total if every_total else np.full((7, 24), 1 / 168)
    pseudo = max(10.0, prior_weight * own_total)
    smoothed = own + pseudo * profile
    return smoothed + 0.02 * smoothed.mean()


def _window_scores(slots: np.ndarray, window_hours: int) -> np.ndarray:
    """Score of a window starting at (dow, hour): the slots it covers, running into the next day."""
    flat = slots.ravel()
    wrapped = np.concatenate([flat, flat[:window_hours]])
    cumulative = np.concatenate([[0.0], np.cumsum(wrapped)])
    return (cumulative[window_hours:window_hours + flat.size] - cumulative[:flat.size]).reshape(7, 24)


def peak_windows(grid: pd.DataFrame, hotspot_id: str, window_hours: int = 2, top: int = 3) -> list[str]:
    """The ``top`` busiest (day, window) pairs for a hotspot's incidents, as 'Fri 22:00-00:00'
    (empty when no incident in the grid has a time)."""
    values = _grid_matrix(grid, hotspot_id, "incidents")
    if values.sum() == 0:
        return []
    scores = _window_scores(values, window_hours)
    out, taken = [], np.zeros((7, 24), bool)
    for index in np.argsort(-scores.ravel(), kind="stable"):
        dow, hour = divmod(int(index), 24)
        if taken[dow, hour] or scores[dow, hour] <= 0:
            continue
        out.append(f"{DAY_NAMES[dow]} {hour:02d}:00-{(hour + window_hours) % 24:02d}:00")
        for h in range(hour - window_hours + 1, hour + window_hours):
            taken[dow, h % 24] = True
        if len(out) == top:
            break
    return out


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(weights.size, dtype=int)
    exact = total * weights / weights.sum()
    base = np.floor(exact).astype(int)
    left = total - base.sum()
    order = np.lexsort((np.arange(weights.size), -(exact - base)))
    base[order[:left]] += 1
    return base


def next_monday(day: date) -> date:
    """The Monday after ``day`` (the next Monday if ``day`` is a Sunday or earlier in the week)."""
    return day + timedelta(days=7 - day.weekday())


def time_basis(report: PatrolReport) -> tuple[str, str]:
    """(basis, grid column) the plan's times rest on, and a note: see the module docstring."""
    if report.timed_incidents >= MIN_TIMED_INCIDENTS:
        return "incidents", "incidents"
    logged = int(report.grid.loc[report.grid["hotspot_id"] == ALL_HOTSPOTS, "patrols"].sum())
    if logged >= MIN_TIMED_PATROLS:
        return "patrol history", "patrols"
    return TEAM_TO_SET, ""


def _balanced_days(n_hotspots: int, days_per_week: int, rng: np.random.Generator) -> np.ndarray:
    """(hotspots x 7) booleans: each hotspot's required days, chosen so every weekday carries a
    similar number of hotspots; among equally loaded days the seed decides."""
    load = np.zeros(7)
    chosen = np.zeros((n_hotspots, 7), bool)
    for i in range(n_hotspots):
        order = np.lexsort((rng.permutation(7), load))
        chosen[i, order[:days_per_week]] = True
        load[order[:days_per_week]] += 1
    return chosen


def _visits_per_day(base: np.ndarray, extra: int, day_weight: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Spread ``extra`` visits over the week on top of ``base``: different days first (weighted by
    ``day_weight``), then stacked, never above ``cap`` a day."""
    per_day = base.copy()
    left = extra
    while left:
        free = np.flatnonzero(per_day < cap)
        if free.size == 0:
            break
        take = min(left, free.size)
        p = day_weight[free] / day_weight[free].sum()
        per_day[rng.choice(free, size=take, replace=False, p=p)] += 1
        left -= take
    return per_day


def _pick_hours(score: np.ndarray, n: int, window_hours: int, rng: np.random.Generator) -> list[int]:
    """``n`` window start hours for one day, favouring high scores, never sharing or overlapping."""
    score = score.copy()
    picked: list[int] = []
    for _ in range(n):
        if score.sum() <= 0:
            break
        p = score ** 2  # favour the peaks more strongly than proportional, keep every slot possible
        hour = int(rng.choice(24, p=p / p.sum()))
        picked.append(hour)
        for h in range(hour - window_hours + 1, hour + window_hours):
            if 0 <= h < 24:
                score[h] = 0.0
    return sorted(picked)


def _extra_shares(report: PatrolReport, dosage: pd.DataFrame, extra_total: int, room: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(extra visits per hotspot, harm rank, under-dosage share) by recent harm x under-dosage."""
    harm = dosage["recent_harm"].to_numpy(float)
    n = len(dosage)
    harm_share = harm / harm.sum() if harm.sum() > 0 else np.full(n, 1 / n)
    under = 1.0 - np.clip(dosage["recent_compliance"].fillna(0).to_numpy(float), 0, 1)
    extras = np.minimum(_largest_remainder(extra_total, harm_share * (1.0 + under)), room)
    return extras, pd.Series(-harm).rank(method="min").astype(int).to_numpy(), under


#: Why extra visits are shared evenly: nothing measured to weight them by (police.uk months give no day,
#: so no incident falls in the last 13 weeks' days, and no patrol data gives no dosage).
UNWEIGHTED = "no dated incident in the last 13 weeks to rank harm by, and no patrol data to measure dosage"


def _weighted_by(report: PatrolReport, dosage: pd.DataFrame) -> tuple[bool, bool]:
    """(harm ranks, dosage measured): what the extra visits could be weighted by. On the real police.uk
    months every hotspot read "harm rank 1/19" (no incident carries a day, so all recent harm is 0) and
    "dosed 0%" with no patrol data loaded: ranks and shares that were never measured."""
    return bool(dosage["recent_harm"].sum() > 0), not report.summary.get("no_patrol_data")


def _reasons(compliance: float, harm_rank: int, hotspots: int, weighted: tuple[bool, bool], visits: int) -> list[str]:
    """The plan's reason for each of a day's target visits, then for its extra visits: only what was measured."""
    ranked, measured = weighted
    dosed = f"dosed {compliance:.0%} of required days"
    extra = [f"harm rank {harm_rank}/{hotspots} (13 weeks)"] if ranked else []
    extra += [f"{dosed} (4 weeks)"] if measured else []
    return ([f"target; {dosed} in the last 4 weeks" if measured else "target"] * visits
            + ["extra: " + (", ".join(extra) if extra else "shared evenly")])


def _day_rows(spot, day: date, count: int, basis: str, windows: np.ndarray | None, slots: np.ndarray | None,
              window_hours: int, minutes: int, reasons: list[str], rng: np.random.Generator) -> list[tuple]:
    """The plan rows of one hotspot on one day: timed windows when ``windows`` is given, else none."""
    if windows is None or slots is None:
        return [(spot["hotspot_id"], spot["hotspot_name"], day, pd.NaT, pd.NaT, pd.NaT, minutes, basis,
                 f"{reasons[min(k, len(reasons) - 1)]}; time for the team to set") for k in range(count)]
    dow = day.weekday()
    share = windows[dow] / slots[dow].sum()  # windows overlap, so not windows.sum()
    what = "expected incidents" if basis == "incidents" else "logged patrol time"
    rows = []
    for k, hour in enumerate(_pick_hours(windows[dow], count, window_hours, rng)):
        window_start = pd.Timestamp(day) + pd.Timedelta(hours=hour)
        offset = int(rng.integers(0, max(0, window_hours * 60 - minutes) + 1))
        rows.append((spot["hotspot_id"], spot["hotspot_name"], day, window_start,
                     window_start + pd.Timedelta(hours=window_hours), window_start + pd.Timedelta(minutes=offset),
                     minutes, basis, f"{reasons[min(k, len(reasons) - 1)]}; window: {share[hour]:.0%} of the day's {what}"))
    return rows


def suggest_plan(report: PatrolReport, week_start: date | None = None, seed: int = 0, extra_visits: int | None = None,
                 window_hours: int = 2, max_visits_per_day: int = 4) -> PatrolPlan:
    """A suggested week of patrols for the report's hotspots (see the module docstring).

    Every hotspot gets ``visits_per_day`` visits of ``target.visit_minutes`` on each of its required
    days; ``extra_visits`` more (default: half the target visits again) are shared by recent harm x
    (1 + under-dosage over the last 4 weeks). Visits of one hotspot on one day never share a window."""
    if not 1 <= int(window_hours) <= 6:
        raise InputError(f"window hours: must be between 1 and 6, got {window_hours}")
    target = report.target
    if max_visits_per_day < target.visits_per_day or max_visits_per_day * window_hours > 24:
        raise InputError(f"visits per day: at most {24 // window_hours} windows of {window_hours} h fit in a day, "
                         f"and at least {target.visits_per_day} are needed")
    week_start = week_start or next_monday(report.period[1])
    rng = np.random.default_rng(seed)
    dosage = report.dosage.sort_values("hotspot_rank").reset_index(drop=True)
    basis, column = time_basis(report)
    if len(dosage) == 0:
        return PatrolPlan(pd.DataFrame(columns=PLAN_COLUMNS), week_start, seed, target, ["No hotspots: nothing to plan."],
                          basis)
    required = _balanced_days(len(dosage), int(target.days_per_week), rng)
    base_total = int(required.sum()) * target.visits_per_day
    extra_total = int(math.ceil(0.5 * base_total)) if extra_visits is None else int(extra_visits)
    if extra_total < 0:
        raise InputError(f"extra visits: must be 0 or more, got {extra_visits}")
    extras, harm_rank, _ = _extra_shares(report, dosage, extra_total, 7 * max_visits_per_day - base_total // len(dosage))
    weighted = _weighted_by(report, dosage)
    rows: list[tuple] = []
    for i, spot in dosage.iterrows():
        slots = _slot_weights(report.grid, spot["hotspot_id"], column) if column else None
        windows = _window_scores(slots, window_hours) if slots is not None else None
        day_weight = slots.sum(axis=1) if slots is not None else np.ones(7)
        per_day = _visits_per_day(required[i] * target.visits_per_day, int(extras[i]), day_weight, max_visits_per_day, rng)
        reasons = _reasons(spot["recent_compliance"], int(harm_rank[i]), len(dosage), weighted, target.visits_per_day)
        for day_index in range(7):
            rows += _day_rows(spot, week_start + timedelta(days=day_index), int(per_day[day_index]), basis, windows,
                              slots, window_hours, target.visit_minutes, reasons if required[i, day_index] else
                              reasons[-1:], rng)
    visits = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    visits = visits.sort_values(["date", "suggested_start", "hotspot_id"], kind="stable").reset_index(drop=True)
    weights = " and ".join(w for w, on in zip(("recent harm", "under-dosage"), weighted) if on)
    notes = [f"{len(visits):,} visits for {week_start} to {week_start + timedelta(days=6)}: {base_total:,} for the "
             f"target and {len(visits) - base_total:,} extra, "
             + (f"weighted by {weights}" if weights else f"shared evenly ({UNWEIGHTED})") + f"; seed {seed}.",
             _basis_note(report, basis)]
    return PatrolPlan(visits, week_start, seed, target, notes, basis)


def _basis_note(report: PatrolReport, basis: str) -> str:
    if basis == "incidents":
        return (f"Windows follow the hotspots' incident times: {report.timed_incidents:,} timed incident(s) "
                f"(of {report.timed_incidents + report.untimed_incidents:,} in the hotspots).")
    if basis == "patrol history":
        logged = int(report.grid.loc[report.grid["hotspot_id"] == ALL_HOTSPOTS, "patrols"].sum())
        return (f"Incidents carry no usable times, so windows follow when the team has patrolled each hotspot "
                f"({logged:,} logged visits), not when incidents happen.")
    return ("Times are for the team to set: the incidents give a month only (police.uk) and there is no patrol "
            "history to follow; the plan chooses the days and hotspots.")


def plan_meets_target(plan: PatrolPlan, hotspot_ids: Iterable[str]) -> bool:
    """True when every hotspot has at least ``visits_per_day`` visits of at least ``min_minutes`` on
    ``days_per_week`` days of the plan's week."""
    target = plan.target
    visits = plan.visits[plan.visits["minutes"] >= target.min_minutes]
    counts = visits.groupby(["hotspot_id", "date"]).size()
    days = [plan.week_start + timedelta(days=d) for d in range(7)]
    return all(sum(counts.get((h, d), 0) >= target.visits_per_day for d in days) >= target.days_per_week
               for h in hotspot_ids)


def plan_csv(plan: PatrolPlan) -> bytes:
    """The plan as UTF-8 CSV (times as 'YYYY-MM-DD HH:MM', empty when the team sets them), safe to
    open in a spreadsheet."""
    from hotspot_engine.write.export import neutralise_formulas

    out = plan.visits.copy()
    for column in ("window_start", "window_end", "suggested_start"):
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d %H:%M")
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    return neutralise_formulas(out).to_csv(index=False).encode("utf-8")


__all__ = ["PatrolPlan", "PLAN_COLUMNS", "MIN_TIMED_INCIDENTS", "MIN_TIMED_PATROLS", "TEAM_TO_SET", "peak_windows",
           "next_monday", "time_basis", "suggest_plan", "plan_meets_target", "plan_csv"]
