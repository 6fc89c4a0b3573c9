"""What the store holds, the upload of new files (data managers), the loads and the rejected rows."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.render.text_safety import markdown_plain
from hotspot_engine.service import Extent, area_summary
from hotspot_engine.write.export import neutralise_formulas
from ui import access
from ui.cached import ingest_street_upload, ingest_upload, loads, rejects, remove_sample, sample_status
from ui.common import readable
from ui.errors import show_error

REPLACE = "Replace the sample with my data"
KEEP = "Keep the sample alongside my data (figures then mix both)"


def draw_holdings(ext: Extent, across: int = 4) -> None:
    """The four holdings figures, ``across`` to a row (two on the wall screen, beside the set's table)."""
    c1, c2, c3, c4 = st.columns(4) if across == 4 else [*st.columns(2), *st.columns(2)]
    c1.metric("Incidents stored", f"{ext.incidents:,}")
    c2.metric("Patrols stored", f"{ext.patrols:,}")
    c3.metric("Months", f"{ext.first_month} to {ext.last_month}" if ext.first_month else "none")
    c4.metric("Sources", ", ".join(ext.sources) or "none")
    st.caption(markdown_plain(area_summary()))


def draw_upload(manager: bool) -> None:
    st.subheader("Load data")
    if not manager:
        st.info(access.UPLOADS_CLOSED)
        return
    for kind, line in st.session_state.pop("upload_result", []):
        getattr(st, kind)(line)
    uploads = st.file_uploader(
        "data.police.uk street CSVs (or their zip), force extracts (CSV, Parquet, XLSX), patrol logs, GPS pings, or "
        "partner files (A&E counts per LSOA, ambulance call-outs, licensed premises: found from their header, the "
        "file name becomes the layer name)",
        accept_multiple_files=True, type=["csv", "zip", "parquet", "xlsx"], key="uploads")
    fmt = st.selectbox("File format to load", ["detect from the header", "police-uk", "incidents", "patrols", "gps"], key="upload_fmt")
    status = sample_status()
    replace = False
    if status != "none":
        # Real and synthetic rows in one store mix into every figure: ask, and replace by default.
        replace = st.radio("The store holds the built-in synthetic sample (a demo). With your files:",
                           [REPLACE, KEEP], key="upload_sample", horizontal=True) == REPLACE
    if uploads and st.button("Load into the store", type="primary", key="upload_go"):
        added, result, failed = 0, [], False
        for upload in uploads:
            try:
                summaries = ingest_upload(upload.name, upload.getvalue(), None if fmt.startswith("detect") else fmt)
            except Exception as exc:  # one bad file does not stop the others
                show_error(exc, "Data & export: upload")
                failed = True
                continue
            for s in summaries:
                added += s.added
                # File names, headers and notes come from the upload: shown as text.
                result.append(("success" if s.rejected == 0 else "warning", markdown_plain(s.line())))
                result += [("caption", markdown_plain(note)) for note in s.notes]
        if replace and added:  # removed only once real rows are in: a failed load leaves the demo
            result.append(("success", _removed_line(*remove_sample())))
        st.cache_data.clear()
        if not failed:
            # Run the page again so the header, filters and banners describe the new store.
            st.session_state["upload_result"] = result
            st.rerun()
        for kind, line in result:
            getattr(st, kind)(line)
    draw_street_upload()


def _removed_line(incidents: int, patrols: int) -> str:
    return f"Removed the built-in synthetic sample: {incidents:,} incidents and {patrols:,} patrols."


def draw_sample_removal(manager: bool) -> None:
    """The one place the demo leaves the store, keeping every real row."""
    status = sample_status()
    if status == "none" or not manager:
        return
    st.subheader("The built-in sample")
    what = ("The store holds only the built-in synthetic sample, a demo with no real incidents."
            if status == "only" else
            "The store holds the built-in synthetic sample AND real data: every figure mixes both.")
    st.write(what + " Removing it deletes exactly the sample's incidents and patrol log; your own rows stay.")
    if st.button("Remove the sample", key="remove_sample", icon=":material/delete:"):
        st.session_state["upload_result"] = [("success", _removed_line(*remove_sample()))]
        st.cache_data.clear()
        st.rerun()



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
            for s in summaries:  # the file name comes from the upload: shown as text
                (st.success if s.rejected == 0 else st.warning)(markdown_plain(s.line()))
            st.cache_data.clear()


def draw_loads(manager: bool) -> None:
    st.subheader("Loads")
    st.dataframe(loads().rename(columns=readable), hide_index=True, width="stretch")
    refused = rejects()
    if len(refused):
        st.write(f"{len(refused):,} rejected rows, by reason:")
        st.dataframe(refused.groupby(["file", "reason"]).size().rename("rows").reset_index().rename(columns=readable),
                     hide_index=True)
        if manager:
            st.download_button("Download rejected rows (CSV)", neutralise_formulas(rejects(every_column=True))
                               .to_csv(index=False).encode(), file_name="rejected_rows.csv", mime="text/csv")


def draw_quality(report, compact: bool = False) -> None:
    """The data-quality guard: force-months missing or partial, and months far off a crime type's
    neighbouring months (service.quality.QualityReport). ``compact`` (the wall screen): one small line
    each, no boxes and no details, as presentation mode's notices are."""
    gaps, flagged = report.gap_lines(), report.flag_lines()
    if compact:
        lines = ["Coverage: " + line for line in gaps] + ["Far off its neighbouring months: " + line for line in flagged]
        st.caption(markdown_plain(" ".join(lines) or "Coverage and quality: every force-month between the first "
                                  "and the last is present and in line with its neighbours."))
        return
    st.subheader("Coverage and data quality")
    if not gaps and not flagged:
        st.success("Every force-month between the first and the last is present and in line with its neighbours.")
        return
    for line in gaps:
        st.warning(markdown_plain("Coverage: " + line), icon=":material/calendar_month:")
    for line in flagged:
        st.warning(markdown_plain("Far off its neighbouring months: " + line), icon=":material/rule:")
    with st.expander("Details (count, usual level = median of up to 6 months either side)"):
        if not report.flags.empty:
            st.dataframe(neutralise_formulas(report.flags.round(2)), hide_index=True)
        if not report.gaps.empty:
            st.dataframe(neutralise_formulas(report.gaps), hide_index=True)
