"""The partner-data map: LSOAs shaded by the funnel (higher / lower than police data suggests),
partner events and places as points, beside police hotspot outlines. Pure: frames in, a pydeck
Deck out; offline like the hotspot map (local MapLibre style, no map provider, everything inline
except nothing: LSOA shapes are the few shaded ones only, simplified).

Tooltips are HTML templates filled by deck.gl, so every text from data is HTML-escaped here first.
"""
from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd

from hotspot_engine.render.deck import OFFLINE_STYLE, _compact_deck_class, district_outlines_geojson, force_view

FLAG_COLOURS = {"higher": [189, 0, 38, 170], "lower": [33, 102, 172, 170], "": [150, 150, 150, 35]}
#: One colour per point layer, in the order the layers are given (Okabe-Ito, colour-blind safe).
POINT_COLOURS = ([230, 159, 0], [204, 121, 167], [0, 158, 115], [86, 180, 233], [213, 94, 0], [240, 228, 66])
SMALL = "fewer than {n}"


def _count_text(value: float, hide_below: int | None) -> str:
    """A restricted layer's count (``hide_below`` set) arrives banded: hidden as NaN, else rounded."""
    if hide_below and (not np.isfinite(value) or value < hide_below):
        return SMALL.format(n=hide_below)
    if not np.isfinite(value):
        return "not known"
    return f"about {int(value):,}" if hide_below else f"{int(value):,}"


def lsoa_shading_geojson(shapes, funnel: pd.DataFrame, source: str, hide_below: int | None,
                         simplify_m: float = 10.0, only_flagged: bool = False) -> dict:
    """GeoJSON of LSOAs with fill colours by flag and a text tooltip. ``shapes``: GeoDataFrame of
    lsoa_code, lsoa_name, geometry (WGS84); ``funnel``: the funnel table. ``hide_below`` hides
    partner counts under that number in the tooltip (a restricted layer)."""
    frame = shapes.merge(funnel, on="lsoa_code", how="inner", suffixes=("", "_f"))
    if only_flagged:
        frame = frame[frame["flag"] != ""]
    frame = frame.to_crs(27700)
    frame["geometry"] = frame.geometry.simplify(simplify_m, preserve_topology=True)
    frame = frame.to_crs(4326)
    label = [html.escape(f"{code} {name}") for code, name in zip(frame["lsoa_code"], frame["lsoa_name"])]
    detail = [
        html.escape(f"{source}: {_count_text(p, hide_below)}; police-recorded violence: {int(q):,}; "
                    f"expected {e:.1f}" + (f"; {f} than police data suggests" if f else ""))
        for p, q, e, f in zip(frame["partner_count"].astype(float), frame["police_count"], frame["expected"],
                              frame["flag"])
    ]
    out = frame[["geometry"]].assign(label=label, detail=detail,
                                     fill=[FLAG_COLOURS.get(f, FLAG_COLOURS[""]) for f in frame["flag"]])
    return json.loads(out.to_json(drop_id=True))


def point_records(points: pd.DataFrame) -> list[dict]:
    """lat, lon, label, detail per point, escaped for the tooltip, coordinates to about 1 m."""
    return [{"lat": round(float(a), 5), "lon": round(float(b), 5), "label": html.escape(str(c)),
             "detail": html.escape(str(d))}
            for a, b, c, d in zip(points["lat"], points["lon"], points["label"], points["detail"])]


def build_partner_deck(lsoa_geojson: dict | None, point_layers: dict[str, pd.DataFrame],
                       hotspot_outlines: dict | None = None, view: dict | None = None,
                       map_style: str | None = OFFLINE_STYLE):
    """The map: district outlines, shaded LSOAs (``lsoa_geojson`` from :func:`lsoa_shading_geojson`),
    one scatter layer per entry of ``point_layers`` (frames with lat, lon, label, detail) and
    hotspot outlines. Returns (deck, legend): legend is [(name, [r, g, b])] for the point layers."""
    import pydeck as pdk

    layers = [pdk.Layer("GeoJsonLayer", district_outlines_geojson(), id="districts", stroked=True, filled=False,
                        get_line_color=[40, 40, 40, 160], line_width_min_pixels=1, pickable=False)]
    if lsoa_geojson is not None:
        layers.append(pdk.Layer("GeoJsonLayer", lsoa_geojson, id="partner-lsoas", stroked=True, filled=True,
                                get_fill_color="properties.fill", get_line_color=[90, 90, 90, 90],
                                line_width_min_pixels=0.5, pickable=True, auto_highlight=True))
    legend = []
    for k, (name, points) in enumerate(point_layers.items()):
        colour = POINT_COLOURS[k % len(POINT_COLOURS)]
        legend.append((name, colour))
        layers.append(pdk.Layer("ScatterplotLayer", point_records(points), id=f"partner-points-{k}",
                                get_position="[lon, lat]", get_fill_color=colour + [210], get_line_color=[30, 30, 30],
                                stroked=True, line_width_min_pixels=0.5, radius_min_pixels=2.5, radius_max_pixels=7,
                                get_radius=25, pickable=True))
    if hotspot_outlines is not None:
        layers.append(pdk.Layer("GeoJsonLayer", hotspot_outlines, id="hotspot-areas", stroked=True, filled=False,
                                get_line_color=[0, 0, 0, 230], line_width_min_pixels=2, pickable=False))
    deck = _compact_deck_class()(
        layers=layers, initial_view_state=pdk.ViewState(**(view or force_view())), map_style=map_style,
        map_provider=None,  # deck.gl's default provider would fetch a style from the internet
        tooltip={"html": "<b>{label}</b><br/>{detail}", "style": {"fontSize": "13px"}},
    )
    return deck, legend
