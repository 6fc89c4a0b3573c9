"""pydeck map specifications that draw with no internet: H3 cells, district and LSOA outlines, town
labels and hotspot outlines over a local MapLibre style. Pure: frames in, ``pydeck.Deck`` out (no
Streamlit), so a notebook can show the same map.

Payload: everything inline in a Deck is sent to the browser again on every rerun, so only cells
with something to show are drawn, floats are rounded, and the LSOA outlines (about 0.5 MB) are not
inline: they are a static file (``static/lsoa_outlines.geojson``, served by Streamlit at
``/app/static/``) that the browser fetches once from the app's own server and caches.

Time playback: :func:`month_colours` classes every (cell, month) count on one scale over the whole
range, so a colour means the same count in every month of the playback; :func:`build_deck` takes
the month's slice as precoloured cells.
"""
from __future__ import annotations

import html
import json
from functools import lru_cache

import numpy as np
import pandas as pd

from hotspot_engine.render.classes import (  # noqa: F401  (palettes and classes stay importable from here)
    GI_BIN_COLOURS,
    GI_BIN_LABELS,
    GI_BIN_ORDER,
    NO_PATTERN,
    PATTERN_COLOURS,
    VIRIDIS,
    YLORRD,
    YLORRD_ON_LIGHT,
    Legend,
    classify_cells,
    classify_colours,
    magnitude_classes,
    magnitude_palette,
    nice_breaks,
    pattern_classes,
    value_classes,
)
from hotspot_engine.render.labels import Viewport, place_labels
from hotspot_engine.resources import STATIC_DIR

OFFLINE_STYLE = "/app/static/blank_style.json"
OFFLINE_STYLE_DARK = "/app/static/dark_style.json"
LSOA_OUTLINES_URL = "/app/static/lsoa_outlines.geojson"
FORCE_VIEW = {"latitude": 50.98, "longitude": -1.25, "zoom": 8.4}
COORD_PRECISION = 1e-5  # about 1 m: far below a res-11 hexagon, and it shrinks the JSON by a third

def _rounded_geojson(frame) -> dict:
    import shapely

    frame = frame.copy()
    frame["geometry"] = shapely.set_precision(frame.geometry.values, COORD_PRECISION)
    return json.loads(frame.to_json(drop_id=True))


def district_outlines_geojson(simplify_m: float = 60.0) -> dict:
    """District outlines of the store's area as GeoJSON (simplified further for the browser,
    coordinates to ~1 m)."""
    from hotspot_engine.reference.geography import area_dir

    return _district_outlines_geojson(simplify_m, area_dir())


@lru_cache(maxsize=8)
def _district_outlines_geojson(simplify_m: float, folder) -> dict:
    from hotspot_engine.reference.geography import districts

    frame = districts().to_crs(27700)
    frame["geometry"] = frame.geometry.simplify(simplify_m)
    return _rounded_geojson(frame.to_crs(4326)[["district", "csp", "geometry"]])


def lsoa_outlines_geojson(simplify_m: float = 15.0) -> dict:
    """LSOA outlines (code, name, district) as GeoJSON for the map's optional LSOA layer. Outside
    HIPS the area lists both vintages; the 2021 LSOAs (police.uk's codes since 2023) are drawn."""
    from hotspot_engine.reference.geography import lsoas

    frame = lsoas()
    if "vintage" in frame.columns:
        frame = frame[frame["vintage"] == "21"]
    frame = frame.to_crs(27700)
    frame["geometry"] = frame.geometry.simplify(simplify_m, preserve_topology=True)
    return _rounded_geojson(frame.to_crs(4326)[["lsoa_code", "lsoa_name", "district", "geometry"]])


def write_lsoa_outlines(path=None):
    """(Re)write ``static/lsoa_outlines.geojson`` from ``geodata/lsoa.geojson``; returns the path.
    Run after ``geodata/build_geodata.py``: ``python -c "from hotspot_engine.render.deck import
    write_lsoa_outlines; write_lsoa_outlines()"``."""
    from pathlib import Path

    path = Path(path) if path else STATIC_DIR / "lsoa_outlines.geojson"
    path.write_text(json.dumps(lsoa_outlines_geojson(), separators=(",", ":")), encoding="utf-8")
    return path


