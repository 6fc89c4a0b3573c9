"""The Overview's monthly serious violence by category: small multiples, one panel per category.

Months the store does not hold are gaps, not zeros: the real police.uk store holds 2018-03 and
2024-01..04, and the chart drew 2018-04..2023-12 as 69 months of no violence (issue 27). A month the
store holds with no incident of a category is still a zero. On the wall screen the panels are sized to
the screen the browser reports (ui/viewport.py): as many rows of panels as fit below the headline,
the busiest categories first, and the count of the others left for the desk view.

The wall chart had run off the screen (31 px of scrolling at 1280x720, the caption 15 px below the
edge; 9 px at 1920x1080) while its fit said it fitted: below the headline of the store the app builds
at first start (its adopted set adds the line on how many hotspots stand out beyond chance) the
screen left 148 px (1280x720) and 205 px (1920x1080) for chart and caption, where one row of panels
needs 96 px besides its plot. ``wall_panels`` then drew the plot at its 60 px floor: a chart of 149 px
in the 68 px left once the caption's 80 were kept (155 in 125 at 1920x1080), so raising ``CAPTION_PX``
changed nothing: the floor overrode it. The
wall headline now says the set and its count beyond chance in one line, the marker above the chart
takes no gap, and the room under the chart is the caption the browser measures, not a guess.
"""
from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from hotspot_engine.filters import Filters, months_between
from hotspot_engine.reference.offences import group_label
from ui.common import OKABE_ITO, draw_chart
from ui.viewport import fit_marker, free_height, measure_screen, reported_size

#: Panels across: three fit a 1600 px window beside the sidebar (four were cut off), and the wall screen.
COLUMNS = 3
#: Wall screen, pixels per row of panels besides the plot (header, month labels, spacing: 95 measured
#: at 1920x1080) and per panel besides its width (the count axis), and the smallest plot for a second row.
ROW_EXTRA_PX, AXIS_PX, MIN_PANEL_PX = 96, 60, 140
#: Room under the wall chart for its caption before the browser has measured it (ui/viewport.py reports
#: ``after``: the gap, a line of presentation type and the page's padding, 48 px at 1280x720 and 73 px at
#: 1920x1080). The page's margin under that is ui/viewport.BOTTOM_MARGIN_PX.
CAPTION_PX = 80
#: The smallest plot drawn when even one row of panels does not fit (then the page scrolls).
MIN_PLOT_PX = 60


def complete_months(monthly: pd.DataFrame, filters: Filters, stored: frozenset[str] | None = None) -> pd.DataFrame:
    """Every month of the range for every category, with the category's label.

    A month the store holds with no incident of a category is absent from the counts: fill it with 0,
    or the line would be drawn straight across it (a riot a month instead of a few a year). A month the
    store does not hold at all (``stored``, query.stored_months) stays empty: a gap in the line; so
    does a month one police force of the places lacks while another holds it (``stored`` is then
    service.held_months): summed over forces, it would read that force's places as having none."""
    months = months_between(filters.date_from or monthly["month"].min(), filters.date_to or monthly["month"].max())
    full = pd.MultiIndex.from_product([months, sorted(monthly["offence_group"].unique())], names=["month", "offence_group"])
    monthly = monthly.set_index(["month", "offence_group"])[["count", "harm"]].reindex(full).reset_index()
    held = monthly["month"].isin(stored) if stored is not None else pd.Series(True, index=monthly.index)
    monthly.loc[held, ["count", "harm"]] = monthly.loc[held, ["count", "harm"]].fillna(0)
    monthly.loc[~held, ["count", "harm"]] = float("nan")
    return monthly.assign(category=monthly["offence_group"].map(group_label))


def unstored_spans(monthly: pd.DataFrame) -> list[str]:
    """The runs of months with no stored data, as 'first to last' (or one month)."""
    gaps = monthly.groupby("month")["count"].apply(lambda c: bool(c.isna().all())).sort_index()
    spans, start, previous = [], None, None
    for month, gap in gaps.items():
        if gap and start is None:
            start = month
        if not gap and start is not None:
            spans.append(start if start == previous else f"{start} to {previous}")
            start = None
        previous = month
    if start is not None:
        spans.append(start if start == previous else f"{start} to {previous}")
    return spans


