"""A standalone interactive HTML map (folium / Leaflet) that works offline.

The map is meant to be emailed to partners and opened from the attachment with no network, so the
HTML must carry everything it needs: Leaflet's JavaScript and CSS are read from the pip package
``django-js-lib-leaflet`` and inlined as ``<script>``/``<style>`` blocks (its icons as ``data:``
URIs), every CDN asset folium would add (jQuery, Bootstrap, awesome-markers, ...) is removed, and no
tile layer is drawn unless an internet basemap is explicitly configured. The classes, colours and
legend are the dashboard's (:mod:`hotspot_engine.render.classes`), and the legend is plain HTML/CSS,
so branca's d3-based colour maps are not needed.

The same HTML shows the map inside the Streamlit app with no outside request:
``st.iframe(map_html(m), height=560)`` on the Data & export page (``streamlit.components.v1.html``, used
before, is removed from Streamlit after 2026-06-01; ``streamlit_folium.st_folium`` would load
Leaflet, jQuery and Bootstrap from CDNs, which fails offline).
"""
from __future__ import annotations

import base64
import html
import math
import re
from functools import lru_cache
from importlib import resources
from typing import cast

import numpy as np
import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.render.classes import GI_BIN_LABELS, Legend, classify_cells, hex_colour

DISTRICT_COLOUR = "#4d4d4d"
#: Near-black, as on the dashboard's light base: a navy outline read as a Gi* cold-spot blue at county scale.
HOTSPOT_OUTLINE = "#141414"
#: Above this many cells Leaflet draws on a canvas instead of one SVG path per cell (faster).
CANVAS_ABOVE = 4000
LABELS_FROM_ZOOM = 12  # hotspot names show from this zoom (about 3 km across a screen) inwards
LABEL_ZOOMS = range(7, 19)  # Leaflet zooms the labels are placed for: a county to a street
LABEL_PX = 12
COORD_DECIMALS = 6  # about 0.1 m: enough for 174 m hexagons, and it halves the file size

TOOLTIP_FIELDS: dict[str, str] = {
    "h3": "Cell",
    "district": "District",
    "count": "Incidents",
    "harm": "Harm (days)",
    # Plain words matching the page's exact test (issue 27: "Gi* z", "p (FDR)", "Significance bin 0").
    "gi_z": "Clustering score (Gi* z, for analysts)",
    "gi_p_fdr": "Chance of a false alarm (exact test, FDR-adjusted)",
    "gi_bin": "Exact test",
    "hotspot_name": "Hotspot",
    "patrols": "Patrols",
    "patrol_minutes": "Patrol minutes",
}
AREA_TOOLTIP_FIELDS: dict[str, str] = {
    "hotspot_name": "Hotspot",
    "hotspot_id": "Id",
    "n_cells": "Cells",
    "count": "Incidents",
    "harm": "Harm (days)",
    "patrols": "Patrols",
}
VALUE_LABELS = {"count": "Incidents", "harm": "Harm (days of imprisonment)", "gi_z": "Gi* z-score", "gi_bin": "Significance (exact test)", "patrols": "Patrols", "patrol_minutes": "Patrol minutes"}

ASSET_DIR = ("static", "js_lib_leaflet")


# ----------------------------------------------------------------------------------------------
# Offline assets


@lru_cache(maxsize=1)
def leaflet_assets() -> tuple[str, str]:
    """(leaflet.js, leaflet.css) from the installed ``django-js-lib-leaflet`` package, the CSS
    with its images inlined as data: URIs so nothing is fetched relative to the HTML file."""
    try:
        base = resources.files("js_lib_leaflet").joinpath(*ASSET_DIR)
        js = base.joinpath("leaflet.js").read_text(encoding="utf-8")
        css = base.joinpath("leaflet.css").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:  # a broken install, not user input
        raise RuntimeError("the offline map needs the pip package django-js-lib-leaflet") from exc

    def inline(match: re.Match) -> str:
        name = match.group(1)
        data = base.joinpath("images", name).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    # A source map would be fetched relative to the HTML file by an open developer console.
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    css = re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", inline, css)
    if "</script" in js.lower():
        raise RuntimeError("leaflet.js cannot be inlined: it contains a closing script tag")
    return js, css