def towns() -> pd.DataFrame:
    """Town labels of the store's area (name, lat, lon, rank)."""
    from hotspot_engine.reference.geography import area_dir

    return _towns(area_dir())


@lru_cache(maxsize=8)
def _towns(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "towns.csv")


def towns_attribution() -> str:
    """Credit owed for the town labels: outside HIPS they are GeoNames places (CC BY 4.0, which asks
    for it); the HIPS towns are placed by hand."""
    from hotspot_engine.reference.geography import is_hips

    return "" if is_hips() else " Town names: GeoNames (geonames.org), CC BY 4.0."


def force_view() -> dict:
    """The view a map opens at: the HIPS view (Hampshire and the Isle of Wight) for HIPS, else one
    that fits the store's districts."""
    from hotspot_engine.reference.geography import area_dir, is_hips

    return dict(FORCE_VIEW) if is_hips() else _area_view(area_dir())


@lru_cache(maxsize=8)
def _area_view(folder) -> dict:
    from hotspot_engine.reference.geography import districts

    minx, miny, maxx, maxy = districts().total_bounds
    view = view_for(np.array([miny, maxy]), np.array([minx, maxx]))
    return dict(view, zoom=view["zoom"] - 0.3)  # the page's map is narrower than view_for's default


def fitted_force_view(width_px: int, height_px: int) -> dict:
    """The whole force area (its districts' bounds) fitted into a map of this size in pixels: the wall
    screen's view, whatever its size (issue 27)."""
    from hotspot_engine.reference.geography import districts

    minx, miny, maxx, maxy = districts().total_bounds
    return view_for(np.array([miny, maxy]), np.array([minx, maxx]), width_px, height_px)


def view_for(lat: np.ndarray, lon: np.ndarray, width_px: int = 1100, height_px: int = 650) -> dict:
    """A view state that fits the given points (used to fit the map to the selected CSPs); with no
    points, the store's area (HIPS: the view it has always had)."""
    if len(lat) == 0:
        from hotspot_engine.reference.geography import is_hips

        return {"latitude": 50.98, "longitude": -1.25, "zoom": 8.6} if is_hips() else force_view()
    lat_min, lat_max = float(np.min(lat)), float(np.max(lat))
    lon_min, lon_max = float(np.min(lon)), float(np.max(lon))
    span_lon = max(lon_max - lon_min, 0.02) * 1.15
    span_lat = max(lat_max - lat_min, 0.02) * 1.15
    zoom_lon = np.log2(360 * width_px / 512 / span_lon)
    # Web Mercator stretches latitude by 1/cos(lat): a degree of latitude takes more pixels.
    zoom_lat = np.log2(360 * height_px * np.cos(np.radians((lat_min + lat_max) / 2)) / 512 / span_lat)
    return {"latitude": (lat_min + lat_max) / 2, "longitude": (lon_min + lon_max) / 2,
            "zoom": float(min(zoom_lon, zoom_lat, 15))}


#: Tooltip fields: (short key sent to the browser, label shown). Every key is repeated in every
#: cell's record, so one-letter keys keep the map's JSON small (a third of it at 20,000 cells).
TOOLTIP_KEYS: dict[str, tuple[str, str]] = {
    "h3": ("h", "Cell"), "count": ("n", "Incidents"), "harm": ("w", "Harm (days)"), "gi_z": ("z", "Clustering score (Gi* z)"),
    "gi_bin": ("b", "Exact test"), "patrols": ("p", "Patrols"), "district": ("d", "District"),
    "hotspot_name": ("s", "Hotspot"), "month": ("m", "Month"), "pattern": ("t", "Space-time pattern"),
}
DEFAULT_TOOLTIP = ("hotspot_name", "count", "harm", "patrols", "district", "gi_z", "h3")
#: Above this many cells the map draws the busiest ones and says how many it left out: beyond it
#: the JSON passes 2 MB, and at that many cells most are below a pixel at force zoom anyway.
MAX_DRAWN_CELLS = 25_000


