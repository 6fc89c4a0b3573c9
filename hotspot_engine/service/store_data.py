"""What the store holds and how data gets into it: the app's store (with the sample on first
start), the data version that cached results are keyed on, whether the store is the synthetic
sample, its extent, loads and rejected rows, monthly counts, and ingesting files or uploads."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters
from hotspot_engine.read.limits import Limits
from hotspot_engine.settings import Settings
from hotspot_engine.store import query
from hotspot_engine.store.database import LoadSummary


def open_store(path: str | Path | None = None, read_only: bool = False, threads: int | None = None):
    """A connection to the store file (``None``: $HOTSPOT_DB or data/hotspot.duckdb)."""
    from hotspot_engine.store.database import connect

    return connect(path, read_only=read_only, threads=threads)


def open_app_store(settings: Settings):
    """The dashboard's store: the settings' file, DuckDB threads per query from the settings, and
    the built-in synthetic sample loaded when the store is empty, the settings ask for it and the
    area is HIPS (settings.toml [area] forces naming other forces start with an empty store)."""
    from hotspot_engine.reference.geography import is_hips
    from hotspot_engine.store.database import table_count

    con = open_store(settings.db_path, threads=settings.app_query_threads)
    # The sample is HIPS's (Hampshire): a deployment whose settings name another area starts empty.
    if settings.sample_on_empty and is_hips() and table_count(con, "incidents") == 0:
        from hotspot_engine.sample import write_sample
        from hotspot_engine.sample_partners import load_partner_sample
        from hotspot_engine.store.database import label_sample_loads

        before = query.data_version(con)
        paths = write_sample(settings.sample_dir)
        ingest_files(con, [paths["incidents"], paths["patrols"]])
        load_partner_sample(con, paths)
        _load_sample_trial(con, paths)
        label_sample_loads(con, before)
        import time
        from datetime import UTC, datetime

        from hotspot_engine.service.sets import adopt_sample_set

        # After the trial's set, so the report year's set is the newest: the one every page opens on.
        # adopted_at has whole seconds and ties sort by name (the trial's first): wait for the next second.
        time.sleep(1.0 - datetime.now(UTC).microsecond / 1e6)
        adopt_sample_set(con)
    return con


def _load_sample_trial(con, paths: dict[str, Path]) -> None:
    """The sample's randomised trial (2024-04..09, issue 28) with its set and stored schedule, so the
    Impact page's trial section and the Patrols schedule show one at first start. Its months run past
    the report year: the Overview and Impact pin their windows to the set's year (ui), so the report
    year's figures stay what they were without it."""
    from hotspot_engine.sample_trial import TRIAL_FILES, load_trial_sample
    from hotspot_engine.service.quality import refresh_quality

    load_trial_sample(con, {key: paths[key] for key in TRIAL_FILES})
    refresh_quality(con)


def area_summary() -> str:
    """One line on the area the open store covers (the police force areas its data names)."""
    from hotspot_engine.reference import area as area_pack
    from hotspot_engine.reference import geography

    districts, csps = len(geography.district_names()), len(geography.csp_names())
    if geography.is_hips():
        return f"Area: Hampshire and the Isle of Wight (HIPS), {districts} districts, {csps} CSPs."
    forces = area_pack.forces(geography.GEODATA_DIR).set_index("pfa_code")["force"]
    names = ", ".join(forces.get(code, code) for code in geography.area_codes())
    return (f"Area: {names} ({districts} districts, {csps} CSPs): the police force areas the data names, "
            "or settings.toml [area] forces when set.")


def data_version(con) -> int:
    """Changes whenever a load lands, so cached results are never stale after an upload."""
    return query.data_version(con)


def extent(con) -> query.Extent:
    """Months, counts, sources and the first patrol held by the store."""
    return query.extent(con)


def is_sample(con) -> bool:
    """True when the store holds the built-in synthetic sample (every page and export says so)."""
    return "sample" in query.extent(con).sources or query.holds_synthetic_sample(con)


def sample_status(con) -> str:
    """'none' (no sample rows), 'only' (the store is the sample alone) or 'mixed' (sample and real
    incidents together: every figure then mixes both, so the pages say so)."""
    sample = query.sample_incident_count(con)
    if sample == 0:
        return "none"
    return "only" if sample == query.extent(con).incidents else "mixed"


def remove_sample(con) -> tuple[int, int]:
    """Remove exactly the built-in sample's rows (its incidents and its patrol log), keep every real
    row; returns (incidents removed, patrols removed). Logged as a load, so the data version moves."""
    from hotspot_engine.service.quality import refresh_quality
    from hotspot_engine.service.sets import remove_sample_sets
    from hotspot_engine.service.trial import remove_sample_schedules
    from hotspot_engine.store.database import remove_sample_rows

    removed = remove_sample_rows(con)
    refresh_quality(con)
    remove_sample_sets(con)  # the sample's demo set names sample places: it goes with them
    remove_sample_schedules(con)  # and the sample's trial schedule (sample-trial)
    return removed


def loads(con) -> pd.DataFrame:
    """One row per loaded file, newest first."""
    return query.load_rows(con)


