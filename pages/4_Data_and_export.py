"""Data & export: what the store holds, upload of new files, rejects, and filtered exports."""
from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from hotspot_engine import export, query
from hotspot_engine.export import ExportMeta
from hotspot_engine.hotspots import HotspotParams
from ui import access
from ui.common import (page_setup, cached_hotspots, cursor, data_version, extent, look_back,
                          settings, show_error)

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
        from hotspot_engine.loading import ingest_upload

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

st.subheader("Export the filtered layers")
st.caption("Exactly what the filters select: " + filters.describe())
e1, e2, e3 = st.columns(3)
layer = e1.selectbox("Layer", ["hotspot cells and areas", "incidents", "patrols"], key="x_layer")
fmt_out = e2.selectbox("Format", ["gpkg", "geojson", "csv", "parquet"], key="x_fmt",
                       format_func={"gpkg": "GeoPackage", "geojson": "GeoJSON", "csv": "CSV (WKT, lat/lon, H3)",
                                    "parquet": "GeoParquet"}.get)
safe = e3.toggle("Partner-safe", key="x_safe", help="Drops incident and patrol rows; suppresses counts below 5.")
if layer == "incidents" and not can_manage_data():
    st.info("Incident-level export needs a data-manager role.")
elif st.button("Prepare export"):
    try:
        if layer == "incidents":
            layers = {"incidents": export.incidents_layer(query.incident_rows(con, filters, settings().harm_weights))}
            meta_filters = filters
            params = {}
        elif layer == "patrols":
            layers = {"patrols": export.patrols_layer(query.patrol_rows(con, filters))}
            meta_filters, params = filters, {}
        else:
            meta_filters = look_back(filters, 12)
            result = cached_hotspots(meta_filters, HotspotParams(), version)
            layers = {"hotspot_cells": export.cells_layer(result.cells),
                      "hotspot_areas": export.areas_layer(result.areas, result.cells)}
            params = {"method": "gistar", "measure": "count", "k": 1, "alpha": 0.05}
        meta = ExportMeta.build(con, what=layer.replace(" ", "_"), filters=meta_filters, params=params)
        name = export.export_filename(layer.split()[0] if layer != "hotspot cells and areas" else "hotspots",
                                      meta_filters, fmt_out)
        with tempfile.TemporaryDirectory() as tmp:
            paths = export.write_layers(layers, Path(tmp) / name, meta, partner_safe=safe)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
                for p in paths:
                    zf.write(p, p.name)
        st.session_state["export_zip"] = (Path(name).stem + ".zip", buffer.getvalue())
    except Exception as exc:
        show_error(exc)
if "export_zip" in st.session_state:
    zip_name, payload = st.session_state["export_zip"]
    st.download_button(f"Download {zip_name} ({len(payload) / 1e6:.1f} MB, with methods sidecar)", payload,
                       file_name=zip_name, mime="application/zip", type="primary")
