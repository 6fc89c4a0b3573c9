"""What the store holds, the upload of new files (data managers), the loads and the rejected rows."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.service import Extent
from hotspot_engine.write.export import neutralise_formulas
from ui.cached import ingest_street_upload, ingest_upload, loads, rejects
from ui.errors import show_error


def draw_holdings(ext: Extent) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Incidents stored", f"{ext.incidents:,}")
    c2.metric("Patrols stored", f"{ext.patrols:,}")
    c3.metric("Months", f"{ext.first_month} to {ext.last_month}" if ext.first_month else "none")
    c4.metric("Sources", ", ".join(ext.sources) or "none")


def draw_upload(manager: bool) -> None:
    st.subheader("Load data")
    if not manager:
        st.info("Loading data needs a data-manager role (see settings.toml, [access]).")
        return
    uploads = st.file_uploader(
        "data.police.uk street CSVs (or their zip), force extracts (CSV, Parquet, XLSX), patrol logs or GPS pings",
        accept_multiple_files=True, type=["csv", "zip", "parquet", "xlsx"], key="uploads")
    fmt = st.selectbox("Format", ["detect from the header", "police-uk", "incidents", "patrols", "gps"], key="upload_fmt")
    if uploads and st.button("Load into the store", type="primary"):
        for upload in uploads:
            try:
                summaries = ingest_upload(upload.name, upload.getvalue(), None if fmt.startswith("detect") else fmt)
            except Exception as exc:  # one bad file does not stop the others
                show_error(exc, "Data & export: upload")
                continue
            for s in summaries:
                (st.success if s.rejected == 0 else st.warning)(s.line())
                for note in s.notes:
                    st.caption(note)
        st.cache_data.clear()
    draw_street_upload()


def draw_street_upload() -> None:
    """The optional street layer, loaded once: drawn with names on briefings and the Patrols map."""
    with st.expander("Street layer (optional: street lines and names on briefings and maps, offline)",
                     icon=":material/signpost:"):
        streets = st.file_uploader("OS Open Roads (GeoPackage) or an OpenStreetMap extract (GeoJSON)",
                                   type=["gpkg", "geojson", "json"], key="street_upload")
        column = st.text_input("Street-name column (blank: name1 for OS Open Roads, name for OpenStreetMap)",
                               key="street_name_column", max_chars=60)
        if streets and st.button("Load the street layer"):
            try:
                summaries = ingest_street_upload(streets.name, streets.getvalue(), column.strip() or None)
            except Exception as exc:
                show_error(exc, "Data & export: street layer")
                return
            for s in summaries:
                (st.success if s.rejected == 0 else st.warning)(s.line())
            st.cache_data.clear()


def draw_loads(manager: bool) -> None:
    st.subheader("Loads")
    st.dataframe(loads(), hide_index=True, width="stretch")
    refused = rejects()
    if len(refused):
        st.write(f"{len(refused):,} rejected rows, by reason:")
        st.dataframe(refused.groupby(["file", "reason"]).size().rename("rows").reset_index(), hide_index=True)
        if manager:
            st.download_button("Download rejected rows (CSV)", neutralise_formulas(rejects(every_column=True))
                               .to_csv(index=False).encode(), file_name="rejected_rows.csv", mime="text/csv")
