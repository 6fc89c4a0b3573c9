"""Randomised patrol days: the schedule and the power before the start (issue 28).

Design. Every hotspot's days are assigned ``patrol`` or ``control`` at random in permuted blocks,
stratified by weekday: the dates of each (hotspot, weekday) are taken in order in blocks of
``block_weeks`` (default 4) and inside each block a random ``round(share x block)`` of them
(cumulative rounding, so the whole trial hits the share to within one day per weekday) are patrol
days. So each weekday gets patrol about ``patrol_share`` of the time in every hotspot, and no month
can drift far from the share (a plain coin flip per day gave runs of 9 control days in a row in
6 months; blocks of 4 weeks cap a weekday's imbalance at one day). ``washout_days`` marks the control
days that follow a patrol day within that many days: carry-over of deterrence can last up to about
4 days (Sherman, DOMAIN.md), and the analysis leaves marked days out of the primary comparison.

Reproducible exactly: one ``numpy.random.default_rng(SeedSequence(seed).spawn)`` stream per hotspot
in hotspot-id order (PCG64), so the same seed, hotspots, start, days and design give the same
schedule on any machine, and adding a hotspot does not reshuffle the others.

Power. The analysis is a count model with hotspot fixed effects (:mod:`trial_analysis`); each
hotspot compares its own patrol and control days, so the variance of the pooled log rate ratio is
about ``1 / sum_h 1 / v_h`` with ``v_h = (1 + a l_h) / (N s l_h) + (1 + a l_h) / (N (1 - s) l_h)``
(negative-binomial daily counts, rate ``l_h`` a day, overdispersion ``a``, ``N`` days, patrol share
``s``). With compliance ``c`` and contamination ``k`` the scheduled arms differ by
``(c RR + 1 - c) / (k RR + 1 - k)``, not RR. The minimum detectable effect (80% power, two-sided 5%)
is the RR whose intention-to-treat ratio is ``exp(-(t_0.975,G-1 + z_0.8) sd)`` (t: the analysis's
cluster-robust interval has G - 1 degrees of freedom for G hotspots). benchmarks/bench_trial.py
checks the analytic power against simulation (``--quick`` figures in docs and the README).

The bare formula is optimistic: in the benchmark (effects that differ between hotspots, sd 0.1 on
the log scale, and levels that drift, AR(1) sd 0.15) the pooled log rate ratio varied over runs with
an sd 1.1-1.2 times the formula's (0.067-0.072 against 0.060-0.063 at 183 days), so the formula
said 79% power where simulation gave 60%. :data:`SD_ALLOWANCE` widens the formula's standard error
by that measured factor before the MDE and the days needed are worked out; the bare figure is kept
beside it (``mde_delivered_formula``) and the line names both.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError

ARMS = ("patrol", "control")
SCHEDULE_COLUMNS = ["hotspot_id", "hotspot_name", "date", "weekday", "week", "arm", "washout"]
DESIGN_NAME = "place-day randomisation, permuted blocks stratified by weekday"
MAX_DAYS = 3 * 366
Z_975, Z_80 = 1.959963984540054, 0.8416212335729143
#: Simulated over analytic sd of the pooled log rate ratio (benchmarks/bench_trial.py; see above).
SD_ALLOWANCE = 1.18


@dataclass(frozen=True)
class TrialDesign:
    """What a schedule is made from: enough to make it again exactly."""

    start: str  # YYYY-MM-DD
    days: int
    patrol_share: float = 0.5
    seed: int = 0
    block_weeks: int = 4
    washout_days: int = 0

    def __post_init__(self) -> None:
        try:
            date.fromisoformat(self.start)
        except (TypeError, ValueError):
            raise InputError(f"--start: expected YYYY-MM-DD, got '{self.start}'") from None
        if not 7 <= int(self.days) <= MAX_DAYS:
            raise InputError(f"--days: must be between 7 and {MAX_DAYS}")
        if not 0.05 <= float(self.patrol_share) <= 0.95:
            raise InputError("--patrol-share: must be between 0.05 and 0.95")
        if not 1 <= int(self.block_weeks) <= 26:
            raise InputError("--block-weeks: must be between 1 and 26")
        if not 0 <= int(self.washout_days) <= 7:
            raise InputError("--washout-days: must be between 0 and 7")
        if int(self.seed) < 0:
            raise InputError("--seed: must be 0 or more")

    @property
    def first(self) -> date:
        return date.fromisoformat(self.start)

    @property
    def last(self) -> date:
        return self.first + timedelta(days=int(self.days) - 1)

    def record(self) -> dict:
        """The design as stored in the store and the methods sidecar."""
        return {**asdict(self), "design": DESIGN_NAME, "generator": "numpy PCG64, SeedSequence(seed).spawn per hotspot",
                "end": self.last.isoformat()}


def _weekday_arms(n: int, share: float, block: int, rng: np.random.Generator) -> np.ndarray:
    """Patrol flags for the n dates of one weekday: permuted blocks with cumulative rounding from a
    random offset, so a fractional day goes to either arm by chance (fixed rounding gave 30 days
    266 patrol to 304 control days at a share of 0.5) and every block is within one day of its share."""
    flags = np.zeros(n, dtype=bool)
    offset = rng.uniform()
    for first in range(0, n, block):
        size = min(block, n - first)
        want = int(np.floor(share * (first + size) + offset)) - int(np.floor(share * first + offset))
        flags[first + rng.permutation(size)[:want]] = True
    return flags


def make_schedule(hotspots: pd.DataFrame, design: TrialDesign) -> pd.DataFrame:
    """One row per hotspot and day (:data:`SCHEDULE_COLUMNS`), ``arm`` patrol or control.

    ``hotspots``: hotspot_id, hotspot_name (one row each). ``washout`` is true on control days that
    follow a patrol day of the same hotspot within ``design.washout_days`` days."""
    if hotspots.empty:
        raise InputError("--set: the set holds no hotspots to schedule")
    spots = hotspots.drop_duplicates("hotspot_id").sort_values("hotspot_id", kind="stable")
    days = pd.date_range(design.first, periods=int(design.days), freq="D")
    weekday = days.day_of_week.to_numpy()
    streams = np.random.SeedSequence(int(design.seed)).spawn(len(spots))
    frames = []
    for (spot_id, name), stream in zip(spots[["hotspot_id", "hotspot_name"]].itertuples(index=False), streams):
        rng = np.random.default_rng(stream)
        patrol = np.zeros(days.size, dtype=bool)
        for wd in range(7):
            where = np.flatnonzero(weekday == wd)
            patrol[where] = _weekday_arms(where.size, float(design.patrol_share), int(design.block_weeks), rng)
        frames.append(pd.DataFrame({"hotspot_id": str(spot_id), "hotspot_name": str(name), "date": days.date,
                                    "weekday": weekday, "week": np.arange(days.size) // 7 + 1,
                                    "arm": np.where(patrol, "patrol", "control"),
                                    "washout": _washout(patrol, int(design.washout_days))}))
    return pd.concat(frames, ignore_index=True)[SCHEDULE_COLUMNS]


def _washout(patrol: np.ndarray, days: int) -> np.ndarray:
    """Control days within ``days`` days after a patrol day."""
    marked = np.zeros(patrol.size, dtype=bool)
    for lag in range(1, days + 1):
        marked[lag:] |= patrol[:-lag]
    return marked & ~patrol


def check_schedule(frame: pd.DataFrame, label: str = "--schedule") -> pd.DataFrame:
    """A schedule read back from a file: the columns it needs, typed; one line naming the column
    or row when it cannot be used."""
    missing = [c for c in ("hotspot_id", "date", "arm") if c not in frame.columns]
    if missing:
        raise InputError(f"{label}: no column '{missing[0]}' (a schedule needs hotspot_id, date, arm)")
    out = frame.copy()
    dates = pd.to_datetime(out["date"], errors="coerce", format="%Y-%m-%d")
    if dates.isna().any():
        raise InputError(f"{label}: row {int(np.flatnonzero(dates.isna())[0]) + 2}, column date: expected YYYY-MM-DD")
    arm = out["arm"].astype(str).str.strip().str.lower()
    bad = ~arm.isin(ARMS)
    if bad.any():
        raise InputError(f"{label}: row {int(np.flatnonzero(bad)[0]) + 2}, column arm: expected patrol or control")
    out["date"], out["arm"] = dates.dt.normalize(), arm
    out["hotspot_id"] = out["hotspot_id"].astype(str)
    if "hotspot_name" not in out:
        out["hotspot_name"] = out["hotspot_id"]
    out["washout"] = (out["washout"].astype(str).str.lower().isin(["true", "1", "yes"])
                      if "washout" in out else False)
    if out.duplicated(["hotspot_id", "date"]).any():
        row = int(np.flatnonzero(out.duplicated(["hotspot_id", "date"]))[0]) + 2
        raise InputError(f"{label}: row {row}: a hotspot appears twice on one date")
    return out


# --------------------------------------------------------------------------------------------
# Power
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Power:
    """Power of the place-day comparison before the start."""

    hotspots: int
    days: int
    patrol_share: float
    compliance: float
    contamination: float
    mean_rate: float  # incidents a hotspot-day in the history
    overdispersion: float  # negative-binomial a of daily counts (0 = Poisson)
    sd_log_rr: float  # standard error of the pooled log rate ratio (ITT)
    mde_itt: float  # smallest detectable ITT rate ratio (below 1)
    mde_delivered: float  # the same, as the effect of a delivered patrol day (compliance taken out)
    target_rr: float
    days_for_target: int | None  # days needed to detect target_rr (delivered) with 80% power
    allowance: float = 1.0  # sd_log_rr is the formula's times this (SD_ALLOWANCE)
    mde_delivered_formula: float = math.nan  # the MDE from the bare formula (optimistic)

    def line(self) -> str:
        detect = (f"{self.days_for_target:,} days would detect {self.target_rr:.2f}" if self.days_for_target
                  else f"no length of trial detects {self.target_rr:.2f} at this compliance")
        widened = ""
        if self.allowance != 1.0 and math.isfinite(self.mde_delivered_formula):
            widened = (f"; the formula alone says {self.mde_delivered_formula:.2f}, but in simulation with effects "
                       f"that differ between hotspots and drifting levels the estimate varied {self.allowance:.2f} "
                       "times as much, so its error is widened by that")
        return (f"{self.hotspots} hotspots x {self.days} days, {self.patrol_share:.0%} patrol, compliance "
                f"{self.compliance:.0%}: smallest detectable effect (80% power, 5% two-sided) a rate ratio of "
                f"{self.mde_delivered:.2f} on delivered patrol days ({self.mde_itt:.2f} by intention to treat)"
                f"{widened}; {detect}.")


def history_rates(daily: pd.DataFrame) -> tuple[np.ndarray, float]:
    """(rate a day per hotspot, overdispersion a) from daily counts: hotspot_id, count, one row per
    hotspot-day including zero days. ``a`` by moments, pooled: (var - mean) / mean^2 per hotspot,
    weighted by days and floored at 0."""
    if daily.empty:
        return np.array([]), 0.0
    g = daily.groupby("hotspot_id")["count"]
    mean, var, n = g.mean().to_numpy(float), g.var(ddof=1).fillna(0).to_numpy(float), g.size().to_numpy(float)
    ok = mean > 0
    a = ((var[ok] - mean[ok]) / mean[ok] ** 2 * n[ok]).sum() / max(n[ok].sum(), 1.0)
    return mean, float(max(a, 0.0))


def sd_log_rr(rates: np.ndarray, days: int, share: float, alpha: float) -> float:
    """Standard error of the pooled log rate ratio with hotspot fixed effects (analytic)."""
    rates = np.asarray(rates, float)
    rates = rates[rates > 0]
    if rates.size == 0:
        return math.inf
    v = (1 + alpha * rates) / rates * (1 / (days * share) + 1 / (days * (1 - share)))
    return float(1 / np.sqrt((1 / v).sum()))


def itt_ratio(rr: float, compliance: float, contamination: float = 0.0) -> float:
    """The rate ratio between scheduled arms when a delivered patrol day has ratio ``rr``."""
    return (compliance * rr + 1 - compliance) / (contamination * rr + 1 - contamination)


def delivered_ratio(itt: float, compliance: float, contamination: float = 0.0) -> float:
    """Inverse of :func:`itt_ratio`: the delivered-day ratio that gives ``itt`` (NaN if none can)."""
    gap = compliance - itt * contamination
    if gap <= 0:
        return math.nan
    rr = (itt * (1 - contamination) - (1 - compliance)) / gap
    return rr if rr > 0 else math.nan


def power(rates: np.ndarray, alpha: float, days: int, share: float = 0.5, compliance: float = 0.85,
          contamination: float = 0.0, target_rr: float = 0.8, allowance: float = SD_ALLOWANCE) -> Power:
    """MDE for these days and the days needed for ``target_rr`` (both 80% power, 5% two-sided), with
    the formula's standard error times ``allowance`` (1.0: the bare formula)."""
    from scipy import stats

    bare = sd_log_rr(rates, days, share, alpha)
    sd = bare * allowance
    # The analysis's interval is cluster-robust with t on hotspots - 1 df: the same critical value here.
    n_used = int((np.asarray(rates, float) > 0).sum())
    crit = float(stats.t.ppf(0.975, n_used - 1)) if n_used >= 3 else Z_975
    mde_itt = math.exp(-(crit + Z_80) * sd) if math.isfinite(sd) else math.nan
    mde_bare = math.exp(-(crit + Z_80) * bare) if math.isfinite(bare) else math.nan
    target_itt = itt_ratio(target_rr, compliance, contamination)
    needed = None
    if math.isfinite(sd) and target_itt < 1:
        needed = int(math.ceil(days * ((crit + Z_80) * sd / math.log(target_itt)) ** 2))
    positive = np.asarray(rates, float)
    return Power(hotspots=int(positive.size), days=int(days), patrol_share=float(share), compliance=float(compliance),
                 contamination=float(contamination), mean_rate=float(positive.mean()) if positive.size else 0.0,
                 overdispersion=float(alpha), sd_log_rr=sd, mde_itt=mde_itt,
                 mde_delivered=delivered_ratio(mde_itt, compliance, contamination), target_rr=float(target_rr),
                 days_for_target=needed, allowance=float(allowance),
                 mde_delivered_formula=delivered_ratio(mde_bare, compliance, contamination))


__all__ = ["TrialDesign", "Power", "SD_ALLOWANCE", "SCHEDULE_COLUMNS", "ARMS", "DESIGN_NAME", "make_schedule", "check_schedule",
           "history_rates", "sd_log_rr", "itt_ratio", "delivered_ratio", "power"]