_REMOTE_ASSET = re.compile(
    r"<(?:script|link|img|iframe|source|embed)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE
)
_REMOTE_CSS = re.compile(r"(?:@import|url\()\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE)


def remote_assets(page: str) -> list[str]:
    """Every place in ``page`` that would load something from the network when opened: script,
    link, img or iframe tags with an http(s) or protocol-relative source, and CSS @import/url().
    Links a reader may click (``<a href>``) are not loads and are not listed."""
    found = [m.group(0) for m in _REMOTE_ASSET.finditer(page)]
    found += [m.group(0) for m in _REMOTE_CSS.finditer(page)]
    return found


# ----------------------------------------------------------------------------------------------
# Building the map


def _geojson(frame, properties: list[str]) -> dict:
    """A FeatureCollection with rounded coordinates and only the listed properties."""
    import shapely

    geoms = shapely.transform(np.asarray(frame.geometry.values), lambda xy: np.round(xy, COORD_DECIMALS))
    features = []
    records = frame[properties].to_dict("records") if properties else [{}] * len(frame)
    for geom, props in zip(geoms, records):
        if geom is None or geom.is_empty:
            continue
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": props})
    return {"type": "FeatureCollection", "features": features}


def _fmt(value: float) -> str:
    if value is None or not np.isfinite(value):
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _tooltip_text(value, column: str, suppressed: bool) -> str:
    if suppressed and (value is None or (isinstance(value, float) and not np.isfinite(value))):
        return "suppressed (small number)"
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        if column == "gi_p_fdr":
            return f"{float(value):.3g}"
        if column == "gi_bin" and int(value) in GI_BIN_LABELS:
            return GI_BIN_LABELS[int(value)]
        if column == "gi_z":
            return f"{float(value):.2f}"
        return _fmt(float(value))
    return html.escape(str(value))


def _check_frame(frame, name: str) -> None:
    if frame is None:
        return
    if not hasattr(frame, "geometry"):
        raise InputError(f"{name}: expected a GeoDataFrame with polygons")


SLIVER_HOLE_KM2 = 0.5


def _polygons(geom) -> list:
    """Every Polygon inside a geometry, however nested (make_valid returns collections)."""
    import shapely

    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [p for part in shapely.get_parts(geom) for p in _polygons(part)]
    return []


def outline_districts(districts):
    """District polygons cleaned for drawing: made valid, with the sliver holes that dissolving
    generalised LSOA boundaries leaves inside a district removed (holes under SLIVER_HOLE_KM2;
    a real enclave is far larger). Drawing only: assignment uses the polygons as they are."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    projected = districts.geometry.to_crs(27700)
    cleaned = []
    for geom in projected:
        if geom is None or geom.is_empty:
            cleaned.append(geom)
            continue
        parts = _polygons(shapely.make_valid(geom))
        kept = [
            Polygon(p.exterior, [r for r in p.interiors if Polygon(r).area >= SLIVER_HOLE_KM2 * 1e6]) for p in parts
        ]
        cleaned.append(kept[0] if len(kept) == 1 else MultiPolygon(kept))
    out = districts.copy()
    out = out.set_geometry(type(districts.geometry)(cleaned, index=districts.index, crs=27700).to_crs(4326))
    return out


def _to_wgs84(frame):
    if frame is None:
        return None
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        return frame.to_crs(4326)
    return frame


def _legend_html(title: str, legend: Legend, suppressed: bool, has_areas: bool) -> str:
    """The map's title and its legend: the classes in the order every map lists them
    (:mod:`hotspot_engine.render.classes`), then the outlines. Lines of ``title`` after the first
    (the data source and its caveat, :class:`~hotspot_engine.render.context.OutputContext`) are a
    smaller subtitle."""
    head, _, rest = title.partition("\n")
    subtitle = f'<div class="hs-sub">{html.escape(rest)}</div>' if rest else ""
    rows = "".join(
        f'<div class="hs-row"><span class="hs-swatch" style="background:{hex_colour(c)}"></span>{html.escape(label)}</div>'
        for label, c in legend.entries
    )
    if suppressed:
        rows += '<div class="hs-row hs-note">small numbers suppressed: not shown</div>'
    if has_areas:
        rows += f'<div class="hs-row"><span class="hs-swatch hs-outline" style="border-color:{HOTSPOT_OUTLINE}"></span>hotspot area</div>'
    rows += f'<div class="hs-row"><span class="hs-swatch hs-outline hs-dashed" style="border-color:{DISTRICT_COLOUR}"></span>district boundary</div>'
    return (
        f'<div class="hs-panel hs-title">{html.escape(head)}{subtitle}</div>'
        f'<div class="hs-panel hs-legend"><div class="hs-legend-title">{html.escape(legend.title)}</div>{rows}</div>'
    )


PAGE_CSS = """
.hs-panel { position: absolute; z-index: 1000; background: rgba(255,255,255,0.92); padding: 6px 10px;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 13px/1.35 Arial, Helvetica, sans-serif; color: #222; }
.hs-sub { font-size: 11px; font-weight: normal; margin-top: 2px; white-space: pre-line; }
.hs-title { top: 10px; left: 50px; right: 50px; margin: 0 auto; max-width: 640px; text-align: center; font-size: 15px; font-weight: bold; }
.hs-legend { bottom: 40px; right: 10px; }
.hs-legend-title { font-weight: bold; margin-bottom: 4px; }
.hs-row { display: flex; align-items: center; margin: 2px 0; }
.hs-swatch { display: inline-block; width: 18px; height: 12px; margin-right: 6px; border: 1px solid #999; box-sizing: border-box; }
.hs-note { font-style: italic; color: #555; }
.hs-outline { background: transparent; border-width: 2px; border-style: solid; }
.hs-dashed { border-style: dashed; }
.leaflet-container { background: #f4f4f2; }
.leaflet-control-attribution { font-size: 10px; max-width: 60%; }
.hs-label, .hs-num { font: bold 12px/1 Arial, Helvetica, sans-serif; white-space: nowrap; width: 100%; height: 100%;
  display: flex; align-items: center; justify-content: center; box-sizing: border-box; }
.hs-label { color: #141414; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.hs-num { color: #fff; background: rgba(20,20,20,0.9); border-radius: 2px; }
"""


def suppressed_flags(frame) -> np.ndarray:
    """The partner-safe 'suppressed' flag per row (all False when the frame has no such column)."""
    if "suppressed" not in frame.columns:
        return np.zeros(len(frame), bool)
    return frame["suppressed"].fillna(False).astype(bool).to_numpy()


def _cell_properties(cells, value_column: str, show_zero_cells: bool) -> tuple[pd.DataFrame, list[str], Legend, bool]:
    """(drawn cells' tooltip texts, style and geometry; tooltip columns; legend; whether blanked
    cells were left out). Blanked partner-safe cells are not drawn at all: drawing them would show
    which cells had 1 to 4 incidents and which had none, the very difference the suppression hides."""
    classes = classify_cells(cells, value_column)
    row_flag = suppressed_flags(cells)
    draw = classes.drawn | (show_zero_cells & ~row_flag)
    drawn = cells.loc[draw]
    drawn_flag = row_flag[draw]
    fill = [hex_colour(classes.colours[k]) if k >= 0 else "#ffffff" for k in classes.k[draw]]
    tip_columns = [c for c in TOOLTIP_FIELDS if c in drawn.columns]
    if value_column not in tip_columns:
        tip_columns.append(value_column)
    props = pd.DataFrame(index=drawn.index)
    for column in tip_columns:
        # A blank figure on a flagged row was blanked by partner-safe mode: say so, not just blank.
        supp = drawn_flag if column != "h3" else np.zeros(len(drawn), bool)
        props[column] = [_tooltip_text(v, column, s) for v, s in zip(drawn[column].tolist(), supp)]
    props["style"] = [
        {"fillColor": f, "fillOpacity": 0.75, "color": "#555555", "weight": 0.4, "opacity": 0.6} for f in fill
    ]
    props["geometry"] = drawn.geometry
    return props, tip_columns, classes.legend, bool((row_flag & ~classes.drawn).any())


def _geoseries(values):
    import geopandas as gpd

    return gpd.GeoSeries(values, crs=4326)


def _map_bounds(drawn, areas, districts) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of what is drawn, else the areas, the districts, Hampshire."""
    frame = drawn if len(drawn) else (areas if areas is not None and len(areas) else districts)
    if frame is not None and len(frame):
        minx, miny, maxx, maxy = frame.total_bounds
        return float(minx), float(miny), float(maxx), float(maxy)
    return -1.95, 50.57, -0.73, 51.39


def _add_districts(m, districts) -> None:
    import folium

    if districts is None or not len(districts):
        return
    districts = outline_districts(districts)
    name_column = "district" if "district" in districts.columns else None
    data = _geojson(districts, [name_column] if name_column else [])
    for feature in data["features"]:
        feature["properties"]["style"] = {"color": DISTRICT_COLOUR, "weight": 1.5, "dashArray": "5 4", "fill": False}
    folium.GeoJson(data, name="Districts", interactive=False).add_to(m)


def _add_cells(m, props: pd.DataFrame, tip_columns: list[str], layer_name: str) -> None:
    import folium
    import geopandas as gpd
    from folium.features import GeoJsonTooltip

    cell_data = _geojson(gpd.GeoDataFrame(props, geometry="geometry", crs=4326), tip_columns + ["style"])
    folium.GeoJson(
        cell_data,
        name=layer_name,
        # folium's tooltip refuses a layer with no features (nothing to show for these filters).
        tooltip=GeoJsonTooltip(fields=tip_columns, aliases=[TOOLTIP_FIELDS.get(c, c) for c in tip_columns], sticky=True)
        if cell_data["features"] else None,
    ).add_to(m)


def _add_areas(m, areas) -> None:
    """Hotspot outlines with their figures as tooltips, and their numbers and names as labels."""
    import folium
    import geopandas as gpd
    from folium.features import GeoJsonTooltip

    area_columns = [c for c in AREA_TOOLTIP_FIELDS if c in areas.columns]
    area_props = pd.DataFrame(index=areas.index)
    area_supp = suppressed_flags(areas)
    for column in area_columns:
        area_props[column] = [_tooltip_text(v, column, s) for v, s in zip(areas[column].tolist(), area_supp)]
    area_props["style"] = [{"color": HOTSPOT_OUTLINE, "weight": 3, "fill": False}] * len(areas)
    area_props["geometry"] = areas.geometry
    area_data = _geojson(gpd.GeoDataFrame(area_props, geometry="geometry", crs=4326), area_columns + ["style"])
    group = folium.FeatureGroup(name="Hotspot areas")
    folium.GeoJson(
        area_data,
        tooltip=GeoJsonTooltip(fields=area_columns, aliases=[AREA_TOOLTIP_FIELDS[c] for c in area_columns], sticky=True) if area_columns and area_data["features"] else None,
    ).add_to(group)
    group.add_to(m)
    _add_area_labels(m, areas)


def _area_labels(areas) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(labels for the placer: each area's number, its name as the lesser label; the anchors to keep
    clear). The number is the area's rank, the one every other output shows."""
    points = areas.geometry.to_crs(27700).representative_point().to_crs(4326)
    ranks = (areas["hotspot_rank"].tolist() if "hotspot_rank" in areas.columns else range(1, len(areas) + 1))
    names = areas["hotspot_name"].tolist() if "hotspot_name" in areas.columns else [None] * len(areas)
    rows = []
    for k, (rank, name, point) in enumerate(zip(ranks, names, points)):
        if point is None or point.is_empty:
            continue
        number = str(int(rank)) if pd.notna(rank) else str(k + 1)
        rows.append({"text": number, "lat": point.y, "lon": point.x, "size_px": LABEL_PX, "kind": "number",
                     "priority": 1, "name": False})
        if name is not None and not (isinstance(name, float) and math.isnan(name)):
            rows.append({"text": str(name), "lat": point.y, "lon": point.x, "size_px": LABEL_PX, "kind": "town",
                         "priority": 2, "name": True})
    labels = pd.DataFrame(rows, columns=["text", "lat", "lon", "size_px", "kind", "priority", "name"])
    return labels, labels.loc[~labels["name"].astype(bool), ["lat", "lon"]]


def _add_area_labels(m, areas) -> None:
    """Numbers (and names from :data:`LABELS_FROM_ZOOM` in) placed by the placer every map uses, once
    for each Leaflet zoom, since the browser chooses the zoom the map opens at; only the current
    zoom's labels are on the map (issue 27: names piled up on the HTML map)."""
    import folium
    from folium.features import DivIcon

    from hotspot_engine.render.labels import box_size, place_by_zoom

    labels, anchors = _area_labels(areas)
    if labels.empty:
        return
    groups = {}
    for zoom, placed in place_by_zoom(labels, LABEL_ZOOMS, avoid=anchors).items():
        group = folium.FeatureGroup(name=f"labels {zoom}", control=False)
        for row in placed.itertuples(index=False):
            is_name = row.kind != "number"
            if is_name and zoom < LABELS_FROM_ZOOM:
                continue
            width, height = box_size(row.text, row.size_px)
            css = "hs-label" if is_name else "hs-num"
            folium.Marker([row.lat, row.lon], interactive=False, icon=DivIcon(
                html=f'<div class="{css}">{html.escape(row.text)}</div>', icon_size=(round(width), round(height)),
                icon_anchor=(round(width / 2), round(height / 2)))).add_to(group)
            if row.leader:
                folium.PolyLine([[row.lat, row.lon], [row.anchor_lat, row.anchor_lon]], color="#141414", weight=1.5,
                                interactive=False).add_to(group)
        groups[zoom] = group
        group.add_to(m)
    m.add_child(_ZoomLabels(groups))


def offline_map(
    cells,
    areas,
    districts,
    title: str,
    value_column: str = "count",
    basemap_url: str | None = None,
    basemap_attribution: str | None = None,
    show_zero_cells: bool = False,
):
    """A folium Map of ``cells`` (GeoDataFrame of H3 hexagons, e.g. from ``export.cells_layer``)
    coloured by ``value_column``, with ``areas`` (hotspot polygons, optional) outlined and named,
    and ``districts`` outlined. Tooltips give each cell's figures. The classes, colours and legend
    are the dashboard's (:func:`hotspot_engine.render.classes.classify_cells`: ``count``/``harm``
    in YlOrRd classes, ``patrols`` in the dosage ramp, ``gi_bin`` the engine's significance bins). Cells
    with nothing to show are left out unless ``show_zero_cells`` (then drawn white); blanked
    partner-safe cells are never drawn. No tiles unless ``basemap_url`` is given.

    Render with :func:`map_html`, which inlines Leaflet and refuses any remote asset."""
    import folium

    from hotspot_engine.reference.geography import ATTRIBUTION

    _check_frame(cells, "cells")
    _check_frame(areas, "areas")
    _check_frame(districts, "districts")
    cells, areas, districts = _to_wgs84(cells), _to_wgs84(areas), _to_wgs84(districts)
    props, tip_columns, legend, suppressed = _cell_properties(cells, value_column, show_zero_cells)
    minx, miny, maxx, maxy = _map_bounds(_geoseries(props["geometry"]), areas, districts)
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12, tiles=None,
                   prefer_canvas=len(props) > CANVAS_ABOVE, control_scale=True)
    if basemap_url:
        folium.TileLayer(basemap_url, attr=basemap_attribution or "Basemap", name="Basemap").add_to(m)
    _add_districts(m, districts)
    _add_cells(m, props, tip_columns, VALUE_LABELS.get(value_column, value_column))
    has_areas = areas is not None and len(areas) > 0
    if has_areas:
        _add_areas(m, areas)
    folium.LayerControl(collapsed=True).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    root = cast(folium.Figure, m.get_root())  # a Map's root is always its Figure
    root.header.add_child(folium.Element(f"<style>{PAGE_CSS}</style>"), name="hotspot_css")
    root.html.add_child(folium.Element(_legend_html(title, legend, suppressed, has_areas)), name="hotspot_legend")
    # Leaflet's own attribution control carries the OGL notice the boundaries require.
    m.add_child(_Attribution(html.escape(ATTRIBUTION)))
    _make_offline(m)
    return m


def _js_string(text: str) -> str:
    import json

    return json.dumps(text).replace("</", "<\\/")


def _Attribution(text: str):
    """A map child that adds ``text`` to the attribution control once the map exists."""
    from branca.element import MacroElement
    from folium.template import Template

    class Attribution(MacroElement):
        _template = Template(
            "{% macro script(this, kwargs) %}"
            "{{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text }});"
            "{% endmacro %}"
        )

        def __init__(self, value: str):
            super().__init__()
            self._name = "Attribution"
            self.text = _js_string(value)

    return Attribution(text)


def _ZoomLabels(groups: dict):
    """Keep on the map only the label group placed for the current zoom (the nearest one placed)."""
    from branca.element import MacroElement
    from folium.template import Template

    class ZoomLabels(MacroElement):
        _template = Template(
            "{% macro script(this, kwargs) %}"
            "(function(map, groups){var zooms = Object.keys(groups).map(Number);"
            "function f(){var z = Math.round(map.getZoom());"
            "var best = Math.min(Math.max(z, zooms[0]), zooms[zooms.length - 1]);"
            "zooms.forEach(function(k){ if (k === best) { map.addLayer(groups[k]); } else { map.removeLayer(groups[k]); } });}"
            "map.on('zoomend', f); f();})({{ this._parent.get_name() }}, {{ this.groups }});"
            "{% endmacro %}"
        )

        def __init__(self, value: dict):
            super().__init__()
            self._name = "ZoomLabels"
            # A JavaScript object of zoom -> layer group (the groups' variable names are fixed once made).
            self.groups = "{" + ", ".join(f"{zoom}: {group.get_name()}" for zoom, group in value.items()) + "}"

    return ZoomLabels(groups)


def _make_offline(m) -> None:
    """Inline Leaflet into the page header and strip every CDN asset folium would add."""
    import folium
    from folium.elements import JSCSSMixin

    js, css = leaflet_assets()

    def walk(element):
        yield element
        for child in list(element._children.values()):
            yield from walk(child)

    for element in walk(m):
        if isinstance(element, JSCSSMixin) or hasattr(element, "default_js"):
            # Instance attributes: folium's class-level lists are shared by every map.
            element.default_js = []
            element.default_css = []
    root = m.get_root()
    # Added before any other header child so Leaflet is defined when folium's scripts run.
    header = root.header
    children = list(header._children.items())
    header._children.clear()
    header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css_inline")
    header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet_js_inline")
    for name, child in children:
        header.add_child(child, name=name)


def map_html(m) -> str:
    """The map as one self-contained HTML page (Leaflet inlined, no remote asset), for a file
    attachment or ``st.iframe(map_html(m), height=...)``. Raises RuntimeError
    if anything in the page would be fetched from the network."""
    _make_offline(m)  # idempotent; covers layers added after offline_map returned
    page = m.get_root().render()
    remote = remote_assets(page)
    if remote:
        raise RuntimeError(f"the map would load {len(remote)} remote asset(s), e.g. {remote[0][:120]}")
    return page


__all__ = [
    "outline_districts",
    "leaflet_assets",
    "map_html",
    "offline_map",
    "remote_assets",
]
