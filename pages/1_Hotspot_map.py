"""Hotspot map: H3 cells over the offline base, hotspot outlines and numbers, a ranked hotspot table,
and a month-by-month playback of the counts over the selected range."""
from __future__ import annotations

import html
import time

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from hotspot_engine.render import deck as maps
from hotspot_engine.analyse.concentration import concentration
from hotspot_engine.filters import months_between
from hotspot_engine.reference.geography import ATTRIBUTION, cell_centres, str_to_cell
from hotspot_engine.analyse.hotspots import HotspotParams
from hotspot_engine.analyse.patterns import PATTERN_LEGEND, period_of
from ui.common import (page_setup, cached_area_outlines, cached_headline, cached_hotspots, cached_month_colours,
                       cursor, data_version, draw_chart, headline_metrics, hotspot_window, legend_html, map_params, presentation,
                       settings, show_error)

PLAY_SECONDS = 1.5  # one month per tick: long enough to read the month and the picture
filters = page_setup("Hotspot map")
version = data_version()
present = presentation()
MAP_HEIGHT = 780 if present else 640

METHOD_LABELS = {"gistar": "Gi* (significant clusters)", "top-n": "Top N cells", "harm-share": "Fewest cells holding x% of harm"}
COLOUR_LABELS = {"count": "Count", "harm": "Harm", "gi_bin": "Gi* confidence bin", "pattern": "Space-time pattern",
                 "patrols": "Patrols"}
MIN_PATTERN_PERIODS = 3  # with two financial years every 'trend' is one step: too few to call a pattern


@st.cache_data(show_spinner="Classifying space-time patterns over the financial years…", max_entries=16)
def cached_patterns(filters, measure: str, version: int) -> pd.DataFrame:
    """Emerging hot spot class per study cell over the financial years of the selected months."""
    from hotspot_engine.analyse.patterns import find_patterns

    return find_patterns(cursor(), filters, by="fy", measure=measure, harm_weights=settings().harm_weights)
MODE_LABELS = {"window": "Whole window", "months": "Month by month (playback)"}

if present:
    # Presentation mode hides the controls: the map keeps the settings made before it was switched on.
    params, window = map_params()
    colour_by = st.session_state.get("m_colour", "count")
    show_patrols = bool(st.session_state.get("m_patrols", False))
    show_lsoas = bool(st.session_state.get("m_lsoa", False))
    mode = st.session_state.get("m_mode", "window")
else:
    with st.container(border=True):
        st.session_state.setdefault("m_top", 19)
        st.session_state.setdefault("m_share", 0.5)
        method = st.session_state.get("m_method", "gistar")
        widths = [1.4, 0.8, 1, 1, 1.2, 1.2] if method != "gistar" else [1.4, 1, 1, 1.2, 1.2]
        cols = iter(st.columns(widths, vertical_alignment="bottom"))
        method = next(cols).selectbox(
            "Method", list(METHOD_LABELS), format_func=METHOD_LABELS.get, key="m_method",
            help="Gi*: Getis-Ord Gi* with ring-1 binary weights, Benjamini-Hochberg FDR. "
                 "Top N: the busiest cells. Harm share: the fewest cells holding the chosen share of harm.")
        top = st.session_state.get("m_top", 19)
        share = st.session_state.get("m_share", 0.5)
        if method == "top-n":
            top = next(cols).number_input("Top N cells", 1, 500, key="m_top")
        elif method == "harm-share":
            share = next(cols).slider("Harm share", 0.1, 0.9, step=0.05, key="m_share")
        measure = next(cols).selectbox("Measure", ["count", "harm"], key="m_measure",
                                       help="Harm weights each offence by days of custody (Cambridge Crime Harm Index style).")
        colour_by = next(cols).selectbox("Colour cells by", list(COLOUR_LABELS), key="m_colour", format_func=COLOUR_LABELS.get)
        window = next(cols).selectbox("Hotspot window", [12, 6, 3, 0], key="m_window",
                                      format_func=lambda m: f"Last {m} months of the range" if m else "Whole selected range",
                                      help="Hotspots are found on this window; the playback steps through the whole range.")
        mode = next(cols).selectbox("Cells show", list(MODE_LABELS), format_func=MODE_LABELS.get, key="m_mode",
                                    help="Month by month: a slider with a play button steps through the months of the range.")
    show_patrols = bool(st.session_state.get("m_patrols", False))
    show_lsoas = bool(st.session_state.get("m_lsoa", False))
    params = HotspotParams(method=method, measure=measure, top=int(top), harm_share=float(share))

