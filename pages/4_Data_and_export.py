"""Data & export: what the store holds, upload of new files, rejects, and filtered exports."""
from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

import streamlit.components.v1 as components

from hotspot_engine.write import export

from hotspot_engine.store import query
from hotspot_engine.errors import InputError
from hotspot_engine.write.export import ExportMeta
from ui import access
from ui.common import (page_setup, cached_headline, cached_hotspots, cached_impact, cursor, data_version, describe,
                       extent, hotspot_window, impact_inputs, is_synthetic, map_params, settings, show_error)

filters = page_setup("Data & export")
version = data_version()
ext = extent(version)
con = cursor()

c1, c2, c3, c4 = st.columns(4)
c1.metric("Incidents stored", f"{ext.incidents:,}")
c2.metric("Patrols stored", f"{ext.patrols:,}")
c3.metric("Months", f"{ext.first_month} to {ext.last_month}" if ext.first_month else "none")
c4.metric("Sources", ", ".join(ext.sources) or "none")


def can_manage_data() -> bool:
    return access.can_manage_data(settings())


st.subheader("Load data")
if not can_manage_data():
    st.info("Loading data needs a data-manager role (see settings.toml, [access]).")
else:
    uploads = st.file_uploader(
        "data.police.uk street CSVs (or their zip), force extracts (CSV, Parquet, XLSX), patrol logs or GPS pings",
        accept_multiple_files=True, type=["csv", "zip", "parquet", "xlsx"], key="uploads")
    fmt = st.selectbox("Format", ["detect from the header", "police-uk", "incidents", "patrols", "gps"], key="upload_fmt")
    if uploads and st.button("Load into the store", type="primary"):
        from hotspot_engine.read.loading import ingest_upload

        for upload in uploads:
            try:
                summaries = ingest_upload(con, upload.name, upload.getvalue(),
                                          fmt=None if fmt.startswith("detect") else fmt,
                                          offence_map=settings().offence_map)
            except Exception as exc:
                show_error(exc)
                continue
            for s in summaries:
                (st.success if s.rejected == 0 else st.warning)(s.line())
                for note in s.notes:
                    st.caption(note)
        st.cache_data.clear()

st.subheader("Loads")
loads = con.execute("SELECT load_id, file, format, kind, loaded_at, rows_read, added, already_present, rejected "
                    "FROM loads ORDER BY load_id DESC").df()
st.dataframe(loads, hide_index=True, width="stretch")
rejects = con.execute('SELECT load_id, file, "row", "column", reason FROM rejects ORDER BY load_id, "row"').df()
if len(rejects):
    st.write(f"{len(rejects):,} rejected rows, by reason:")
    st.dataframe(rejects.groupby(["file", "reason"]).size().rename("rows").reset_index(), hide_index=True)
    if can_manage_data():
        st.download_button("Download rejected rows (CSV)", export.neutralise_formulas(
            con.execute('SELECT * FROM rejects ORDER BY load_id, "row"').df()).to_csv(index=False).encode(),
            file_name="rejected_rows.csv", mime="text/csv")

LAYER_LABELS = {"hotspot_cells": "Hotspot cells (H3, with every figure)", "hotspot_areas": "Hotspot areas (polygons)",
                "impact": "Impact table (per hotspot and pooled)", "incidents": "Incidents (one row each)",
                "patrols": "Patrols (one row each)"}
RECORD_LEVEL = ("incidents", "patrols")
FORMAT_LABELS = {"gpkg": "GeoPackage (all layers in one file)", "geojson": "GeoJSON", "csv": "CSV (WKT, lat/lon, H3)",
                 "parquet": "GeoParquet", "xlsx": "Excel (one sheet per layer)"}

st.subheader("Export the filtered layers")
params, window_months = map_params()
hot_filters = hotspot_window(filters, window_months)
st.caption(f"Exactly what the pages show: incidents and patrols for {describe(filters)}; hotspots as on the Hotspot map "
           f"({params.describe()}, {hot_filters.date_from} to {hot_filters.date_to}); the impact table as on the Impact page.")
