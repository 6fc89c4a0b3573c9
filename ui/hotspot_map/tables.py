"""The tables under the Hotspot map: the ranked hotspots, the method notes, and every scored cell
(the map's text alternative, sent only when opened)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from hotspot_engine.analyse.hotspots import RANKED_BY_PREDICTION_TEXT, area_predicted
from hotspot_engine.analyse.predict import SIGNIFICANT_TEXT
from hotspot_engine.render.text_safety import markdown_plain

AREA_TABLE_CONFIG = {"no": st.column_config.NumberColumn("No.", help="The number on the map"),
                     "hotspot_name": "Place", "hotspot_id": "Id", "n_cells": "Cells", "csp": "CSP", "district": "District",
                     "patrols": st.column_config.NumberColumn("Patrols", format="%d"),
                     "area_km2": st.column_config.NumberColumn("Area (km²)", format="%.2f"),
                     "count": st.column_config.NumberColumn("Incidents", format="%d"),
                     "predicted": st.column_config.NumberColumn(
                         "Predicted a month", format="%.1f", help="The place's predicted rate a month: the sum of its "
                         "cells' predictions (the order of the list)"),
                     "predicted_peak": st.column_config.NumberColumn(
                         "Busiest cell a month", format="%.2f", help="Its busiest cell's predicted rate a month: the "
                         "hotspots are the places where this is highest"),
                     "harm": st.column_config.NumberColumn("Harm (days)", format="%d"),
                     "patrol_minutes": st.column_config.NumberColumn("Patrol minutes", format="%d"),
                     "set_no": st.column_config.NumberColumn("Set No.", help="The adopted set's hotspot this place "
                                                             "overlaps most (its number on the map and every page)"),
                     "significant": st.column_config.CheckboxColumn(
                         "Beyond chance", help="Stands out from its surroundings (0.6-1.5 km) beyond chance")}


def _area_table(areas: pd.DataFrame, first: int = 1, set_numbers: pd.Series | None = None,
                cells: pd.DataFrame | None = None) -> pd.DataFrame:
    """``cells`` given (the predict method): the predicted rates beside the count, which explain the order."""
    if cells is not None:
        areas = areas.join(area_predicted(areas, cells))
    table = areas[[c for c in ("hotspot_name", "hotspot_id", "csp", "district", "n_cells", "area_km2", "count",
                               "predicted", "predicted_peak", "harm", "patrols", "patrol_minutes", "significant")
                   if c in areas.columns]].copy()
    table.insert(0, "no", range(first, first + len(table)))
    if set_numbers is not None:
        table.insert(1, "set_no", table["hotspot_id"].map(set_numbers).astype("Int64"))
    return table


def draw_ranked(areas: pd.DataFrame, next_ranked: pd.DataFrame | None = None,
                set_numbers: pd.Series | None = None, predicted_from: pd.DataFrame | None = None) -> None:
    """``predicted_from``: the scored cells when the places were ranked by prediction (predict method)."""
    st.subheader("Hotspots, ranked")
    if areas.empty:
        st.info("No place to rank: incidents are not concentrated above the area's average rate with these "
                "filters (or this method selects none).")
        return
    st.dataframe(_area_table(areas, 1, set_numbers, predicted_from), hide_index=True, width="stretch",
                 column_config=AREA_TABLE_CONFIG)
    if predicted_from is not None:
        st.caption(RANKED_BY_PREDICTION_TEXT)
    st.caption(SIGNIFICANT_TEXT + " The rank says where most incidents are expected; a place can rank high "
               "without standing out from a busy town centre around it.")
    if next_ranked is not None and len(next_ranked):
        with st.expander(f"Next ranked: {len(next_ranked)} more places"):
            st.caption("After the hotspots, in the same order: candidates when a hotspot is dropped or patrol "
                       "capacity grows.")
            st.dataframe(_area_table(next_ranked, len(areas) + 1, cells=predicted_from), hide_index=True, width="stretch",
                         column_config=AREA_TABLE_CONFIG)


def draw_notes(notes: list[str]) -> None:
    with st.expander("Method and notes"):
        for note in notes:
            st.markdown("• " + markdown_plain(note))  # notes quote place names from the data


def draw_all_cells(cells: pd.DataFrame) -> None:
    # Filled only when opened: the table is several thousand rows (~0.7 MB with the sample) that every
    # run of this page would otherwise send to every browser, opened or not.
    all_cells = st.expander("All scored cells (text alternative to the map)", key="m_all_cells", on_change="rerun")
    if all_cells.open:
        shown = cells[(cells["count"] > 0) | cells["is_hotspot"]].sort_values("gi_z", ascending=False)
        # p-values far below 0.001 otherwise print as a long run of zeros.
        p_format = {c: st.column_config.NumberColumn(format="%.2e") for c in ("gi_p", "gi_p_fdr", "p_exact", "p_norm", "p_sim")
                    if c in shown.columns}
        all_cells.dataframe(shown, hide_index=True, width="stretch", column_config=p_format)
