"""The map comparing two hotspot lists (issue 26): each hotspot cell coloured by whether its place
was kept, is new or was dropped, over the offline base (district outlines, no tiles). A few hundred
cells at most, so they travel inline."""
from __future__ import annotations

import pandas as pd

from hotspot_engine.render.deck import (
    FORCE_VIEW,
    OFFLINE_STYLE,
    _compact_deck_class,
    district_outlines_geojson,
    label_layers,
)

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


def numbered_areas(cells: pd.DataFrame) -> pd.DataFrame:
    """The later list's hotspots (kept and new) as the map numbers them: number and centre (the mean of
    its cells' centres, as a set's hotspots are centred on the Hotspot map). Dropped hotspots carry
    the earlier list's numbers, which would repeat the later list's, so they stay unnumbered (the
    tooltip and the table name them)."""
    from hotspot_engine.reference.geography import cell_centres, str_to_cell

    shown = cells[(cells["status"] != "dropped") & cells["hotspot_number"].notna()]
    if shown.empty:
        return pd.DataFrame(columns=["hotspot_number", "lat", "lon"])
    lat, lon = cell_centres(str_to_cell(shown["h3"]))
    frame = pd.DataFrame({"hotspot_number": shown["hotspot_number"].astype(int).to_numpy(), "lat": lat, "lon": lon})
    return frame.groupby("hotspot_number", sort=True)[["lat", "lon"]].mean().reset_index()


def compare_deck(cells: pd.DataFrame, view: dict | None = None, viewport_px: tuple[int, int] = (1000, 560),
                 presentation: bool = False):
    """The deck: cells from :func:`change_cells` coloured by status, district outlines, the later
    list's hotspot numbers and town names placed for ``view`` at ``viewport_px`` (the label placer of
    every map, so no two overlap), a tooltip."""
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
    view = view or dict(FORCE_VIEW)
    layers += label_layers(numbered_areas(cells), view, viewport_px, presentation, dark=False)
    return _compact_deck_class()(
        layers=layers, initial_view_state=pdk.ViewState(**view), map_style=OFFLINE_STYLE,
        map_provider=None, tooltip={"html": "<b>{n}</b><br/>{s}", "style": {"fontSize": "13px"}})
