"""The map comparing two hotspot lists (issue 26): each hotspot cell coloured by whether its place
was kept, is new or was dropped, over the offline base (district outlines, no tiles). A few hundred
cells at most, so they travel inline."""
from __future__ import annotations

import pandas as pd

from hotspot_engine.render.deck import FORCE_VIEW, OFFLINE_STYLE, _compact_deck_class, district_outlines_geojson

#: Okabe-Ito: kept blue, new vermillion, dropped grey (colour-blind safe; the table says it in words).
STATUS_COLOURS = {"kept": (0, 114, 178), "new": (213, 94, 0), "dropped": (153, 153, 153)}


def change_cells(older: pd.DataFrame, newer: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """One row per cell drawn: the newer list's cells with their hotspot's status (kept or new), and
    the dropped hotspots' cells from the older list."""
    status = changes.set_index("hotspot_id")["status"]
    dropped = set(changes.loc[changes["status"] == "dropped", "hotspot_id"])
    now = newer.assign(status=newer["hotspot_id"].map(status))
    gone = older[older["hotspot_id"].isin(dropped)].assign(status="dropped")
    return pd.concat([now, gone], ignore_index=True)[["h3", "status", "hotspot_number", "hotspot_name"]]


def compare_deck(cells: pd.DataFrame, view: dict | None = None):
    """The deck: cells from :func:`change_cells` coloured by status, district outlines, a tooltip."""
    import pydeck as pdk

    records = [{"h": str(h), "s": str(s), "c": list(STATUS_COLOURS[s]) + [200],
                "n": f"{int(n)}. {name}" if pd.notna(n) else str(name)}
               for h, s, n, name in zip(cells["h3"], cells["status"], cells["hotspot_number"], cells["hotspot_name"])]
    layers = [
        pdk.Layer("GeoJsonLayer", district_outlines_geojson(), id="districts", stroked=True, filled=False,
                  get_line_color=[40, 40, 40, 160], line_width_min_pixels=1, pickable=False),
        pdk.Layer("H3HexagonLayer", records, id="set-changes", get_hexagon="h", get_fill_color="c",
                  get_line_color="c", line_width_min_pixels=2, stroked=True, extruded=False, pickable=True),
    ]
    return _compact_deck_class()(
        layers=layers, initial_view_state=pdk.ViewState(**(view or FORCE_VIEW)), map_style=OFFLINE_STYLE,
        map_provider=None, tooltip={"html": "<b>{n}</b><br/>{s}", "style": {"fontSize": "13px"}})
