"""Patrol dosage in the hotspots, when incidents and patrols happen, and a suggested patrol plan.

Everything here is pure (frames in, frames out); :func:`hotspot_engine.service.patrol_report`
queries the store with a :class:`~hotspot_engine.filters.Filters` and calls them.

Which hotspots: by default the Gi* hotspots of the 12 months *before* the start of the period
(:func:`hotspot_engine.service.hotspots_before`), so dosage is measured against the places chosen before patrolling began,
not against places picked with hindsight.

Dosage target (:class:`DosageTarget`): by default at least one visit of 10 to 20 minutes a day in
every hotspot. Koper (1995) found that police presence deters for longer the longer it lasts, up to
about 15 minutes, after which returns diminish; UK hotspot trials used one 15-20 minute patrol a day
per hotspot (DOMAIN.md, Patrols). A day is *dosed* when the hotspot received at least
``visits_per_day`` visits of at least ``min_minutes``; a longer visit still counts (the officers
were there), but the minutes beyond ``max_minutes`` are reported as over-long.

Traffic light (:meth:`DosageTarget.status`), on compliance = dosed days / days in the period:
green at ``green_at`` (default 80%) or more, amber at ``amber_at`` (default 50%) or more, red below.

Patrols come from logs (``source = 'log'``) or from GPS pings turned into visits (``'gps'``); both
are rows of the store's ``patrols`` table and are treated alike.
"""
from __future__ import annotations

import io
import math
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
PLAN_COLUMNS = ["hotspot_id", "hotspot_name", "date", "window_start", "window_end", "suggested_start", "minutes",
                "reason"]
DOSAGE_COLUMNS = [
    "hotspot_rank", "hotspot_id", "hotspot_name", "district", "n_cells", "incidents", "harm", "patrols", "minutes",
    "mean_minutes", "in_band_share", "over_long_minutes", "days", "patrolled_days", "unpatrolled_days", "dosed_days",
    "compliance", "minutes_vs_target", "status", "incidents_per_patrolled_day", "incidents_per_unpatrolled_day",
    "patrols_last_4w", "patrols_prev_4w", "trend_pct", "trend", "recent_compliance", "recent_harm",
]
CELL_DOSAGE_COLUMNS = ["h3", "hotspot_id", "hotspot_name", "incidents", "harm", "patrols", "minutes", "mean_minutes",
                       "patrolled_days"]
GRID_COLUMNS = ["hotspot_id", "dow", "day", "hour", "incidents", "harm", "patrol_minutes", "patrols"]
WEEKLY_COLUMNS = ["hotspot_id", "week", "days", "patrols", "minutes", "incidents", "harm", "action"]
ALL_HOTSPOTS = "all"


