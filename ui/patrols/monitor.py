"""Monitoring the adopted set week by week since it came into use: dosage against the target,
incidents inside the set against the same weeks a year before, hotspots not visited in the last 7
days (hotspot_engine/service/monitoring.py). Without patrol data it says so: no 0%, no red."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine.render.text_safety import markdown_plain
from hotspot_engine.service.monitoring import SetMonitor
from ui.common import draw_chart


def _incidents_chart(frame: pd.DataFrame, period: str) -> None:
    # Months the store does not hold are <NA>: gaps in the lines, not zeros.
    values = frame.assign(incidents=frame["incidents"].astype(float),
                          incidents_year_before=frame["incidents_year_before"].astype(float))
    long = values.melt(id_vars=[period], value_vars=["incidents", "incidents_year_before"], var_name="series",
                       value_name="incidents in the set")
    long["series"] = long["series"].map({"incidents": "since adoption", "incidents_year_before": "a year before"})
    chart = alt.Chart(alt.Data(name="monitor_incidents")).mark_line(point=True).encode(
        x=alt.X(f"{period}:T", title="Week starting" if period == "week" else "Month"),
        y=alt.Y("incidents in the set:Q", title="Incidents in the set"),
        color=alt.Color("series:N", scale=alt.Scale(domain=["since adoption", "a year before"],
                                                    range=["#D55E00", "#999999"]), legend=alt.Legend(orient="top"),
                        title=None),
        tooltip=[alt.Tooltip(f"{period}:T"), "series:N", "incidents in the set:Q"])
    draw_chart(chart.properties(height=220), {"monitor_incidents": long}, width="stretch")


def _dosage_chart(weekly: pd.DataFrame) -> None:
    shown = weekly.assign(dosed=(weekly["dosage_share"].astype(float) * 100).round(0))
    bars = alt.Chart(alt.Data(name="monitor_dosage")).mark_bar(color="#0072B2").encode(
        x=alt.X("week:T", title="Week starting"), y=alt.Y("dosed:Q", title="Required days dosed (%)",
                                                           scale=alt.Scale(domain=[0, 100])),
        tooltip=[alt.Tooltip("week:T"), alt.Tooltip("dosed:Q", title="% dosed"), "patrols:Q"])
    draw_chart(bars.properties(height=180), {"monitor_dosage": shown[["week", "dosed", "patrols"]]}, width="stretch")


def draw_monitor(monitor: SetMonitor) -> None:
    st.subheader("Monitoring the set since it came into use")
    for line in monitor.lines:
        st.caption(markdown_plain(line))
    if monitor.weekly.empty:
        return
    weekly = monitor.weekly
    both = weekly.dropna(subset=["incidents", "incidents_year_before"])  # weeks with data in both years
    before, now = int(both["incidents_year_before"].sum()), int(both["incidents"].sum())
    if monitor.monthly is not None:
        _incidents_chart(monitor.monthly.assign(month=pd.to_datetime(monitor.monthly["month"])), "month")
    else:
        change = f" ({(now / before - 1) * 100:+.1f}%)" if before else ""
        st.markdown(f"Incidents in the set: **{now:,}** in {len(both)} weeks, against {before:,} in the same weeks a "
                    f"year before{change}" + (f" (the {len(both)} of {len(weekly)} weeks stored in both years)"
                                              if len(both) < len(weekly) else "") + ". A fall in places chosen for a high year is partly regression to the mean: "
                    "see Impact.")
        _incidents_chart(weekly, "week")
    if not monitor.patrol_data:
        return
    _dosage_chart(weekly)
    if monitor.not_visited is not None and monitor.last_patrol is not None:
        if monitor.not_visited.empty:
            st.caption(f"Every hotspot of the set was visited in the 7 days to {monitor.last_patrol:%d %b %Y}.")
        else:
            st.markdown(f"**{len(monitor.not_visited)}** hotspot(s) not visited in the 7 days to "
                        f"{monitor.last_patrol:%d %b %Y} (the last patrol in the store):")
            st.dataframe(monitor.not_visited.rename(columns={"hotspot_number": "No", "hotspot_id": "Id",
                                                             "hotspot_name": "Hotspot"}), hide_index=True)
