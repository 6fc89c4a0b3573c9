"""pydeck map specifications that draw with no internet: H3 cells, district outlines, town labels and
hotspot outlines over a local MapLibre style. Pure: frames in, ``pydeck.Deck`` out (no Streamlit),
so a notebook can show the same map.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .geography import GEODATA_DIR

OFFLINE_STYLE = "/app/static/blank_style.json"
OFFLINE_STYLE_DARK = "/app/static/dark_style.json"

# Colour-blind-safe palettes (ColorBrewer YlOrRd for magnitude, RdBu for Gi* bins, viridis-like
# for patrol dosage), so hot reads as hot to every viewer and nothing depends on red/green contrast.
YLORRD = [(255, 255, 178), (254, 217, 118), (254, 178, 76), (253, 141, 60), (240, 59, 32), (189, 0, 38)]
GI_BIN_COLOURS = {
    -3: (33, 102, 172), -2: (103, 169, 207), -1: (209, 229, 240), 0: (240, 240, 240),
    1: (253, 219, 199), 2: (239, 138, 98), 3: (178, 24, 43),
}
VIRIDIS = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]


@dataclass(frozen=True)
class Legend:
    title: str
    entries: list[tuple[str, tuple[int, int, int]]]


def nice_breaks(values: np.ndarray, n: int) -> np.ndarray:
    """Upper bounds of up to ``n`` classes over the non-zero values: geometric steps rounded to
    whole numbers, so a skewed count (most cells 1, a few 90) still gets readable classes."""
    positive = values[values > 0]
    if positive.size == 0:
        return np.array([1.0])
    top = float(positive.max())
    low = float(positive.min())
    if top <= low:
        return np.array([top])
    raw = low * (top / low) ** (np.arange(1, n + 1) / n)
    # Two significant figures above 10 (12, 45, 230, 1,200), whole numbers below.
    magnitude = 10.0 ** (np.floor(np.log10(np.maximum(raw, 1e-9))) - 1)
    rounded = np.unique(np.where(raw < 10, np.ceil(raw), np.ceil(raw / magnitude) * magnitude))
    rounded[-1] = max(rounded[-1], top)
    return rounded


def classify_colours(values: np.ndarray, palette: list[tuple[int, int, int]]) -> tuple[np.ndarray, Legend, np.ndarray]:
    """Colour per value by class; returns colours (n x 3), a legend and the class index."""
    values = np.asarray(values, dtype=float)
    uppers = nice_breaks(values, len(palette))
    # Spread the classes over the palette so the top class is always the darkest colour.
    shades = np.round(np.linspace(0, len(palette) - 1, len(uppers))).astype(int)
    idx = np.clip(np.searchsorted(uppers, values, side="left"), 0, len(uppers) - 1)
    colours = np.array(palette)[shades[idx]] if values.size else np.zeros((0, 3), dtype=int)
    lower = float(values[values > 0].min()) if (values > 0).any() else 0.0
    entries = []
    for k, upper in enumerate(uppers):
        lo = lower if k == 0 else uppers[k - 1] + (1 if float(uppers[k - 1]).is_integer() else 0)
        label = f"{lo:,.0f}" if round(lo) >= round(upper) else f"{lo:,.0f} – {upper:,.0f}"
        entries.append((label, palette[shades[k]]))
    return colours, Legend("", entries), idx


@lru_cache(maxsize=4)
def district_outlines_geojson(simplify_m: float = 60.0) -> dict:
    """District outlines as GeoJSON (simplified further for the browser)."""
    from .geography import districts

    frame = districts().to_crs(27700)
    frame["geometry"] = frame.geometry.simplify(simplify_m)
    frame = frame.to_crs(4326)[["district", "csp", "geometry"]]
    return json.loads(frame.to_json())


@lru_cache(maxsize=1)
def towns() -> pd.DataFrame:
    return pd.read_csv(GEODATA_DIR / "towns.csv")


def view_for(lat: np.ndarray, lon: np.ndarray, width_px: int = 1100, height_px: int = 650) -> dict:
    """A view state that fits the given points (used to fit the map to the selected CSPs)."""
    if len(lat) == 0:
        return {"latitude": 50.98, "longitude": -1.25, "zoom": 8.6}
    lat_min, lat_max = float(np.min(lat)), float(np.max(lat))
    lon_min, lon_max = float(np.min(lon)), float(np.max(lon))
    span_lon = max(lon_max - lon_min, 0.02) * 1.15
    span_lat = max(lat_max - lat_min, 0.02) * 1.15
    zoom_lon = np.log2(360 * width_px / 512 / span_lon)
    zoom_lat = np.log2(180 * height_px / 512 / span_lat / np.cos(np.radians((lat_min + lat_max) / 2)))
    return {"latitude": (lat_min + lat_max) / 2, "longitude": (lon_min + lon_max) / 2,
            "zoom": float(min(zoom_lon, zoom_lat, 15))}


def cell_layer_frame(cells: pd.DataFrame, colour_by: str, palette: str = "magnitude") -> tuple[pd.DataFrame, Legend]:
    """Cells to draw (non-zero or selected only, to keep the page small) with an RGBA column."""
    frame = cells.copy()
    if colour_by == "gi_bin":
        frame = frame[(frame["gi_bin"] != 0) | (frame.get("count", 0) > 0)]
        rgb = np.array([GI_BIN_COLOURS[int(b)] for b in frame["gi_bin"]]) if len(frame) else np.zeros((0, 3))
        legend = Legend("Gi* (FDR-adjusted)", [
            ("Hot, 99%", GI_BIN_COLOURS[3]), ("Hot, 95%", GI_BIN_COLOURS[2]), ("Hot, 90%", GI_BIN_COLOURS[1]),
            ("Not significant", GI_BIN_COLOURS[0]), ("Cold, 90%", GI_BIN_COLOURS[-1]),
            ("Cold, 95%", GI_BIN_COLOURS[-2]), ("Cold, 99%", GI_BIN_COLOURS[-3])])
    else:
        frame = frame[frame[colour_by] > 0]
        pal = VIRIDIS if palette == "dosage" else YLORRD
        rgb, legend, _ = classify_colours(frame[colour_by].to_numpy(), pal)
        legend = Legend(colour_by.replace("_", " "), legend.entries)
    frame = frame.assign(r=rgb[:, 0] if len(frame) else [], g=rgb[:, 1] if len(frame) else [],
                         b=rgb[:, 2] if len(frame) else [])
    return frame, legend


def build_deck(
    cells: pd.DataFrame,
    colour_by: str = "count",
    areas: pd.DataFrame | None = None,
    area_outlines: dict | None = None,
    patrols: pd.DataFrame | None = None,
    view: dict | None = None,
    map_style: str | None = OFFLINE_STYLE,
    presentation: bool = False,
    opacity: float = 0.75,
    tooltip_fields: tuple[str, ...] = ("h3", "district", "count", "harm", "gi_z", "gi_bin", "hotspot_name", "patrols"),
):
    """The hotspot map: hex cells coloured by ``colour_by`` (count, harm, gi_bin, patrols...), district
    outlines, town labels, optional hotspot outlines with names and a patrol-dosage column layer."""
    import pydeck as pdk

    draw, legend = cell_layer_frame(cells, colour_by)
    keep = ["h3", "r", "g", "b", *[c for c in tooltip_fields if c in draw.columns and c != "h3"]]
    draw = draw[list(dict.fromkeys(keep))]
    for col in draw.columns:
        if draw[col].dtype.kind == "f":
            draw[col] = draw[col].round(2)
    line_colour = [255, 255, 255] if presentation and map_style == OFFLINE_STYLE_DARK else [40, 40, 40]
    layers = [
        pdk.Layer(
            "GeoJsonLayer", district_outlines_geojson(), id="districts", stroked=True, filled=False,
            get_line_color=line_colour + [160], line_width_min_pixels=1.5 if presentation else 1, pickable=False,
        ),
        pdk.Layer(
            "H3HexagonLayer", draw, id="cells", get_hexagon="h3", get_fill_color="[r, g, b]",
            opacity=opacity, extruded=False, pickable=True, stroked=False, auto_highlight=True,
        ),
    ]
    if patrols is not None and len(patrols):
        pdraw = patrols[patrols["patrols"] > 0][["h3", "patrols", "patrol_minutes"]].copy()
        top = max(float(pdraw["patrols"].max()), 1.0)
        layers.append(pdk.Layer(
            "H3HexagonLayer", pdraw, id="patrols", get_hexagon="h3", extruded=True, get_elevation="patrols",
            elevation_scale=600.0 / top * 3, get_fill_color=[59, 82, 139, 170], pickable=True, coverage=0.55,
        ))
    if area_outlines is not None:
        layers.append(pdk.Layer(
            "GeoJsonLayer", area_outlines, id="hotspot-areas", stroked=True, filled=False,
            get_line_color=[0, 0, 0, 230], line_width_min_pixels=3 if presentation else 2, pickable=False,
        ))
    if areas is not None and len(areas):
        # Numbers, not names, on the map: at force zoom nineteen names overlap; the ranked table
        # beside the map carries the names under the same numbers.
        labels = pd.DataFrame({"label": [str(k) for k in range(1, len(areas) + 1)], "name": areas["hotspot_name"].to_numpy(),
                               "lat": areas["lat"].to_numpy(), "lon": areas["lon"].to_numpy()})
        layers.append(pdk.Layer(
            "TextLayer", labels, id="hotspot-labels", get_position="[lon, lat]", get_text="label",
            get_size=24 if presentation else 15, get_color=[255, 255, 255, 255], get_pixel_offset=[0, -20],
            background=True, get_background_color=[20, 20, 20, 230], background_padding=[4, 2],
            font_weight=700, pickable=False,
        ))
    town = towns()
    layers.append(pdk.Layer(
        "TextLayer", town, id="towns", get_position="[lon, lat]", get_text="name",
        get_size=f"rank == 1 ? {22 if presentation else 16} : rank == 2 ? {17 if presentation else 13} : {14 if presentation else 11}",
        get_color=[255, 255, 255, 230] if map_style == OFFLINE_STYLE_DARK else [70, 70, 70, 220],
        font_weight=600, pickable=False,
    ))
    tooltip_html = "<br/>".join(f"<b>{f.replace('_', ' ')}</b>: {{{f}}}" for f in keep if f not in ("r", "g", "b"))
    deck = pdk.Deck(
        layers=layers,
        initial_view_state=pdk.ViewState(**(view or {"latitude": 50.98, "longitude": -1.25, "zoom": 8.6})),
        map_style=map_style,
        map_provider=None if map_style and map_style.startswith("/app/static") else "carto",
        tooltip={"html": tooltip_html, "style": {"fontSize": "16px" if presentation else "13px"}},
    )
    return deck, legend


def areas_outline_geojson(cells: pd.DataFrame) -> dict:
    """Outlines of hotspot areas: each area's cells dissolved into one polygon."""
    from .geography import cell_polygons, str_to_cell

    hot = cells[cells["is_hotspot"]]
    if hot.empty:
        return {"type": "FeatureCollection", "features": []}
    import geopandas as gpd

    polys = cell_polygons(str_to_cell(hot["h3"]))
    frame = gpd.GeoDataFrame({"hotspot_id": hot["hotspot_id"].to_numpy(), "hotspot_name": hot["hotspot_name"].to_numpy()},
                             geometry=polys.values, crs=4326)
    dissolved = frame.dissolve(by=["hotspot_id", "hotspot_name"], as_index=False)
    dissolved["geometry"] = dissolved.geometry.buffer(0)
    return json.loads(dissolved.to_json())
