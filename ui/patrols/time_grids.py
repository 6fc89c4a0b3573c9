"""When serious violence happens and when patrols are there: two day-by-hour grids for one hotspot
(or all), with their tables as the text alternative."""
from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import streamlit as st

from hotspot_engine.analyse.patrols import ALL_HOTSPOTS, DAY_NAMES, PatrolReport
from ui.common import draw_chart
from ui.patrols.style import styled


@dataclass(frozen=True)
class HotspotNames:
    label_of: dict  # hotspot id -> "rank. name" (ALL_HOTSPOTS -> "All hotspots")
    id_of: dict  # the reverse


def hotspot_names(report: PatrolReport) -> HotspotNames:
    dosage = report.dosage
    names = dict(zip(dosage["hotspot_id"], dosage["hotspot_rank"].astype(int).astype(str) + ". " + dosage["hotspot_name"]))
    names = {ALL_HOTSPOTS: "All hotspots", **names}
    return HotspotNames(names, {label: hotspot_id for hotspot_id, label in names.items()})


def choose_focus(names: HotspotNames, big: bool) -> str:
    """The hotspot the grids and the weekly chart show. Labels as options (not ids with a
    format_func): the choice survives in the session and in AppTest."""
    focus_label = st.selectbox("Hotspot", list(names.id_of), key="p_focus") if not big else \
        st.session_state.get("p_focus", names.label_of[ALL_HOTSPOTS])
    return names.id_of.get(focus_label, ALL_HOTSPOTS)


def heatmap(column: str, title: str, scheme: str, legend: str, big: bool) -> alt.Chart:
    # Heights are the whole chart's (title, axes and legend included): the cells get what is left.
    return alt.Chart(alt.Data(name="grid"), title=title).mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("hour:O", title="Hour of day", axis=alt.Axis(labelAngle=0, values=list(range(0, 24, 3)))),
        y=alt.Y("day:N", sort=list(DAY_NAMES), title=None, axis=alt.Axis(labelOverlap=False)),
        color=alt.Color(f"{column}:Q", scale=alt.Scale(scheme=scheme), title=legend,
                        legend=alt.Legend(orient="bottom", gradientLength=220 if big else 160)),
        tooltip=[alt.Tooltip("day:N", title="Day"), alt.Tooltip("hour:O", title="Hour"),
                 alt.Tooltip(f"{column}:Q", title=legend, format=",.0f")],
    ).properties(height=540 if big else 400)


def draw_time_grids(report: PatrolReport, focus: str, big: bool) -> None:
    grid = report.grid[report.grid["hotspot_id"] == focus]
    left, right = st.columns(2)
    draw_chart(styled(heatmap("incidents", "Incidents", "blues", "incidents", big), big), {"grid": grid}, left,
               width="stretch")
    draw_chart(styled(heatmap("patrol_minutes", "Patrol minutes", "viridis", "minutes", big), big), {"grid": grid},
               right, width="stretch")
    with st.expander("Tables of the two grids (text alternative)"):
        t1, t2 = st.columns(2)
        for column, where in (("incidents", t1), ("patrol_minutes", t2)):
            pivot = grid.pivot(index="day", columns="hour", values=column).reindex(list(DAY_NAMES)).round(0).astype(int)
            where.caption(column.replace("_", " ").capitalize() + " by day (rows) and hour (columns)")
            where.dataframe(pivot, width="stretch")
