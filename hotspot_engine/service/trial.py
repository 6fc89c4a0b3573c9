"""Randomised patrol days (issue 28): the schedule on an adopted hotspot set, its power before the
start, adopting it into the store, and the place-day evaluation.

The schedule is made on an ADOPTED set (:mod:`hotspot_engine.service.sets`), so the hotspot ids and
cells patrolled, briefed and evaluated are the ones the partnership published; a schedule a user
adopts is stored (:mod:`hotspot_engine.store.trials`) and read back, never remade. Power comes from
the set's own history: daily counts in its cells over the window it was chosen on (its own months),
or the 12 months before the start when the set has no window.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from hotspot_engine.analyse.dosage import DosageTarget, assign_patrols, merge_area_visits
from hotspot_engine.analyse.trial_analysis import TrialResult, analyse_trial
from hotspot_engine.analyse.trial_design import Power, TrialDesign, check_schedule, history_rates, make_schedule, power
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters, shift_month
from hotspot_engine.service import sets
from hotspot_engine.store import query
from hotspot_engine.store import trials as store

#: Who the sample's own schedule is stored as: removing the sample removes it.
SAMPLE_CREATOR = "built-in sample"
MONTH_ONLY = ("evaluate: the incidents in the trial's months carry a month only (data.police.uk), so they "
              "cannot be placed on patrol or control days; load force records with dates")


@dataclass(frozen=True)
class TrialPlan:
    """A schedule made on a set, with its power; not stored until adopted."""

    set_name: str
    design: TrialDesign
    schedule: pd.DataFrame
    power: Power
    history: str  # what the power rests on, in one line


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _cells(adopted) -> pd.DataFrame:
    return pd.DataFrame({"h3": adopted.cell_ids(), "hotspot_id": adopted.cells["hotspot_id"].astype(str).to_numpy(),
                         "hotspot_name": adopted.cells["hotspot_name"].astype(object).to_numpy()})


def _hotspot_names(adopted) -> pd.DataFrame:
    spots = adopted.hotspots()
    return pd.DataFrame({"hotspot_id": spots["hotspot_id"].astype(str),
                         "hotspot_name": ("#" + spots["hotspot_number"].astype(str) + " "
                                          + spots["hotspot_name"].astype(str))})


def _daily(con, filters: Filters, cells: pd.DataFrame) -> pd.DataFrame:
    """hotspot_id, date, count, harm for incidents with a date; the untimed ones are counted apart."""
    rows = query.incidents_by_hotspot_hour(con, filters, cells)
    dated = rows[rows["day"].notna()]
    out = dated.groupby(["hotspot_id", "day"], as_index=False)[["count", "harm"]].sum().rename(columns={"day": "date"})
    out.attrs["untimed"] = int(rows.loc[rows["day"].isna(), "count"].sum())
    return out


def history_window(adopted, start: date) -> Filters:
    """The months power is estimated on: the set's own window, else the 12 before the start."""
    last = shift_month(_month(start), -1)
    first, to = adopted.window_from or shift_month(last, -11), adopted.window_to or last
    if first > last:  # a start inside the set's window leaves no history before it to estimate power on
        raise InputError("--start: power is estimated on the set's window before the start; start after the "
                         "first month of the set's window")
    return replace(adopted.filters, date_from=first, date_to=min(to, last) if to else last)


def plan(con, set_name: str | None, design: TrialDesign, compliance: float = 0.85, target_rr: float = 0.8,
         contamination: float = 0.0) -> TrialPlan:
    """The randomised schedule for every hotspot of the set, and its power from the set's history."""
    adopted = sets.load(con, set_name)
    if adopted is None:
        raise InputError("--set: no hotspot set is adopted; adopt one with 'hotspots --adopt NAME' first")
    if not 0.05 <= compliance <= 1 or not 0 <= contamination < compliance:
        raise InputError("--compliance: must be between 0.05 and 1, above --contamination")
    if not 0.1 <= target_rr < 1:
        raise InputError("--target-rr: must be between 0.1 and 1 (below 1: fewer incidents)")
    schedule = make_schedule(_hotspot_names(adopted), design)
    window = history_window(adopted, design.first)
    daily = _daily(con, window, _cells(adopted))
    rates, alpha, line = _history(daily, window, adopted)
    pw = power(rates, alpha, design.days, design.patrol_share, compliance, contamination, target_rr)
    return TrialPlan(adopted.name, design, schedule, pw, line)


