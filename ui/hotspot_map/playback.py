"""Month-by-month playback: one month's counts at a time on one colour scale over the range, the
hotspot outlines kept. A fragment with a timer steps the months; only it reruns on each tick."""
from __future__ import annotations

import time

import streamlit as st

from hotspot_engine.filters import months_between
from hotspot_engine.render import deck as maps
from hotspot_engine.render.text_safety import html_plain, markdown_plain
from ui.cached import cached_force_gaps, cached_month_colours, cached_stored_months, window_label
from ui.hotspot_map.legend import draw_side
from ui.hotspot_map.scene import MapScene
from ui.hotspot_map.whole_window import draw_map, note_left_out

PLAY_SECONDS = 1.5  # one month per tick: long enough to read the month and the picture


def _toggle_play() -> None:
    playing = not st.session_state.get("m_playing", False)
    st.session_state["m_playing"] = playing
    st.session_state["_m_tick"] = time.monotonic()
    if playing and st.session_state.get("m_month") == st.session_state.get("_m_last_month"):
        st.session_state["m_month"] = st.session_state.get("_m_first_month")  # replay from the start


def _step(months: list[str], playing: bool) -> None:
    """On a timer tick (not the page run that started the playback): the next month, or stop at the end."""
    if bool(st.session_state.get("m_playing")) != playing:
        # Play or pause pressed: the timer is fixed when the fragment is defined, so the whole
        # page runs once to define it again with (or without) the timer.
        st.rerun(scope="app")
    now = time.monotonic()
    if playing and now - st.session_state.get("_m_tick", 0.0) >= PLAY_SECONDS * 0.8:
        st.session_state["_m_tick"] = now
        current = months.index(st.session_state["m_month"])
        if current + 1 < len(months):
            st.session_state["m_month"] = months[current + 1]
        else:
            st.session_state["m_playing"] = False
            st.rerun(scope="app")


def _draw_month(scene: MapScene, frames, legend, colours, months: list[str], lacking: dict[str, list[str]]) -> None:
    present = scene.present
    c1, c2 = st.columns([1, 6], vertical_alignment="bottom")
    c1.button("Pause" if st.session_state.get("m_playing") else "Play", key="m_play", on_click=_toggle_play,
              icon=":material/pause:" if st.session_state.get("m_playing") else ":material/play_arrow:",
              type="primary", help="Step through the months of the selected range, one every "
                                   f"{PLAY_SECONDS:g} seconds.", width="stretch")
    month = c2.select_slider("Month", options=months, key="m_month", disabled=bool(st.session_state.get("m_playing")))
    month_cells = frames[frames["month"] == month]
    deck, _, left_out = maps.build_deck(
        month_cells, areas=scene.label_areas, area_outlines=scene.outlines, set_outlines=scene.set_outlines, view=scene.view, map_style=scene.map_style,
        presentation=present, tooltip_fields=("h3", "count"), precoloured=(legend, colours),
        lsoa_outlines=bool(st.session_state.get("m_lsoa")), viewport_px=scene.viewport_px)
    note_left_out(left_out)
    map_col, side_col = st.columns([3, 1.15])
    with map_col:
        draw_map(scene, deck)
    with side_col:
        st.markdown(f"<div style='font-size:{'44px' if present else '30px'};font-weight:700' "
                    f"data-testid='playback-month'>{html_plain(month)}</div>", unsafe_allow_html=True)
        st.caption(f"{int(month_cells['count'].sum()):,} incidents in {len(month_cells):,} cells this month."
                   + "".join(f" {markdown_plain(force)} holds no data for this month: its places are blank, not quiet."
                             for force, missing in sorted(lacking.items()) if month in missing))
        draw_side(scene, "Incidents per cell in the month", legend.entries,
                  f"outlines: {window_label(scene.window.date_from, scene.window.date_to, scene.version, scene.window)}")
    if not present:
        with st.expander(f"Cells in {month} (text alternative to the map)"):
            st.dataframe(month_cells[["h3", "count"]].sort_values("count", ascending=False), hide_index=True,
                         width="stretch")


def draw_playback(scene: MapScene, dark: bool) -> None:
    """The slider, the play button and the month's map; ``dark`` for the presentation's dark base."""
    filters = scene.filters
    frames, legend, colours = cached_month_colours(filters, scene.version, dark=dark)
    wanted = (months_between(filters.date_from, filters.date_to) if filters.date_from and filters.date_to
              else sorted(frames["month"].unique()))
    held = cached_stored_months(scene.version)
    months = [m for m in wanted if m in held]  # an unstored month is no data, not "0 incidents"
    if not months:
        st.info("No months to play: the store holds none of the selected months.")
        return
    if len(months) < len(wanted):
        st.caption(f"{len(wanted) - len(months)} of the {len(wanted)} selected months are not in the store "
                   f"and are skipped (no data, not zero incidents).")
    st.session_state["_m_first_month"], st.session_state["_m_last_month"] = months[0], months[-1]
    if st.session_state.get("m_month") not in months:
        st.session_state["m_month"] = months[0]
    playing = bool(st.session_state.get("m_playing"))

    @st.fragment(run_every=PLAY_SECONDS if playing else None)
    def playback() -> None:
        _step(months, playing)
        _draw_month(scene, frames, legend, colours, months, cached_force_gaps(scene.filters, scene.version))

    playback()
