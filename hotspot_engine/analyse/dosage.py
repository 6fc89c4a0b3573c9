"""Patrol dosage in the hotspots: visits and minutes per hotspot against a target the user sets.

Pure (frames in, frames out); the store is read in :mod:`hotspot_engine.analyse.patrols`.

Visits are counted per hotspot AREA, not per cell. GPS pings are stored as per-cell runs
(:mod:`hotspot_engine.read.gps`); here consecutive runs of one callsign inside the same area are
joined into one visit (:func:`merge_area_visits`): a visit ends when no ping falls inside the area
for more than :data:`AREA_GAP_MINUTES` (5) minutes. Measured: cutting per cell turned a 16-minute
foot patrol through a 3-cell hotspot into visits of 5, 5 and 3 minutes (no qualifying visit, a red
light despite full compliance); hotspot areas average 6.6 cells, so per-cell cutting undercounts
almost every real patrol. Joined, the same track is one 16-minute visit (tests/test_patrol_dosage.py).

Dosage target (:class:`DosageTarget`), named for what it is (issue 27), from :data:`DOSAGE_PRESETS`
or the user's own: by default one 15-minute visit a day in every hotspot, every day, as the UK
trials planned it (Southend, and the Home Office Grip hotspot programme: one 15-20 minute patrol a
day per hotspot, DOMAIN.md "Patrols"); or, as in Sacramento (Telep, Mitchell & Weisburd 2014,
Justice Quarterly 31(5)), about 15 minutes at random every 2 hours in the hot hours. A visit counts
from 10 minutes: Koper (1995, :data:`KOPER_SOURCE`) is about how long a stop should last (deterrence
grows up to about 10-15 minutes), not how many visits a day, so it sets the visit-length band only.
The user sets visits per day or per shift, the minutes and the days per week. A day is *dosed* when the hotspot received the target's
qualifying visits (at least ``min_minutes`` each); compliance = dosed days / required days
(``days x days_per_week / 7``, capped at 1). Traffic light: green at ``green_at`` (80%) or more,
amber at ``amber_at`` (50%) or more, red below.

Which hotspots: by default the Gi* hotspots of the 12 months *before* the period, so dosage is
measured against the places chosen before patrolling began, not against places picked with hindsight.

Times: police.uk records carry a month only. The report counts the incidents that have a time
(``timed_incidents``); grids, peak windows and weekly incident series rest on those alone, and front
ends leave them out (with a one-line reason) when there are none.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters, shift_month

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Trend compares the last TREND_WEEKS weeks of the period with the TREND_WEEKS before.
TREND_WEEKS = 4
#: A trend within this relative change is "steady" (4-week patrol counts are small and noisy).
TREND_STEADY = 0.2
#: The plan weighs hotspots by harm in the last RECENT_WEEKS weeks of the period.
RECENT_WEEKS = 13
DOSAGE_COLUMNS = [
    "hotspot_rank", "hotspot_id", "hotspot_name", "district", "n_cells", "incidents", "harm", "patrols", "minutes",
    "mean_minutes", "in_band_share", "over_long_minutes", "days", "patrolled_days", "unpatrolled_days", "dosed_days",
    "compliance", "minutes_vs_target", "status", "incidents_per_patrolled_day", "incidents_per_unpatrolled_day",
    "patrols_last_4w", "patrols_prev_4w", "trend_pct", "trend", "recent_compliance", "recent_harm",
]
CELL_DOSAGE_COLUMNS = ["h3", "hotspot_id", "hotspot_name", "incidents", "harm", "patrols", "minutes", "mean_minutes",
                       "patrolled_days"]
GRID_COLUMNS = ["hotspot_id", "dow", "day", "hour", "incidents", "harm", "patrol_minutes", "patrols"]
WEEKLY_COLUMNS = ["hotspot_id", "week", "days", "stored_days", "patrols", "minutes", "dosed_days", "incidents", "harm",
                  "action"]
ALL_HOTSPOTS = "all"


# --------------------------------------------------------------------------------------------
# Target and period
# --------------------------------------------------------------------------------------------
#: Koper, C. S. (1995). Just enough police presence: reducing crime and disorderly behavior by
#: optimizing patrol time in crime hot spots. Justice Quarterly 12(4), 649-672.
KOPER_SOURCE = ("visit length: Koper (1995), Justice Quarterly 12(4): 649-672 - deterrence grows with the "
                "length of a stop up to about 10-15 minutes, then tails off; it does not set visits a day")
#: The three 8-hour shifts a per-shift target counts in (start hour, end hour); night runs past midnight
#: and belongs to the day it starts.
SHIFTS = ((7, 15, "early"), (15, 23, "late"), (23, 7, "night"))
#: A GPS visit to a hotspot area ends when no ping falls inside the area for more than this many
#: minutes (a short step outside, such as round a corner, does not split the visit).
AREA_GAP_MINUTES = 5.0


@dataclass(frozen=True)
class DosageTarget:
    """The dose each hotspot should get, set by the user, and the traffic-light thresholds.

    ``visits`` visits of at least ``min_minutes`` every day (``per='day'``) or in each of the three
    8-hour shifts (``per='shift'``, :data:`SHIFTS`), on ``days_per_week`` days a week. Default: one
    15-minute visit a day (planned at the middle of 10-20 minutes), every day, as the UK trials
    (:data:`UK_TRIALS`). ``green_at``/``amber_at`` are shares of the required days that were dosed.
    ``name`` says what the target is (a preset's name, or "your own target").
    """

    visits: int = 1
    min_minutes: float = 10.0
    max_minutes: float = 20.0
    per: str = "day"
    days_per_week: int = 7
    green_at: float = 0.8
    amber_at: float = 0.5
    name: str = "one 15-minute visit a day (UK trials: Southend, Grip)"

    def __post_init__(self) -> None:
        if int(self.visits) < 1:
            raise InputError(f"visits: must be at least 1, got {self.visits}")
        if self.per not in ("day", "shift"):
            raise InputError(f"visits per: 'day' or 'shift', got '{self.per}'")
        if not 1 <= int(self.days_per_week) <= 7:
            raise InputError(f"days per week: between 1 and 7, got {self.days_per_week}")
        if not 0 < float(self.min_minutes) <= float(self.max_minutes):
            raise InputError(f"visit minutes: need 0 < minimum <= maximum, got {self.min_minutes}-{self.max_minutes}")
        if not 0 <= float(self.amber_at) <= float(self.green_at) <= 1:
            raise InputError(f"status thresholds: need 0 <= amber <= green <= 1, got {self.amber_at}, {self.green_at}")

    @property
    def visits_per_day(self) -> int:
        """Qualifying visits a dosed day needs (per shift: in each of the three shifts)."""
        return int(self.visits) * (len(SHIFTS) if self.per == "shift" else 1)

    @property
    def visit_minutes(self) -> int:
        """The planned length of a visit: the middle of the band (12 minutes by default)."""
        return int(round((self.min_minutes + self.max_minutes) / 2))

    def required_days(self, days: int) -> float:
        """How many of ``days`` consecutive days must be dosed to meet the target."""
        return days * int(self.days_per_week) / 7.0

    def status(self, compliance: float) -> str:
        """'green', 'amber' or 'red' for a compliance share (NaN -> red: no days to judge)."""
        if not np.isfinite(compliance):
            return "red"
        if compliance >= self.green_at:
            return "green"
        return "amber" if compliance >= self.amber_at else "red"

    def describe(self) -> str:
        visits = "one visit" if self.visits == 1 else f"{self.visits} visits"
        unit = "a day" if self.per == "day" else "in every shift (07-15, 15-23, 23-07)"
        days = "every day" if self.days_per_week == 7 else f"on {self.days_per_week} days a week"
        return (f"{self.name}: {visits} of {self.min_minutes:g}-{self.max_minutes:g} minutes {unit}, {days}, "
                "in every hotspot; "
                f"green when {self.green_at:.0%} of the required days or more meet it, amber from "
                f"{self.amber_at:.0%}, red below")


UK_TRIALS = DosageTarget()
#: Sacramento hot spots experiment (Telep, Mitchell & Weisburd 2014): 12-16 minute visits in random
#: order, about every 2 hours through the hot hours. Four visits a day stands for an 8-hour hot window;
#: the user changes the visits to fit their own hot hours.
SACRAMENTO = DosageTarget(visits=4, min_minutes=10.0, max_minutes=20.0,
                          name="15 minutes at random every 2 hours in the hot hours (Sacramento)")
OWN_TARGET = "your own target"
DOSAGE_PRESETS = {UK_TRIALS.name: UK_TRIALS, SACRAMENTO.name: SACRAMENTO}


def period_of(filters: Filters) -> tuple[date, date]:
    """First and last day (inclusive) of the filters' months."""
    if not filters.date_from or not filters.date_to:
        raise InputError("period: choose a first and a last month")
    first = date.fromisoformat(filters.date_from + "-01")
    last = date.fromisoformat(shift_month(filters.date_to, 1) + "-01") - timedelta(days=1)
    return first, last


def parse_actions(actions: Iterable[Sequence] | None) -> pd.DataFrame:
    """Weeks of action (Op Sceptre-style) as a frame start, end (dates, inclusive), label.
    Each item is (start, end, label) with dates as ``date`` or 'YYYY-MM-DD'."""
    rows = []
    for number, item in enumerate(actions or (), start=1):
        try:
            start, end, label = item
            start = pd.Timestamp(start).date()
            end = pd.Timestamp(end).date()
        except (TypeError, ValueError) as exc:
            raise InputError(f"week of action {number}: expected (start, end, label) with dates YYYY-MM-DD") from exc
        if end < start:
            raise InputError(f"week of action {number}: ends {end} before it starts {start}")
        rows.append((start, end, str(label).strip() or f"action {number}"))
    return pd.DataFrame(rows, columns=["start", "end", "label"])


# --------------------------------------------------------------------------------------------
# Result container
# --------------------------------------------------------------------------------------------
@dataclass
class PatrolReport:
    """Dosage for one period.

    * ``dosage``: one row per hotspot (:data:`DOSAGE_COLUMNS`), ranked as the hotspots were;
    * ``cells``: one row per cell with patrols or inside a hotspot (:data:`CELL_DOSAGE_COLUMNS`);
    * ``grid``: hour-of-day x day-of-week, long, for each hotspot and for ``'all'`` hotspots
      (:data:`GRID_COLUMNS`; every one of the 7 x 24 slots present);
    * ``weekly``: patrols against incidents per Monday-starting week, per hotspot and ``'all'``
      (:data:`WEEKLY_COLUMNS`; ``action`` names an overlapping week of action);
    * ``summary``: totals (patrols, inside/outside the hotspots, by source, ...);
    * ``hotspot_cells``: h3 (uint64), hotspot_id, hotspot_name: the cells dosage is measured on.
    """

    period: tuple[date, date]
    target: DosageTarget
    dosage: pd.DataFrame
    cells: pd.DataFrame
    grid: pd.DataFrame
    weekly: pd.DataFrame
    summary: dict
    hotspot_cells: pd.DataFrame
    actions: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: Incidents in the hotspots with a date and time, and with a month only (police.uk).
    timed_incidents: int = 0
    untimed_incidents: int = 0
    #: Location text per hotspot (hotspot_id, street, n, lat, lon, inside): the streets in and around it.
    streets: pd.DataFrame | None = None
    #: Loaded street-layer lines near each hotspot (hotspot_id, name, geometry WKB in WGS84), if any.
    street_lines: pd.DataFrame | None = None
    #: How many of the hotspots stand out from their surroundings beyond chance, in one line
    #: (render.context.chance_line; "" when not known): the briefing prints it.
    chance: str = ""
    #: hotspot_id -> the place's predicted rate a month, when the hotspots were ranked by prediction
    #: (hotspots.area_predicted; with an adopted set, the rate stored when it was adopted, None where
    #: the set predates storing it).
    predicted: dict = field(default_factory=dict)

    @property
    def has_times(self) -> bool:
        """True when the hotspots' incidents carry times, so hour grids and peak windows mean something."""
        return self.timed_incidents > 0

    def times_note(self) -> str:
        """One line saying what the time figures rest on (or why there are none)."""
        if not self.has_times:
            return ("No incident times: the records give a month only (police.uk), so there is no hour-by-day "
                    "grid and no peak window; times are for the team to set.")
        total = self.timed_incidents + self.untimed_incidents
        return f"Times rest on {self.timed_incidents:,} timed incident(s) of {total:,} in the hotspots."


# --------------------------------------------------------------------------------------------
# Pure pieces
# --------------------------------------------------------------------------------------------
def assign_patrols(patrols: pd.DataFrame, hotspot_cells: pd.DataFrame) -> pd.DataFrame:
    """Patrol rows with ``hotspot_id``/``hotspot_name`` (None outside every hotspot), ``in_hotspot``,
    ``end`` recomputed as start + minutes and ``day`` (the date of the start).

    A patrol belongs to the hotspot whose cell holds its position (``h3``, uint64). A patrol with no
    position whose ``hotspot_ref`` equals a hotspot id is given to that hotspot (a log naming it)."""
    out = patrols.copy()
    out["start"] = pd.to_datetime(out["start"])
    out["minutes"] = pd.to_numeric(out["minutes"], errors="coerce").fillna(0.0).astype(float)
    out["end"] = out["start"] + pd.to_timedelta(out["minutes"], unit="m")
    out["day"] = out["start"].dt.normalize()
    if "source" not in out:
        out["source"] = "log"
    lookup_id = dict(zip(hotspot_cells["h3"].astype(np.uint64).tolist(), hotspot_cells["hotspot_id"]))
    names = dict(zip(hotspot_cells["hotspot_id"], hotspot_cells["hotspot_name"]))
    cells, located = _cells_of(out)
    mapped = pd.Series(cells).map(lookup_id)
    ids = mapped.astype(object).where(mapped.notna() & located, None).to_numpy(object, copy=True)
    if "hotspot_ref" in out and (~located).any():
        refs = out["hotspot_ref"].astype(object).to_numpy()
        for i in np.flatnonzero(~located):
            if refs[i] in names:
                ids[i] = refs[i]
    # Object dtype keeps None for "no hotspot" (pandas 3 would otherwise infer str with NaN).
    out["hotspot_id"] = pd.Series(ids, index=out.index, dtype=object)
    out["hotspot_name"] = out["hotspot_id"].map(names).astype(object).where(out["hotspot_id"].notna(), None)
    out["in_hotspot"] = out["hotspot_id"].notna()
    return out


def _cells_of(patrols: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(cells as uint64 with 0 for none, located mask) from the ``h3`` column, whatever its dtype.
    Never through float: H3 ids above 2**53 would lose their last bits."""
    if "h3" not in patrols or patrols.empty:
        return np.zeros(len(patrols), np.uint64), np.zeros(len(patrols), bool)
    column = patrols["h3"]
    located = column.notna().to_numpy()
    if pd.api.types.is_integer_dtype(column.dtype):
        cells = column.to_numpy(dtype=np.uint64, na_value=0)
    else:  # object (Python ints, None): element by element, exact
        cells = np.zeros(len(column), np.uint64)
        if located.any():
            cells[located] = np.array([int(v) for v in column[located]], dtype=np.uint64)
    return cells, located & (cells != 0)


def merge_area_visits(assigned: pd.DataFrame, gap_minutes: float = AREA_GAP_MINUTES) -> pd.DataFrame:
    """Join a callsign's consecutive GPS runs inside the same hotspot area into one visit.

    ``assigned`` from :func:`assign_patrols`. Rows with ``source == 'gps'`` inside a hotspot, taken
    per ``unit`` in time order, start a new visit when the hotspot changes or when more than
    ``gap_minutes`` pass between the end of one run and the start of the next (no ping inside the
    area for that long). A joined visit runs from the first run's start to the last run's end, so the
    minutes between cells count. Logs and GPS runs outside hotspots are returned unchanged."""
    is_gps = (assigned["source"].astype(str) == "gps").to_numpy() & assigned["in_hotspot"].to_numpy(bool)
    if not is_gps.any() or "unit" not in assigned:
        return assigned
    gps = assigned[is_gps].sort_values(["unit", "start"], kind="stable")
    unit = gps["unit"].astype(str)
    spot = gps["hotspot_id"].astype(str)
    previous_end = gps.groupby(unit.to_numpy(), sort=False)["end"].shift()
    gap = (gps["start"] - previous_end) > pd.Timedelta(minutes=gap_minutes)
    new = (unit != unit.shift()) | (spot != spot.shift()) | gap | previous_end.isna()
    visit = new.cumsum().to_numpy()
    joined = gps.groupby(visit, sort=False).agg(
        {c: "first" for c in gps.columns if c not in ("start", "end")} | {"start": "min", "end": "max"})
    joined["minutes"] = (joined["end"] - joined["start"]).dt.total_seconds() / 60.0
    joined["day"] = joined["start"].dt.normalize()
    out = pd.concat([assigned[~is_gps], joined[assigned.columns]], ignore_index=True)
    return out.sort_values("start", kind="stable").reset_index(drop=True)


def _minutes_by_hour(patrols: pd.DataFrame) -> pd.DataFrame:
    """Patrol minutes split over the clock hours each patrol spans: columns hotspot_id, day, hour,
    patrol_minutes, patrols (a patrol counts once, in the hour it starts)."""
    if patrols.empty:
        return pd.DataFrame(columns=["hotspot_id", "day", "hour", "patrol_minutes", "patrols"])
    start = patrols["start"].to_numpy("datetime64[ns]")
    end = patrols["end"].to_numpy("datetime64[ns]")
    first_hour = start.astype("datetime64[h]")
    spans = np.maximum(1, np.ceil((end - first_hour).astype("timedelta64[ns]").astype(np.int64) / 3.6e12).astype(int))
    row = np.repeat(np.arange(len(patrols)), spans)
    offset = np.arange(row.size) - np.repeat(np.cumsum(spans) - spans, spans)
    slot = first_hour[row] + offset.astype("timedelta64[h]")
    slot_end = slot + np.timedelta64(1, "h")
    overlap = (np.minimum(end[row], slot_end.astype("datetime64[ns]")) - np.maximum(start[row], slot.astype("datetime64[ns]")))
    minutes = np.clip(overlap.astype("timedelta64[ns]").astype(np.int64) / 6e10, 0, None)
    slot_ts = pd.DatetimeIndex(slot.astype("datetime64[ns]"))
    return pd.DataFrame({
        "hotspot_id": patrols["hotspot_id"].to_numpy(object)[row],
        "day": slot_ts.normalize(),
        "hour": slot_ts.hour.to_numpy(),
        "patrol_minutes": minutes,
        "patrols": (offset == 0).astype(int),
    })


def _with_all(frame: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
    """The frame plus the same aggregation over every hotspot, as hotspot_id 'all'."""
    total = frame.groupby(keys, as_index=False)[values].sum()
    total.insert(0, "hotspot_id", ALL_HOTSPOTS)
    return pd.concat([frame, total], ignore_index=True)


def time_grid(incidents: pd.DataFrame, patrol_hours: pd.DataFrame, hotspot_ids: Sequence[str]) -> pd.DataFrame:
    """Hour-of-day x day-of-week grid per hotspot and for 'all': incidents, harm, patrol minutes and
    patrols in each of the 168 slots (zeros included). ``incidents``: hotspot_id, day, hour, count,
    harm (rows without a time are ignored); ``patrol_hours`` from :func:`_minutes_by_hour`."""
    inc = incidents.dropna(subset=["day", "hour"])
    inc = pd.DataFrame({
        "hotspot_id": inc["hotspot_id"].astype(object),
        "dow": pd.to_datetime(inc["day"]).dt.day_of_week.astype(int),
        "hour": inc["hour"].astype(int),
        "incidents": inc["count"].astype(int),
        "harm": inc["harm"].astype(float),
    })
    pat = patrol_hours[patrol_hours["hotspot_id"].notna()]
    pat = pd.DataFrame({
        "hotspot_id": pat["hotspot_id"].astype(object),
        "dow": pd.to_datetime(pat["day"]).dt.day_of_week.astype(int),
        "hour": pat["hour"].astype(int),
        "patrol_minutes": pat["patrol_minutes"].astype(float),
        "patrols": pat["patrols"].astype(int),
    })
    keys = ["hotspot_id", "dow", "hour"]
    inc = inc.groupby(keys, as_index=False)[["incidents", "harm"]].sum()
    pat = pat.groupby(keys, as_index=False)[["patrol_minutes", "patrols"]].sum()
    ids = list(hotspot_ids) + [ALL_HOTSPOTS]
    full = pd.MultiIndex.from_product([ids, range(7), range(24)], names=keys).to_frame(index=False)
    full["hotspot_id"] = full["hotspot_id"].astype(object)
    inc = _with_all(inc, ["dow", "hour"], ["incidents", "harm"])
    pat = _with_all(pat, ["dow", "hour"], ["patrol_minutes", "patrols"])
    grid = full.merge(inc, on=keys, how="left").merge(pat, on=keys, how="left")
    grid[["incidents", "patrols"]] = grid[["incidents", "patrols"]].fillna(0).astype(int)
    grid[["harm", "patrol_minutes"]] = grid[["harm", "patrol_minutes"]].fillna(0.0)
    grid["day"] = grid["dow"].map(dict(enumerate(DAY_NAMES)))
    return grid[GRID_COLUMNS]


def weekly_series(incidents: pd.DataFrame, patrols: pd.DataFrame, period: tuple[date, date],
                  actions: pd.DataFrame | None = None, target: DosageTarget | None = None,
                  hotspot_ids: Sequence[str] = (), stored_months: set[str] | None = None) -> pd.DataFrame:
    """Patrols, minutes, incidents and harm per Monday-starting week of the period, per hotspot and
    for 'all' hotspots; weeks with nothing are zeros. ``days`` is how many of the week's days fall in
    the period (the first and last weeks may be partial: compare them with care). ``action`` is the
    label of any week of action overlapping the week ('' otherwise). ``dosed_days``: days of the
    week that met ``target`` (the default target when none is given). Every id in ``hotspot_ids``
    gets its weeks, zeros included (a hotspot with no timed incident and no patrol still has weeks).
    ``stored_days``: how many of those days lie in a month the store holds (``stored_months``; all
    when None): a week with none is no data, not a week of zeros."""
    first, last = period
    weeks = pd.date_range(pd.Timestamp(first) - pd.Timedelta(days=first.weekday()), pd.Timestamp(last), freq="W-MON")
    inc = incidents.dropna(subset=["day"])
    inc = pd.DataFrame({"hotspot_id": inc["hotspot_id"].astype(object), "week": _week_of(inc["day"]),
                        "incidents": inc["count"].astype(int), "harm": inc["harm"].astype(float)})
    pat = patrols[patrols["in_hotspot"]]
    pat = pd.DataFrame({"hotspot_id": pat["hotspot_id"].astype(object), "week": _week_of(pat["day"]),
                        "patrols": 1, "minutes": pat["minutes"].astype(float)})
    keys = ["hotspot_id", "week"]
    inc = _with_all(inc.groupby(keys, as_index=False)[["incidents", "harm"]].sum(), ["week"], ["incidents", "harm"])
    pat = pat.groupby(keys, as_index=False)[["patrols", "minutes"]].sum()
    daily = _daily_table(patrols, target or DosageTarget())
    dosed = daily[daily["dosed"]].assign(week=lambda f: _week_of(f["day"]), dosed_days=1)
    pat = pat.merge(dosed.groupby(keys, as_index=False)["dosed_days"].sum(), on=keys, how="outer")
    pat = _with_all(pat.fillna({"patrols": 0, "minutes": 0.0, "dosed_days": 0}), ["week"],
                    ["patrols", "minutes", "dosed_days"])
    ids = sorted(set(inc["hotspot_id"]) | set(pat["hotspot_id"]) | set(hotspot_ids) | {ALL_HOTSPOTS},
                 key=lambda v: (v == ALL_HOTSPOTS, v))
    full = pd.MultiIndex.from_product([ids, weeks], names=keys).to_frame(index=False)
    full["hotspot_id"] = full["hotspot_id"].astype(object)
    out = full.merge(pat, on=keys, how="left").merge(inc, on=keys, how="left")
    out[["patrols", "incidents", "dosed_days"]] = out[["patrols", "incidents", "dosed_days"]].fillna(0).astype(int)
    out[["minutes", "harm"]] = out[["minutes", "harm"]].fillna(0.0)
    week_end = out["week"] + pd.Timedelta(days=6)
    out["days"] = ((week_end.clip(upper=pd.Timestamp(last)) - out["week"].clip(lower=pd.Timestamp(first))).dt.days + 1)
    held = pd.Series(1, index=held_days(period, stored_months))
    per_week = held.groupby(held.index - pd.to_timedelta(held.index.day_of_week, unit="D")).sum()
    out["stored_days"] = out["week"].map(per_week).fillna(0).astype(int).to_numpy()
    out["action"] = mark_actions(out["week"], actions)
    return out[WEEKLY_COLUMNS]


def _week_of(days: pd.Series) -> pd.Series:
    days = pd.to_datetime(days).dt.normalize()
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def mark_actions(weeks: pd.Series, actions: pd.DataFrame | None) -> pd.Series:
    """For each week start, the labels of the weeks of action overlapping its 7 days ('' if none)."""
    labels = pd.Series([""] * len(weeks), index=weeks.index, dtype=object)
    if actions is None or actions.empty:
        return labels
    week_start = pd.to_datetime(weeks)
    week_end = week_start + pd.Timedelta(days=6)
    for row in actions.itertuples(index=False):
        hit = (week_start <= pd.Timestamp(row.end)) & (week_end >= pd.Timestamp(row.start))
        labels[hit] = [f"{old}; {row.label}" if old else row.label for old in labels[hit]]
    return labels


def _daily_table(patrols: pd.DataFrame, target: DosageTarget) -> pd.DataFrame:
    """Per hotspot and day: patrols, and ``dosed`` (the day met the target). A per-shift target
    needs ``visits`` qualifying visits in each shift; the night shift belongs to the day it starts."""
    inside = patrols.loc[patrols["in_hotspot"], ["hotspot_id", "day", "start", "minutes"]]
    if inside.empty:
        return pd.DataFrame({"hotspot_id": pd.Series(dtype=object), "day": pd.Series(dtype="datetime64[ns]"),
                             "patrols": pd.Series(dtype=int), "dosed": pd.Series(dtype=bool)})
    qualifying = inside["minutes"] >= target.min_minutes
    counts = inside.groupby(["hotspot_id", "day"], as_index=False).agg(patrols=("minutes", "size"))
    if target.per == "day":
        good = inside[qualifying].groupby(["hotspot_id", "day"]).size()
        counts["dosed"] = [good.get((h, d), 0) >= target.visits for h, d in zip(counts["hotspot_id"], counts["day"])]
        return counts
    hour = inside["start"].dt.hour
    shift = np.select([(hour >= 7) & (hour < 15), (hour >= 15) & (hour < 23)], [0, 1], 2)
    shift_day = inside["day"] - pd.to_timedelta((hour < 7).astype(int), unit="D")  # 00-07: last night's shift
    q = pd.DataFrame({"hotspot_id": inside["hotspot_id"], "day": shift_day, "shift": shift})[qualifying.to_numpy()]
    per_shift = q.groupby(["hotspot_id", "day", "shift"]).size()
    met = (per_shift >= target.visits).groupby(level=[0, 1]).sum()
    counts["dosed"] = [met.get((h, d), 0) == len(SHIFTS) for h, d in zip(counts["hotspot_id"], counts["day"])]
    return counts


def held_days(period: tuple[date, date], stored_months: set[str] | None = None) -> pd.DatetimeIndex:
    """The period's days that lie in a stored month (every day when ``stored_months`` is None). A real
    police.uk store holds 2018-03 and 2024-01..04: over 2023-05..2024-04 a dosage target counted 366
    required days where the incident data cover 121 (audit 2026-12-07 item 6)."""
    days = pd.date_range(pd.Timestamp(period[0]), pd.Timestamp(period[1]), freq="D")
    return days if stored_months is None else days[days.strftime("%Y-%m").isin(sorted(stored_months))]


def hotspot_dosage(patrols: pd.DataFrame, areas: pd.DataFrame, incidents: pd.DataFrame, period: tuple[date, date],
                   target: DosageTarget = DosageTarget(), stored_months: set[str] | None = None) -> pd.DataFrame:
    """One row per hotspot (:data:`DOSAGE_COLUMNS`).

    ``patrols`` from :func:`assign_patrols`; ``areas``: hotspot_rank, hotspot_id, hotspot_name,
    district, n_cells; ``incidents``: hotspot_id, day, hour, count, harm (rows with no day still
    count towards the totals). Compliance = dosed days / days in the period; ``minutes_vs_target``
    = minutes / (days x visits_per_day x min_minutes); trend compares patrols in the last 4 weeks of
    the period with the 4 weeks before (NaN when there were none before). ``stored_months``: the
    months the store holds; the days counted (``days``, required days) are only theirs."""
    first, last = period
    n_days = len(held_days(period, stored_months))
    ids = areas["hotspot_id"].astype(object).tolist()
    inside = patrols.loc[patrols["in_hotspot"], ["hotspot_id", "day", "minutes"]]
    minutes = inside["minutes"]
    inside = inside.assign(in_band=(minutes >= target.min_minutes) & (minutes <= target.max_minutes),
                           over_long=(minutes - target.max_minutes).clip(lower=0))
    per = inside.groupby("hotspot_id").agg(
        patrols=("minutes", "size"), minutes=("minutes", "sum"), mean_minutes=("minutes", "mean"),
        in_band=("in_band", "sum"), over_long_minutes=("over_long", "sum"), patrolled_days=("day", "nunique"),
    ).reindex(ids)
    daily = _daily_table(patrols, target)
    dosed = daily[daily["dosed"]].groupby("hotspot_id")["day"].nunique().reindex(ids)
    inc_total = incidents.groupby("hotspot_id")[["count", "harm"]].sum().reindex(ids)

    out = areas[["hotspot_rank", "hotspot_id", "hotspot_name", "district", "n_cells"]].copy().reset_index(drop=True)
    out["incidents"] = inc_total["count"].fillna(0).astype(int).to_numpy()
    out["harm"] = inc_total["harm"].fillna(0.0).to_numpy()
    out["patrols"] = per["patrols"].fillna(0).astype(int).to_numpy()
    out["minutes"] = per["minutes"].fillna(0.0).to_numpy()
    out["mean_minutes"] = per["mean_minutes"].to_numpy(float)
    out["in_band_share"] = (per["in_band"] / per["patrols"]).to_numpy(float)
    out["over_long_minutes"] = per["over_long_minutes"].fillna(0.0).to_numpy()
    out["days"] = n_days
    out["patrolled_days"] = per["patrolled_days"].fillna(0).astype(int).to_numpy()
    out["unpatrolled_days"] = n_days - out["patrolled_days"]
    out["dosed_days"] = dosed.fillna(0).astype(int).to_numpy()
    required = target.required_days(n_days)
    with np.errstate(divide="ignore", invalid="ignore"):  # no stored day: nothing to judge (NaN, not 0%)
        out["compliance"] = (out["dosed_days"] / required).clip(upper=1.0) if required else np.nan
    out["minutes_vs_target"] = out["minutes"] / (required * target.visits_per_day * target.min_minutes)
    out["status"] = [target.status(c) for c in out["compliance"]]

    # Incidents on patrolled and unpatrolled days (an association, not an effect: patrols go where
    # incidents are expected).
    by_day = incidents.dropna(subset=["day"]).assign(day=lambda f: pd.to_datetime(f["day"]).dt.normalize())
    by_day = by_day.groupby(["hotspot_id", "day"], as_index=False)["count"].sum()
    patrolled = set(zip(daily["hotspot_id"], daily["day"]))
    on_patrolled = np.array([(h, d) in patrolled for h, d in zip(by_day["hotspot_id"], by_day["day"])], dtype=bool)
    inc_pat = by_day[on_patrolled].groupby("hotspot_id")["count"].sum().reindex(ids).fillna(0).to_numpy()
    inc_unpat = by_day[~on_patrolled].groupby("hotspot_id")["count"].sum().reindex(ids).fillna(0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["incidents_per_patrolled_day"] = np.where(out["patrolled_days"] > 0, inc_pat / out["patrolled_days"], np.nan)
        out["incidents_per_unpatrolled_day"] = np.where(out["unpatrolled_days"] > 0, inc_unpat / out["unpatrolled_days"],
                                                        np.nan)

    end = pd.Timestamp(last) + pd.Timedelta(days=1)
    recent_from = end - pd.Timedelta(weeks=TREND_WEEKS)
    before_from = recent_from - pd.Timedelta(weeks=TREND_WEEKS)
    starts = inside["day"]
    recent = inside[(starts >= recent_from) & (starts < end)].groupby("hotspot_id").size().reindex(ids).fillna(0)
    before = inside[(starts >= before_from) & (starts < recent_from)].groupby("hotspot_id").size().reindex(ids).fillna(0)
    out["patrols_last_4w"] = recent.astype(int).to_numpy()
    out["patrols_prev_4w"] = before.astype(int).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["trend_pct"] = np.where(before > 0, (recent / before - 1.0) * 100.0, np.nan)
    out["trend"] = [_trend_label(r, b) for r, b in zip(out["patrols_last_4w"], out["patrols_prev_4w"])]
    recent_days = target.required_days(max(1, min(TREND_WEEKS * 7, n_days)))
    recent_dosed = daily[daily["dosed"] & (daily["day"] >= max(recent_from, pd.Timestamp(first)))]
    recent_share = recent_dosed.groupby("hotspot_id")["day"].nunique().reindex(ids).fillna(0).to_numpy() / recent_days
    out["recent_compliance"] = np.clip(recent_share, 0.0, 1.0)
    harm_from = max(end - pd.Timedelta(weeks=RECENT_WEEKS), pd.Timestamp(first))
    recent_inc = _harm_between(incidents, harm_from, end)
    out["recent_harm"] = recent_inc.reindex(ids).fillna(0.0).to_numpy()
    return out[DOSAGE_COLUMNS]


def _harm_between(incidents: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Harm per hotspot for incidents on days in [start, end)."""
    timed = incidents.dropna(subset=["day"])
    days = pd.to_datetime(timed["day"])
    return timed[(days >= start) & (days < end)].groupby("hotspot_id")["harm"].sum()


def _trend_label(recent: int, before: int) -> str:
    if before == 0:
        return "new" if recent > 0 else "none"
    change = recent / before - 1.0
    if change >= TREND_STEADY:
        return "up"
    return "down" if change <= -TREND_STEADY else "steady"


def cell_dosage(patrols: pd.DataFrame, hotspot_cells: pd.DataFrame, cell_incidents: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cell that had patrols or lies in a hotspot (:data:`CELL_DOSAGE_COLUMNS`; h3 uint64).
    ``cell_incidents``: h3, count, harm for the same period (optional)."""
    cells, has_cell = _cells_of(patrols)
    located = patrols[has_cell]
    per = located.assign(h3=cells[has_cell]).groupby("h3").agg(
        patrols=("patrol_id", "size"), minutes=("minutes", "sum"), mean_minutes=("minutes", "mean"),
        patrolled_days=("day", "nunique")).reset_index()
    hot = hotspot_cells[["h3", "hotspot_id", "hotspot_name"]].assign(h3=lambda f: f["h3"].astype("uint64"))
    out = hot.merge(per, on="h3", how="outer")
    if cell_incidents is not None and len(cell_incidents):
        inc = cell_incidents[["h3", "count", "harm"]].rename(columns={"count": "incidents"})
        out = out.merge(inc.assign(h3=inc["h3"].astype("uint64")), on="h3", how="left")
    else:
        out["incidents"], out["harm"] = 0, 0.0
    out[["patrols", "patrolled_days", "incidents"]] = out[["patrols", "patrolled_days", "incidents"]].fillna(0).astype(int)
    out[["minutes", "harm"]] = out[["minutes", "harm"]].fillna(0.0)
    out["h3"] = out["h3"].astype("uint64")
    out["hotspot_id"] = out["hotspot_id"].astype(object).where(out["hotspot_id"].notna(), None)
    out["hotspot_name"] = out["hotspot_name"].astype(object).where(out["hotspot_name"].notna(), None)
    return out.sort_values(["patrols", "h3"], ascending=[False, True]).reset_index(drop=True)[CELL_DOSAGE_COLUMNS]


def patrol_report(patrols: pd.DataFrame, areas: pd.DataFrame, hotspot_cells: pd.DataFrame, incidents: pd.DataFrame,
                  period: tuple[date, date], target: DosageTarget = DosageTarget(),
                  cell_incidents: pd.DataFrame | None = None, actions: Iterable[Sequence] | None = None,
                  stored_months: set[str] | None = None) -> PatrolReport:
    """Dosage for a period from frames.

    ``patrols``: patrol_id, start, minutes, h3 (uint64 at the hotspot resolution; NA if unknown),
    optional source, unit, hotspot_ref; ``areas``: hotspot_rank, hotspot_id, hotspot_name, district,
    n_cells; ``hotspot_cells``: h3 (uint64), hotspot_id, hotspot_name; ``incidents``: aggregated
    hotspot_id, day, hour, count, harm (day/hour NA for month-only records); ``cell_incidents``:
    h3, count, harm; ``actions``: weeks of action as (start, end, label); ``stored_months``: the
    months the store holds (None: every month of the period), so required days and weeks count only
    days the data cover.

    GPS runs are joined into area visits (:func:`merge_area_visits`) for the dosage, grids and weekly
    series; the per-cell table keeps the runs, since a cell is what a run is."""
    first, last = period
    start, stop = pd.Timestamp(first), pd.Timestamp(last) + pd.Timedelta(days=1)
    assigned = assign_patrols(patrols, hotspot_cells)
    outside_period = int(((assigned["start"] < start) | (assigned["start"] >= stop)).sum())
    # Only what the measures use: carrying ids and text through every filter costs more than the sums.
    keep = [c for c in ("patrol_id", "source", "unit", "start", "end", "minutes", "day", "h3", "hotspot_id",
                        "hotspot_name", "in_hotspot") if c in assigned]
    runs = assigned.loc[(assigned["start"] >= start) & (assigned["start"] < stop), keep].reset_index(drop=True)
    visits = merge_area_visits(runs)
    action_frame = parse_actions(actions)
    ids = areas["hotspot_id"].astype(object).tolist()
    dosage = hotspot_dosage(visits, areas, incidents, period, target, stored_months)
    grid = time_grid(incidents, _minutes_by_hour(visits[visits["in_hotspot"]]), ids)
    weekly = weekly_series(incidents, visits, period, action_frame, target, ids, stored_months)
    cells = cell_dosage(runs, hotspot_cells, cell_incidents)
    summary = _summary(visits, dosage, period, len(hotspot_cells), joined=len(runs) - len(visits))
    summary["days"] = len(held_days(period, stored_months))
    timed = int(incidents.loc[incidents["day"].notna(), "count"].sum()) if len(incidents) else 0
    untimed = int(incidents.loc[incidents["day"].isna(), "count"].sum()) if len(incidents) else 0
    notes = [f"Dosage target: {target.describe()}. A visit's {KOPER_SOURCE}."]
    if summary["gps_runs_joined"]:
        notes.append(f"{summary['gps_runs_joined']:,} GPS cell run(s) were joined into area visits (a new visit after "
                     f"more than {AREA_GAP_MINUTES:g} minutes without a ping inside the area).")
    if summary["unlocated"]:
        notes.append(f"{summary['unlocated']:,} patrol(s) have no position and name none of these hotspots: counted in "
                     "the totals only.")
    if outside_period:
        notes.append(f"{outside_period:,} patrol(s) outside {first} to {last} were left out.")
    if summary["days"] < (last - first).days + 1:
        notes.append(f"Dosage counts the {summary['days']:,} days of {first} to {last} in months the store holds; "
                     "the other months are not stored (no data, not days without patrols).")
    if untimed:
        notes.append(f"{untimed:,} incident(s) in the hotspots have a month but no date or time (police.uk): they count "
                     "in the totals, not in the time grids or the weekly series.")
    return PatrolReport(period, target, dosage, cells, grid, weekly, summary,
                        hotspot_cells.reset_index(drop=True), action_frame, notes, timed, untimed)


def _summary(visits: pd.DataFrame, dosage: pd.DataFrame, period: tuple[date, date], n_cells: int,
             joined: int) -> dict:
    """Totals for the report: visits in and outside the hotspots, by source, statuses."""
    n = len(visits)
    inside = int(visits["in_hotspot"].sum())
    unlocated = int((~_cells_of(visits)[1] & ~visits["in_hotspot"].to_numpy()).sum())
    return {
        "patrols": n, "minutes": float(visits["minutes"].sum()),
        "patrols_in_hotspots": inside, "patrols_outside": n - inside,
        "share_in_hotspots": inside / n if n else float("nan"),
        "minutes_in_hotspots": float(visits.loc[visits["in_hotspot"], "minutes"].sum()),
        "median_minutes": float(visits["minutes"].median()) if n else float("nan"),
        "by_source": {str(k): int(v) for k, v in visits["source"].value_counts().sort_index().items()},
        "hotspots": len(dosage), "hotspot_cells": int(n_cells),
        "hotspots_green": int((dosage["status"] == "green").sum()),
        "hotspots_amber": int((dosage["status"] == "amber").sum()),
        "hotspots_red": int((dosage["status"] == "red").sum()),
        "mean_compliance": float(dosage["compliance"].mean()) if len(dosage) else float("nan"),
        "days": (period[1] - period[0]).days + 1, "unlocated": unlocated, "gps_runs_joined": int(joined),
    }


__all__ = [
    "AREA_GAP_MINUTES", "KOPER_SOURCE", "SHIFTS", "DOSAGE_PRESETS", "OWN_TARGET", "DosageTarget", "PatrolReport", "DOSAGE_COLUMNS",
    "CELL_DOSAGE_COLUMNS", "GRID_COLUMNS", "WEEKLY_COLUMNS", "DAY_NAMES", "ALL_HOTSPOTS", "period_of",
    "parse_actions", "assign_patrols", "merge_area_visits", "time_grid", "weekly_series", "mark_actions",
    "hotspot_dosage", "cell_dosage", "patrol_report",
]
