"""Click a cell on the map to select its hotspot: the hotspot's row and details beside the map
(issue 19: clicking a hotspot did nothing). The map reruns the page on a click
(``st.pydeck_chart(on_select="rerun")``); the picked cell record carries its H3 id (``h``)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from hotspot_engine.render.text_safety import markdown_plain


def picked_cell(event) -> str | None:
    """The H3 id of the clicked cell, or None (nothing clicked, or a click off the cells)."""
    selection = getattr(event, "selection", None) or {}
    objects = (selection.get("objects") or {}).get("cells") or []
    return str(objects[0].get("h")) if objects and objects[0].get("h") else None


def draw_selection(cells: pd.DataFrame, areas: pd.DataFrame, h3: str | None, big: bool = False,
                   set_numbers: pd.Series | None = None) -> None:
    """The clicked cell's hotspot (its number, name and figures) or the cell's own figures. With an
    adopted set shown (``set_numbers``: today's id -> the set's number), the number on the map is the
    set's: today's rank is named as such."""
    if h3 is None:
        st.caption("Click a cell on the map to see its hotspot here.")
        return
    row = cells[cells["h3"] == h3]
    if row.empty:
        return
    cell = row.iloc[0]
    hotspot = areas[areas["hotspot_id"] == cell.get("hotspot_id")] if "hotspot_id" in areas else areas.iloc[0:0]
    with st.container(border=True):
        if hotspot.empty:
            st.markdown("**Selected cell** (not in a hotspot)")
            st.text(f"{cell['district']} · {int(cell['count']):,} incidents · Gi* z {cell['gi_z']:.1f}")
            return
        area = hotspot.iloc[0]
        name = markdown_plain(str(area["hotspot_name"]))  # text from the data, shown as text
        rank = f"#{int(area['hotspot_rank'])}" if set_numbers is None else f"Today's #{int(area['hotspot_rank'])}:"
        st.markdown(f"**{rank} {name}**" if not big else f"### {rank} {name}")
        if set_numbers is not None:
            number = set_numbers.get(area["hotspot_id"])
            st.caption(f"In the adopted set as #{int(number)} (the number on the map)." if pd.notna(number)
                       else "Not in the adopted set: a place that is hot today only.")
        figures = {"District": area["district"], "CSP": area["csp"], "Cells": f"{int(area['n_cells'])}",
                   "Incidents": f"{int(area['count']):,}", "Harm (days)": f"{area['harm']:,.0f}",
                   "Patrols": f"{int(area['patrols']):,}", "Patrol minutes": f"{area['patrol_minutes']:,.0f}",
                   "Busiest place": area.get("top_location") or "–"}
        st.dataframe(pd.DataFrame({"": list(figures), "Value": [str(v) for v in figures.values()]}), hide_index=True,
                     width="stretch")
        st.caption(f"Clicked cell: {int(cell['count']):,} incidents, Gi* z {cell['gi_z']:.1f}.")
