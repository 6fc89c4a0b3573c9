"""The service layer: one function per thing a user asks for, called by every front end (the
Streamlit pages through ui/, the command line). Each takes a DuckDB connection and a
:class:`~hotspot_engine.filters.Filters` value (plus its parameters). This package is the only
caller of :mod:`hotspot_engine.store`; the analysis modules stay frames in, frames out, and nothing
in ui/ or pages/ runs SQL (a test checks it).

``analyses``: hotspots, patterns, headline, patrol report and plan, impact.
``store_data``: the store itself (open, version, sample or not, extent, loads, rejects, ingest).
``exports``: the export layers, their zip, the meeting maps.
"""
from hotspot_engine.service.analyses import (
                                             default_window,
                                             headline,
                                             hotspots,
                                             hotspots_before,
                                             impact,
                                             patrol_plan,
                                             patrol_report,
                                             patterns,
                                             placebo_runs,
                                             resolve_window,
                                             validate_hotspots,
                                             validate_recent,
                                             weekly_problem,
)
from hotspot_engine.service.exports import (
                                             RECORD_LEVEL,
                                             ExportLayers,
                                             export_layers,
                                             export_meta,
                                             export_zip,
                                             headline_figures,
                                             meeting_maps,
)
from hotspot_engine.service.store_data import (
                                             area_summary,
                                             cell_month_counts,
                                             data_version,
                                             extent,
                                             ingest_files,
                                             ingest_street_upload,
                                             ingest_streets,
                                             ingest_upload,
                                             is_sample,
                                             loads,
                                             monthly_counts,
                                             open_app_store,
                                             open_store,
                                             rejects,
                                             remove_sample,
                                             sample_status,
                                             streets_in_view,
)
from hotspot_engine.store.query import Extent

__all__ = [
    "default_window", "headline", "hotspots", "hotspots_before", "impact", "patrol_plan", "patrol_report", "patterns",
    "placebo_runs", "resolve_window", "validate_hotspots", "validate_recent", "weekly_problem",
    "RECORD_LEVEL", "ExportLayers", "export_layers", "export_meta", "export_zip", "headline_figures", "meeting_maps",
    "Extent", "area_summary", "cell_month_counts", "data_version", "extent", "ingest_files", "ingest_street_upload", "ingest_streets", "ingest_upload", "is_sample", "loads",
    "monthly_counts", "open_app_store", "open_store", "rejects", "remove_sample", "sample_status", "streets_in_view",
]