def cell_layer_frame(cells: pd.DataFrame, colour_by: str, palette: str = "magnitude",
                     dark: bool = False) -> tuple[pd.DataFrame, Legend, list[tuple[int, int, int]]]:
    """Cells to draw (non-zero or significant only, to keep the page small) with a class index
    column ``k``; returns (frame, legend, colour of each class index). The classes are those of
    every map (:mod:`hotspot_engine.render.classes`); ``palette='dosage'`` forces the patrol ramp."""
    if colour_by in ("gi_bin", "pattern"):
        classes = classify_cells(cells, colour_by, dark)
    else:
        classes = magnitude_classes(cells, colour_by, dark, VIRIDIS if palette == "dosage" else None)
    drawn = classes.drawn
    return cells[drawn].assign(k=classes.k[drawn].astype(np.int8)), classes.legend, classes.colours


def pattern_layer_frame(cells: pd.DataFrame) -> tuple[pd.DataFrame, Legend, list[tuple[int, int, int]]]:
    """Cells with a space-time ``pattern`` other than 'no pattern' (the rest are not drawn, which
    keeps the map's JSON small), class index ``k`` over the classes present only, in the order of
    :data:`PATTERN_COLOURS`; the legend lists those classes (labels are the pattern names)."""
    return cell_layer_frame(cells, "pattern")


def month_colours(cell_months: pd.DataFrame, value: str = "count", dark: bool = False) -> tuple[pd.DataFrame, Legend, list]:
    """Every (cell, month) row classed on one YlOrRd scale over all months, so a colour means the
    same count in every frame of the playback. Input columns: h3 (hex string or uint64), month,
    ``value``; returns (frame with h3 as hex strings and class index ``k``, zero rows dropped;
    legend; colour of each class)."""
    from hotspot_engine.reference.geography import cell_to_str

    frame = cell_months[cell_months[value] > 0]
    if len(frame) and frame["h3"].dtype.kind in "iu":
        frame = frame.assign(h3=cell_to_str(frame["h3"].to_numpy()))
    k, legend, colours = value_classes(frame[value].to_numpy(), magnitude_palette(dark))
    frame = frame[["h3", "month", value]].assign(k=np.asarray(k, dtype=np.int8))
    return frame.reset_index(drop=True), Legend(value, legend.entries), colours


def fill_expression(colours: list[tuple[int, int, int]]) -> str:
    """deck.gl accessor picking the colour of class ``k``: one small integer per cell travels
    instead of three colour channels."""
    if not colours:
        return "[0, 0, 0]"
    rgb = [f"[{int(r)}, {int(g)}, {int(b)}]" for r, g, b in colours]
    return " : ".join(f"k == {i} ? {c}" for i, c in enumerate(rgb[:-1])) + (" : " if len(rgb) > 1 else "") + rgb[-1]


def cell_records(draw: pd.DataFrame, tooltip_fields: tuple[str, ...], limit: int = MAX_DRAWN_CELLS,
                 rank_by: str | None = None) -> tuple[str, list[tuple[str, str]], int]:
    """(JSON records for the H3 layer, with short keys; (key, label) of the tooltip fields; cells
    left out). Above ``limit`` cells only the ``limit`` with the largest ``rank_by`` are kept.
    pandas writes the JSON (in C): building 20,000 Python dicts for pydeck costs ten times more."""
    left_out = 0
    if len(draw) > limit:
        left_out = len(draw) - limit
        draw = draw.nlargest(limit, rank_by) if rank_by in draw.columns else draw.head(limit)
    fields = [f for f in dict.fromkeys((*tooltip_fields, "h3")) if f in draw.columns and f in TOOLTIP_KEYS]
    out = {"k": draw["k"].to_numpy().astype(np.int8)}
    for f in fields:
        column = draw[f]
        if f == "hotspot_name":
            values = hotspot_labels(draw)
        elif f == "gi_z":
            values = column.astype(float).round(1).to_numpy()
        elif f == "gi_bin":
            values = np.array([GI_BIN_LABELS.get(int(v), "") if pd.notna(v) else None for v in column], dtype=object)
        elif column.dtype.kind == "f" and f in ("count", "harm", "patrols"):
            values = column.fillna(0).round(0).astype(np.int64).to_numpy()
        elif column.dtype.kind == "f":
            values = column.round(2).to_numpy()
        elif column.dtype.kind in "iub":
            values = column.to_numpy()
        else:
            # deck.gl puts tooltip values into HTML: text from data must stay text.
            values = np.array([None if v is None else html.escape(str(v))
                               for v in column.astype(object).where(column.notna(), None)], dtype=object)
        out[TOOLTIP_KEYS[f][0]] = values
    frame = pd.DataFrame(out)
    text = frame.to_json(orient="records", double_precision=2) if len(frame) else "[]"
    return text, [TOOLTIP_KEYS[f] for f in fields], left_out


