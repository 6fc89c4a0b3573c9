"""Patrols page: make and adopt a randomised patrol-day schedule (issue 28), for a data manager.

The schedule is made on an adopted hotspot set; its power (smallest detectable effect, days needed
for a chosen effect) is shown beside it before anything is stored, with the protocol to download.
Adopting stores it (a decision, read back by the plan, the briefings and the Impact page's trial
section); it is never remade from later data. Names from data are escaped before they are shown.
"""
from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from hotspot_engine.render.text_safety import markdown_plain
from ui.access import can_manage_data
from ui.cached import cursor, is_synthetic, settings
from ui.date_field import date_field
from ui.errors import page_errors


def draw_trial_schedule() -> None:
    from hotspot_engine.service import sets, trial

    if not can_manage_data(settings()):
        return
    with st.expander("Randomised trial schedule (data manager)"):
        adopted = sets.list_sets(cursor())
        if adopted.empty:
            st.info("No hotspot set is adopted: adopt one on the Hotspot map first; a trial is made on a set.")
            return
        stored = trial.schedules(cursor())
        if len(stored):
            latest = stored.iloc[0]
            st.caption(markdown_plain(f"Stored: '{latest['name']}' on set '{latest['set_name']}' from "
                                      f"{latest['start']:%d %b %Y} for {latest['days']} days. The plan below "
                                      "follows it: control days say 'no dedicated patrol'."))
            _behind()
        with st.form("trial_form"):
            design = _design_inputs(adopted["name"].tolist())
            made = st.form_submit_button("Make schedule and power")
        if made:
            with page_errors("Patrols: trial schedule"):
                st.session_state["trial_plan"] = trial.plan(cursor(), *design)
        _show_plan(st.session_state.get("trial_plan"))


def _behind() -> None:
    """The stored trial's delivery in its latest week with data: hotspots under 80% of patrol days."""
    from ui.cached import data_version
    from ui.impact.trial import evaluation

    _, result, why = evaluation(data_version())
    if result is None:
        st.caption(markdown_plain(why))
        return
    from hotspot_engine.analyse.trial_analysis import latest_week

    latest = latest_week(result.weekly)
    behind = latest[latest["behind"]]["hotspot_name"].astype(str).tolist()
    share = latest["delivered"].sum() / max(int(latest["patrol_days"].sum()), 1)
    st.caption(markdown_plain(f"Week from {latest['week_start'].iloc[0]:%d %b %Y}: {share:.0%} of patrol days "
                              f"delivered; behind (under 80%): {', '.join(behind) if behind else 'none'}. Full "
                              "delivery and results: Impact page."))


def _design_inputs(set_names: list[str]):
    from hotspot_engine.analyse.trial_design import TrialDesign

    c1, c2, c3 = st.columns(3)
    set_name = c1.selectbox("Hotspot set", set_names, key="trial_set")
    today = date.today()
    start = date_field("First day", "trial_start", default=today + timedelta(days=7 - today.weekday()), where=c2)
    days = int(c3.number_input("Days", 7, 3 * 366, 183, key="trial_days"))
    c4, c5, c6 = st.columns(3)
    share = float(c4.slider("Patrol share", 0.1, 0.9, 0.5, 0.05, key="trial_share"))
    seed = int(c5.number_input("Seed", 0, 10**9, 0, key="trial_seed",
                               help="The same seed and design make the same schedule again."))
    washout = int(c6.number_input("Washout days", 0, 7, 0, key="trial_washout",
                                  help="Control days this close after a patrol day are left out of the analysis "
                                       "(carry-over lasts up to about 4 days)."))
    c7, c8, c9 = st.columns(3)
    block = int(c7.number_input("Block (weeks)", 1, 26, 4, key="trial_block"))
    compliance = float(c8.slider("Expected compliance", 0.5, 1.0, 0.85, 0.05, key="trial_compliance"))
    target = float(c9.slider("Effect to plan for (rate ratio)", 0.5, 0.95, 0.8, 0.05, key="trial_target"))
    return set_name, TrialDesign(start.isoformat(), days, share, seed, block, washout), compliance, target


def _show_plan(plan) -> None:
    from hotspot_engine.render.trial_protocol import protocol_markdown, protocol_pdf
    from hotspot_engine.service import trial
    from hotspot_engine.write.spreadsheet import neutralise_formulas

    if plan is None:
        return
    st.markdown(markdown_plain(plan.power.line()))
    st.caption(markdown_plain(plan.history))
    counts = plan.schedule["arm"].value_counts()
    st.caption(f"{plan.schedule['hotspot_id'].nunique()} hotspots, {counts.get('patrol', 0):,} patrol and "
               f"{counts.get('control', 0):,} control days, seed {plan.design.seed}.")
    name = st.text_input("Name to store it under", value=f"Trial from {plan.design.start}", key="trial_name")
    d1, d2, d3 = st.columns(3)
    d1.download_button("Schedule (CSV)", neutralise_formulas(plan.schedule).to_csv(index=False).encode("utf-8"),
                       "trial_schedule.csv", "text/csv")
    d2.download_button("Protocol (PDF)", protocol_pdf(plan, name, is_synthetic()), "trial_protocol.pdf",
                       "application/pdf")
    d3.download_button("Protocol (Markdown)", protocol_markdown(plan, name).encode("utf-8"), "trial_protocol.md",
                       "text/markdown")
    if st.button("Adopt and store this schedule", type="primary", key="trial_adopt"):
        with page_errors("Patrols: adopt schedule"):
            trial.adopt(cursor(), name, plan, created_by=str(getattr(st.user, "email", "") or ""))
            st.success(markdown_plain(f"Stored '{name}'. The weekly plan and the briefings follow it."))
