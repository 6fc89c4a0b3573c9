"""The map over the whole hotspot window: cells coloured by the chosen measure (or by space-time
pattern), hotspot outlines and numbers, optional patrol columns and LSOA outlines."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.reference.geography import ATTRIBUTION
from hotspot_engine.render import deck as maps
from hotspot_engine.render.text_safety import markdown_plain
from ui.cached import cached_streets, window_label
from ui.hotspot_map.adopt import set_numbers
from ui.hotspot_map.legend import LEGEND_TITLES, draw_side
from ui.hotspot_map.scene import MapScene
from ui.hotspot_map.selection import draw_selection, picked_cell
from ui.viewport import measure_screen


def draw_map(scene: MapScene, deck):
    """The map (a click on a cell reruns the page with the cell selected); returns its event."""
    event = st.pydeck_chart(deck, height=scene.height, width="stretch", key="hotspot_map", on_select="rerun",
                            selection_mode="single-object")
    if scene.present:
        measure_screen()  # the wall screen's size: the next run fits the map to it
    st.caption("Boundaries: " + ATTRIBUTION + maps.towns_attribution()
               + (f" Basemap: {scene.basemap_attribution}" if scene.basemap_attribution is not None
                  else " Offline base: district outlines and town labels."))
    return event


def note_left_out(left_out: int) -> None:
    if left_out:
        st.caption(f"{left_out:,} cells with the smallest values are not drawn at this scale (the map sends at most "
                   f"{maps.MAX_DRAWN_CELLS:,} cells); choose a CSP or a coarser resolution to see every cell, or use the "
                   "table below.")


def draw_whole_window(scene: MapScene) -> None:
    drawn, tooltip = scene.cells, maps.DEFAULT_TOOLTIP
    if scene.colour_by == "pattern" and scene.patterns is not None:
        # The patterns cover the whole selected range; the outlines and numbers stay the window's hotspots.
        drawn = scene.patterns.merge(scene.cells[["h3", "district"]], on="h3", how="left")
        tooltip = ("h3", "pattern", "district")
    deck, legend, left_out = maps.build_deck(
        drawn, colour_by=scene.colour_by, tooltip_fields=tooltip, areas=scene.label_areas, area_outlines=scene.outlines,
        patrols=scene.cells if scene.choices.show_patrols and scene.patrol_data else None, view=scene.view,
        map_style=scene.map_style, presentation=scene.present, lsoa_outlines=scene.choices.show_lsoas,
        viewport_px=scene.viewport_px, streets=cached_streets(scene.view, scene.viewport_px, scene.version),
        set_outlines=scene.set_outlines)
    note_left_out(left_out)
    map_col, side_col = st.columns([3, 1.15])
    with map_col:
        event = draw_map(scene, deck)
    with side_col:
        if scene.colour_by != "pattern" and not scene.present:
            draw_selection(scene.cells, scene.areas, picked_cell(event), scene.present, set_numbers(scene))
        draw_side(scene, LEGEND_TITLES[scene.colour_by], legend.entries,
                  window_label(scene.window.date_from, scene.window.date_to, scene.version, scene.window))
        for note in scene.notes if not scene.present else []:
            if note.startswith(("Only ", "No cell passes")):  # too few cells or areas for what was asked
                st.warning(markdown_plain(note))
        if scene.patterns is not None and not scene.present:
            notes = scene.patterns.attrs.get("notes", [])
            partial = [note for note in notes if "holds only" in note]  # an incomplete first or last period
            for note in partial:
                st.warning(markdown_plain(note))
            for note in [] if partial else notes[-1:]:
                st.caption(markdown_plain(note))