def hotspot_labels(cells: pd.DataFrame) -> np.ndarray:
    """"#3 Commercial Road, Portsmouth" for a cell in hotspot 3 (the number on the map), "not in a
    hotspot" elsewhere; HTML-escaped, since deck.gl's tooltip is an HTML template."""
    names = cells["hotspot_name"].astype(object).where(cells["hotspot_name"].notna(), None)
    ranks = cells["hotspot_rank"] if "hotspot_rank" in cells.columns else pd.Series(np.nan, index=cells.index)
    out = []
    for name, rank in zip(names, ranks):
        if name is None:
            out.append("not in a hotspot")
        else:
            number = f"#{int(rank)} " if pd.notna(rank) else ""
            out.append(html.escape(f"{number}{name}"))
    return np.array(out, dtype=object)


_RAW = "__hotspot_raw_json_{}__"


@lru_cache(maxsize=1)
def _compact_deck_class():
    import pydeck as pdk
    from pydeck.bindings.json_tools import default_serialize

    class CompactDeck(pdk.Deck):
        """A Deck that (1) writes its JSON without whitespace (pydeck indents by two spaces, which
        doubles what a large map sends on every rerun) and (2) splices in layer data that is
        already JSON text (see :func:`cell_records`)."""

        raw_json: dict[str, str] = {}

        def to_json(self):
            raw = self.__dict__.pop("raw_json", {})
            try:
                text = json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))
            finally:
                self.__dict__["raw_json"] = raw
            for token, data in raw.items():
                text = text.replace(json.dumps(token), data, 1)
            return text

    return CompactDeck


#: A proportional sans-serif (deck.gl's default is a monospace font). Quoted, because pydeck turns
#: any unquoted string argument into a JavaScript expression.
LABEL_FONT = "'Helvetica Neue, Helvetica, Arial, Liberation Sans, DejaVu Sans, sans-serif'"


def map_labels(areas: pd.DataFrame | None, view: dict, viewport_px: tuple[int, int], presentation: bool) -> pd.DataFrame:
    """Hotspot numbers (1 = first area) and town names placed so that no two overlap in the view
    the map opens at (:func:`hotspot_engine.render.labels.place_labels`)."""
    number_px, town_px = (26, [26, 20, 16]) if presentation else (15, [17, 14, 12])
    if presentation:  # a 1280x720 wall screen: smaller type, or 19 numbers fill the map (issue 27)
        scale = min(1.0, max(0.75, viewport_px[1] / 780))
        number_px, town_px = round(number_px * scale), [round(t * scale) for t in town_px]
    town = towns()
    rank = town["rank"].clip(1, 3).astype(int).to_numpy()
    # Priorities: the cities (rank 1) orient the reader, then every hotspot number, then the towns.
    parts = [pd.DataFrame({"text": town["name"].to_numpy(), "lat": town["lat"].to_numpy(), "lon": town["lon"].to_numpy(),
                           "size_px": [town_px[r - 1] for r in rank], "kind": np.where(rank == 1, "city", "town"),
                           "priority": rank * 2 - 2})]
    avoid = None
    if areas is not None and len(areas):
        avoid = areas[["lat", "lon"]]
        # An adopted set's areas carry their own numbers (a set shown within some places keeps them).
        numbers = (areas["hotspot_number"].astype(int).tolist() if "hotspot_number" in areas.columns
                   else range(1, len(areas) + 1))
        parts.append(pd.DataFrame({"text": [str(k) for k in numbers], "lat": areas["lat"].to_numpy(),
                                   "lon": areas["lon"].to_numpy(), "size_px": number_px, "kind": "number", "priority": 1}))
    return place_labels(pd.concat(parts, ignore_index=True), Viewport.from_view(view, *viewport_px), avoid=avoid,
                        in_frame=True)