def _history(daily: pd.DataFrame, window: Filters, adopted) -> tuple[np.ndarray, float, str]:
    """(daily rate per hotspot, overdispersion, one line) from the window's incidents in the cells."""
    first = pd.Timestamp(f"{window.date_from}-01")
    last = pd.Timestamp(f"{shift_month(str(window.date_to), 1)}-01") - pd.Timedelta(days=1)
    days = pd.date_range(first, last, freq="D")
    ids = adopted.hotspots()["hotspot_id"].astype(str).tolist()
    grid = pd.MultiIndex.from_product([ids, days], names=["hotspot_id", "date"])
    counts = daily.set_index(["hotspot_id", "date"])["count"].reindex(grid, fill_value=0).reset_index()
    untimed = daily.attrs.get("untimed", 0)
    if untimed and daily.empty:  # month-only history: the rate is still known, day-to-day spread is not
        return (np.full(len(ids), untimed / len(ids) / len(days)), 0.0,
                f"rates from {untimed:,} month-only incidents {window.date_from} to {window.date_to}; "
                "overdispersion unknown (Poisson assumed: the MDE is optimistic); records like these give no "
                "day, so 'evaluate' will need force records with dates for the trial's months")
    rates, alpha = history_rates(counts)
    return rates, alpha, (f"rates from {int(counts['count'].sum()):,} dated incidents in the set's cells, "
                          f"{window.date_from} to {window.date_to}; mean {rates.mean():.2f} a hotspot-day, "
                          f"overdispersion {alpha:.2f}")


def adopt(con, name: str, trial: TrialPlan, created_by: str = "", note: str = "", replace_: bool = False) -> None:
    """Store the schedule under ``name`` (InputError if taken, unless ``replace_``)."""
    name = str(name or "").strip()
    if not name or len(name) > 80 or any(ord(ch) < 32 for ch in name):
        raise InputError("schedule name: 1-80 characters, no control characters")
    if store.exists(con, name) and not replace_:
        raise InputError("schedule name: a schedule with that name exists; choose another name or replace it")
    row = {"name": name, "created_at": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
           "created_by": str(created_by or ""), "set_name": trial.set_name, "start": trial.design.first,
           "days": int(trial.design.days), "design": json.dumps(trial.design.record(), sort_keys=True),
           "power": json.dumps(power_record(trial), sort_keys=True), "note": str(note or "")}
    store.write_schedule(con, row, trial.schedule, replace_)


def power_record(trial: TrialPlan) -> dict:
    from dataclasses import asdict

    return {**{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in asdict(trial.power).items()},
            "history": trial.history, "line": trial.power.line()}


def remove_sample_schedules(con) -> int:
    """Delete the sample's own schedules (when the sample's rows are removed, its trial goes too)."""
    return store.delete_created_by(con, SAMPLE_CREATOR)


def schedules(con) -> pd.DataFrame:
    """Every stored schedule, newest first."""
    return store.schedule_rows(con)


def load(con, name: str | None = None) -> tuple[dict, pd.DataFrame] | None:
    """(row with design and power as dicts, days) of a stored schedule; None when none is stored."""
    row = store.schedule_row(con, name)
    if row is None:
        if name is None:
            return None
        raise InputError("--schedule: no stored schedule of that name")
    row = {**row, "design": json.loads(row["design"] or "{}"), "power": json.loads(row["power"] or "{}")}
    return row, store.schedule_days(con, row["name"])


def follow_stored(con, plan):
    """The weekly plan with the newest stored schedule's arms applied (control days: "no dedicated
    patrol"); the plan unchanged when no schedule is stored."""
    from hotspot_engine.analyse.trial_plan import follow_schedule

    stored = load(con) if store.has_tables(con) else None
    return plan if stored is None else follow_schedule(plan, stored[1], str(stored[0]["name"]))


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------
def evaluate(con, schedule: pd.DataFrame, set_name: str | None, filters: Filters | None = None,
             target: DosageTarget = DosageTarget(), permutations: int = 0, block_weeks: int = 4) -> TrialResult:
    """ITT comparison of patrol and control days in the set's hotspots (see trial_analysis).

    ``filters``: offences/places (default: the set's own); months are the schedule's.
    ``permutations``: randomisation inference with that many re-draws inside the design's weekday
    blocks of ``block_weeks`` (0: none)."""
    schedule = check_schedule(schedule)
    adopted = sets.load(con, set_name)
    if adopted is None:
        raise InputError("--set: no hotspot set is adopted; the schedule needs the set it was made on")
    cells = _cells(adopted)
    unknown = sorted(set(schedule["hotspot_id"]) - set(cells["hotspot_id"]))
    if unknown:
        raise InputError(f"--schedule: column hotspot_id names {len(unknown)} hotspot(s) not in set '{adopted.name}'")
    schedule, to_come = _until_data_end(con, schedule)
    first, last = schedule["date"].min().date(), schedule["date"].max().date()
    base = filters if filters is not None else adopted.filters
    window = replace(base, date_from=_month(first), date_to=_month(last), res=adopted.filters.res)
    daily = _daily(con, window, cells)
    daily = daily[(daily["date"] >= pd.Timestamp(first)) & (daily["date"] <= pd.Timestamp(last))]
    if daily.empty and daily.attrs.get("untimed", 0) > 0:
        raise InputError(MONTH_ONLY)
    visits = _visits(con, window, cells, first, last)
    delivery = _delivery(visits, target)
    timed = store.timed_incidents(con, *query.where_incidents(window), window.res, cells)
    buffer_daily = _daily(con, window, buffer_cells(cells))
    result = analyse_trial(schedule, daily, delivery, visits[visits["in_hotspot"]], timed, buffer_daily,
                           permutations=permutations, block_weeks=block_weeks)
    if daily.empty:
        result.notes.append("No dated incidents in the set's cells on the trial's days.")
    if to_come:
        result.notes.append(f"Evaluated to {last:%d %b %Y}, where the data end: {to_come:,} scheduled place-days "
                            "are still to come.")
    return result