window_filters = hotspot_window(filters, window)
try:
    result = cached_hotspots(window_filters, params, version)
    outlines = cached_area_outlines(window_filters, params, version)
except Exception as exc:
    show_error(exc)
    st.stop()

cells = result.cells
areas = result.areas
patterns = None
if colour_by == "pattern":
    months_in_range = months_between(filters.date_from, filters.date_to) if filters.date_from else []
    years = sorted(set(period_of(pd.Series(months_in_range, dtype=str), "fy"))) if months_in_range else []
    if len(years) < MIN_PATTERN_PERIODS:
        st.info(f"Space-time patterns need at least {MIN_PATTERN_PERIODS} financial years in the selected months "
                f"(there {'is' if len(years) == 1 else 'are'} {len(years)}): the cells are coloured by count instead.")
        colour_by = "count"
    else:
        try:
            patterns = cached_patterns(filters, params.measure, version)
        except Exception as exc:
            show_error(exc)
            colour_by = "count"
if filters.csps or filters.districts:
    # Fit the map to the selected places (their whole study area, not only the busy cells).
    lat, lon = cell_centres(str_to_cell(cells["h3"]))
    view = maps.view_for(lat, lon, width_px=1300 if present else 1050, height_px=MAP_HEIGHT)
else:
    view = dict(maps.FORCE_VIEW, zoom=8.75 if present else 8.55)
s = settings()
map_style = (maps.basemap_style(s.basemap_url, s.basemap_attribution) if s.basemap_url
             else maps.OFFLINE_STYLE_DARK if present else maps.OFFLINE_STYLE)
LEGEND_TITLES = {"gi_bin": "Gi* confidence (FDR-adjusted)", "count": "Incidents per cell", "harm": "Harm (days) per cell",
                 "patrols": "Patrols per cell", "pattern": "Space-time pattern"}


def pattern_legend_html(entries, periods: list[str], large: bool = False) -> str:
    """The classes on the map, each with its one-sentence meaning (small type beside the map)."""
    size, sentence_size = ("18px", "16px") if large else ("13px", "12px")
    rows = "".join(
        f'<div style="display:flex;align-items:flex-start;gap:8px;margin:4px 0" data-testid="pattern-legend-row">'
        f'<span style="flex:0 0 18px;height:14px;margin-top:2px;background:rgb{tuple(c)};border:1px solid #555"></span>'
        f'<span><b>{html.escape(label.capitalize())}</b><br/><span style="font-size:{sentence_size};opacity:0.85">'
        f"{html.escape(PATTERN_LEGEND[label])}</span></span></div>"
        for label, c in entries)
    if not entries:
        rows = "<div>No cell shows a hot or cold spot pattern.</div>"
    span = f"Financial years {periods[0]} to {periods[-1]}" if periods else ""
    return (f'<div style="font-size:{size};line-height:1.3"><b>Space-time pattern</b>'
            f'<div style="font-size:{sentence_size}">{html.escape(span)}; cells with no pattern are not drawn.</div>'
            f"{rows}</div>")


def draw_map(deck) -> None:
    st.pydeck_chart(deck, height=MAP_HEIGHT, width="stretch", key="hotspot_map")
    st.caption("Boundaries: " + ATTRIBUTION
               + (f" Basemap: {s.basemap_attribution}" if s.basemap_url else " Offline base: district outlines and town labels."))


def note_left_out(left_out: int) -> None:
    if left_out:
        st.caption(f"{left_out:,} cells with the smallest values are not drawn at this scale (the map sends at most "
                   f"{maps.MAX_DRAWN_CELLS:,} cells); choose a CSP or a coarser resolution to see every cell, or use the "
                   "table below.")


def draw_side(legend_title: str, entries, period: str) -> None:
    if present:
        head = None
        try:
            head = cached_headline(filters, version)
        except Exception as exc:
            show_error(exc)
        if head is not None:
            headline_metrics(head, columns=2)
    if legend_title == LEGEND_TITLES["pattern"] and patterns is not None:
        st.markdown(pattern_legend_html(entries, patterns.attrs.get("periods", []), large=present), unsafe_allow_html=True)
    else:
        st.markdown(legend_html(legend_title, entries, large=present), unsafe_allow_html=True)
    st.markdown(
        f"<div style='margin:10px 0;font-size:{'20px' if present else '14px'}'><b>{len(areas)}</b> hotspot areas · "
        f"<b>{int(cells['is_hotspot'].sum())}</b> cells · {period}</div>", unsafe_allow_html=True)
    if not present:
        st.toggle("LSOA outlines", key="m_lsoa", help="Lower-layer super output areas (2011), drawn faintly.")
        if mode == "window":
            st.toggle("Patrol dosage columns", key="m_patrols", help="Extruded columns: patrols per cell over the same window.")


