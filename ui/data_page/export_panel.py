"""The filtered export: layers as on screen (hotspots as on the Hotspot map, the impact table as on
the Impact page), in one format, optionally partner-safe, zipped with their method sidecars. The
layers are assembled by :func:`hotspot_engine.service.export_layers`, as for the `export` command."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from hotspot_engine import service
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters
from hotspot_engine.render.context import output_context
from hotspot_engine.render.text_safety import markdown_plain
from hotspot_engine.service import Extent
from hotspot_engine.write import export
from ui.cached import cached_hotspots, cached_impact, cached_set_result, cursor, settings
from ui.common import describe, hotspot_window, impact_inputs, impact_last_month, map_params
from ui.errors import page_errors
from ui.sets import current_set, set_ref

LAYER_LABELS = {"hotspot_cells": "Hotspot cells (H3, with every figure)", "hotspot_areas": "Hotspot areas (polygons)",
                "impact": "Impact table (per hotspot and pooled)", "incidents": "Incidents (one row each)",
                "patrols": "Patrols (one row each)"}
FORMAT_LABELS = {"gpkg": "GeoPackage (all layers in one file)", "geojson": "GeoJSON", "csv": "CSV (WKT, lat/lon, H3)",
                 "parquet": "GeoParquet", "xlsx": "Excel (one sheet per layer)"}


@dataclass(frozen=True)
class ExportChoice:
    layers: list
    fmt: str
    safe: bool
    threshold: int
    hot_only: bool = False


def export_choice(filters: Filters, manager: bool) -> ExportChoice:
    params, window_months = map_params()
    hot_filters = hotspot_window(filters, window_months)
    st.subheader("Export the filtered layers")
    adopted = current_set()
    hotspots_text = (f"hotspots: the adopted set {adopted.name} (chosen on {adopted.window()})" if adopted is not None else
                     f"hotspots as on the Hotspot map ({params.describe()}, {hot_filters.date_from} to {hot_filters.date_to})")
    st.caption(markdown_plain(f"Exactly what the pages show: incidents and patrols for {describe(filters)}; {hotspots_text}; "
                              "the impact table as on the Impact page."))
    choices = [k for k in LAYER_LABELS if manager or k not in service.RECORD_LEVEL]
    e1, e2 = st.columns([2, 1])
    chosen = e1.multiselect("Layers", choices, default=["hotspot_cells", "hotspot_areas"], format_func=LAYER_LABELS.get,
                            key="x_layers")
    fmt_out = e2.selectbox("Export format", list(FORMAT_LABELS), key="x_fmt", format_func=FORMAT_LABELS.get)
    e3, e4 = st.columns([1, 2])
    safe = e3.toggle("Partner-safe", key="x_safe",
                     help="For sharing outside the police: drops incident and patrol rows, blanks counts below the threshold.")
    threshold = e4.number_input("Suppress counts below", 1, 100, settings().partner_safe_threshold, key="x_threshold",
                                disabled=not safe, help="Default from settings.toml, [export] partner_safe_threshold.")
    hot_only = "hotspot_cells" in chosen and st.toggle(
        "Hotspot cells: only the hotspots", key="x_hot_only",
        help="Off: every scored cell of the study area (thousands of rows, for GIS work). On: only the cells of the "
             "hotspots.")
    if not manager:
        st.caption("Incident- and patrol-level layers need a data-manager role (settings.toml, [access]).")
    if safe and any(k in service.RECORD_LEVEL for k in chosen):
        st.info("Partner-safe mode leaves out the incident and patrol layers: they hold one row per event.")
    return ExportChoice(chosen, fmt_out, safe, int(threshold), bool(hot_only))


def build_layers(filters: Filters, names: list[str], ext: Extent, version: int, manager: bool,
                 hot_only: bool = False) -> service.ExportLayers:
    """The chosen layers, as filtered on screen (cached hotspot and impact results reused)."""
    params, window_months = map_params()
    hot_filters = hotspot_window(filters, window_months)
    hotspots = impact = None
    impact_params: dict = {}
    on = set_ref(current_set())
    if on is not None and ("hotspot_cells" in names or "hotspot_areas" in names):
        hotspots = cached_set_result(on, version)
        impact_params["hotspot_set"] = on.name
    elif "hotspot_cells" in names or "hotspot_areas" in names:
        hotspots = cached_hotspots(hot_filters, params, version)
    if "impact" in names:
        day, model, buffer_k, period = impact_inputs(ext, with_period=True)
        if day is None:
            raise InputError("impact table: no patrols are stored, so there is no intervention date")
        last = impact_last_month(ext, current_set())  # as the Impact page evaluates it
        impact = cached_impact(filters.with_(date_from=None, date_to=last), day.isoformat(), model, buffer_k, version,
                               period, on)
        impact_params |= {"intervention": day.isoformat(), "model": model, "displacement_rings": buffer_k,
                          "period": period, "last_month": last}
    return service.export_layers(cursor(), filters, names, hotspots=hotspots,
                                 hotspot_params=None if on is not None else (params, hot_filters),
                                 impact=impact, impact_params=impact_params, harm_weights=settings().harm_weights,
                                 record_level=manager, hot_only=hot_only)


def _set_name(names: list[str]) -> str | None:
    """The adopted set's name when the hotspot layers come from it (as in :func:`build_layers`)."""
    on = set_ref(current_set())
    return on.name if on is not None and ("hotspot_cells" in names or "hotspot_areas" in names) else None


def draw_export(filters: Filters, choice: ExportChoice, ext: Extent, version: int, manager: bool) -> None:
    if st.button("Prepare export", type="primary", disabled=not choice.layers, key="x_prepare"):
        with page_errors("Data & export: export"), st.spinner("Writing the files…"):
            bundle = build_layers(filters, choice.layers, ext, version, manager, choice.hot_only)
            what = "_".join(choice.layers) if len(choice.layers) <= 2 else "layers"
            meta = service.export_meta(cursor(), what=what, filters=filters, params=bundle.params, notes=bundle.notes,
                                       context=output_context(filters, ext.proxy_share, _set_name(choice.layers)))
            name = export.export_filename(what, filters, choice.fmt)
            st.session_state["export_zip"] = service.export_zip(bundle, meta, name, choice.safe, choice.threshold)
    if "export_zip" in st.session_state:
        zip_name, payload, names = st.session_state["export_zip"]
        st.download_button(f"Download {zip_name} ({len(payload) / 1e6:.1f} MB)", payload, file_name=zip_name,
                           mime="application/zip", icon=":material/download:", key="x_download")
        st.caption("In the zip: " + ", ".join(names) + ". The .methods.txt / .methods.json files say how the data "
                   "were made: sources and their dates, filters, method and parameters, software version, time of export.")
