"""When serious violence happens and when patrols are there: day-by-hour grids for one hotspot (or
all), with their tables as the text alternative, and the hotspot over its streets. A grid is drawn
only when it has something in it: police.uk records carry a month, not a time, and a hotspot with
no patrol has no patrol minutes; an empty grid would read as "never", so one line says why instead."""
from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import streamlit as st

from hotspot_engine.analyse.patrols import ALL_HOTSPOTS, DAY_NAMES, PatrolReport
from hotspot_engine.render.deck import hotspot_street_deck
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


def grids_to_show(report: PatrolReport, focus: str) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """(grids worth drawing as (column, title, scheme, legend), one-line reasons for those left out)."""
    grid = report.grid[report.grid["hotspot_id"] == focus]
    shown, reasons = [], []
    if report.has_times:
        shown.append(("incidents", "Incidents", "blues", "incidents"))
    else:
        reasons.append("No incident grid: the records give a month only (police.uk), not a day or time of day.")
    if grid["patrol_minutes"].sum() > 0:
        shown.append(("patrol_minutes", "Patrol minutes", "viridis", "minutes"))
    else:
        reasons.append("No patrol grid: no patrol is recorded in "
                       + ("these hotspots" if focus == ALL_HOTSPOTS else "this hotspot") + " in the period.")
    return shown, reasons


def draw_time_grids(report: PatrolReport, focus: str, big: bool) -> None:
    grid = report.grid[report.grid["hotspot_id"] == focus]
    shown, reasons = grids_to_show(report, focus)
    for reason in reasons:
        st.caption(reason)
    if not shown:
        return
    for (column, title, scheme, legend), where in zip(shown, st.columns(len(shown))):
        draw_chart(styled(heatmap(column, title, scheme, legend, big), big), {"grid": grid}, where, width="stretch")
    with st.expander("Tables of the grids (text alternative)"):
        for (column, title, _, _), where in zip(shown, st.columns(len(shown))):
            pivot = grid.pivot(index="day", columns="hour", values=column).reindex(list(DAY_NAMES)).round(0).astype(int)
            where.caption(title + " by day (rows) and hour (columns)")
            where.dataframe(pivot, width="stretch")
    if report.has_times:
        st.caption(report.times_note())


def draw_street_map(report: PatrolReport, focus: str) -> None:
    """One hotspot close up over the loaded street layer (inline, offline), or a line saying how to
    load one. Nothing for 'all hotspots' (the Hotspot map page shows them all)."""
    if focus == ALL_HOTSPOTS:
        return
    mine = report.cells[report.cells["hotspot_id"] == focus]
    lines = None if report.street_lines is None else report.street_lines[report.street_lines["hotspot_id"] == focus]
    has_lines = lines is not None and len(lines) > 0
    st.pydeck_chart(hotspot_street_deck(mine, lines if has_lines else None), height=420, width="stretch",
                    key="p_street_map")
    st.caption("Hotspot outline over the loaded street layer (drawn offline)." if has_lines
               else "No street layer loaded: load one on Data & export or with `ingest --format streets` (OS Open "
                    "Roads or an OpenStreetMap extract) to see street lines and names here and on the briefing.")