def whole_window() -> None:
    drawn, tooltip = cells, maps.DEFAULT_TOOLTIP
    if colour_by == "pattern":
        # The patterns cover the whole selected range; the outlines and numbers stay the window's hotspots.
        drawn = patterns.merge(cells[["h3", "district"]], on="h3", how="left")
        tooltip = ("h3", "pattern", "district")
    deck, legend, left_out = maps.build_deck(
        drawn, colour_by=colour_by, tooltip_fields=tooltip, areas=areas, area_outlines=outlines, patrols=cells if show_patrols else None,
        view=view, map_style=map_style, presentation=present, lsoa_outlines=show_lsoas,
        viewport_px=(1300 if present else 1050, MAP_HEIGHT))
    note_left_out(left_out)
    map_col, side_col = st.columns([3, 1.15])
    with map_col:
        draw_map(deck)
    with side_col:
        draw_side(LEGEND_TITLES[colour_by], legend.entries, f"{window_filters.date_from} to {window_filters.date_to}")
        for note in result.notes if not present else []:
            if "unreliable" in note or "small" in note.lower():
                st.warning(note)
        if patterns is not None and not present:
            for note in patterns.attrs.get("notes", [])[-1:]:
                st.caption(note)


def _toggle_play() -> None:
    playing = not st.session_state.get("m_playing", False)
    st.session_state["m_playing"] = playing
    st.session_state["_m_tick"] = time.monotonic()
    if playing and st.session_state.get("m_month") == st.session_state.get("_m_last_month"):
        st.session_state["m_month"] = st.session_state.get("_m_first_month")  # replay from the start


def month_by_month() -> None:
    """The playback: one month's counts at a time on one colour scale, hotspot outlines kept. Only
    this fragment reruns on each tick, so the rest of the page is not rebuilt."""
    frames, legend, colours = cached_month_colours(filters, version, dark=present and not s.basemap_url)
    months = months_between(filters.date_from, filters.date_to) if filters.date_from else sorted(frames["month"].unique())
    if not months:
        st.info("No months to play.")
        return
    st.session_state["_m_first_month"], st.session_state["_m_last_month"] = months[0], months[-1]
    if st.session_state.get("m_month") not in months:
        st.session_state["m_month"] = months[0]
    playing = bool(st.session_state.get("m_playing"))

    @st.fragment(run_every=PLAY_SECONDS if playing else None)
    def playback() -> None:
        if bool(st.session_state.get("m_playing")) != playing:
            # Play or pause pressed: the timer is fixed when the fragment is defined, so the whole
            # page runs once to define it again with (or without) the timer.
            st.rerun(scope="app")
        now = time.monotonic()
        if playing and now - st.session_state.get("_m_tick", 0.0) >= PLAY_SECONDS * 0.8:
            # A timer tick (not the page run that started the playback): next month, or stop at the end.
            st.session_state["_m_tick"] = now
            current = months.index(st.session_state["m_month"])
            if current + 1 < len(months):
                st.session_state["m_month"] = months[current + 1]
            else:
                st.session_state["m_playing"] = False
                st.rerun(scope="app")
        c1, c2 = st.columns([1, 6], vertical_alignment="bottom")
        c1.button("Pause" if st.session_state.get("m_playing") else "Play", key="m_play", on_click=_toggle_play,
                  icon=":material/pause:" if st.session_state.get("m_playing") else ":material/play_arrow:",
                  type="primary", help="Step through the months of the selected range, one every "
                                       f"{PLAY_SECONDS:g} seconds.", width="stretch")
        month = c2.select_slider("Month", options=months, key="m_month", disabled=bool(st.session_state.get("m_playing")))
        month_cells = frames[frames["month"] == month]
        deck, _, left_out = maps.build_deck(
            month_cells, areas=areas, area_outlines=outlines, view=view, map_style=map_style, presentation=present,
            tooltip_fields=("h3", "count"), precoloured=(legend, colours), lsoa_outlines=bool(st.session_state.get("m_lsoa")))
        note_left_out(left_out)
        map_col, side_col = st.columns([3, 1.15])
        with map_col:
            draw_map(deck)
        with side_col:
            st.markdown(f"<div style='font-size:{'44px' if present else '30px'};font-weight:700' "
                        f"data-testid='playback-month'>{month}</div>", unsafe_allow_html=True)
            st.caption(f"{int(month_cells['count'].sum()):,} incidents in {len(month_cells):,} cells this month.")
            draw_side("Incidents per cell in the month", legend.entries, f"outlines: {window_filters.date_from} to "
                      f"{window_filters.date_to}")
        if not present:
            with st.expander(f"Cells in {month} (text alternative to the map)"):
                st.dataframe(month_cells[["h3", "count"]].sort_values("count", ascending=False), hide_index=True,
                             width="stretch")

    playback()