def monthly_chart(monthly: pd.DataFrame, big: bool, panel: tuple[int, int] | None = None) -> alt.FacetChart:
    """Small multiples, one panel per category with its own y scale: on one shared axis the rare
    categories (murder, riot) lie flat along the bottom, and eight lines in eight colours are hard
    to tell apart; a panel per category needs no colour legend at all. ``panel``: (width, height) of
    each plot in pixels."""
    order = monthly.groupby("category")["count"].sum().sort_values(ascending=False).index.tolist()
    width, height = panel or ((400, 170) if big else (290, 150))
    # Points mark the months either side of a gap (a month alone between gaps has no line to show it).
    gaps = bool(monthly["count"].isna().any())
    # One dark colour for every panel: the panel title names the category, so colour carries no
    # meaning here, and a light Okabe-Ito yellow line is hard to see on white from the back of a room.
    line = (
        alt.Chart()
        .mark_line(strokeWidth=3 if big else 2, color=OKABE_ITO[4],
                   point=alt.OverlayMarkDef(size=40 if big else 12, color=OKABE_ITO[4]) if gaps or not big else False)
        .encode(
            x=alt.X("yearmonth(month):T", title=None, axis=alt.Axis(format="%b %y", labelFontSize=16 if big else 11,
                                                                    tickCount=6)),
            y=alt.Y("count:Q", title=None, axis=alt.Axis(labelFontSize=16 if big else 11)),
            tooltip=[alt.Tooltip("month:N", title="Month"), alt.Tooltip("category:N", title="Category"),
                     alt.Tooltip("count:Q", title="Incidents")],
        )
        .properties(width=width, height=height)
    )
    return (
        alt.layer(line, data=alt.Data(name="monthly"))
        .facet(facet=alt.Facet("category:N", sort=order, title=None,
                               header=alt.Header(labelFontSize=20 if big else 14, labelFontWeight="bold",
                                                 labelColor="#111111", labelAnchor="start")),
               columns=COLUMNS)
        .resolve_scale(y="independent")
    )


def wall_panels(categories: int, free_px: int, width_px: int, below_px: int = CAPTION_PX) -> tuple[int, tuple[int, int]]:
    """(rows of panels, (plot width, plot height)) that fill ``free_px`` by ``width_px`` on the wall
    screen, keeping ``below_px`` under the chart for its caption."""
    wanted = math.ceil(categories / COLUMNS)
    room = free_px - below_px
    rows = max(1, min(wanted, room // (MIN_PANEL_PX + ROW_EXTRA_PX)))
    height = max(MIN_PLOT_PX, room // rows - ROW_EXTRA_PX)
    return rows, ((width_px - COLUMNS * AXIS_PX - (COLUMNS - 1) * 20) // COLUMNS, height)


def draw_monthly(monthly: pd.DataFrame, filters: Filters, big: bool, stored: frozenset[str] | None = None,
                 every_force: bool = False) -> None:
    """The chart, its caption and its table (the text alternative); on the wall screen, the chart fitted
    to the screen and its caption. ``every_force``: ``stored`` are the months every force of the
    places holds, fewer than the store's (the caption says so)."""
    if monthly.empty:
        st.info("No incidents match these filters. Widen the months, places or offence categories.")
        return
    monthly = complete_months(monthly, filters, stored)
    if monthly["month"].nunique() < 2:
        st.info("One month is selected: a monthly trend needs two months or more. The counts by category:")
        counts = monthly.groupby("category", as_index=False)["count"].sum().sort_values("count", ascending=False)
        st.dataframe(counts.rename(columns={"category": "Category", "count": "Incidents"}), hide_index=True)
        return
    spans = unstored_spans(monthly)
    gap_note = ((" Not every police force of these places holds data for " if every_force else " The store holds no data for ")
                + ", ".join(spans) + ": left as gaps, not zeros.") if spans else ""
    if big:
        _draw_wall(monthly, gap_note)
        return
    draw_chart(monthly_chart(monthly, big), {"monthly": monthly})
    st.caption("Incidents per month, one panel per category; each panel has its own vertical scale "
               "(compare shapes across panels, numbers within a panel)." + gap_note)
    with st.expander("Table of the chart (text alternative)"):
        held = monthly.dropna(subset=["count"])  # months the store holds; the caption names the others
        table = held.pivot_table(index="month", columns="category", values="count", fill_value=0, aggfunc="sum")
        st.dataframe(table.rename_axis(index="Month", columns=None), width="stretch")


def _draw_wall(monthly: pd.DataFrame, gap_note: str) -> None:
    """As many rows of panels as fit the screen below the headline, busiest categories first."""
    fit_marker(takes_no_room=True)
    size = reported_size("overview") or {}
    order = monthly.groupby("category")["count"].sum().sort_values(ascending=False).index.tolist()
    rows, panel = wall_panels(len(order), free_height("overview", 560), int(size.get("width") or 1500),
                              int(size.get("after") or CAPTION_PX))
    shown = monthly[monthly["category"].isin(order[:rows * COLUMNS])]
    draw_chart(monthly_chart(shown, True, panel), {"monthly": shown})
    rest = len(order) - shown["category"].nunique()
    st.caption("Incidents per month; each panel has its own scale." + gap_note
               + (f" {rest} quieter categories are on the desk view." if rest else ""))
    measure_screen("overview")
