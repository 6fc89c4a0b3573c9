"""The weekly plan follows a stored trial schedule (issue 28): frames in, frames out.

On a hotspot's control day the plan holds one row saying "no dedicated patrol" instead of visits
(the briefing prints it as such), and on a patrol day that the plan left empty (a target of fewer
than 7 days a week) it gets one target visit, times for the team to set. Only hotspots in both the
plan and the schedule are touched (matched by hotspot id: plans made on the trial's adopted set).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pandas as pd

from hotspot_engine.analyse.patrol_plan import PLAN_COLUMNS, PatrolPlan

CONTROL_REASON = "control day (randomised trial): no dedicated patrol"
PATROL_REASON = "patrol day (randomised trial); time for the team to set"


def is_control_row(reason: object) -> bool:
    return str(reason) == CONTROL_REASON


def follow_schedule(plan: PatrolPlan, days: pd.DataFrame | None, name: str = "") -> PatrolPlan:
    """``plan`` with the schedule's arms applied for its week. ``days``: hotspot_id, date, arm."""
    if days is None or days.empty:
        return plan
    week = [plan.week_start + timedelta(days=k) for k in range(7)]
    arms = days.assign(date=pd.to_datetime(days["date"]).dt.date, hotspot_id=days["hotspot_id"].astype(str))
    arms = arms[arms["date"].isin(week)]
    planned = set(plan.visits["hotspot_id"].astype(str))
    arms = arms[arms["hotspot_id"].isin(planned)]
    if arms.empty:
        return plan
    visits = plan.visits.assign(date=pd.to_datetime(plan.visits["date"]).dt.date)
    names = dict(zip(visits["hotspot_id"].astype(str), visits["hotspot_name"]))
    key = list(zip(visits["hotspot_id"].astype(str), visits["date"]))
    control = {(h, d) for h, d, a in zip(arms["hotspot_id"], arms["date"], arms["arm"]) if a == "control"}
    patrol = {(h, d) for h, d, a in zip(arms["hotspot_id"], arms["date"], arms["arm"]) if a == "patrol"}
    keep = visits[[k not in control for k in key]]
    empty_patrol = patrol - set(key)
    added = [(h, names[h], d, pd.NaT, pd.NaT, pd.NaT, plan.target.visit_minutes, plan.time_basis, PATROL_REASON)
             for h, d in sorted(empty_patrol)]
    added += [(h, names[h], d, pd.NaT, pd.NaT, pd.NaT, 0, plan.time_basis, CONTROL_REASON) for h, d in sorted(control)]
    out = pd.concat([keep, pd.DataFrame(added, columns=PLAN_COLUMNS)], ignore_index=True) if added else keep
    out = out.sort_values(["date", "suggested_start", "hotspot_id"], kind="stable").reset_index(drop=True)
    note = (f"Randomised trial{f' {name!r}' if name else ''}: {len(control)} hotspot-day(s) this week are control days "
            f"(no dedicated patrol; {len(visits) - len(keep)} suggested visit(s) removed), {len(patrol)} patrol days.")
    return replace(plan, visits=out[PLAN_COLUMNS], notes=[*plan.notes, note])


__all__ = ["CONTROL_REASON", "PATROL_REASON", "follow_schedule", "is_control_row"]
