"""Hotspot map: H3 cells over the offline base, hotspot outlines and numbers, a ranked hotspot table,
and a month-by-month playback of the counts over the selected range."""
from __future__ import annotations

import streamlit as st

from ui.cached import data_version, settings
from ui.common import page_setup, presentation
from ui.hotspot_map.adopt import draw_adopt, set_numbers
from ui.hotspot_map.controls import map_controls
from ui.hotspot_map.holdout import draw_holdout
from ui.hotspot_map.lorenz import draw_concentration
from ui.hotspot_map.playback import draw_playback
from ui.hotspot_map.scene import build_scene
from ui.hotspot_map.tables import draw_all_cells, draw_notes, draw_ranked
from ui.hotspot_map.whole_window import draw_whole_window

filters = page_setup("Hotspot map")
version = data_version()
present = presentation()

choices = map_controls(present)
scene = build_scene(filters, choices, version, present, settings())
if choices.mode == "months":
    draw_playback(scene, dark=present and not settings().basemap_url)
else:
    draw_whole_window(scene)

if present:
    st.stop()  # the wall screen shows the map and the headline only

draw_adopt(scene)
draw_ranked(scene.areas, scene.next_ranked, set_numbers(scene),
            scene.cells if choices.params.method == "predict" else None)
draw_holdout(scene.window, choices.params, version)
draw_concentration(scene.cells, scene.window, scene.exposure)
draw_notes(scene.notes)
draw_all_cells(scene.cells)