def label_layers(areas: pd.DataFrame | None, view: dict, viewport_px: tuple[int, int], presentation: bool, dark: bool) -> list:
    """Text layers for the placed labels, and leader lines from a moved number back to its hotspot.
    Numbers, not names, on the map: the ranked table beside it carries the names."""
    import pydeck as pdk

    placed = map_labels(areas, view, viewport_px, presentation)
    numbers = placed[placed["kind"] == "number"].round({"lat": 5, "lon": 5, "anchor_lat": 5, "anchor_lon": 5})
    towns_placed = placed[placed["kind"] != "number"].round({"lat": 5, "lon": 5})
    number_ink = [20, 20, 20, 255] if dark else [255, 255, 255, 255]
    number_box = [255, 255, 255, 235] if dark else [20, 20, 20, 230]
    layers = []
    leaders = numbers[numbers["leader"]]
    if len(leaders):
        # A leader in the number's box colour over a casing in its ink colour, ending in a dot on the
        # hotspot: a plain 1.5 px line in the box colour looked like one more district boundary (white
        # on the wall screen) and could not be told apart (audit 3 item 8).
        ends = leaders[["anchor_lat", "anchor_lon"]]
        for suffix, colour, width in (("-casing", number_ink, 4.5), ("", number_box, 2)):
            layers.append(pdk.Layer(
                "LineLayer", leaders[["lat", "lon", "anchor_lat", "anchor_lon"]], id=f"hotspot-leaders{suffix}",
                get_source_position="[lon, lat]", get_target_position="[anchor_lon, anchor_lat]",
                get_color=colour, get_width=width, width_units="'pixels'", pickable=False,
            ))
            layers.append(pdk.Layer(
                "ScatterplotLayer", ends, id=f"hotspot-leader-ends{suffix}", get_position="[anchor_lon, anchor_lat]",
                get_fill_color=colour, get_radius=width + 1, radius_units="'pixels'", pickable=False,
            ))
    if len(numbers):
        layers.append(pdk.Layer(
            "TextLayer", numbers[["text", "lat", "lon", "size_px"]], id="hotspot-labels", get_position="[lon, lat]",
            get_text="text", get_size="size_px", get_color=number_ink, background=True,
            get_background_color=number_box, background_padding=[4, 2], font_family=LABEL_FONT,
            font_weight=700, pickable=False,
        ))
    layers.append(pdk.Layer(
        "TextLayer", towns_placed[["text", "lat", "lon", "size_px"]], id="towns", get_position="[lon, lat]",
        get_text="text", get_size="size_px", get_color=[255, 255, 255, 235] if dark else [60, 60, 60, 230],
        font_family=LABEL_FONT, font_weight=600, pickable=False,
        # A halo in the base's colour: white names over pale cells could not be read in a CSP view.
        font_settings={"sdf": True}, outline_width=3 if dark else 2,
        outline_color=[17, 19, 23, 255] if dark else [255, 255, 255, 230],
    ))
    return layers