manager = can_manage_data()
choices = [k for k in LAYER_LABELS if manager or k not in RECORD_LEVEL]
e1, e2 = st.columns([2, 1])
chosen = e1.multiselect("Layers", choices, default=["hotspot_cells", "hotspot_areas"], format_func=LAYER_LABELS.get,
                        key="x_layers")
fmt_out = e2.selectbox("Format", list(FORMAT_LABELS), key="x_fmt", format_func=FORMAT_LABELS.get)
e3, e4 = st.columns([1, 2])
safe = e3.toggle("Partner-safe", key="x_safe",
                 help="For sharing outside the police: drops incident and patrol rows, blanks counts below the threshold.")
threshold = e4.number_input("Suppress counts below", 1, 100, settings().partner_safe_threshold, key="x_threshold",
                            disabled=not safe, help="Default from settings.toml, [export] partner_safe_threshold.")
if not manager:
    st.caption("Incident- and patrol-level layers need a data-manager role (settings.toml, [access]).")
if safe and any(k in RECORD_LEVEL for k in chosen):
    st.info("Partner-safe mode leaves out the incident and patrol layers: they hold one row per event.")


def hotspot_result():
    return cached_hotspots(hot_filters, params, version)


def build_layers(names: list[str]) -> tuple[dict, dict, list[str]]:
    """(layers, method parameters, notes) for the chosen layer names, as filtered on screen."""
    layers: dict = {}
    meta_params: dict = {}
    notes: list[str] = []
    if "hotspot_cells" in names or "hotspot_areas" in names:
        result = hotspot_result()
        if "hotspot_cells" in names:
            layers["hotspot_cells"] = export.cells_layer(result.cells)
        if "hotspot_areas" in names:
            layers["hotspot_areas"] = export.areas_layer(result.areas, result.cells)
        meta_params |= {"method": params.method, "measure": params.measure, "k": params.k, "alpha": params.alpha,
                        "top": params.top, "harm_share": params.harm_share, "min_area_count": params.min_area_count,
                        "hotspot_window": f"{hot_filters.date_from} to {hot_filters.date_to}"}
        notes += list(result.notes)
    if "impact" in names:
        day, model, buffer_k, period = impact_inputs(ext, with_period=True)
        if day is None:
            raise InputError("impact table: no patrols are stored, so there is no intervention date")
        impact = cached_impact(filters.with_(date_from=None, date_to=None), day.isoformat(), model, buffer_k, version,
                               period)
        layers["impact"] = impact.table
        meta_params |= {"intervention": day.isoformat(), "model": model, "displacement_rings": buffer_k,
                        "period": period}
        notes.append(impact.description)
    if "incidents" in names and manager:
        layers["incidents"] = export.incidents_layer(query.incident_rows(con, filters, settings().harm_weights))
    if "patrols" in names and manager:
        layers["patrols"] = export.patrols_layer(query.patrol_rows(con, filters))
    return layers, meta_params, notes


if st.button("Prepare export", type="primary", disabled=not chosen, key="x_prepare"):
    try:
        with st.spinner("Writing the files…"):
            layers, meta_params, notes = build_layers(chosen)
            what = "_".join(chosen) if len(chosen) <= 2 else "layers"
            meta = ExportMeta.build(con, what=what, filters=filters, params=meta_params, notes=notes)
            name = export.export_filename(what, filters, fmt_out)
            with tempfile.TemporaryDirectory() as tmp:
                paths = export.write_layers(layers, Path(tmp) / name, meta, partner_safe=safe, threshold=int(threshold))
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
                    for p in paths:
                        zf.write(p, p.name)
        st.session_state["export_zip"] = (Path(name).stem + (".partner-safe" if safe else "") + ".zip", buffer.getvalue(),
                                          [p.name for p in paths])
    except Exception as exc:
        show_error(exc)
if "export_zip" in st.session_state:
    zip_name, payload, names = st.session_state["export_zip"]
    st.download_button(f"Download {zip_name} ({len(payload) / 1e6:.1f} MB)", payload, file_name=zip_name,
                       mime="application/zip", icon=":material/download:", key="x_download")
    st.caption("In the zip: " + ", ".join(names) + ". The .methods.txt / .methods.json files say how the data "
               "were made: sources and their dates, filters, method and parameters, software version, time of export.")

