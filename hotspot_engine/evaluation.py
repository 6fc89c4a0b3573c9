"""Impact evaluation from the store: hotspots (from a file or found on the year before), monthly
cell counts, then :func:`hotspot_engine.impact.impact_table`. Shared by the `impact` command and the
Impact page."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .filters import Filters, months_between, shift_month
from .geography import str_to_cell, study_area
from .impact import ImpactResult, first_post_month, impact_table
from .query import cell_month_counts, extent


def hotspot_cells_from_file(path: str | Path) -> pd.DataFrame:
    """Cells with is_hotspot true from a file written by `hotspots` (CSV, GeoJSON, GPKG, Parquet)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype={"h3": str, "hotspot_id": str, "hotspot_name": str})
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".geojson", ".json", ".gpkg"):
            import geopandas as gpd

            kwargs = {"layer": "hotspot_cells"} if suffix == ".gpkg" else {}
            frame = pd.DataFrame(gpd.read_file(path, **kwargs).drop(columns="geometry", errors="ignore"))
        else:
            raise InputError(f"{path.name}: --hotspots takes .csv, .geojson, .gpkg or .parquet")
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path.name}: cannot read hotspots ({type(exc).__name__})") from None
    missing = {"h3", "is_hotspot", "hotspot_id"} - set(frame.columns)
    if missing:
        raise InputError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
    flag = frame["is_hotspot"].astype(str).str.lower().isin(["true", "1", "yes", "y"])
    hot = frame.loc[flag, ["h3", "hotspot_id"] + (["hotspot_name"] if "hotspot_name" in frame else [])].copy()
    if hot.empty:
        raise InputError(f"{path.name}: no cell has is_hotspot true")
    try:
        hot["h3"] = str_to_cell(hot["h3"].astype(str))
    except ValueError:
        raise InputError(f"{path.name}: column h3 holds something that is not an H3 id") from None
    if "hotspot_name" not in hot:
        hot["hotspot_name"] = hot["hotspot_id"]
    return hot.reset_index(drop=True)


def impact_for_store(con, filters: Filters, intervention: str, hotspots_file: str | Path | None = None,
                     model: str = "negbin", buffer_k: int = 1, params=None, harm_weights=None,
                     exclusions_path=None) -> ImpactResult:
    """Impact of an intervention on serious violence in the hotspots, over every month in the store
    (or the filters' months). Without ``hotspots_file`` the hotspots are found with ``params`` on the
    12 months before the intervention."""
    from .hotspots import HotspotParams, find_hotspots

    ext = extent(con)
    if ext.first_month is None:
        raise InputError("the store holds no incidents; run 'ingest' or 'sample' first")
    post = first_post_month(intervention)
    if not (filters.sv_only or filters.offences):
        filters = filters.with_(sv_only=True)
    if hotspots_file:
        hot = hotspot_cells_from_file(hotspots_file)
    else:
        pre = filters.with_(date_from=shift_month(post, -12), date_to=shift_month(post, -1))
        found = find_hotspots(con, pre, params or HotspotParams(), harm_weights=harm_weights, exclusions_path=exclusions_path)
        cells = found.cells[found.cells["is_hotspot"].astype(bool)]
        if cells.empty:
            raise InputError("no hotspots were found in the 12 months before the intervention")
        hot = pd.DataFrame({"h3": str_to_cell(cells["h3"]), "hotspot_id": cells["hotspot_id"].to_numpy(),
                            "hotspot_name": cells["hotspot_name"].to_numpy()})
    months = months_between(filters.date_from or ext.first_month, filters.date_to or ext.last_month)
    counts = cell_month_counts(con, filters.with_(date_from=months[0], date_to=months[-1]))
    counts["h3"] = counts["h3"].astype(np.uint64)
    area = study_area(filters.res, filters.districts, filters.csps)
    return impact_table(counts[["h3", "month", "count"]], hot, area.cells, months, intervention, model=model,
                        buffer_k=buffer_k)
