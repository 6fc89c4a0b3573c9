"""Patrols: dosage in each hotspot and patrols against incidents week by week."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine import query
from hotspot_engine.filters import shift_month
from hotspot_engine.geography import cell_to_str
from hotspot_engine.hotspots import HotspotParams
from ui.common import (page_setup, cached_hotspots, cursor, data_version, look_back,
                          presentation, show_error)

filters = page_setup("Patrols")
version = data_version()
con = cursor()

patrols = query.patrol_rows(con, filters)
if patrols.empty:
    st.info("No patrols recorded in the selected months and places. Load patrol logs or GPS pings on Data & export.")
    st.stop()

c1, c2, c3 = st.columns(3)
c1.metric("Patrols", f"{len(patrols):,}")
c2.metric("Patrol minutes", f"{patrols['minutes'].sum():,.0f}")
c3.metric("Median length", f"{patrols['minutes'].median():.0f} min", help="Koper curve guidance: 10-15 minutes.")

st.subheader("Dosage by hotspot")
st.caption("Hotspots identified on the 12 months before the start of the selected range (Gi*, ring 1, FDR 5%).")
try:
    pre_window = filters
    if filters.date_from:
        pre_window = filters.with_(date_from=shift_month(filters.date_from, -12), date_to=shift_month(filters.date_from, -1))
    result = cached_hotspots(pre_window, HotspotParams(), version)
except Exception as exc:
    show_error(exc)
    st.stop()
cells = result.cells[result.cells["is_hotspot"].astype(bool)][["h3", "hotspot_id", "hotspot_name"]]
patrols["h3_hex"] = cell_to_str(patrols["h3"].fillna(0).astype("uint64"))
joined = patrols.merge(cells, left_on="h3_hex", right_on="h3", how="left", suffixes=("", "_cell"))
inside = joined[joined["hotspot_id"].notna()]
days = max(1, (pd.Timestamp(filters.date_to + "-01") + pd.offsets.MonthEnd(0) - pd.Timestamp(filters.date_from + "-01")).days + 1)
table = inside.assign(day=inside["start"].dt.normalize()).groupby(["hotspot_id", "hotspot_name"]).agg(
    patrols=("patrol_id", "count"), minutes=("minutes", "sum"), mean_minutes=("minutes", "mean"),
    patrolled_days=("day", "nunique")).reset_index()
table["share_of_days_patrolled"] = table["patrolled_days"] / days
all_hot = result.areas[["hotspot_id", "hotspot_name"]].merge(table, how="left", on=["hotspot_id", "hotspot_name"]).fillna(0)
st.dataframe(all_hot.sort_values("patrols", ascending=False), hide_index=True, width="stretch",
             column_config={"share_of_days_patrolled": st.column_config.ProgressColumn("Days patrolled", format="percent",
                                                                                      min_value=0, max_value=1),
                            "mean_minutes": st.column_config.NumberColumn("Mean minutes", format="%.1f")})
st.caption(f"{len(inside):,} of {len(patrols):,} patrols ({len(inside) / len(patrols):.0%}) fell inside these hotspots.")

st.subheader("Patrols and serious violence, week by week")
weekly_patrols = patrols.set_index("start").resample("W-MON")["patrol_id"].count().rename("patrols")
incidents = query.incident_rows(con, filters)
incidents = incidents[incidents["occurred_at"].notna()]
weekly_sv = incidents.set_index("occurred_at").resample("W-MON")["incident_id"].count().rename("serious violence")
weekly = pd.concat([weekly_patrols, weekly_sv], axis=1, sort=True).fillna(0).reset_index(names="week")
long = weekly.melt("week", var_name="series", value_name="count")
chart = alt.Chart(long).mark_line(strokeWidth=3 if presentation() else 2).encode(
    x=alt.X("week:T", title="Week"), y=alt.Y("count:Q", title="Per week"),
    color=alt.Color("series:N", scale=alt.Scale(range=["#0072B2", "#D55E00"]), title=None),
    tooltip=["week:T", "series", "count"]).properties(height=320)
st.altair_chart(chart, width="stretch")
with st.expander("Table of the chart (text alternative)"):
    st.dataframe(weekly, hide_index=True, width="stretch")
