"""The Overview's monthly serious violence by category: small multiples, one panel per category."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine.filters import Filters, months_between
from hotspot_engine.reference.offences import group_label
from ui.common import OKABE_ITO, draw_chart


def complete_months(monthly: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Every month of the range for every category, with the category's label.

    A month with no incidents of a category is absent from the counts: fill it with 0, or the line
    would be drawn straight across it (a riot a month instead of a few a year)."""
    months = months_between(filters.date_from or monthly["month"].min(), filters.date_to or monthly["month"].max())
    full = pd.MultiIndex.from_product([months, sorted(monthly["offence_group"].unique())], names=["month", "offence_group"])
    monthly = (monthly.set_index(["month", "offence_group"])[["count", "harm"]].reindex(full, fill_value=0)
               .reset_index())
    return monthly.assign(category=monthly["offence_group"].map(group_label))


def monthly_chart(monthly: pd.DataFrame, big: bool) -> alt.FacetChart:
    """Small multiples, one panel per category with its own y scale: on one shared axis the rare
    categories (murder, riot) lie flat along the bottom, and eight lines in eight colours are hard
    to tell apart; a panel per category needs no colour legend at all."""
    order = monthly.groupby("category")["count"].sum().sort_values(ascending=False).index.tolist()
    # One dark colour for every panel: the panel title names the category, so colour carries no
    # meaning here, and a light Okabe-Ito yellow line is hard to see on white from the back of a room.
    panel = (
        alt.Chart()
        .mark_line(strokeWidth=3 if big else 2, color=OKABE_ITO[4], point=alt.OverlayMarkDef(size=12) if not big else False)
        .encode(
            x=alt.X("yearmonth(month):T", title=None, axis=alt.Axis(format="%b %y", labelFontSize=16 if big else 11,
                                                                    tickCount=6)),
            y=alt.Y("count:Q", title=None, axis=alt.Axis(labelFontSize=16 if big else 11)),
            tooltip=[alt.Tooltip("month:N", title="Month"), alt.Tooltip("category:N", title="Category"),
                     alt.Tooltip("count:Q", title="Incidents")],
        )
        # Three panels across fit a 1600 px window beside the sidebar (four were cut off), and the
        # wall screen without it.
        .properties(width=400 if big else 290, height=170 if big else 150)
    )
    return (
        alt.layer(panel, data=alt.Data(name="monthly"))
        .facet(facet=alt.Facet("category:N", sort=order, title=None,
                               header=alt.Header(labelFontSize=20 if big else 14, labelFontWeight="bold",
                                                 labelColor="#111111", labelAnchor="start")),
               columns=3)
        .resolve_scale(y="independent")
    )


def draw_monthly(monthly: pd.DataFrame, filters: Filters, big: bool) -> None:
    """The chart, its caption and its table (the text alternative)."""
    if monthly.empty:
        st.info("No incidents match these filters. Widen the months, places or offence categories.")
        return
    monthly = complete_months(monthly, filters)
    if monthly["month"].nunique() < 2:
        st.info("One month is selected: a monthly trend needs two months or more. The counts by category:")
        counts = monthly.groupby("category", as_index=False)["count"].sum().sort_values("count", ascending=False)
        st.dataframe(counts.rename(columns={"category": "Category", "count": "Incidents"}), hide_index=True)
        return
    draw_chart(monthly_chart(monthly, big), {"monthly": monthly})
    st.caption("Incidents per month, one panel per category; each panel has its own vertical scale "
               "(compare shapes across panels, numbers within a panel).")
    with st.expander("Table of the chart (text alternative)"):
        table = monthly.pivot_table(index="month", columns="category", values="count", fill_value=0, aggfunc="sum")
        st.dataframe(table.rename_axis(index="Month", columns=None), width="stretch")