def _cells_to_draw(cells: pd.DataFrame, colour_by: str, precoloured: tuple[Legend, list] | None,
                   dark: bool) -> tuple[pd.DataFrame, Legend, list, str | None]:
    """(cells with their class ``k``, legend, class colours, column that ranks them when too many
    are to be drawn: |z| for Gi* bins and patterns, else the colouring figure or the count)."""
    if precoloured is not None:
        draw, (legend, colours) = cells, precoloured
    else:
        draw, legend, colours = cell_layer_frame(cells, colour_by, dark=dark,
                                                 palette="dosage" if colour_by == "patrols" else "magnitude")
    rank_by = (colour_by if colour_by in draw.columns and colour_by not in ("gi_bin", "pattern")
               else ("count" if "count" in draw else None))
    if colour_by == "gi_bin" and "gi_z" in draw.columns:
        draw = draw.assign(_abs_z=draw["gi_z"].abs())
        rank_by = "_abs_z"
    elif colour_by == "pattern" and "last_z" in draw.columns:
        draw = draw.assign(_abs_z=draw["last_z"].abs())
        rank_by = "_abs_z"
    return draw, legend, colours, rank_by


def _outline_and_cell_layers(colours: list, opacity: float, lsoa_outlines: bool, presentation: bool,
                             dark: bool) -> list:
    """The optional LSOA outlines, the district outlines and the cell layer (its data spliced in
    later as JSON text, see :func:`cell_records`)."""
    import pydeck as pdk

    line_colour = [255, 255, 255] if dark else [40, 40, 40]
    layers = []
    if lsoa_outlines:
        # HIPS: a URL, not inline data: the browser fetches the static file once from this app's
        # server. Another area's outlines go inline (the static file is Hampshire's).
        from hotspot_engine.reference.geography import is_hips

        layers.append(pdk.Layer(
            "GeoJsonLayer", LSOA_OUTLINES_URL if is_hips() else lsoa_outlines_geojson(), id="lsoas", stroked=True, filled=False,
            get_line_color=line_colour + [70], line_width_min_pixels=0.6, pickable=False,
        ))
    layers += [
        pdk.Layer(
            "GeoJsonLayer", district_outlines_geojson(), id="districts", stroked=True, filled=False,
            get_line_color=line_colour + [200 if presentation else 160], line_width_min_pixels=2 if presentation else 1,
            pickable=False,
        ),
        # Each cell is also stroked in its own colour at least one pixel wide: at force zoom a res-9
        # cell is about one pixel across and would otherwise all but vanish; close in, the stroke
        # (1 m) is invisible.
        pdk.Layer(
            "H3HexagonLayer", _RAW.format("cells"), id="cells", get_hexagon="h", get_fill_color=fill_expression(colours),
            get_line_color=fill_expression(colours), line_width_min_pixels=1.2, stroked=True,
            opacity=opacity, extruded=False, pickable=True, auto_highlight=True,
        ),
    ]
    return layers


def _patrol_layer(patrols: pd.DataFrame):
    """Patrol dosage as extruded columns (a few hundred cells, sent inline)."""
    import pydeck as pdk

    pdraw = patrols[patrols["patrols"] > 0]
    top = max(float(pdraw["patrols"].max()), 1.0)
    precords = [{"h": h, "p": int(p)} for h, p in zip(pdraw["h3"], pdraw["patrols"])]  # a few hundred
    return pdk.Layer(
        "H3HexagonLayer", precords, id="patrols", get_hexagon="h", extruded=True, get_elevation="p",
        elevation_scale=600.0 / top * 3, get_fill_color=[59, 82, 139, 170], pickable=True, coverage=0.55,
    )


#: The adopted set's outlines: Okabe-Ito blue, wide, under today's black outlines (a set hotspot
#: still hot today shows as a black line inside a blue band; one that moved, as blue alone).
SET_OUTLINE_COLOUR = (0, 114, 178)


