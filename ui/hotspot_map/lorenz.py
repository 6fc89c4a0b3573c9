"""Concentration: share of serious violence in the share of area over the study cells of the
hotspot window (zeros included): the Lorenz curve, the Gini and the hotspots' place on the curve,
beside the chance curve (the same number of incidents scattered at random over the same cells:
sparse counts look concentrated even by chance) and the generalised Gini."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from hotspot_engine.analyse.concentration import Concentration, chance_concentration, concentration, generalised_gini
from hotspot_engine.filters import Filters
from ui.common import draw_chart


def lorenz_chart(conc: Concentration, hot_area: float, hot_value: float,
                 chance: Concentration | None = None) -> tuple[alt.LayerChart, dict]:
    """(chart, named datasets): the curve, the even-spread diagonal, the chance curve and the
    hotspots' point."""
    # The curve rises steeply at the start: sample it densely there, and keep the JSON small (about 400
    # points whatever the number of cells).
    grid = np.unique(np.concatenate([np.linspace(0, 0.05, 201), np.linspace(0.05, 1, 200)]))
    curve = pd.DataFrame({"area": grid, "value": np.interp(grid, conc.cell_share, conc.value_share)})
    line = alt.Chart(alt.Data(name="curve")).mark_line(color="#b2182b", strokeWidth=2.5).encode(
        x=alt.X("area:Q", title="Share of area (cells, busiest first)", axis=alt.Axis(format="%")),
        y=alt.Y("value:Q", title="Share of serious violence", axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("area:Q", title="Area", format=".1%"), alt.Tooltip("value:Q", title="Serious violence", format=".1%")])
    diagonal = alt.Chart(alt.Data(name="diagonal")).mark_line(
        color="#777", strokeDash=[5, 4]).encode(x=alt.X("area:Q"), y=alt.Y("value:Q"))
    hotspot_point = alt.Chart(alt.Data(name="hotspots")).mark_point(
        color="#000", size=80, filled=True).encode(x=alt.X("area:Q"), y=alt.Y("value:Q"), tooltip=[alt.Tooltip("label:N")])
    chance = chance or conc
    chance_curve = pd.DataFrame({"area": grid, "value": np.interp(grid, chance.cell_share, chance.value_share)})
    chance_line = alt.Chart(alt.Data(name="chance")).mark_line(color="#2166ac", strokeDash=[2, 3], strokeWidth=2).encode(
        x=alt.X("area:Q"), y=alt.Y("value:Q"),
        tooltip=[alt.Tooltip("area:Q", title="Area", format=".1%"), alt.Tooltip("value:Q", title="By chance", format=".1%")])
    datasets = {"curve": curve, "diagonal": pd.DataFrame({"area": [0.0, 1.0], "value": [0.0, 1.0]}),
                "chance": chance_curve,
                "hotspots": pd.DataFrame({"area": [hot_area], "value": [hot_value], "label": ["Hotspots"]})}
    return (line + chance_line + diagonal + hotspot_point).properties(height=320), datasets


def _table(conc: Concentration, chance: Concentration, hot: np.ndarray, hot_area: float, hot_value: float) -> None:
    with st.expander("Concentration as a table (text alternative to the chart)"):
        shares = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
        rows = [{"Area": f"Busiest {a:.1%} of cells", "Cells": int(round(a * conc.n_cells)),
                 "Share of serious violence": conc.value_share_in_top(a),
                 "By chance": chance.value_share_in_top(a)} for a in shares]
        rows.append({"Area": f"The hotspots ({hot_area:.1%} of cells)", "Cells": int(hot.sum()),
                     "Share of serious violence": hot_value, "By chance": chance.value_share_in_top(hot_area)})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"Share of serious violence": st.column_config.NumberColumn(format="percent"),
                                    "By chance": st.column_config.NumberColumn(
                                        format="percent", help="The same number of incidents scattered at random")})


def concentration_sentence(conc: Concentration, chance: Concentration, hot_value: float, hot_area: float) -> str:
    """The headline share, with what chance alone gives these few incidents: on the real Hampshire months
    (1,039 incidents over 44,270 cells) "76% of serious violence happened in 1% of the area" stood alone,
    where incidents scattered at random put 44% there."""
    top1, by_chance = conc.value_share_in_top(0.01), chance.value_share_in_top(0.01)
    return (f"{top1:.0%} of serious violence happened in 1% of the area ({by_chance:.0%} would by chance alone, "
            f"with this few incidents over these cells); the hotspots hold {hot_value:.0%} of it in {hot_area:.1%} "
            f"of the area ({chance.value_share_in_top(hot_area):.0%} by chance).")


def draw_concentration(cells: pd.DataFrame, window: Filters, exposure: np.ndarray | None = None) -> None:
    """The curve, its chance twin and the Gini. ``exposure`` (months each cell's force holds, when
    forces hold different months): each cell counts at its rate over its months held, times the
    window's months, and cells of a force holding none are left out (no data is not an empty cell)."""
    st.subheader("Concentration")
    counts = cells["count"].to_numpy(dtype=float)
    hot = cells["is_hotspot"].astype(bool).to_numpy()
    rate_note = ""
    if exposure is not None:
        held = exposure > 0
        counts = (counts * exposure.max())[held] / exposure[held]
        hot = hot[held]
        rate_note = (" Some forces hold fewer of the window's months: each cell counts at its rate over the months "
                     "its force holds, and cells of a force holding none are left out.")
    conc = concentration(counts)
    if conc.total <= 0:
        st.info("No serious violence in the hotspot window with these filters.")
        return
    hot_value, hot_area = float(counts[hot].sum()) / conc.total, float(hot.mean())
    chance = chance_concentration(int(round(conc.total)), conc.n_cells)
    sentence = concentration_sentence(conc, chance, hot_value, hot_area)
    chart_col, text_col = st.columns([2, 1])
    with chart_col:
        chart, datasets = lorenz_chart(conc, hot_area, hot_value, chance)
        draw_chart(chart, datasets, width="stretch")
    with text_col:
        st.metric("Gini coefficient", f"{conc.gini:.3f}", delta=f"{conc.gini - chance.gini:+.3f} against chance",
                  delta_color="off",
                  help="0 when every cell has the same count; near 1 when a few cells hold it all. Incidents "
                       f"scattered at random over the same cells would give {chance.gini:.3f}: with fewer incidents "
                       "than cells most cells must be empty, so compare with that, not with 0.")
        st.metric("Generalised Gini", f"{generalised_gini(conc.gini, conc.total, conc.n_cells):.3f}",
                  help="Bernasco & Steenbeek (2017): the Gini against the most even spread these incidents allow "
                       f"(each in a cell of its own). By chance: {generalised_gini(chance.gini, chance.total, chance.n_cells):.3f}.")
        st.markdown(sentence)
        st.caption(f"{conc.n_cells:,} study cells at H3 res {window.res}, empty cells included; "
                   f"{window.date_from} to {window.date_to}. Grey dashes: an even spread; blue dots: the same "
                   "number of incidents scattered at random." + rate_note)
    _table(conc, chance, hot, hot_area, hot_value)