st.subheader("Maps for meetings and partners")
st.caption("The hotspot map as on screen: an interactive HTML file that opens offline from an email (no internet "
           "needed, no tiles unless a basemap is configured), a PNG image and a one-page PDF summary. "
           + ("Partner-safe: counts below the threshold are not drawn." if safe else "Switch on partner-safe above "
              "before sending outside the police."))
VALUE_COLUMNS = {"count": "Incidents", "harm": "Harm (days)", "gi_z": "Gi* z-score", "patrols": "Patrols"}
m1, m2 = st.columns([1, 2])
value_column = m1.selectbox("Colour cells by", list(VALUE_COLUMNS), format_func=VALUE_COLUMNS.get, key="x_value")


@st.cache_data(show_spinner="Drawing the maps…", max_entries=8)
def meeting_maps(filters, hot_filters, params, value_column: str, safe: bool, threshold: int, version: int):
    """(html, png, pdf, base file name) for the current view."""
    from hotspot_engine.render import html_map as foliummap
    from hotspot_engine.render import static_map as static_maps
    from hotspot_engine.reference.geography import districts, districts_for

    result = cached_hotspots(hot_filters, params, version)
    cells = export.cells_layer(result.cells)
    areas = export.areas_layer(result.areas, result.cells)
    if safe:
        safe_layers = export.partner_safe({"hotspot_cells": cells, "hotspot_areas": areas}, threshold)
        cells, areas = safe_layers["hotspot_cells"], safe_layers["hotspot_areas"]
    shapes = districts()
    if hot_filters.csps or hot_filters.districts:
        shapes = shapes[shapes["district"].isin(districts_for(hot_filters.districts, hot_filters.csps))]
    s = settings()
    title = f"Serious violence hotspots, {hot_filters.date_from} to {hot_filters.date_to}"
    synthetic = is_synthetic()
    m = foliummap.offline_map(cells, areas, shapes, title, value_column=value_column,
                              basemap_url=s.basemap_url if "{z}" in s.basemap_url else None,
                              basemap_attribution=s.basemap_attribution or None)
    html_page = foliummap.map_html(m)
    png = static_maps.map_png(cells, areas, shapes, title, value_column=value_column, synthetic=synthetic)
    head = cached_headline(filters, version)
    figures = {}
    if head is not None:
        figures = {f"Serious violence {head.fy_after}": f"{head.sv_after:,} ({head.sv_change_pct:+.1f}%)",
                   "Hotspots": str(head.hotspots), f"Patrols in hotspots {head.fy_after}": f"{head.patrols_after:,}",
                   "In the hotspots": f"{head.hotspot_change_pct:+.1f}%"}
    table_cols = [c for c in ("hotspot_name", "district", "count", "harm", "patrols") if c in areas.columns]
    table = pd.DataFrame(areas[table_cols]) if len(table_cols) else pd.DataFrame()
    pdf = static_maps.summary_pdf(title, figures, cells, areas, shapes, table, filters_line=describe(filters),
                                  synthetic=synthetic, value_column=value_column)
    base = export.export_filename("hotspot_map" + ("_partner_safe" if safe else ""), hot_filters, "csv")[:-4]
    return html_page, png, pdf, base


show_maps = m2.toggle("Make the maps", key="x_maps", help="Draws the HTML map here and offers the three files.")
if show_maps:
    try:
        html_page, png, pdf, base = meeting_maps(filters, hot_filters, params, value_column, safe, int(threshold), version)
    except Exception as exc:
        show_error(exc)
    else:
        d1, d2, d3 = st.columns(3)
        d1.download_button("Interactive map (HTML, works offline)", html_page.encode("utf-8"), file_name=base + ".html",
                           mime="text/html", icon=":material/map:", key="x_html")
        d2.download_button("Map image (PNG)", png, file_name=base + ".png", mime="image/png", icon=":material/image:",
                           key="x_png")
        d3.download_button("One-page summary (PDF)", pdf, file_name=base + ".pdf", mime="application/pdf",
                           icon=":material/picture_as_pdf:", key="x_pdf")
        components.html(html_page, height=560)
        st.caption("The same HTML file as the download, shown here; the hotspot table on the Hotspot map page is its "
                   "text alternative.")
