"""Hotspot: serious-violence hotspots, patrol dosage and impact for the HIPS Violence Reduction Partnership.

Run:  streamlit run app.py   (opens on the built-in synthetic sample when the store is empty)

This script is the Overview page; the other pages are in pages/. Each page starts with
ui.common.page_setup, which draws the navigation and the shared filters.
"""
from __future__ import annotations

import altair as alt
import streamlit as st

from hotspot_engine.offences import group_label
from ui.common import (page_setup, OKABE_ITO, cached_headline, cached_monthly, data_version,
                          presentation, show_error)

filters = page_setup("Serious violence overview")
version = data_version()

try:
    head = cached_headline(filters, version)
except Exception as exc:  # never a traceback in the page
    head = None
    show_error(exc)

if head is None:
    st.info("The headline needs two complete financial years (April to March) of data.")
else:
    st.subheader(f"Financial year {head.fy_after} against {head.fy_before}")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(f"Serious violence {head.fy_after}", f"{head.sv_after:,}",
              delta=f"{head.sv_change:+,} ({head.sv_change_pct:+.1f}%)", delta_color="inverse",
              help=f"{head.fy_before}: {head.sv_before:,} offences. Places and offences follow the filters.")
    c2.metric("Serious-violence hotspots", f"{head.hotspots}",
              help=f"Gi* hotspot areas on {head.fy_before} (the year before patrols), {head.hotspot_cells} H3 cells.")
    c3.metric(f"Patrols in hotspots {head.fy_after}", f"{head.patrols_after:,}",
              help=f"{head.patrol_minutes_after:,.0f} patrol minutes recorded inside hotspot cells.")
    c4.metric("Serious violence in hotspots", f"{head.hotspot_sv_after:,}",
              delta=f"{head.hotspot_sv_after - head.hotspot_sv_before:+,} ({head.hotspot_change_pct:+.1f}%)",
              delta_color="inverse",
              help=f"{head.fy_before}: {head.hotspot_sv_before:,}. Simple before/after count, the report's kind "
                   "of figure; the Impact page models it with interrupted time series.")
    st.caption(
        f"Force-wide change {head.sv_change:+,} offences ({head.sv_change_pct:+.1f}%); in the {head.hotspots} hotspots "
        f"{head.hotspot_change_pct:+.1f}% with {head.patrols_after:,} patrols. Hotspots were chosen on {head.fy_before}, "
        "so part of any fall may be regression to the mean: see Impact.")

st.subheader("Monthly serious violence by category")
monthly = cached_monthly(filters, "offence_group", version)
if monthly.empty:
    st.info("No incidents match these filters. Widen the months, places or offence categories.")
else:
    monthly = monthly.assign(category=monthly["offence_group"].map(group_label))
    chart = (
        alt.Chart(monthly)
        .mark_line(point=not presentation(), strokeWidth=3 if presentation() else 2)
        .encode(
            x=alt.X("yearmonth(month):T", title="Month"),
            y=alt.Y("count:Q", title="Incidents per month"),
            color=alt.Color("category:N", title="Category", scale=alt.Scale(range=OKABE_ITO)),
            tooltip=["month", "category", "count"],
        )
        .properties(height=420 if presentation() else 340)
    )
    st.altair_chart(chart, width="stretch")
    with st.expander("Table of the chart (text alternative)"):
        table = monthly.pivot_table(index="month", columns="category", values="count", fill_value=0, aggfunc="sum")
        st.dataframe(table, width="stretch")
