"""The service layer: one function per thing a user asks for, called by every front end (the
Streamlit pages through ui/, the command line). Each takes a DuckDB connection and a
:class:`~hotspot_engine.filters.Filters` value (plus its parameters). This package is the only
caller of :mod:`hotspot_engine.store`; the analysis modules stay frames in, frames out, and nothing
in ui/ or pages/ runs SQL (a test checks it).

``analyses``: hotspots, patterns, headline, patrol report and plan, impact.
``store_data``: the store itself (open, version, sample or not, extent, loads, rejects, ingest).
``exports``: the export layers, their zip, the meeting maps.
``quality``: the data-quality guard (flagged force-months, coverage gaps).

Names are imported on first use (PEP 562), so a command imports only the part it needs: ``ingest``
no longer pays for statsmodels, scipy.stats and the analysis modules (1.25 s of its 1.9 s start-up,
measured with ``python -X importtime -m hotspot_engine ingest``).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from hotspot_engine.service.quality import (
        ForceGaps,
        QualityReport,
        force_gaps,
        held_months,
        quality_report,
        quality_warning,
        refresh_quality,
    )
    from hotspot_engine.service.store_data import (
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
        stored_months,
        streets_in_view,
    )
    from hotspot_engine.store.query import (
        Extent,
    )

#: Public name -> the module that defines it.
_WHERE: dict[str, str] = {
    "default_window": "hotspot_engine.service.analyses",
    "headline": "hotspot_engine.service.analyses",
    "hotspots": "hotspot_engine.service.analyses",
    "hotspots_before": "hotspot_engine.service.analyses",
    "impact": "hotspot_engine.service.analyses",
    "patrol_plan": "hotspot_engine.service.analyses",
    "patrol_report": "hotspot_engine.service.analyses",
    "patterns": "hotspot_engine.service.analyses",
    "placebo_runs": "hotspot_engine.service.analyses",
    "resolve_window": "hotspot_engine.service.analyses",
    "validate_hotspots": "hotspot_engine.service.analyses",
    "validate_recent": "hotspot_engine.service.analyses",
    "weekly_problem": "hotspot_engine.service.analyses",
    "RECORD_LEVEL": "hotspot_engine.service.exports",
    "ExportLayers": "hotspot_engine.service.exports",
    "export_layers": "hotspot_engine.service.exports",
    "export_meta": "hotspot_engine.service.exports",
    "export_zip": "hotspot_engine.service.exports",
    "headline_figures": "hotspot_engine.service.exports",
    "meeting_maps": "hotspot_engine.service.exports",
    "area_summary": "hotspot_engine.service.store_data",
    "cell_month_counts": "hotspot_engine.service.store_data",
    "data_version": "hotspot_engine.service.store_data",
    "extent": "hotspot_engine.service.store_data",
    "ingest_files": "hotspot_engine.service.store_data",
    "ingest_street_upload": "hotspot_engine.service.store_data",
    "ingest_streets": "hotspot_engine.service.store_data",
    "ingest_upload": "hotspot_engine.service.store_data",
    "is_sample": "hotspot_engine.service.store_data",
    "loads": "hotspot_engine.service.store_data",
    "monthly_counts": "hotspot_engine.service.store_data",
    "stored_months": "hotspot_engine.service.store_data",
    "open_app_store": "hotspot_engine.service.store_data",
    "open_store": "hotspot_engine.service.store_data",
    "rejects": "hotspot_engine.service.store_data",
    "remove_sample": "hotspot_engine.service.store_data",
    "sample_status": "hotspot_engine.service.store_data",
    "streets_in_view": "hotspot_engine.service.store_data",
    "Extent": "hotspot_engine.store.query",
    "QualityReport": "hotspot_engine.service.quality",
    "ForceGaps": "hotspot_engine.service.quality",
    "force_gaps": "hotspot_engine.service.quality",
    "held_months": "hotspot_engine.service.quality",
    "quality_report": "hotspot_engine.service.quality",
    "quality_warning": "hotspot_engine.service.quality",
    "refresh_quality": "hotspot_engine.service.quality",
}
__all__ = [
    "ExportLayers", "Extent", "ForceGaps", "QualityReport", "RECORD_LEVEL", "area_summary", "cell_month_counts", "data_version",
    "default_window", "export_layers", "export_meta", "export_zip", "extent", "force_gaps", "headline", "headline_figures", "held_months",
    "hotspots", "hotspots_before", "impact", "ingest_files", "ingest_street_upload", "ingest_streets",
    "ingest_upload", "is_sample", "loads", "meeting_maps", "monthly_counts", "open_app_store", "open_store",
    "patrol_plan", "patrol_report", "patterns", "placebo_runs", "quality_report", "quality_warning",
    "refresh_quality", "rejects", "remove_sample", "resolve_window", "sample_status", "stored_months",
    "streets_in_view",
    "validate_hotspots", "validate_recent", "weekly_problem",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