# --------------------------------------------------------------------------------------------
# Target and period
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DosageTarget:
    """The dose each hotspot should get, and the traffic-light thresholds on compliance.

    Default: one visit a day of 10-20 minutes (Koper curve; UK trials: one 15-20 minute patrol a
    day per hotspot). ``green_at``/``amber_at`` are shares of days in the period that were dosed.
    """

    visits_per_day: int = 1
    min_minutes: float = 10.0
    max_minutes: float = 20.0
    green_at: float = 0.8
    amber_at: float = 0.5

    def __post_init__(self) -> None:
        if int(self.visits_per_day) < 1:
            raise InputError(f"visits per day: must be at least 1, got {self.visits_per_day}")
        if not 0 < float(self.min_minutes) <= float(self.max_minutes):
            raise InputError(f"visit minutes: need 0 < minimum <= maximum, got {self.min_minutes}-{self.max_minutes}")
        if not 0 <= float(self.amber_at) <= float(self.green_at) <= 1:
            raise InputError(f"status thresholds: need 0 <= amber <= green <= 1, got {self.amber_at}, {self.green_at}")

    @property
    def visit_minutes(self) -> int:
        """The planned length of a visit: the middle of the band (15 minutes by default)."""
        return int(round((self.min_minutes + self.max_minutes) / 2))

    def status(self, compliance: float) -> str:
        """'green', 'amber' or 'red' for a compliance share (NaN -> red: no days to judge)."""
        if not np.isfinite(compliance):
            return "red"
        if compliance >= self.green_at:
            return "green"
        return "amber" if compliance >= self.amber_at else "red"

    def describe(self) -> str:
        visits = "one visit" if self.visits_per_day == 1 else f"{self.visits_per_day} visits"
        return (f"at least {visits} of {self.min_minutes:g}-{self.max_minutes:g} minutes a day in every hotspot; "
                f"green when {self.green_at:.0%} of days or more meet it, amber from {self.amber_at:.0%}, red below")


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
                  actions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Patrols, minutes, incidents and harm per Monday-starting week of the period, per hotspot and
    for 'all' hotspots; weeks with nothing are zeros. ``days`` is how many of the week's days fall in
    the period (the first and last weeks may be partial: compare them with care). ``action`` is the
    label of any week of action overlapping the week ('' otherwise)."""
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
    pat = _with_all(pat.groupby(keys, as_index=False)[["patrols", "minutes"]].sum(), ["week"], ["patrols", "minutes"])
    ids = sorted(set(inc["hotspot_id"]) | set(pat["hotspot_id"]) | {ALL_HOTSPOTS}, key=lambda v: (v == ALL_HOTSPOTS, v))
    full = pd.MultiIndex.from_product([ids, weeks], names=keys).to_frame(index=False)
    full["hotspot_id"] = full["hotspot_id"].astype(object)
    out = full.merge(pat, on=keys, how="left").merge(inc, on=keys, how="left")
    out[["patrols", "incidents"]] = out[["patrols", "incidents"]].fillna(0).astype(int)
    out[["minutes", "harm"]] = out[["minutes", "harm"]].fillna(0.0)
    week_end = out["week"] + pd.Timedelta(days=6)
    out["days"] = ((week_end.clip(upper=pd.Timestamp(last)) - out["week"].clip(lower=pd.Timestamp(first))).dt.days + 1)
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
    """Per hotspot and day: patrols, qualifying visits (>= min_minutes)."""
    inside = patrols.loc[patrols["in_hotspot"], ["hotspot_id", "day", "minutes"]]
    return inside.assign(qualifying=inside["minutes"] >= target.min_minutes).groupby(
        ["hotspot_id", "day"], as_index=False).agg(patrols=("minutes", "size"), qualifying=("qualifying", "sum"))


def hotspot_dosage(patrols: pd.DataFrame, areas: pd.DataFrame, incidents: pd.DataFrame, period: tuple[date, date],
                   target: DosageTarget = DosageTarget()) -> pd.DataFrame:
    """One row per hotspot (:data:`DOSAGE_COLUMNS`).

    ``patrols`` from :func:`assign_patrols`; ``areas``: hotspot_rank, hotspot_id, hotspot_name,
    district, n_cells; ``incidents``: hotspot_id, day, hour, count, harm (rows with no day still
    count towards the totals). Compliance = dosed days / days in the period; ``minutes_vs_target``
    = minutes / (days x visits_per_day x min_minutes); trend compares patrols in the last 4 weeks of
    the period with the 4 weeks before (NaN when there were none before)."""
    first, last = period
    n_days = (last - first).days + 1
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
    dosed = daily[daily["qualifying"] >= target.visits_per_day].groupby("hotspot_id")["day"].nunique().reindex(ids)
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
    out["compliance"] = out["dosed_days"] / n_days
    out["minutes_vs_target"] = out["minutes"] / (n_days * target.visits_per_day * target.min_minutes)
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
    recent_days = max(1, min(TREND_WEEKS * 7, n_days))
    recent_dosed = daily[(daily["qualifying"] >= target.visits_per_day) & (daily["day"] >= max(recent_from, pd.Timestamp(first)))]
    out["recent_compliance"] = recent_dosed.groupby("hotspot_id")["day"].nunique().reindex(ids).fillna(0).to_numpy() / recent_days
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
                  cell_incidents: pd.DataFrame | None = None, actions: Iterable[Sequence] | None = None) -> PatrolReport:
    """Dosage for a period from frames.

    ``patrols``: patrol_id, start, minutes, h3 (uint64 at the hotspot resolution; NA if unknown),
    optional source, hotspot_ref; ``areas``: hotspot_rank, hotspot_id, hotspot_name, district,
    n_cells; ``hotspot_cells``: h3 (uint64), hotspot_id, hotspot_name; ``incidents``: aggregated
    hotspot_id, day, hour, count, harm (day/hour NA for month-only records); ``cell_incidents``:
    h3, count, harm; ``actions``: weeks of action as (start, end, label)."""
    first, last = period
    start, stop = pd.Timestamp(first), pd.Timestamp(last) + pd.Timedelta(days=1)
    assigned = assign_patrols(patrols, hotspot_cells)
    outside_period = int(((assigned["start"] < start) | (assigned["start"] >= stop)).sum())
    # Only what the measures use: carrying ids and text through every filter costs more than the sums.
    keep = [c for c in ("patrol_id", "source", "start", "end", "minutes", "day", "h3", "hotspot_id", "hotspot_name",
                        "in_hotspot") if c in assigned]
    assigned = assigned.loc[(assigned["start"] >= start) & (assigned["start"] < stop), keep].reset_index(drop=True)
    action_frame = parse_actions(actions)
    ids = areas["hotspot_id"].astype(object).tolist()
    dosage = hotspot_dosage(assigned, areas, incidents, period, target)
    hours = _minutes_by_hour(assigned[assigned["in_hotspot"]])
    grid = time_grid(incidents, hours, ids)
    weekly = weekly_series(incidents, assigned, period, action_frame)
    cells = cell_dosage(assigned, hotspot_cells, cell_incidents)

    n = len(assigned)
    inside = int(assigned["in_hotspot"].sum())
    unlocated = int((~_cells_of(assigned)[1] & ~assigned["in_hotspot"].to_numpy()).sum())
    summary = {
        "patrols": n, "minutes": float(assigned["minutes"].sum()),
        "patrols_in_hotspots": inside, "patrols_outside": n - inside,
        "share_in_hotspots": inside / n if n else float("nan"),
        "minutes_in_hotspots": float(assigned.loc[assigned["in_hotspot"], "minutes"].sum()),
        "median_minutes": float(assigned["minutes"].median()) if n else float("nan"),
        "by_source": {str(k): int(v) for k, v in assigned["source"].value_counts().sort_index().items()},
        "hotspots": len(ids), "hotspot_cells": int(len(hotspot_cells)),
        "hotspots_green": int((dosage["status"] == "green").sum()),
        "hotspots_amber": int((dosage["status"] == "amber").sum()),
        "hotspots_red": int((dosage["status"] == "red").sum()),
        "mean_compliance": float(dosage["compliance"].mean()) if len(dosage) else float("nan"),
        "days": (last - first).days + 1, "unlocated": unlocated,
    }
    notes = [f"Dosage target: {target.describe()}."]
    if unlocated:
        notes.append(f"{unlocated:,} patrol(s) have no position and name none of these hotspots: counted in the "
                     "totals only.")
    if outside_period:
        notes.append(f"{outside_period:,} patrol(s) outside {first} to {last} were left out.")
    untimed = int(incidents.loc[incidents["day"].isna(), "count"].sum()) if len(incidents) else 0
    if untimed:
        notes.append(f"{untimed:,} incident(s) in the hotspots have a month but no date or time (police.uk): they count "
                     "in the totals, not in the time grids or the weekly series.")
    return PatrolReport(period, target, dosage, cells, grid, weekly, summary,
                        hotspot_cells.reset_index(drop=True), action_frame, notes)


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------
@dataclass
class PatrolPlan:
    """A suggested week of patrols: ``visits`` has :data:`PLAN_COLUMNS` (one row per visit,
    ``window_start``/``window_end``/``suggested_start`` as timestamps, ``date`` the window's day)."""

    visits: pd.DataFrame
    week_start: date
    seed: int
    target: DosageTarget
    notes: list[str] = field(default_factory=list)


def _slot_weights(grid: pd.DataFrame, hotspot_id: str, prior_weight: float = 0.5) -> np.ndarray:
    """7 x 24 expected incidents per slot for a hotspot, shrunk towards the all-hotspot profile
    (one hotspot holds too few incidents for a stable 168-slot profile) plus a small floor, so no
    slot is impossible (unpredictability)."""
    own = grid[grid["hotspot_id"] == hotspot_id].sort_values(["dow", "hour"])["incidents"].to_numpy(float).reshape(7, 24)
    every = grid[grid["hotspot_id"] == ALL_HOTSPOTS].sort_values(["dow", "hour"])["incidents"].to_numpy(float).reshape(7, 24)
    own_total, every_total = own.sum(), every.sum()
    profile = every / every_total if every_total else np.full((7, 24), 1 / 168)
    # prior_weight x own total pseudo-incidents spread as the force-wide profile (at least 10).
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
    """The ``top`` busiest (day, window) pairs for a hotspot's incidents, as 'Fri 22:00-00:00'."""
    sub = grid[grid["hotspot_id"] == hotspot_id].sort_values(["dow", "hour"])
    if sub.empty or sub["incidents"].sum() == 0:
        return []
    scores = _window_scores(sub["incidents"].to_numpy(float).reshape(7, 24), window_hours)
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


def suggest_plan(report: PatrolReport, week_start: date | None = None, seed: int = 0, extra_visits: int | None = None,
                 window_hours: int = 2, max_visits_per_day: int = 4) -> PatrolPlan:
    """A suggested week of patrols for the report's hotspots.

    Every hotspot gets the target dose on every day of the week (``visits_per_day`` visits of
    ``target.visit_minutes``); ``extra_visits`` more (default: half the target visits again) are
    shared by weight = share of recent harm (last 13 weeks of the period) x (1 + under-dosage over
    the last 4 weeks), on days chosen by the hotspot's day-of-week incident profile. Each visit's
    ``window_hours``-hour window is drawn with probability proportional to the incidents expected
    in it (the hotspot's own hour x day grid shrunk to the force-wide profile), and the start is
    drawn uniformly inside the window: unpredictable to offenders, concentrated on the peaks.
    Visits of one hotspot on one day never share or overlap a window. Same inputs and seed, same
    plan.
    """
    if not 1 <= int(window_hours) <= 6:
        raise InputError(f"window hours: must be between 1 and 6, got {window_hours}")
    target = report.target
    if max_visits_per_day < target.visits_per_day or max_visits_per_day * window_hours > 24:
        raise InputError(f"visits per day: at most {24 // window_hours} windows of {window_hours} h fit in a day, "
                         f"and at least {target.visits_per_day} are needed")
    week_start = week_start or next_monday(report.period[1])
    rng = np.random.default_rng(seed)
    dosage = report.dosage.sort_values("hotspot_rank").reset_index(drop=True)
    n = len(dosage)
    notes: list[str] = []
    if n == 0:
        return PatrolPlan(pd.DataFrame(columns=PLAN_COLUMNS), week_start, seed, target, ["No hotspots: nothing to plan."])
    base_total = n * 7 * target.visits_per_day
    extra_total = int(math.ceil(0.5 * base_total)) if extra_visits is None else int(extra_visits)
    if extra_total < 0:
        raise InputError(f"extra visits: must be 0 or more, got {extra_visits}")
    harm = dosage["recent_harm"].to_numpy(float)
    harm_share = harm / harm.sum() if harm.sum() > 0 else np.full(n, 1 / n)
    under = 1.0 - np.clip(dosage["recent_compliance"].fillna(0).to_numpy(float), 0, 1)
    weight = harm_share * (1.0 + under)
    room = 7 * (max_visits_per_day - target.visits_per_day)
    extras = np.minimum(_largest_remainder(extra_total, weight), room)
    if extras.sum() < extra_total:
        notes.append(f"{extra_total - int(extras.sum())} extra visit(s) did not fit ({max_visits_per_day} a day at most).")
    harm_rank = pd.Series(-harm).rank(method="min").astype(int).to_numpy()

    rows = []
    minutes = target.visit_minutes
    for i, spot in dosage.iterrows():
        slots = _slot_weights(report.grid, spot["hotspot_id"])
        windows = _window_scores(slots, window_hours)
        per_day = np.full(7, target.visits_per_day, dtype=int)
        if extras[i]:
            day_weight = slots.sum(axis=1)
            # Spread extras over different days first, preferring the busy ones, then stack.
            left = int(extras[i])
            while left:
                free = np.flatnonzero(per_day < max_visits_per_day)
                take = min(left, free.size)
                p = day_weight[free] / day_weight[free].sum()
                chosen = rng.choice(free, size=take, replace=False, p=p)
                per_day[chosen] += 1
                left -= take
        base_reason = f"daily target; dosed {spot['recent_compliance']:.0%} of days in the last 4 weeks"
        extra_reason = f"extra: harm rank {harm_rank[i]}/{n} (13 weeks), dosed {1 - under[i]:.0%} of days (4 weeks)"
        for day_index in range(7):
            day = week_start + timedelta(days=day_index)
            dow = day.weekday()
            score = windows[dow].copy()
            picked = []
            for _visit in range(per_day[day_index]):
                p = score ** 2  # favour the peaks more strongly than proportional, keep every slot possible
                hour = int(rng.choice(24, p=p / p.sum()))
                picked.append(hour)
                for h in range(hour - window_hours + 1, hour + window_hours):
                    if 0 <= h < 24:
                        score[h] = 0.0
                if score.sum() <= 0:
                    break
            picked.sort()
            # Share of the day's expected incidents inside each window (windows overlap, so not windows.sum()).
            peak_share = windows[dow] / slots[dow].sum()
            for k, hour in enumerate(picked):
                window_start = pd.Timestamp(day) + pd.Timedelta(hours=hour)
                slack = max(0, window_hours * 60 - minutes)
                offset = int(rng.integers(0, slack + 1))
                reason = base_reason if k < target.visits_per_day else extra_reason
                rows.append((spot["hotspot_id"], spot["hotspot_name"], day, window_start,
                             window_start + pd.Timedelta(hours=window_hours),
                             window_start + pd.Timedelta(minutes=offset), minutes,
                             f"{reason}; window: {peak_share[hour]:.0%} of the day's expected incidents"))
    visits = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    visits = visits.sort_values(["date", "suggested_start", "hotspot_id"], kind="stable").reset_index(drop=True)
    notes.insert(0, f"{len(visits):,} visits for {week_start} to {week_start + timedelta(days=6)}: {base_total:,} for "
                    f"the daily target and {int(extras.sum()):,} extra, weighted by recent harm and under-dosage; "
                    f"seed {seed}.")
    return PatrolPlan(visits, week_start, seed, target, notes)


def plan_meets_target(plan: PatrolPlan, hotspot_ids: Iterable[str]) -> bool:
    """True when every hotspot has at least ``visits_per_day`` visits of at least ``min_minutes`` on
    each of the 7 days of the plan."""
    target = plan.target
    visits = plan.visits[plan.visits["minutes"] >= target.min_minutes]
    counts = visits.groupby(["hotspot_id", "date"]).size()
    days = [plan.week_start + timedelta(days=d) for d in range(7)]
    return all(counts.get((h, d), 0) >= target.visits_per_day for h in hotspot_ids for d in days)


def plan_csv(plan: PatrolPlan) -> bytes:
    """The plan as UTF-8 CSV (times as 'YYYY-MM-DD HH:MM'), safe to open in a spreadsheet."""
    from hotspot_engine.write.export import neutralise_formulas

    out = plan.visits.copy()
    for column in ("window_start", "window_end", "suggested_start"):
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d %H:%M")
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    return neutralise_formulas(out).to_csv(index=False).encode("utf-8")


# --------------------------------------------------------------------------------------------
# Briefing (one printable page per hotspot)
# --------------------------------------------------------------------------------------------
def _recent_counts(report: PatrolReport, hotspot_id: str) -> list[tuple[str, str, str]]:
    weekly = report.weekly[report.weekly["hotspot_id"] == hotspot_id].sort_values("week")
    rows = []
    for label, weeks in (("last 4 weeks", 4), ("last 13 weeks", 13), ("whole period", len(weekly))):
        part = weekly.tail(weeks)
        rows.append((label, f"{int(part['incidents'].sum()):,}", f"{int(part['patrols'].sum()):,}"))
    return rows


def briefing_pdf(report: PatrolReport, plan: PatrolPlan | None = None, hotspot_ids: Sequence[str] | None = None,
                 synthetic: bool = False) -> bytes:
    """A printable PDF, one A4 portrait page per hotspot: map of its cells (incidents in the
    period, patrols per cell), peak times (hour x day grid of incidents), recent counts, dosage
    and this week's planned visits. Drawn offline with matplotlib."""
    from matplotlib.backends.backend_pdf import PdfPages

    ids = list(hotspot_ids) if hotspot_ids is not None else report.dosage.sort_values("hotspot_rank")["hotspot_id"].tolist()
    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        for hotspot_id in ids:
            fig = _briefing_page(report, plan, hotspot_id, synthetic)
            pdf.savefig(fig)
        info = pdf.infodict()
        info["Title"] = "Hotspot patrol briefing"
        info["Creator"] = "Hotspot"
    return buffer.getvalue()


def _briefing_page(report: PatrolReport, plan: PatrolPlan | None, hotspot_id: str, synthetic: bool):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    row = report.dosage.set_index("hotspot_id").loc[hotspot_id]
    fig = Figure(figsize=(8.27, 11.69))
    FigureCanvasAgg(fig)
    fig.text(0.05, 0.965, f"#{int(row['hotspot_rank'])}  {row['hotspot_name']}", fontsize=16, fontweight="bold", va="top")
    first, last = report.period
    fig.text(0.05, 0.935, f"Patrol briefing · hotspot {hotspot_id} · {row['district']} · {int(row['n_cells'])} cells · "
                          f"figures {first} to {last}", fontsize=9, color="#333333", va="top")
    if synthetic:
        fig.text(0.95, 0.965, "SYNTHETIC SAMPLE DATA", fontsize=9, fontweight="bold", color="white", ha="right", va="top",
                 bbox={"boxstyle": "square,pad=0.3", "fc": "#b2182b", "ec": "none"})
    _briefing_map(fig.add_axes((0.05, 0.55, 0.5, 0.34)), report, hotspot_id)

    peaks = peak_windows(report.grid, hotspot_id)
    status_colour = {"green": "#1a9850", "amber": "#e08214", "red": "#b2182b"}[row["status"]]
    lines = [
        ("Status", f"{row['status'].upper()}  ({row['compliance']:.0%} of days dosed)"),
        ("Incidents / harm", f"{int(row['incidents']):,} / {row['harm']:,.0f}"),
        ("Patrols / minutes", f"{int(row['patrols']):,} / {row['minutes']:,.0f}"),
        ("Mean visit", "-" if not np.isfinite(row["mean_minutes"]) else f"{row['mean_minutes']:.0f} min"),
        ("Days patrolled", f"{int(row['patrolled_days'])} of {int(row['days'])}"),
        ("Trend (4 weeks)", f"{row['trend']} ({int(row['patrols_last_4w'])} vs {int(row['patrols_prev_4w'])})"),
    ]
    y = 0.9
    for label, value in lines:
        fig.text(0.6, y, label, fontsize=9, color="#333333", va="top")
        fig.text(0.6, y - 0.017, value, fontsize=11, fontweight="bold", va="top",
                 color=status_colour if label == "Status" else "black")
        y -= 0.05
    fig.text(0.6, y, "Peak times (incidents)", fontsize=9, color="#333333", va="top")
    fig.text(0.6, y - 0.017, "\n".join(peaks) if peaks else "no timed incidents", fontsize=11, fontweight="bold", va="top")

    ax = fig.add_axes((0.1, 0.33, 0.85, 0.17))
    sub = report.grid[report.grid["hotspot_id"] == hotspot_id].sort_values(["dow", "hour"])
    values = sub["incidents"].to_numpy(float).reshape(7, 24)
    image = ax.imshow(values, aspect="auto", cmap="Blues", interpolation="nearest")
    ax.set_yticks(range(7), DAY_NAMES, fontsize=8)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)], fontsize=8)
    ax.set_xlabel("hour of day", fontsize=8)
    ax.set_title(f"When incidents happened, {first} to {last}", fontsize=10, loc="left")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01).ax.tick_params(labelsize=7)

    counts = _recent_counts(report, hotspot_id)
    fig.text(0.05, 0.285, "Recent counts", fontsize=10, fontweight="bold", va="top")
    fig.text(0.05, 0.265, "\n".join(f"{label:<14}" for label, _, _ in [("", "", "")] + counts), fontsize=9,
             va="top", family="monospace")
    fig.text(0.22, 0.265, "\n".join(["incidents"] + [c[1] for c in counts]), fontsize=9, va="top", family="monospace", ha="right")
    fig.text(0.32, 0.265, "\n".join(["patrols"] + [c[2] for c in counts]), fontsize=9, va="top", family="monospace", ha="right")

    fig.text(0.4, 0.285, "Planned visits this week", fontsize=10, fontweight="bold", va="top")
    if plan is not None and len(plan.visits):
        mine = plan.visits[plan.visits["hotspot_id"] == hotspot_id]
        text = "\n".join(
            f"{pd.Timestamp(v.window_start):%a %d %b}  window {pd.Timestamp(v.window_start):%H:%M}-"
            f"{pd.Timestamp(v.window_end):%H:%M}  start {pd.Timestamp(v.suggested_start):%H:%M}  {int(v.minutes)} min"
            for v in mine.itertuples(index=False))
        # Up to 16 lines fit above the footer at 8 pt; a longer list (extra visits) gets smaller type.
        size = 8.0 if len(mine) <= 16 else max(5.0, 8.0 * 16 / len(mine))
        fig.text(0.4, 0.265, text or "none", fontsize=size, va="top", family="monospace")
    else:
        fig.text(0.4, 0.265, "no plan", fontsize=8, va="top")
    fig.text(0.05, 0.03, f"Target: {report.target.describe()}. Vary arrival times inside each window; "
             "stay visible for the planned minutes.", fontsize=7, color="#333333", wrap=True)
    return fig


