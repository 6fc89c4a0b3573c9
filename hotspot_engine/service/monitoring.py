"""Monitoring an adopted set week by week since it came into use: dosage against the target,
incidents inside the set against the same weeks a year before, and the hotspots no patrol visited in
the last 7 days.

A set comes into use the day after its window (the report's 19 for 2023-24 were chosen on 2022-23
and patrolled from 1 April 2023): the adoption time is when someone pressed a button, and data for
the months before it often arrives later. Weeks are Monday-starting; the year before is the week 52
weeks earlier (364 days: the same weekdays). Month-only incidents (data.police.uk) cannot be put in
weeks: the incidents are then compared month by month with the same months a year before, and the
line says so. Without patrol data there is no dosage: the line says so instead of a 0%.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from hotspot_engine.analyse.dosage import ALL_HOTSPOTS, DosageTarget
from hotspot_engine.filters import Filters, shift_month
from hotspot_engine.service.sets import AdoptedSet, on_set, patrol_report, tag_hotspots
from hotspot_engine.store import query

WEEK_COLUMNS = ["week", "days", "patrols", "dosed_days", "required_days", "dosage_share", "incidents",
                "incidents_year_before"]


@dataclass
class SetMonitor:
    """``weekly``: WEEK_COLUMNS per week since ``start`` (empty when the store holds nothing since);
    ``monthly``: month, incidents, incidents_year_before when incidents have no dates;
    ``not_visited``: hotspot_number, hotspot_id, hotspot_name of hotspots with no patrol in the 7
    days to ``last_patrol`` (None without patrol data); ``lines``: what to say, one line each."""

    start: date
    end: date | None
    weekly: pd.DataFrame
    monthly: pd.DataFrame | None
    not_visited: pd.DataFrame | None
    last_patrol: date | None
    patrol_data: bool
    lines: list[str] = field(default_factory=list)


def _months(start: date, end: date) -> Filters:
    return Filters(date_from=f"{start:%Y-%m}", date_to=f"{end:%Y-%m}")


def _incidents_by_week(con, adopted: AdoptedSet, first: date, last: date) -> pd.Series:
    """Dated incidents inside the set's cells per Monday-starting week, ``first`` to ``last``."""
    from hotspot_engine.service.sets import counting_filters, hot_cells

    filters = counting_filters(adopted, _months(first, last))
    frame = query.incidents_by_hotspot_hour(con, filters, hot_cells(adopted))
    days = frame.dropna(subset=["day"])
    days = days[(days["day"] >= pd.Timestamp(first)) & (days["day"] <= pd.Timestamp(last))]
    weeks = days["day"] - pd.to_timedelta(days["day"].dt.day_of_week, unit="D")
    return days["count"].groupby(weeks.to_numpy()).sum()


def _weekly(con, adopted: AdoptedSet, start: date, end: date, target: DosageTarget) -> tuple[pd.DataFrame, bool]:
    """The set's weeks since ``start`` and whether its incidents carry dates."""
    now = patrol_report(con, _months(start, end), adopted, target)
    weeks = now.weekly[now.weekly["hotspot_id"] == ALL_HOTSPOTS].copy()
    weeks = weeks[(weeks["week"] >= pd.Timestamp(start) - pd.Timedelta(days=6)) & (weeks["week"] <= pd.Timestamp(end))]
    hotspots = len(adopted.hotspots())
    # Only days of stored months are required (a gapped store's missing months are no data).
    weeks["required_days"] = [hotspots * target.required_days(int(d)) for d in weeks["stored_days"]]
    weeks["dosage_share"] = weeks["dosed_days"] / weeks["required_days"].where(weeks["required_days"] > 0)
    # The same weeks a year before, the same days of them (a partial first or last week stays partial).
    earlier = _incidents_by_week(con, adopted, start - timedelta(days=364), end - timedelta(days=364))
    weeks["incidents_year_before"] = (weeks["week"] - pd.Timedelta(days=364)).map(earlier).fillna(0).astype(int)
    # A week in months the store does not hold is no data (<NA>), not a quiet week of 0.
    stored = query.stored_months(con)
    prior = weeks["week"] - pd.Timedelta(days=364)
    prior_held = prior.dt.strftime("%Y-%m").isin(stored) | (prior + pd.Timedelta(days=6)).dt.strftime("%Y-%m").isin(stored)
    weeks["incidents"] = weeks["incidents"].astype("Int64").where(weeks["stored_days"] > 0, pd.NA)
    weeks["incidents_year_before"] = weeks["incidents_year_before"].astype("Int64").where(prior_held, pd.NA)
    return weeks[WEEK_COLUMNS].reset_index(drop=True), now.timed_incidents >= now.untimed_incidents


