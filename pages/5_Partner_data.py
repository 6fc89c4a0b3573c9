"""Partner data: A&E assaults, ambulance call-outs and licensed premises beside police hotspots."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.render.text_safety import markdown_plain
from ui.cached import cached_area_outlines, data_version
from ui.common import hotspot_window, map_params, page_setup, presentation
from ui.errors import page_errors
from ui.partners import data, draw

filters = page_setup("Partner data")
version = data_version()
layers = data.layers(version)
if layers.empty:
    st.info("No partner data is loaded. To add A&E counts per LSOA, ambulance call-outs or licensed premises in "
            "the browser, open the **Data & export** page and upload the file under \"Load data\" (a data-manager "
            "role is needed; the file name becomes the layer name); or, on the command line, `python -m hotspot_engine ingest FILE --format "
            "partner-areas|partner-events|partner-places` (see the README).")
    st.page_link("pages/4_Data_and_export.py", label="Data & export: upload a partner file", icon=":material/upload:")
    st.stop()

present = presentation()
if not present:  # the wall screen goes straight to the figures and the map (issue 27)
    st.caption("Police records miss much violence: emergency departments see assaults never reported (the Cardiff "
               "Model). Each layer keeps its owner and sharing level; restricted layers never show small counts.")
    draw.layer_table(data.screen_layers(version))

countable = layers[layers["kind"] != "places"]["source"].tolist()
# The comparison counts police-recorded violence, not only serious violence, unless offences are chosen.
compare_filters = filters if filters.offences else filters.with_(sv_only=False)
# The wall screen draws no controls: the map takes the width, with the desk's last choices (issue 27).
controls, chart = (st.container(), st.container()) if present else st.columns([1, 3])
with controls:
    # Places (licensed premises) have no counts per LSOA to set against police data: no funnel then.
    source = draw.compared_source(countable, present)
    if source is None:
        st.caption("No funnel: the loaded layers are places (such as licensed premises), which have no counts to set "
                   "against police data. Load A&E counts per LSOA or ambulance call-outs for one.")
    shade, point_layers = draw.layer_switches(layers, present)
funnel = None
if source is not None:
    with page_errors("Partner data: funnel", stop=True):
        funnel = data.funnel(source, compare_filters, version)
hide = data.threshold() if funnel is not None and funnel.hide_small else None
with chart:
    if funnel is not None:
        flags = funnel.result.flag_counts()
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("LSOAs higher than police data suggests", flags["higher"], help="Above the 99.8% funnel limit.")
        m2.metric("LSOAs lower", flags["lower"], help="Below the 99.8% funnel limit.")
        m3.metric("Force-wide ratio", f"{funnel.result.ratio:.2f}", help=f"{markdown_plain(source)} per police-recorded "
                  f"violent offence, {funnel.filters.date_from} to {funnel.filters.date_to}.")
        m4.metric("Ratio varies between LSOAs by", f"{funnel.result.ratio_cv:.0%}" if funnel.result.rho else "chance only",
                  help="Coefficient of variation of the ratio between LSOAs beyond chance (Spiegelhalter 2005); the "
                       "limits are widened for it.")
    params, window = map_params()
    hotspot_filters = hotspot_window(filters, window)
    outlines = cached_area_outlines(hotspot_filters, params, version)
    shading = data.lsoa_shading(source, compare_filters, version, only_flagged=False) if shade and source else None
    draw.partner_map(shading, {layer["source"]: data.points(layer, filters, version) for layer in point_layers},
                     outlines, map_style=data.map_style(), present=present)
if present:  # the wall screen: the figures and the map; the funnel and the tables below are desk work
    st.stop()
if funnel is not None:
    for note in funnel.notes:
        st.caption(markdown_plain(note))  # notes may quote layer names from partner files
    st.subheader(f"Funnel plot: {markdown_plain(source)} against police-recorded violence")
    draw.funnel_plot(funnel.result.table, funnel.result.limits, source, hide)
    st.caption(f"{funnel.filters.date_from} to {funnel.filters.date_to}. Exact limits for the ratio of two counts "
               "(conditional mid-p), so the police count's own chance variation is included, widened for the ratio's "
               "variation between LSOAs when there is more than chance; dots above the solid line are LSOAs where "
               "police data alone misses violence."
               + (f" Restricted layer: LSOAs with fewer than {hide} are not drawn." if hide else ""))
    draw.flagged_table(funnel.result.table, source, hide)

st.subheader("What partners know about each hotspot")
st.caption(draw.hotspot_table_window(hotspot_filters, layers, version))
with page_errors("Partner data: hotspot table"):
    draw.hotspot_partner_table(data.hotspot_table(hotspot_filters, params, version), data.threshold())

st.subheader("Combined ranking of cells")
weights_col, table_col = st.columns([1, 3])
with weights_col:
    weights = draw.weight_sliders(layers)
with table_col:
    with page_errors("Partner data: combined ranking"):
        ranked = data.ranking(hotspot_filters, params, tuple(sorted(weights.items())), version)
        draw.ranking_table(ranked, weights, data.threshold())