def build_deck(
    cells: pd.DataFrame,
    colour_by: str = "count",
    areas: pd.DataFrame | None = None,
    area_outlines: dict | None = None,
    patrols: pd.DataFrame | None = None,
    view: dict | None = None,
    map_style: str | None = OFFLINE_STYLE,
    presentation: bool = False,
    opacity: float | None = None,
    tooltip_fields: tuple[str, ...] = DEFAULT_TOOLTIP,
    precoloured: tuple[Legend, list] | None = None,
    lsoa_outlines: bool = False,
    max_cells: int = MAX_DRAWN_CELLS,
    viewport_px: tuple[int, int] = (1050, 640),
    streets: pd.DataFrame | None = None,
    set_outlines: dict | None = None,
):
    """The hotspot map: hex cells coloured by ``colour_by`` (count, harm, gi_bin, patrols...), district
    outlines, town labels, optional LSOA outlines, hotspot outlines with numbers and a patrol-dosage
    column layer; ``streets`` (name, geometry WKB: the loaded street layer near the view) adds street
    lines and names (:func:`street_layers`). ``precoloured`` is (legend, class colours) for cells that already carry their class
    ``k`` (a playback month, :func:`month_colours`). Presentation mode draws for a wall screen: dark
    base, opaque cells, white outlines, large text. Labels are placed for ``view`` at ``viewport_px``
    (the map's width and height) so that none overlaps (:mod:`hotspot_engine.render.labels`).
    ``set_outlines`` (GeoJSON) draws an adopted set's hotspots in :data:`SET_OUTLINE_COLOUR`, under
    today's black outlines, so what moved since adoption shows.
    Returns (deck, legend, cells left out), see :data:`MAX_DRAWN_CELLS`."""
    import pydeck as pdk

    dark = map_style == OFFLINE_STYLE_DARK
    draw, legend, colours, rank_by = _cells_to_draw(cells, colour_by, precoloured, dark)
    records, fields, left_out = cell_records(draw, tooltip_fields, max_cells, rank_by)
    opacity = opacity if opacity is not None else (0.92 if presentation else 0.75)
    layers = _outline_and_cell_layers(colours, opacity, lsoa_outlines, presentation, dark)
    if patrols is not None and len(patrols):
        layers.append(_patrol_layer(patrols))
    if set_outlines is not None:
        layers.append(pdk.Layer(
            "GeoJsonLayer", set_outlines, id="set-areas", stroked=True, filled=False,
            get_line_color=list(SET_OUTLINE_COLOUR) + [255], line_width_min_pixels=6 if presentation else 5,
            pickable=False,
        ))
    if area_outlines is not None:
        layers.append(pdk.Layer(
            "GeoJsonLayer", area_outlines, id="hotspot-areas", stroked=True, filled=False,
            get_line_color=[255, 255, 255, 240] if dark else [0, 0, 0, 230],
            line_width_min_pixels=3 if presentation else 2, pickable=False,
        ))
    if streets is not None and len(streets):
        # Under the labels: street names give way to hotspot numbers and towns.
        layers += street_layers(streets, dark)
    view = view or force_view()
    layers += label_layers(areas, view, viewport_px, presentation, dark)
    tooltip_html = "<br/>".join(f"<b>{label}</b>: {{{key}}}" for key, label in fields)
    deck = _compact_deck_class()(
        layers=layers,
        initial_view_state=pdk.ViewState(**view),
        map_style=map_style,
        # No provider: deck.gl's default (CARTO) would fetch a style from the internet.
        map_provider=None,
        tooltip={"html": tooltip_html, "style": {"fontSize": "18px" if presentation else "13px"}},
    )
    deck.raw_json = {_RAW.format("cells"): records}
    return deck, legend, left_out


#: Street names are sized in metres, capped in pixels: about 14 px at street zoom, too small to
#: draw at force zoom, so they appear only at city and street zoom without a zoom callback.
STREET_NAME_METRES = 12


