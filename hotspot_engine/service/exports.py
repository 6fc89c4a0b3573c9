"""Export layers, assembled in one place for the `export` command and the Data & export page, and
the files built from them: a zip of the chosen layers with their method sidecars, and the meeting
maps (offline HTML, PNG, one-page PDF)."""
from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from hotspot_engine.filters import Filters
from hotspot_engine.render.context import OutputContext, chance_line, output_context
from hotspot_engine.store import query
from hotspot_engine.write import export
from hotspot_engine.write.export import ExportMeta

if TYPE_CHECKING:  # annotations only: importing impact costs `hotspots` scipy.stats and scipy.optimize
    from hotspot_engine.analyse.headline import Headline
    from hotspot_engine.analyse.hotspots import HotspotParams, HotspotResult
    from hotspot_engine.analyse.impact import ImpactResult

#: Layers holding one row per incident or patrol: never partner-safe, data managers only.
RECORD_LEVEL = ("incidents", "patrols")


@dataclass
class ExportLayers:
    """Layers by name, the method parameters for the sidecar, and notes to carry with them."""
    layers: dict[str, pd.DataFrame] = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def hotspot_params_record(params: HotspotParams, window: Filters) -> dict:
    """The hotspot method parameters as the methods sidecar records them."""
    return {"method": params.method, "measure": params.measure, "k": params.k, "alpha": params.alpha,
            "top": params.top, "harm_share": params.harm_share, "min_area_count": params.area_minimum,
            "hotspot_window": f"{window.date_from} to {window.date_to}"}


def export_layers(con, filters: Filters, names: list[str], hotspots: HotspotResult | None = None,
                  hotspot_params: tuple[HotspotParams, Filters] | None = None, impact: ImpactResult | None = None,
                  impact_params: dict | None = None, harm_weights=None,
                  record_level: bool = True, hot_only: bool = False, wkt: bool = False) -> ExportLayers:
    """The named layers for the filters: ``hotspot_cells``/``hotspot_areas`` from ``hotspots``,
    ``impact`` from ``impact``, ``incidents``/``patrols`` read from the store (only with
    ``record_level``). ``hotspot_params`` (params, window) and ``impact_params`` go into the
    sidecar's parameters when given. ``hot_only`` keeps only the hotspot cells in ``hotspot_cells``
    (every study cell is scored: on the sample 9,413 rows and 4.8 MB of CSV for 13 hot cells). With
    ``wkt`` the cells layer carries its hexagons as WKT text (:func:`~hotspot_engine.write.layers.cells_wkt_layer`:
    what a CSV holds, built without geopandas)."""
    out = ExportLayers()
    if hotspots is not None and ("hotspot_cells" in names or "hotspot_areas" in names):
        if "hotspot_cells" in names:
            cells = hotspots.cells[hotspots.cells["is_hotspot"]] if hot_only else hotspots.cells
            out.layers["hotspot_cells"] = export.cells_wkt_layer(cells) if wkt else export.cells_layer(cells)
            if hot_only:
                out.notes.append(f"Hotspot cells only: {len(cells):,} of {len(hotspots.cells):,} scored cells.")
        if "hotspot_areas" in names:
            out.layers["hotspot_areas"] = export.areas_layer(hotspots.areas, hotspots.cells)
        if hotspot_params is not None:
            out.params |= hotspot_params_record(*hotspot_params)
        out.notes += list(hotspots.notes)
    if impact is not None and "impact" in names:
        from hotspot_engine.analyse.impact import published_table

        out.layers["impact"] = published_table(impact.table)
        out.params |= dict(impact_params or {})
        out.notes.append(impact.description)
    if "incidents" in names and record_level:
        out.layers["incidents"] = export.incidents_layer(query.incident_rows(con, filters, harm_weights))
    if "patrols" in names and record_level:
        out.layers["patrols"] = export.patrols_layer(query.patrol_rows(con, filters))
    return out


def export_meta(con, what: str, filters: Filters, params: dict | None = None, notes: list[str] | None = None,
                method: str | None = None, context: OutputContext | None = None) -> ExportMeta:
    """The methods sidecar's content: sources and loads from the store, filters, method, notes, and
    the output's context (area, window, source and caveat, hotspot set) when given. Without one (the
    command line), a store holding police.uk rows still gets the source and its proxy caveat as the
    first note: DOMAIN.md asks for it wherever the proxy is in use, and the command line's hotspots,
    export, impact and schedule sidecars on the real Hampshire store never named it."""
    meta = ExportMeta.build(con, what=what, filters=filters, method=method, params=params, notes=notes)
    if context is not None:
        meta.context = context.as_dict()
    else:
        share = query.extent(con).proxy_share
        if share > 0:
            meta.notes.insert(0, output_context(filters, share).source_line)
    return meta


