"""Patrols against incidents week by week, with weeks of action (e.g. Op Sceptre) as bands."""
from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine.analyse.patrols import PatrolReport, mark_actions, parse_actions
from ui.common import draw_chart
from ui.date_field import date_field
from ui.errors import page_errors
from ui.patrols.style import font_size, styled


def weeks_of_action(report: PatrolReport, big: bool) -> pd.DataFrame:
    """The weeks of action kept in the session, with a form to add one (hidden in presentation mode)."""
    actions = st.session_state.setdefault("p_actions", [])
    if not big:
        with st.expander("Weeks of action (e.g. Op Sceptre)", icon=":material/flag:"):
            with st.form("p_action_form", clear_on_submit=True, border=False):
                a1, a2, a3, a4 = st.columns([1, 1, 2, 1], vertical_alignment="bottom")
                first, last = report.period
                start = date_field("From", "p_action_from", default=first, min_value=first, max_value=last, where=a1)
                end = date_field("To", "p_action_to", default=min(first + timedelta(days=6), last), min_value=first,
                                 max_value=last, where=a2)
                label = a3.text_input("Label", value="Op Sceptre week of action", max_chars=60)
                if a4.form_submit_button("Add period"):
                    with page_errors("Patrols: week of action"):
                        parse_actions([(start, end, label)])
                        actions.append((start, end, label))
            if actions:
                st.dataframe(parse_actions(actions), hide_index=True)
                if st.button("Clear the periods"):
                    actions.clear()
                    st.rerun()
    return parse_actions(actions)


def weekly_chart(long: pd.DataFrame, action_frame: pd.DataFrame, title: str, big: bool):
    lines = alt.Chart(alt.Data(name="weekly")).mark_line(strokeWidth=3 if big else 2, point=alt.OverlayMarkDef(size=20)).encode(
        x=alt.X("week:T", title="Week starting"),
        y=alt.Y("per week:Q", title="Per week"),
        color=alt.Color("series:N", scale=alt.Scale(domain=["patrols", "incidents"], range=["#0072B2", "#D55E00"]),
                        title=None, legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=["patrols", "incidents"], range=[[1, 0], [6, 3]]),
                                  legend=None),
        tooltip=[alt.Tooltip("week:T", title="Week starting"), alt.Tooltip("series:N"), alt.Tooltip("per week:Q")],
    )
    layers, datasets = [lines], {"weekly": long}
    if not action_frame.empty:
        bands = action_frame.assign(start=pd.to_datetime(action_frame["start"]),
                                    end=pd.to_datetime(action_frame["end"]) + pd.Timedelta(days=1))
        datasets["actions"] = bands
        actions_chart = alt.Chart(alt.Data(name="actions"))
        layers.insert(0, actions_chart.mark_rect(color="#F0E442", opacity=0.45).encode(
            x=alt.X("start:T"), x2=alt.X2("end:T"),
            tooltip=[alt.Tooltip("label:N", title="Week of action"), alt.Tooltip("start:T"), alt.Tooltip("end:T")]))
        layers.append(actions_chart.mark_text(align="left", baseline="top", dx=3, dy=3, fontSize=font_size(big) - 2,
                                              color="#333333")
                      .encode(x=alt.X("start:T"), y=alt.YValue(0), text=alt.Text("label:N")))
    return styled(alt.layer(*layers).properties(height=480 if big else 400, title=title), big), datasets


def draw_weekly(report: PatrolReport, focus: str, title: str, big: bool) -> None:
    st.subheader("Patrols against incidents, week by week")
    action_frame = weeks_of_action(report, big)
    weekly = report.weekly[report.weekly["hotspot_id"] == focus].copy()
    weekly["action"] = mark_actions(weekly["week"], action_frame)
    # Weeks in months the store does not hold are no data: listed as zeros they read as quiet weeks
    # (the real store's table ran 323 weeks from 2018-02-26, 69 months of them unstored; audit item 9).
    unstored = weekly[weekly["stored_days"] == 0]
    weekly = weekly[weekly["stored_days"] > 0]
    full_weeks = weekly[weekly["stored_days"] == 7]  # a partial first or last week would look like a drop
    # A line is drawn only where it has data: month-only incidents have no week (a flat zero line
    # would read as "none"), and no patrols is no line.
    series = [name for name, has in (("patrols", full_weeks["patrols"].sum() > 0),
                                     ("incidents", report.has_times and full_weeks["incidents"].sum() > 0)) if has]
    if not report.has_times:
        st.caption("No weekly incident line: the records give a month only, so incidents cannot be put in a week.")
    if "patrols" not in series:
        st.caption("No weekly patrol line: no patrol is recorded here in the period.")
    if series:
        long = full_weeks.melt(id_vars=["week"], value_vars=series, var_name="series", value_name="per week")
        chart, datasets = weekly_chart(long, action_frame, title, big)
        draw_chart(chart, datasets, width="stretch")
    partial = len(weekly) - len(full_weeks)
    if partial and series:
        st.caption(f"Weeks start on Monday; {partial} partial week(s) at the ends of the period are in the table, not the chart.")
    if len(unstored):
        st.caption(unstored_weeks_line(unstored))
    with st.expander("Table of the chart (text alternative)"):
        if len(unstored):
            st.caption(unstored_weeks_line(unstored))
        st.dataframe(weekly[["week", "days", "stored_days", "patrols", "minutes", "incidents", "harm", "action"]],
                     hide_index=True, width="stretch", column_config={"stored_days": "days stored"})


def unstored_weeks_line(unstored: pd.DataFrame) -> str:
    """One line for the weeks left out because the store holds none of their days."""
    first, last = unstored["week"].min(), unstored["week"].max()
    return (f"{len(unstored)} week(s) between {first:%Y-%m-%d} and {last:%Y-%m-%d} fall in months the store does not "
            "hold: left out of the chart and the table (no data, not weeks without incidents or patrols).")
