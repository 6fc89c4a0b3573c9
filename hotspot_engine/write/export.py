"""Export the filtered layers to files an analyst's GIS opens, with a methods sidecar, a
partner-safe mode and spreadsheet-injection protection.

Layers are built from the frames the queries and the hotspot analysis return:

- :func:`incidents_layer` (points, one per incident) from ``query.incident_rows``;
- :func:`cells_layer` (H3 hexagons with their figures) from a hotspot result's cells;
- :func:`areas_layer` (hotspot areas dissolved from their cells);
- :func:`patrols_layer` (points, one per patrol) from ``query.patrol_rows``;
- any plain table (the impact table) is written as it is.

:func:`write_layers` picks the format from the file extension (``.csv``, ``.geojson``, ``.gpkg``,
``.parquet``, ``.xlsx``) and always writes ``<stem>.methods.json`` and ``<stem>.methods.txt`` next to
the file, so the result can be reproduced. All geometry is WGS84 (EPSG:4326); H3 ids are the usual
15-character hex strings, so every tool (QGIS, ArcGIS, Excel, kepler.gl) can join on them.

The work is split by job, and every public name stays importable from here:
:mod:`~hotspot_engine.write.layers` (the layers), :mod:`~hotspot_engine.write.disclosure`
(partner-safe mode), :mod:`~hotspot_engine.write.sidecar` (the methods sidecar),
:mod:`~hotspot_engine.write.files` (formats, file names, atomic writing) and
:mod:`~hotspot_engine.write.spreadsheet` (formula neutralising).

Spreadsheet safety (OWASP "CSV Injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``, tab
or carriage return is run as a formula by Excel, LibreOffice and Google Sheets. In CSV and XLSX
output such cells get a leading single quote, the mitigation OWASP recommends; the quote stays
visible, so nothing is silently changed. Numeric columns are never touched: a negative number in
a number column is a number, not text. GIS formats (GeoJSON, GeoPackage, GeoParquet) keep the text
exactly as stored, because no spreadsheet evaluates them.
"""
from __future__ import annotations

from hotspot_engine.write.disclosure import (
    COUNT_COLUMNS,
    DEFAULT_THRESHOLD,
    DEPENDENT_COLUMNS,
    INCIDENT_TEXT_COLUMNS,
    RECORD_LEVEL_KEYS,
    RECORD_LEVEL_LAYERS,
    partner_safe,
    suppression_rule,
)
from hotspot_engine.write.files import (
    FORMATS,
    MULTI_LAYER_FORMATS,
    XLSX_MAX_ROWS,
    export_filename,
    format_for,
    write_layers,
)
from hotspot_engine.write.layers import (
    AREA_SUMS,
    CRS,
    INCIDENT_REQUIRED,
    PATROL_REQUIRED,
    areas_layer,
    cells_layer,
    cells_wkt_layer,
    h3_hex,
    incidents_layer,
    patrols_layer,
)
from hotspot_engine.write.sidecar import (
    ExportMeta,
    partner_layers_from_store,
    sidecar_paths,
    sources_from_store,
    write_sidecar,
)
from hotspot_engine.write.spreadsheet import FORMULA_PREFIXES, neutralise_formulas

__all__ = [
    "AREA_SUMS",
    "COUNT_COLUMNS",
    "CRS",
    "DEFAULT_THRESHOLD",
    "DEPENDENT_COLUMNS",
    "FORMATS",
    "FORMULA_PREFIXES",
    "INCIDENT_REQUIRED",
    "INCIDENT_TEXT_COLUMNS",
    "MULTI_LAYER_FORMATS",
    "PATROL_REQUIRED",
    "RECORD_LEVEL_KEYS",
    "RECORD_LEVEL_LAYERS",
    "XLSX_MAX_ROWS",
    "ExportMeta",
    "areas_layer",
    "cells_layer",
    "cells_wkt_layer",
    "export_filename",
    "format_for",
    "h3_hex",
    "incidents_layer",
    "neutralise_formulas",
    "partner_layers_from_store",
    "partner_safe",
    "patrols_layer",
    "sidecar_paths",
    "sources_from_store",
    "suppression_rule",
    "write_layers",
    "write_sidecar",
]