def export_zip(bundle: ExportLayers, meta: ExportMeta, file_name: str, partner_safe: bool,
               threshold: int) -> tuple[str, bytes, list[str]]:
    """(zip name, zip bytes, names of the files inside) for the layers written as ``file_name``."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = export.write_layers(bundle.layers, Path(tmp) / file_name, meta, partner_safe=partner_safe,
                                    threshold=threshold)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in paths:
                zf.write(p, p.name)
    # The format is in the name: a GeoPackage and a CSV export of the same view must not download under one
    # name (issue 27).
    fmt = Path(file_name).suffix.lstrip(".")
    zip_name = Path(file_name).stem + (f"_{fmt}" if fmt else "") + (".partner-safe" if partner_safe else "") + ".zip"
    return zip_name, buffer.getvalue(), [p.name for p in paths]


def headline_figures(head: Headline | None) -> dict[str, str]:
    """The headline as the summary PDF prints it (empty without two financial years)."""
    if head is None:
        return {}
    return {f"Serious violence {head.fy_after}": f"{head.sv_after:,} ({head.sv_change_pct:+.1f}%)",
            "Hotspots": str(head.hotspots), f"Patrols in hotspots {head.fy_after}": f"{head.patrols_after:,}",
            "In the hotspots": f"{head.hotspot_change_pct:+.1f}%"}


def store_context(con, window: Filters, set_name: str | None = None) -> OutputContext:
    """The context of an output about ``window`` read from the store: the police.uk proxy caveat when
    any stored incident is a proxy, and the data-quality guard's line when the window uses a flagged or
    partial month (issue 24 item 4). The command line's briefing uses it; the app builds the same from
    its cached extent and warning."""
    from dataclasses import replace

    from hotspot_engine.reference.geography import districts_for
    from hotspot_engine.service.quality import force_gaps, quality_warning
    from hotspot_engine.service.store_data import window_words

    context = output_context(window, query.extent(con).proxy_share, set_name, quality_warning(con, window))
    # A force of the places holding fewer of the window's months is named beside it (one force: nothing).
    short = force_gaps(con, window).window_words(set(districts_for(window.districts, window.csps)))
    return replace(context, window=window_words(window.date_from, window.date_to, query.stored_months(con)) + short)


def report_window(filters: Filters, period) -> Filters:
    """The filters over a patrol report's months (its ``period``, two dates): the window a briefing's
    figures use."""
    return filters.with_(date_from=f"{period[0]:%Y-%m}", date_to=f"{period[1]:%Y-%m}")


def meeting_maps(result: HotspotResult, head: Headline | None, filters: Filters, window: Filters, value_column: str,
                 partner_safe: bool, threshold: int, synthetic: bool, filters_line: str, basemap_url: str = "",
                 basemap_attribution: str = "", context: OutputContext | None = None,
                 patrols_stored: bool = True) -> tuple[str, bytes, bytes, str]:
    """(html, png, pdf, base file name) of the hotspot map for meetings and partners. ``context``
    (area, window, source and caveat, set name; :func:`hotspot_engine.render.context.output_context`)
    titles all three; without it, one is made from ``window`` with no source caveat known. Without
    ``patrols_stored`` the summary's table has no patrols column: a 0 there would read as measured."""
    from hotspot_engine.reference.geography import districts, districts_for
    from hotspot_engine.render import html_map, static_map

    cells = export.cells_layer(result.cells)
    areas = export.areas_layer(result.areas, result.cells)
    if partner_safe:
        safe_layers = export.partner_safe({"hotspot_cells": cells, "hotspot_areas": areas}, threshold)
        cells, areas = safe_layers["hotspot_cells"], safe_layers["hotspot_areas"]
    shapes = districts()
    if window.csps or window.districts:
        shapes = shapes[shapes["district"].isin(districts_for(window.districts, window.csps))]
    context = context or output_context(window, 0.0)
    if not context.chance and "significant" in result.areas:
        context = replace(context, chance=chance_line(result.areas["significant"]))
    title = context.title
    m = html_map.offline_map(cells, areas, shapes, f"{title}\n{context.subtitle}", value_column=value_column,
                             basemap_url=basemap_url if "{z}" in basemap_url else None,
                             basemap_attribution=basemap_attribution or None)
    html_page = html_map.map_html(m)
    png = static_map.map_png(cells, areas, shapes, title, value_column=value_column, synthetic=synthetic,
                             subtitle=context.subtitle)
    # The rank is the number the map labels each area with, so the table and the map agree.
    table_cols = [c for c in ("hotspot_rank", "hotspot_name", "district", "count", "harm", "patrols")
                  if c in areas.columns and (patrols_stored or c != "patrols")]
    table = pd.DataFrame(areas[table_cols]).rename(columns={"hotspot_rank": "rank"}) if table_cols else pd.DataFrame()
    pdf = static_map.summary_pdf(title, headline_figures(head), cells, areas, shapes, table, filters_line=filters_line,
                                 synthetic=synthetic, value_column=value_column, subtitle=context.subtitle)
    base = export.export_filename("hotspot_map" + ("_partner_safe" if partner_safe else ""), window, "csv")[:-4]
    return html_page, png, pdf, base