def _briefing_map(ax, report: PatrolReport, hotspot_id: str) -> None:
    """The hotspot's cells (shade: incidents in the period; label: patrols) and the ring around them."""
    from hotspot_engine.reference import geography

    cells = report.cells[report.cells["hotspot_id"] == hotspot_id]
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("#f4f4f2")
    if cells.empty:
        ax.text(0.5, 0.5, "no cells", ha="center", va="center", transform=ax.transAxes)
        return
    polygons = geography.cell_polygons(cells["h3"].to_numpy(np.uint64)).to_crs(27700)
    values = cells["incidents"].to_numpy(float)
    shade = values / values.max() if values.max() > 0 else values
    from matplotlib import colormaps

    colours = colormaps["Blues"](0.15 + 0.75 * shade)
    polygons.plot(ax=ax, color=list(colours), edgecolor="#333333", linewidth=0.8)
    for polygon, incidents, patrols in zip(polygons, cells["incidents"], cells["patrols"]):
        point = polygon.representative_point()
        ax.annotate(f"{int(incidents)} inc\n{int(patrols)} pat", (point.x, point.y), ha="center", va="center",
                    fontsize=6.5, bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
    xmin, ymin, xmax, ymax = polygons.total_bounds
    pad = max(xmax - xmin, ymax - ymin) * 0.12 + 50
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("")  # geopandas labels the projected axes; a briefing map needs none
    ax.set_ylabel("")
    ax.set_title("Cells: incidents (shade) and patrols in the period", fontsize=9, loc="left")
    span = xmax - xmin + 2 * pad
    bar = 100 if span < 1500 else 500
    ax.plot([xmin - pad * 0.6, xmin - pad * 0.6 + bar], [ymin - pad * 0.6] * 2, color="black", linewidth=2)
    ax.text(xmin - pad * 0.6, ymin - pad * 0.45, f"{bar} m", fontsize=7)


def hotspot_frames(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(areas, cells) of a HotspotResult as :func:`patrol_report` takes them: the areas' rank, id,
    name, district and size; one row per hotspot cell with its uint64 H3 id."""
    from hotspot_engine.reference.geography import str_to_cell

    hot = result.cells[result.cells["is_hotspot"].astype(bool)]
    cells = pd.DataFrame({"h3": str_to_cell(hot["h3"]) if len(hot) else np.array([], np.uint64),
                          "hotspot_id": hot["hotspot_id"].astype(object).to_numpy(),
                          "hotspot_name": hot["hotspot_name"].astype(object).to_numpy()})
    areas = result.areas[["hotspot_rank", "hotspot_id", "hotspot_name", "district", "n_cells"]].copy()
    return areas, cells


__all__ = [
    "DosageTarget", "PatrolReport", "PatrolPlan", "DOSAGE_COLUMNS", "CELL_DOSAGE_COLUMNS", "GRID_COLUMNS",
    "WEEKLY_COLUMNS", "PLAN_COLUMNS", "DAY_NAMES", "ALL_HOTSPOTS", "period_of", "parse_actions", "assign_patrols",
    "time_grid", "weekly_series", "mark_actions", "hotspot_dosage", "cell_dosage", "patrol_report", "peak_windows",
    "suggest_plan", "plan_meets_target", "plan_csv", "briefing_pdf", "next_monday",
    "hotspot_frames",
]