def rejects(con, every_column: bool = False) -> pd.DataFrame:
    """Rows refused at load, with file, row, column and reason (every stored column on request)."""
    return query.reject_rows(con, every_column)


def monthly_counts(con, filters: Filters, by: str | None = None, harm_weights=None) -> pd.DataFrame:
    """Incidents (and harm) per month, optionally per ``by`` column, for the filters."""
    return query.monthly_counts(con, filters, by=by, harm_weights=harm_weights)


def stored_months(con) -> set[str]:
    """The months holding any incident, whatever the filters: a month of a chart's range missing here
    is one the data does not cover (the real police.uk store holds 2018-03 and 2024-01..04), to be
    drawn as a gap, not as a month with no incidents."""
    return query.stored_months(con)


def window_words(first: str | None, last: str | None, stored: set[str]) -> str:
    """'first to last', with how many of its months ``stored`` holds when not all: a window called
    2023-05 to 2024-04 held 4 stored months of the real police.uk data, not 12 (pages and meeting maps)."""
    from hotspot_engine.filters import months_between

    if not first or not last:
        return f"{first or ''} to {last or ''}"
    window = months_between(first, last)
    held = len(set(window) & stored)
    return f"{first} to {last}" + (f", {held} of {len(window)} months stored" if held < len(window) else "")


def cell_month_counts(con, filters: Filters, harm_weights=None) -> pd.DataFrame:
    """Incidents per H3 cell and month for the filters (the map's playback)."""
    return query.cell_month_counts(con, filters, harm_weights=harm_weights)


def ingest_files(con, paths, fmt: str | None = None, offence_map=None, max_bytes: int | None = None,
                 limits: Limits | None = None, partner=None, skipped: list[str] | None = None) -> list[LoadSummary]:
    """Load files, folders or zips into the store within ``limits`` (read.limits); one summary per file.
    ``partner`` (a :class:`~hotspot_engine.read.partners.PartnerOptions`) names a partner file's layer,
    owner and sharing level; ``skipped`` gets a line per file of a folder left out (a trial schedule)."""
    from hotspot_engine.read.limits import DEFAULT_LIMITS
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.service.quality import refresh_quality

    try:
        return ingest_paths(con, [Path(p) for p in paths], fmt=fmt, offence_map=offence_map, max_bytes=max_bytes,
                            limits=limits or DEFAULT_LIMITS, partner=partner, skipped=skipped)
    finally:  # files loaded before a bad one stay loaded: judge them too
        refresh_quality(con)


def ingest_streets(con, paths, name_column: str | None = None) -> list[LoadSummary]:
    """Load street line layers (GeoPackage, GeoJSON, Shapefile) into the store, clipped to the 14
    districts; one summary per file, like any other input (:mod:`hotspot_engine.store.streets`)."""
    from hotspot_engine.store.streets import ingest_streets as ingest

    return ingest(con, [Path(p) for p in paths], name_column)


def ingest_street_upload(con, name: str, data: bytes, name_column: str | None = None) -> list[LoadSummary]:
    """Load one uploaded street layer (a GeoPackage or GeoJSON, its name and bytes): GDAL reads
    files, so it is written under its own name to a private temporary folder first."""
    import tempfile

    from hotspot_engine.store.streets import STREET_SUFFIXES, store_street_file

    file_name = Path(name).name
    if Path(file_name).suffix.lower() not in STREET_SUFFIXES or file_name.lower().endswith(".shp"):
        raise InputError(f"{file_name}: upload a street layer as .gpkg or .geojson (a Shapefile loads with the "
                         "command line: ingest PATH --format streets)")
    with tempfile.TemporaryDirectory(prefix="hotspot-streets-") as folder:
        path = Path(folder) / file_name
        path.write_bytes(data)
        return [store_street_file(con, path, name_column or None)]


def ingest_upload(con, name: str, data: bytes, fmt: str | None = None, offence_map=None) -> list[LoadSummary]:
    """Load one uploaded file (its name and bytes) into the store."""
    from hotspot_engine.read.loading import ingest_upload as ingest
    from hotspot_engine.service.quality import refresh_quality

    try:
        return ingest(con, name, data, fmt=fmt, offence_map=offence_map)
    finally:
        refresh_quality(con)


#: Streets are drawn from this zoom in (a CSP or district view); at force zoom a street layer would
#: send every street of the force to the browser, and names are too small to draw there anyway.
STREETS_FROM_ZOOM = 10.0


def streets_in_view(con, view: dict, width_px: int, height_px: int, limit: int = 40_000) -> pd.DataFrame | None:
    """The loaded street layer's lines inside the map's view (name, geometry WKB), or None: no street
    layer, a view wider than a city (below :data:`STREETS_FROM_ZOOM`), or more than ``limit`` lines."""
    import math

    from hotspot_engine.store.streets import has_streets, streets_in_box

    zoom = float(view.get("zoom", 0))
    if zoom < STREETS_FROM_ZOOM or not has_streets(con):
        return None
    lat, lon = float(view["latitude"]), float(view["longitude"])
    half_lon = 360.0 / (512 * 2 ** zoom) * width_px / 2
    half_lat = half_lon * height_px / width_px * math.cos(math.radians(lat))
    lines = streets_in_box(con, lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)
    return None if len(lines) > limit else lines
