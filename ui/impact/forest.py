"""The pooled figures and the forest plot: each hotspot's modelled level change with its 95% CI."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ui.common import OKABE_ITO, draw_chart


def draw_pooled(result, unit: str) -> None:
    table = result.table
    pooled = table[table["hotspot_id"] == "pooled"].iloc[0]
    m1, m2, m3 = st.columns(3)
    m1.metric("Pooled ITS level change", f"{pooled['its_change_pct']:+.1f}%",
              help="Random-effects pool of the per-hotspot level changes, exp(b2)-1.")
    m2.metric("95% confidence interval", f"{pooled['ci_low_pct']:+.1f}% to {pooled['ci_high_pct']:+.1f}%")
    m3.metric("Simple before/after (report's figure)", f"{pooled['simple_change_pct']:+.1f}%",
              help=f"{int(pooled['simple_window'])} {unit}s after against the {int(pooled['simple_window'])} {unit}s before, "
                   "all hotspots together.")
    st.caption(result.description)


def draw_forest(table: pd.DataFrame) -> None:
    st.subheader("Effect in each hotspot")
    forest = table[table["its_change_pct"].notna()].copy()
    forest["label"] = forest["hotspot_name"].fillna(forest["hotspot_id"])
    forest["kind"] = forest["hotspot_id"].eq("pooled").map({True: "Pooled", False: "Hotspot"})
    base = alt.Chart(alt.Data(name="forest")).encode(
        y=alt.Y("label:N", sort=list(forest["label"]), title=None, axis=alt.Axis(labelLimit=360)))
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low_pct:Q", title="Level change % (95% CI)"),
                                                x2=alt.X2("ci_high_pct:Q"))
    points = base.mark_point(filled=True, size=90).encode(
        x=alt.X("its_change_pct:Q"), shape=alt.Shape("kind:N", scale=alt.Scale(range=["circle", "diamond"]), title=None),
        color=alt.Color("kind:N", scale=alt.Scale(range=[OKABE_ITO[4], OKABE_ITO[5]]), title=None),
        tooltip=[alt.Tooltip("label:N"), alt.Tooltip("its_change_pct:Q"), alt.Tooltip("ci_low_pct:Q"),
                 alt.Tooltip("ci_high_pct:Q"), alt.Tooltip("p_value:Q")])
    zero = alt.Chart(alt.Data(name="zero")).mark_rule(strokeDash=[4, 4], color="#555").encode(x=alt.X("x:Q"))
    draw_chart((bars + points + zero).properties(height=28 * len(forest) + 40),
               {"forest": forest, "zero": pd.DataFrame({"x": [0]})}, width="stretch")
    st.caption("Each line is one hotspot's modelled change in level after the intervention, with its 95% confidence "
               "interval; the diamond pools them. Lines that cross the dashed zero line are consistent with no change.")


def draw_all_figures(table: pd.DataFrame, unit: str) -> None:
    st.subheader("All figures")
    st.caption("The table behind the forest plot above (its text alternative), with the displacement figures.")
    if unit == "week":
        st.caption("Weekly analysis: the columns named months_pre, months_post and simple_window count weeks.")
    st.dataframe(table, hide_index=True, width="stretch")