if mode == "months":
    month_by_month()
else:
    whole_window()

if present:
    st.stop()  # the wall screen shows the map and the headline only

st.subheader("Hotspots, ranked")
if areas.empty:
    st.info("No cell qualifies as a hotspot with these filters and this method.")
else:
    table = areas[[c for c in ("hotspot_name", "hotspot_id", "csp", "district", "n_cells", "count", "harm", "patrols",
                               "patrol_minutes") if c in areas.columns]].copy()
    table.insert(0, "no", range(1, len(table) + 1))
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"no": st.column_config.NumberColumn("No.", help="The number on the map"),
                                "hotspot_name": "Hotspot", "hotspot_id": "Id", "n_cells": "Cells",
                                "count": st.column_config.NumberColumn("Incidents", format="%d"),
                                "harm": st.column_config.NumberColumn("Harm (days)", format="%d"),
                                "patrol_minutes": st.column_config.NumberColumn("Patrol minutes", format="%d")})


def concentration_section() -> None:
    """Share of serious violence in the share of area over the study cells of the hotspot window
    (zeros included): the Lorenz curve, the Gini and the hotspots' place on the curve."""
    st.subheader("Concentration")
    counts = cells["count"].to_numpy(dtype=float)
    conc = concentration(counts)
    if conc.total <= 0:
        st.info("No serious violence in the hotspot window with these filters.")
        return
    hot = cells["is_hotspot"].astype(bool).to_numpy()
    hot_value, hot_area = float(counts[hot].sum()) / conc.total, float(hot.mean())
    top1 = conc.value_share_in_top(0.01)
    sentence = (f"{top1:.0%} of serious violence happened in 1% of the area; the hotspots hold {hot_value:.0%} of it "
                f"in {hot_area:.1%} of the area.")
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
    chart_col, text_col = st.columns([2, 1])
    with chart_col:
        draw_chart((line + diagonal + hotspot_point).properties(height=320),
                   {"curve": curve, "diagonal": pd.DataFrame({"area": [0.0, 1.0], "value": [0.0, 1.0]}),
                    "hotspots": pd.DataFrame({"area": [hot_area], "value": [hot_value], "label": ["Hotspots"]})},
                   width="stretch")
    with text_col:
        st.metric("Gini coefficient", f"{conc.gini:.3f}",
                  help="0 when every cell has the same count; near 1 when a few cells hold it all. "
                       "Read off the curve as 2 × (area under it) − 1.")
        st.markdown(sentence)
        st.caption(f"{conc.n_cells:,} study cells at H3 res {window_filters.res}, empty cells included; "
                   f"{window_filters.date_from} to {window_filters.date_to}. The dashed line is an even spread.")
    with st.expander("Concentration as a table (text alternative to the chart)"):
        shares = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
        rows = [{"Area": f"Busiest {a:.1%} of cells", "Cells": int(round(a * conc.n_cells)),
                 "Share of serious violence": conc.value_share_in_top(a)} for a in shares]
        rows.append({"Area": f"The hotspots ({hot_area:.1%} of cells)", "Cells": int(hot.sum()),
                     "Share of serious violence": hot_value})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"Share of serious violence": st.column_config.NumberColumn(format="percent")})


concentration_section()
with st.expander("Method and notes"):
    for note in result.notes:
        st.write("• " + note)
# Filled only when opened: the table is several thousand rows (~0.7 MB with the sample) that every
# run of this page would otherwise send to every browser, opened or not.
all_cells = st.expander("All scored cells (text alternative to the map)", key="m_all_cells", on_change="rerun")
if all_cells.open:
    shown = cells[(cells["count"] > 0) | cells["is_hotspot"]].sort_values("gi_z", ascending=False)
    # p-values far below 0.001 otherwise print as a long run of zeros.
    p_format = {c: st.column_config.NumberColumn(format="%.2e") for c in ("gi_p", "gi_p_fdr", "p_norm", "p_sim")
                if c in shown.columns}
    all_cells.dataframe(shown, hide_index=True, width="stretch", column_config=p_format)