def street_layers(lines: pd.DataFrame, dark: bool = False) -> list:
    """The loaded street layer as deck.gl layers (no network: the lines travel inline): a PathLayer
    of street lines (metres wide, at least half a pixel) and a TextLayer of names at each named
    street's middle point."""
    import pydeck as pdk

    from hotspot_engine.store.streets import path_records

    paths = path_records(lines)
    named = paths[paths["name"].astype(str).str.strip() != ""]
    labels = named.assign(mid=[p[len(p) // 2] for p in named["path"]]).drop_duplicates("name")
    labels = pd.DataFrame({"name": labels["name"].to_numpy(), "lon": [m[0] for m in labels["mid"]],
                           "lat": [m[1] for m in labels["mid"]]})
    colour = [200, 200, 200, 200] if dark else [90, 90, 90, 200]
    return [
        pdk.Layer("PathLayer", paths, id="streets", get_path="path", get_color=colour, get_width=4,
                  width_units="'meters'", width_min_pixels=0.5, pickable=False),
        pdk.Layer("TextLayer", labels, id="street-names", get_position="[lon, lat]", get_text="name",
                  get_size=STREET_NAME_METRES, size_units="'meters'", size_max_pixels=14, size_min_pixels=0,
                  get_color=[255, 255, 255, 230] if dark else [40, 40, 40, 230], pickable=False),
    ]


def hotspot_street_deck(cells: pd.DataFrame, streets: pd.DataFrame | None, map_style: str | None = OFFLINE_STYLE):
    """One hotspot close up for the Patrols page: its cells shaded by incidents, its outline, and the
    loaded street layer's lines and names around it (``streets``: name, geometry WKB; None without
    a layer). ``cells``: h3 (uint64 or hex), incidents. Returns the deck, at street zoom."""
    from hotspot_engine.reference.geography import cell_centres

    h3_ids = cells["h3"].to_numpy()
    ints = np.array([int(c, 16) if isinstance(c, str) else int(c) for c in h3_ids], dtype=np.uint64)
    lat, lon = cell_centres(ints)
    draw = pd.DataFrame({"h3": [format(int(c), "x") for c in ints], "count": cells["incidents"].to_numpy(),
                         "hotspot_id": "focus", "hotspot_name": "focus", "lat": lat, "lon": lon})
    view = {"latitude": float(np.mean(lat)), "longitude": float(np.mean(lon)), "zoom": 14.6}
    outlines = areas_outline_geojson(draw.assign(is_hotspot=True))
    # Cells with no incident are not shaded; the outline shows the whole area.
    deck, _, _ = build_deck(draw, colour_by="count",
                            area_outlines=outlines, view=view, map_style=map_style, tooltip_fields=("h3",),
                            streets=streets, opacity=0.35)
    return deck


def basemap_style(basemap_url: str, attribution: str = "") -> str:
    """The map style for a configured internet basemap. A MapLibre style URL (``.../style.json``)
    is used as it is; an XYZ raster tile template (``https://.../{z}/{x}/{y}.png``, the form the
    HTML map export takes too) becomes a one-layer raster style inlined as a ``data:`` URL, so both
    forms of the one setting work in the dashboard."""
    import base64

    if "{z}" not in basemap_url:
        return basemap_url
    style = {"version": 8, "sources": {"basemap": {"type": "raster", "tiles": [basemap_url], "tileSize": 256,
                                                  "attribution": attribution}},
             "layers": [{"id": "basemap", "type": "raster", "source": "basemap"}]}
    return "data:application/json;base64," + base64.b64encode(json.dumps(style).encode()).decode()


def areas_outline_geojson(cells: pd.DataFrame) -> dict:
    """Outlines of hotspot areas: each area's cells merged into one (multi)polygon by h3's own
    cell-set outline (exact hexagon edges, a few ms, no polygon dissolve)."""
    import h3

    hot = cells[cells["is_hotspot"].astype(bool)]
    features = []
    for (area_id, name), group in hot.groupby(["hotspot_id", "hotspot_name"], sort=True):
        shape = h3.cells_to_h3shape([str(c) for c in group["h3"]])
        geometry = shape.__geo_interface__
        features.append({"type": "Feature", "properties": {"hotspot_id": str(area_id), "hotspot_name": str(name)},
                         "geometry": _round_coords(geometry)})
    return {"type": "FeatureCollection", "features": features}


def _round_coords(geometry: dict, digits: int = 5) -> dict:
    def walk(value):
        if isinstance(value, (list, tuple)):
            if value and isinstance(value[0], (int, float)):
                return [round(float(v), digits) for v in value]
            return [walk(v) for v in value]
        return value

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}