def _until_data_end(con, schedule: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The schedule's days up to the last dated incident in the store (later days have no data yet:
    counting them as days without incidents would bias every rate down)."""
    end = store.last_dated_day(con)
    if end is None:  # month-only records (police.uk): the trial's months must at least be stored
        last_month = query.extent(con).last_month
        if last_month is None or schedule["date"].min() >= pd.Timestamp(f"{shift_month(last_month, 1)}-01"):
            raise InputError("--schedule: the trial starts after the last month the store holds incidents in; "
                             "load the trial's months first")
        return schedule, 0
    keep = schedule["date"] <= pd.Timestamp(end)
    if not keep.any():
        raise InputError("--schedule: the trial starts after the last dated incident in the store")
    return schedule[keep], int((~keep).sum())


def stored_evaluation(con, name: str | None = None) -> tuple[dict | None, TrialResult | None, str]:
    """(schedule row, result, reason) for the newest stored schedule: the Impact page's trial section.
    No schedule: (None, None, reason); one that cannot be evaluated: (row, None, the one-line reason)."""
    stored = load(con, name) if store.has_tables(con) else None
    if stored is None:
        return None, None, "No randomised trial schedule is stored: a data manager can make one on Patrols."
    from hotspot_engine.analyse.trial_ri import DEFAULT_PERMUTATIONS

    row, days = stored
    try:
        blocks = int(row["design"].get("block_weeks") or 4)
        return row, evaluate(con, days, str(row["set_name"]), permutations=DEFAULT_PERMUTATIONS, block_weeks=blocks), ""
    except InputError as exc:
        return row, None, str(exc).removeprefix("evaluate: ")


def _visits(con, window: Filters, cells: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    patrols = query.patrol_rows(con, replace(window, districts=(), csps=()))
    if patrols.empty:
        return pd.DataFrame(columns=["hotspot_id", "day", "start", "end", "minutes", "in_hotspot"])
    visits = merge_area_visits(assign_patrols(patrols, cells))
    keep = (visits["day"] >= pd.Timestamp(first)) & (visits["day"] <= pd.Timestamp(last) + timedelta(days=0))
    return visits[keep]


def _delivery(visits: pd.DataFrame, target: DosageTarget) -> pd.DataFrame:
    """hotspot_id, date, visits, dosed (a visit of at least the target minutes)."""
    inside = visits[visits["in_hotspot"]] if len(visits) else visits
    if inside.empty:
        return pd.DataFrame(columns=["hotspot_id", "date", "visits", "dosed"])
    frame = inside.assign(long=inside["minutes"] >= target.min_minutes)
    out = frame.groupby(["hotspot_id", "day"], as_index=False).agg(visits=("minutes", "size"), dosed=("long", "any"))
    return out.rename(columns={"day": "date"})


def buffer_cells(cells: pd.DataFrame, rings: int = 2) -> pd.DataFrame:
    """Cells within ``rings`` of a hotspot's cells and in no hotspot, given to the nearest hotspot
    (displacement is looked for there on patrol days)."""
    import h3.api.basic_int as h3i

    taken = set(int(c) for c in cells["h3"])
    out: dict[int, str] = {}
    for cell, spot in zip(cells["h3"].astype(np.uint64), cells["hotspot_id"]):
        for ring in range(1, rings + 1):
            for near in h3i.grid_ring(int(cell), ring):
                if near not in taken and near not in out:
                    out[near] = str(spot)
    return pd.DataFrame({"h3": np.array(list(out), dtype=np.uint64), "hotspot_id": list(out.values())})


def schedule_set(con, path_meta: dict | None, schedule: pd.DataFrame) -> str | None:
    """The set a schedule file was made on: its sidecar's, else a stored schedule's with the same
    hotspots and first day, else None (the newest set)."""
    if path_meta and path_meta.get("set"):
        return str(path_meta["set"])
    rows = store.schedule_rows(con)
    first = pd.to_datetime(schedule["date"]).min().date()
    for row in rows.itertuples(index=False):
        if pd.Timestamp(row.start).date() == first:
            return str(row.set_name)
    return None


__all__ = ["TrialPlan", "MONTH_ONLY", "plan", "adopt", "load", "schedules", "follow_stored", "remove_sample_schedules", "SAMPLE_CREATOR", "evaluate", "history_window",
           "buffer_cells", "schedule_set", "power_record", "stored_evaluation"]