def _monthly(con, adopted: AdoptedSet, start: date, end: date) -> pd.DataFrame:
    """Incidents inside the set per month since ``start``, beside the same months a year before."""
    sv = adopted.filters if (adopted.filters.offences or adopted.filters.sv_only) else adopted.filters.with_(sv_only=True)
    first = f"{start:%Y-%m}"
    counts = query.cell_month_counts(con, sv.with_(date_from=shift_month(first, -12), date_to=f"{end:%Y-%m}"))
    counts = counts[counts["h3"].isin(set(adopted.cell_ids().tolist()))].groupby("month")["count"].sum()
    months = [m for m in pd.period_range(first, f"{end:%Y-%m}", freq="M").strftime("%Y-%m")]
    stored = query.stored_months(con)  # a month the store does not hold is <NA>, not 0

    def held(month: str) -> object:
        return int(counts.get(month, 0)) if month in stored else pd.NA
    return pd.DataFrame({"month": months, "incidents": pd.array([held(m) for m in months], dtype="Int64"),
                         "incidents_year_before": pd.array([held(shift_month(m, -12)) for m in months], dtype="Int64")})


def _not_visited(con, adopted: AdoptedSet, last_patrol: date) -> pd.DataFrame:
    week = on_set(Filters(date_from=f"{last_patrol - timedelta(days=6):%Y-%m}", date_to=f"{last_patrol:%Y-%m}"), adopted)
    rows = query.patrol_rows(con, week)
    rows = rows[pd.to_datetime(rows["start"]).dt.date.between(last_patrol - timedelta(days=6), last_patrol)]
    visited = set(tag_hotspots(rows, adopted)["hotspot_id"].dropna())
    hotspots = adopted.hotspots()
    return hotspots.loc[~hotspots["hotspot_id"].isin(visited), ["hotspot_number", "hotspot_id", "hotspot_name"]]


def _unstored_line(stored: set[str], start: date, end: date) -> list[str]:
    """One line when months since the set came into use, or the same months a year before, are not
    in the store: their weeks read 0 in the charts, and that is no data, not a quiet week."""
    from hotspot_engine.filters import months_between

    since = months_between(f"{start:%Y-%m}", f"{end:%Y-%m}")
    missing = [m for m in since if m not in stored]
    before = [m for m in (shift_month(m, -12) for m in since) if m not in stored]
    if not missing and not before:
        return []
    parts = ([f"{len(missing)} of the {len(since)} months since"] if missing else []) + (
        [f"{len(before)} of the same months a year before"] if before else [])
    return [f"Not in the store: {' and '.join(parts)}: no data, left as gaps below and out of the comparison, not "
            "counted as quiet weeks."]


def monitor(con, adopted: AdoptedSet, target: DosageTarget = DosageTarget()) -> SetMonitor:
    """The set's monitoring since it came into use, up to the last day the store holds."""
    ext = query.extent(con)
    start = date.fromisoformat(shift_month(adopted.window_to, 1) + "-01") if adopted.window_to else adopted.adopted_at.date()
    last_month = ext.last_month
    end = date.fromisoformat(shift_month(last_month, 1) + "-01") - timedelta(days=1) if last_month else None
    last_patrol = query.last_patrol_day(con)
    if last_patrol is not None and (end is None or last_patrol > end):
        end = last_patrol
    lines = [f"Since the set came into use on {start:%d %b %Y} (the day after its window, {adopted.window()})."]
    if end is None or end < start:
        lines.append("The store holds no data since then: monitoring starts when newer months are loaded.")
        return SetMonitor(start, end, pd.DataFrame(columns=WEEK_COLUMNS), None, None, last_patrol, ext.patrols > 0, lines)
    weekly, dated = _weekly(con, adopted, start, end, target)
    lines += _unstored_line(query.stored_months(con), start, end)
    monthly = None if dated else _monthly(con, adopted, start, end)
    if monthly is not None:
        lines.append("These incidents have a month but no date (data.police.uk): they are compared month by month "
                     "with the same months a year before.")
    if ext.patrols == 0:
        lines.append("No patrol data is loaded: dosage and visits cannot be monitored (missing data, not missed "
                     "patrols).")
        weekly = weekly.assign(patrols=pd.NA, dosed_days=pd.NA, dosage_share=pd.NA)
        return SetMonitor(start, end, weekly, monthly, None, None, False, lines)
    lines.append(f"Dosage target: {target.describe()}.")
    not_visited = _not_visited(con, adopted, last_patrol) if last_patrol and last_patrol >= start else None
    if not_visited is None:
        lines.append("No patrol is recorded since the set came into use.")
    return SetMonitor(start, end, weekly, monthly, not_visited, last_patrol, True, lines)
