"""The suggested patrol plan for a week: its settings, the visits, the CSV and the briefing PDF."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from hotspot_engine.analyse.patrols import ALL_HOTSPOTS, DosageTarget, PatrolPlan, PatrolReport, next_monday, plan_csv
from hotspot_engine.filters import Filters
from hotspot_engine.render.text_safety import markdown_plain
from ui.cached import cached_briefing, is_synthetic
from ui.date_field import date_field
from ui.errors import page_errors
from ui.patrols.time_grids import HotspotNames


@dataclass(frozen=True)
class PlanChoice:
    week_start: date
    seed: int
    extra: int | None


def plan_choice(report: PatrolReport, target: DosageTarget, big: bool) -> PlanChoice:
    default_week = next_monday(report.period[1])
    if big:
        return PlanChoice(st.session_state.get("p_week", default_week), int(st.session_state.get("p_seed", 1)),
                          st.session_state.get("p_extra_value"))
    p1, p2, p3 = st.columns(3)
    week_start = date_field("Week starting (Monday)", "p_week", default=default_week, where=p1,
                            help="Any date: the plan covers the 7 days from it.")
    seed = int(p2.number_input("Seed", 0, 999_999, 1, key="p_seed",
                               help="The same seed gives the same plan; a new seed reshuffles the times within "
                                    "the windows (unpredictability is part of the tactic)."))
    base = len(report.dosage) * target.days_per_week * target.visits_per_day
    # The key carries the target it was set against: kept under one key, a value chosen (or defaulted)
    # for another area's hotspots outlived the change and gave another plan for the same filters
    # (issue 26: 84 + 67 visits after force-wide, 84 + 42 opened directly).
    extra = int(p3.number_input("Extra visits beyond the target", 0, 5 * base, (base + 1) // 2, key=f"p_extra_{base}",
                                help="Shared by recent harm (last 13 weeks) and under-dosage (last 4 weeks)."))
    st.session_state["p_extra_value"] = extra
    return PlanChoice(week_start, seed, extra)


def draw_visits(plan: PatrolPlan) -> None:
    st.caption(markdown_plain(" ".join(plan.notes)) + (" The start is drawn at random inside each window." if plan.has_times else ""))
    visits = plan.visits
    per_day = visits.assign(day=pd.to_datetime(visits["date"]).dt.strftime("%a %d")).pivot_table(
        index="hotspot_name", columns="day", values="minutes", aggfunc="size", fill_value=0, sort=False)
    show = visit_rows(plan)
    tab1, tab2 = st.tabs(["Visits", "Visits per hotspot and day"])
    tab1.dataframe(show, hide_index=True, width="stretch", height=420,
                   column_config={"date": "Date", "window": "Window", "hotspot_name": "Hotspot", "start": "Suggested start",
                                  "minutes": "Minutes", "reason": st.column_config.TextColumn("Why", width="large")})
    tab2.dataframe(per_day, width="stretch")


def visit_rows(plan: PatrolPlan) -> pd.DataFrame:
    """The visits as shown: the day is the start's own (a 00:16 start in a 23:00-01:00 window belongs
    to the next day), and without times the window and start say who sets them."""
    visits = plan.visits
    columns = ["date", "window", "start", "hotspot_name", "minutes", "reason"]
    if not plan.has_times:
        return visits.assign(date=pd.to_datetime(visits["date"]).dt.strftime("%a %d %b"), window="team to set",
                             start="team to set")[columns]
    starts = pd.to_datetime(visits["suggested_start"])
    return visits.assign(
        date=starts.dt.strftime("%a %d %b"),
        window=pd.to_datetime(visits["window_start"]).dt.strftime("%a %H:%M") + "–"
        + pd.to_datetime(visits["window_end"]).dt.strftime("%H:%M"),
        start=starts.dt.strftime("%H:%M"),
    )[columns]


def draw_downloads(plan: PatrolPlan, report: PatrolReport, names: HotspotNames, filters: Filters,
                   target: DosageTarget, version: int, choice: PlanChoice, on=None) -> None:
    """The plan as CSV and the briefing (every hotspot or one), prepared on request."""
    dosage = report.dosage
    d1, d2, d3 = st.columns([1, 1.4, 1], vertical_alignment="bottom")
    d1.download_button("Plan as CSV", plan_csv(plan), file_name=f"patrol-plan-{choice.week_start}-seed{choice.seed}.csv",
                       mime="text/csv", icon=":material/download:")
    every = f"every hotspot ({len(dosage)} pages)"
    brief_label = d2.selectbox("Briefing for", [every] + [names.label_of[h] for h in dosage["hotspot_id"]],
                               key="p_brief_for")
    brief_for = ALL_HOTSPOTS if brief_label == every else names.id_of[brief_label]
    briefing_key = (filters, target, version, choice.week_start, choice.seed, choice.extra, brief_for, on)
    if d3.button("Prepare the briefing (PDF)", icon=":material/print:"):
        ids = tuple(dosage["hotspot_id"]) if brief_for == ALL_HOTSPOTS else (brief_for,)
        with page_errors("Patrols: briefing"):
            pdf = cached_briefing(filters, target, version, choice.week_start, choice.seed, choice.extra, ids,
                                  is_synthetic(), on)
            st.session_state["p_briefing"] = (briefing_key, ids, pdf)
    stored = st.session_state.get("p_briefing")
    if stored and stored[0] == briefing_key:  # a briefing made for another plan is not offered
        _, ids, pdf = stored
        st.download_button(f"Download the briefing ({len(ids)} page{'s' if len(ids) > 1 else ''})", pdf,
                           file_name=f"patrol-briefing-{choice.week_start}.pdf", mime="application/pdf",
                           icon=":material/download:")
