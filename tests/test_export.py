"""Export: round trips in every format, spreadsheet-injection safety, partner-safe mode, sidecar."""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspot_engine import __version__

from hotspot_engine.write import disclosure, export, files

from hotspot_engine.reference import geography
from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2", "@SUM(A1:A9)", "\t=1", "\r=1"]
FILTERS = Filters("2023-04", "2024-03", districts=("Southampton",), sv_only=True)


def _incident_rows(n: int = 60, seed: int = 3) -> pd.DataFrame:
    """A frame shaped like query.incident_rows: points around Southampton city centre."""
    rng = np.random.default_rng(seed)
    lat = 50.905 + rng.normal(0, 0.004, n)
    lon = -1.404 + rng.normal(0, 0.005, n)
    locations = np.array(["On or near High Street", "On or near Bargate", "On or near Nightclub"], dtype=object)[rng.integers(0, 3, n)]
    return pd.DataFrame(
        {
            "incident_id": [f"INC-{i:05d}" for i in range(n)],
            "month": [f"2023-{m:02d}" for m in rng.integers(4, 13, n)],
            "occurred_at": pd.Timestamp("2023-04-01 21:30") + pd.to_timedelta(rng.integers(0, 200, n), unit="D"),
            "lat": lat,
            "lon": lon,
            "offence": "Robbery of personal property",
            "sv_category": ["robbery"] * (n - 4) + [None] * 4,
            "district": "Southampton",
            "csp": "Southampton",
            "location": locations,
            "harm": 365.0,
            "knife_flag": rng.random(n) < 0.2,
            "h3": pd.array(geography.cells_for_points(lat, lon, 9), dtype="UInt64"),
        }
    )


def _cells(rows: pd.DataFrame) -> pd.DataFrame:
    """A hotspot-result-like cell table: counts, harm, a Gi*-ish z and two hotspot areas."""
    cells = rows.groupby("h3").agg(count=("incident_id", "size"), harm=("harm", "sum")).reset_index()
    cells["h3"] = cells["h3"].astype("uint64")
    cells["district"] = "Southampton"
    cells["gi_z"] = (cells["count"] - cells["count"].mean()) / cells["count"].std()
    top = cells.sort_values("count", ascending=False).index[:3]
    cells["hotspot_id"] = None
    cells.loc[top, "hotspot_id"] = "H01"
    cells["hotspot_name"] = np.where(cells["hotspot_id"].notna(), "On or near High Street", None)
    cells["is_hotspot"] = cells["hotspot_id"].notna()
    cells["patrols"] = np.where(cells["is_hotspot"], 12, 2)
    cells["patrol_minutes"] = cells["patrols"] * 15.0
    cells["top_location"] = "On or near High Street"
    return cells


def _patrol_rows() -> pd.DataFrame:
    cell = int(geography.cells_for_points(np.array([50.905]), np.array([-1.404]), 9)[0])
    return pd.DataFrame(
        {
            "patrol_id": ["P1", "P2", "P3"],
            "source": "log",
            "start": pd.to_datetime(["2023-05-01 20:00", "2023-05-02 21:00", "2023-05-03 22:00"]),
            "end": pd.to_datetime(["2023-05-01 20:15", "2023-05-02 21:20", "2023-05-03 22:15"]),
            "minutes": [15.0, 20.0, 15.0],
            "hotspot_ref": [None, "H01", None],
            "lat": [50.9051, np.nan, np.nan],
            "lon": [-1.4041, np.nan, np.nan],
            "district": "Southampton",
            "csp": "Southampton",
            "unit": "SO-1",
            "h3": pd.array([cell, cell, None], dtype="UInt64"),
        }
    )


def _impact() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "hotspot_id": ["H01", "H02", "pooled"],
            "hotspot_name": ["On or near High Street", "On or near Bargate", None],
            "months_pre": [12, 12, 12],
            "months_post": [12, 12, 12],
            "mean_pre": [4.0, 0.25, 2.1],
            "mean_post": [3.2, 0.25, 1.7],
            "simple_change_pct": [-20.0, 0.0, -19.0],
            "its_change_pct": [-17.5, 1.0, -16.0],
        }
    )


@pytest.fixture(scope="module")
def layers() -> dict[str, pd.DataFrame]:
    rows = _incident_rows()
    cells = _cells(rows)
    return {
        "incidents": export.incidents_layer(rows),
        "cells": export.cells_layer(cells),
        "areas": export.areas_layer(None, cells),
        "patrols": export.patrols_layer(_patrol_rows()),
        "impact": _impact(),
    }


def _meta() -> export.ExportMeta:
    return export.ExportMeta(
        what="hotspot cells",
        filters=FILTERS,
        method="gistar",
        params={"alpha": 0.05, "measure": "count"},
        sources=[{"kind": "incidents", "source": "sample", "first": "2019-04", "last": "2024-03", "rows": 60}],
        exported_at=datetime(2026, 11, 27, 9, 30),
    )


# ----------------------------------------------------------------------------------------------
# Round trips


def _read_back(fmt: str, path: Path, written: list[Path], name: str, several: bool) -> pd.DataFrame:
    if fmt == "gpkg":
        return gpd.read_file(path, layer=name)
    if fmt == "xlsx":
        return pd.read_excel(path, sheet_name=name)
    target = path.with_name(f"{path.stem}_{name}{path.suffix}") if several else path
    assert target in written
    if fmt == "csv":
        return pd.read_csv(target, keep_default_na=True)
    if fmt == "geojson":
        return gpd.read_file(target)
    return gpd.read_parquet(target) if name != "impact" else pd.read_parquet(target)


def _assert_same(original: pd.DataFrame, back: pd.DataFrame, fmt: str) -> None:
    expected_columns = list(original.columns)
    if not isinstance(original, gpd.GeoDataFrame) and "geometry" in back.columns and back["geometry"].isna().all():
        back = pd.DataFrame(back.drop(columns="geometry"))  # GeoJSON gives attribute rows a null geometry
    assert list(back.columns) == expected_columns, fmt
    assert len(back) == len(original), fmt
    for column in expected_columns:
        want, got = original[column], back[column]
        if column == "geometry":
            if not isinstance(got, gpd.GeoSeries):  # CSV and XLSX carry WKT
                got = gpd.GeoSeries(shapely.from_wkt(np.array([v if isinstance(v, str) else None for v in got], dtype=object)), crs=4326)
            same = shapely.equals_exact(np.asarray(want.values), np.asarray(got.values), tolerance=1e-9)
            both_missing = want.isna().to_numpy() & got.isna().to_numpy()
            assert (same | both_missing).all(), (fmt, column)
        elif pd.api.types.is_datetime64_any_dtype(want.dtype):
            assert (pd.to_datetime(got).to_numpy() == want.to_numpy()).all(), (fmt, column)
        elif pd.api.types.is_bool_dtype(want.dtype):
            assert got.astype(bool).tolist() == want.tolist(), (fmt, column)
        elif pd.api.types.is_numeric_dtype(want.dtype):
            np.testing.assert_allclose(pd.to_numeric(got).to_numpy(dtype=float), want.to_numpy(dtype=float, na_value=np.nan), rtol=1e-12, err_msg=f"{fmt} {column}")
        else:
            def norm(v):
                return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)

            assert [norm(v) for v in got] == [norm(v) for v in want], (fmt, column)


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg", "parquet", "xlsx"])
def test_every_format_round_trips_rows_and_columns(layers, tmp_path, fmt):
    path = tmp_path / f"export.{fmt}"
    written = export.write_layers(layers, path, _meta())
    assert all(p.exists() for p in written)
    for name, layer in layers.items():
        _assert_same(layer, _read_back(fmt, path, written, name, several=True), fmt)
    if fmt == "gpkg":
        import pyogrio

        assert sorted(l[0] for l in pyogrio.list_layers(path)) == sorted(layers)


def test_single_layer_is_written_under_the_given_name(layers, tmp_path):
    path = tmp_path / "cells.geojson"
    written = export.write_layers({"cells": layers["cells"]}, path, _meta())
    assert written == [path, tmp_path / "cells.methods.json", tmp_path / "cells.methods.txt"]
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    assert back["h3"].tolist() == layers["cells"]["h3"].tolist()


def test_geojson_is_named_after_its_layer_and_the_same_export_gives_the_same_bytes(layers, tmp_path):
    """The FeatureCollection's name is the layer's, as GeoPackage names its layers: left to OGR it
    was the staged file's random temporary name, so two exports of the same layer differed."""
    import json

    first, second = tmp_path / "a" / "cells.geojson", tmp_path / "b" / "cells.geojson"
    for path in (first, second):
        path.parent.mkdir()
        export.write_layers({"cells": layers["cells"]}, path, _meta())
    assert json.loads(first.read_text())["name"] == "cells"
    assert first.read_bytes() == second.read_bytes()


def test_unknown_extension_names_it_without_the_path(layers, tmp_path):
    with pytest.raises(InputError) as info:
        export.write_layers({"cells": layers["cells"]}, tmp_path / "secret_folder" / "cells.shp", _meta())
    assert "'.shp'" in str(info.value)
    assert "secret_folder" not in str(info.value)


def test_no_partial_file_is_left_when_a_write_fails(layers, tmp_path, monkeypatch):
    import errno

    real = files._to_ogr
    calls = []

    def full_on_second_layer(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "_to_ogr", full_on_second_layer)
    with pytest.raises(InputError, match=r"^--out cells\.gpkg: cannot write \(No space left on device\)$"):
        export.write_layers({"cells": layers["cells"], "areas": layers["areas"]}, tmp_path / "cells.gpkg", _meta())
    assert list(tmp_path.iterdir()) == []  # neither the half GeoPackage nor its sidecars


# ----------------------------------------------------------------------------------------------
# Layers


def test_h3_ids_are_hex_strings_that_match_geography(layers):
    rows = _incident_rows()
    assert layers["incidents"]["h3"].tolist() == list(geography.cell_to_str(rows["h3"].to_numpy(dtype=np.uint64)))
    assert layers["incidents"].geometry.x.tolist() == rows["lon"].tolist()


def test_float_h3_ids_are_refused():
    rows = _incident_rows(5).assign(h3=lambda f: f["h3"].astype(float))
    with pytest.raises(InputError, match="h3"):
        export.incidents_layer(rows)


def test_incident_layer_requires_the_contract_columns():
    with pytest.raises(InputError, match="sv_category"):
        export.incidents_layer(_incident_rows(5).drop(columns="sv_category"))


def test_cells_are_hexagons_of_the_right_size(layers):
    cells = layers["cells"]
    assert (cells.geometry.geom_type == "Polygon").all()
    # H3 res 9 average hexagon area 0.105 km2 (DOMAIN.md, from the H3 resolution table); cells
    # vary by a few percent with their place on the icosahedron.
    areas = cells.geometry.to_crs(27700).area / 1e6
    assert areas.between(0.08, 0.13).all()
    centres = shapely.points(cells["lon"], cells["lat"])
    assert shapely.contains(np.asarray(cells.geometry.values), centres).all()


def test_areas_are_dissolved_from_their_cells(layers):
    cells = layers["cells"]
    areas = layers["areas"]
    member = cells[cells["hotspot_id"] == "H01"]
    assert areas["hotspot_id"].tolist() == ["H01"]
    assert areas["n_cells"].tolist() == [len(member)]
    assert areas["count"].tolist() == [member["count"].sum()]
    union = shapely.union_all(np.asarray(member.geometry.values))
    assert shapely.equals_exact(areas.geometry.iloc[0], union, tolerance=1e-9) or areas.geometry.iloc[0].symmetric_difference(union).area < 1e-12
    assert abs(areas["area_km2"].iloc[0] - member.geometry.to_crs(27700).area.sum() / 1e6) < 1e-6


def test_areas_take_the_columns_of_an_area_table():
    cells = _cells(_incident_rows())
    table = pd.DataFrame({"hotspot_id": ["H01"], "hotspot_name": ["Bargate"], "count": [99], "rank": [1]})
    areas = export.areas_layer(table, cells)
    assert areas["hotspot_name"].tolist() == ["Bargate"]
    assert areas["count"].tolist() == [99]
    assert areas["rank"].tolist() == [1]


def test_list_columns_become_text_except_in_geoparquet(tmp_path):
    """hotspots.AREA_COLUMNS has 'cells', the list of an area's member cells."""
    cells = _cells(_incident_rows())
    member = sorted(geography.cell_to_str(cells.loc[cells["hotspot_id"] == "H01", "h3"].to_numpy()))
    table = pd.DataFrame({"hotspot_id": ["H01"], "cells": [member]})
    areas = export.areas_layer(table, cells)
    export.write_layers({"areas": areas}, tmp_path / "a.gpkg", _meta())
    export.write_layers({"areas": areas}, tmp_path / "a.parquet", _meta())
    export.write_layers({"areas": areas}, tmp_path / "a.csv", _meta())
    assert gpd.read_file(tmp_path / "a.gpkg", layer="areas")["cells"].iloc[0] == " ".join(member)
    assert pd.read_csv(tmp_path / "a.csv")["cells"].iloc[0] == " ".join(member)
    assert list(gpd.read_parquet(tmp_path / "a.parquet")["cells"].iloc[0]) == member


def test_patrols_logged_against_a_cell_are_placed_at_its_centre():
    layer = export.patrols_layer(_patrol_rows())
    assert layer["placed_at"].tolist() == ["coordinates", "cell centre", "none"]
    cell = geography.str_to_cell([layer["h3"].iloc[1]])
    lat, lon = geography.cell_centres(cell)
    assert layer.geometry.iloc[1].y == pytest.approx(lat[0]) and layer.geometry.iloc[1].x == pytest.approx(lon[0])
    assert layer.geometry.iloc[2] is None


# ----------------------------------------------------------------------------------------------
# Spreadsheet safety (OWASP CSV Injection: https://owasp.org/www-community/attacks/CSV_Injection)


def test_neutralise_formulas_quotes_hostile_text_and_leaves_numbers():
    frame = pd.DataFrame(
        {
            "location": HOSTILE + ["On or near Park", None],
            "category": pd.Categorical(["=1", "x", "y", "z", "w", "v", "u", "t"]),
            "change": [-2.0, -1.5, 3.0, 0.0, -7.0, 1.0, np.nan, 2.0],
            "count": [-1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    out = export.neutralise_formulas(frame)
    assert out["location"].tolist()[:6] == ["'" + h for h in HOSTILE]
    assert out["location"].iloc[6] == "On or near Park"
    assert pd.isna(out["location"].iloc[7])
    assert out["category"].iloc[0] == "'=1"
    pd.testing.assert_series_equal(out["change"], frame["change"])
    pd.testing.assert_series_equal(out["count"], frame["count"])
    assert frame["location"].iloc[0] == HOSTILE[0]  # the input is not modified


def test_object_text_columns_are_neutralised_as_the_per_value_test_does():
    """Object columns of text and None are tested in Arrow (spreadsheet._hostile_texts); mixed ones
    value by value: both mark what str.startswith(FORMULA_PREFIXES) marks, nothing else."""
    from hotspot_engine.write.spreadsheet import FORMULA_PREFIXES, _hostile_texts

    texts = HOSTILE + ["On or near Park", None, "", "'=1", " =1", "a=b", "\t", "\r\n", "@", "-", "é=", np.nan]
    for values in (texts, texts + [5, b"=x", 1.5]):
        column = np.array(values, dtype=object)
        expected = [isinstance(v, str) and v.startswith(FORMULA_PREFIXES) for v in pd.Series(column).astype(object)
                    .to_numpy(dtype=object, na_value=None)]
        assert _hostile_texts(pd.Series(column).astype(object).to_numpy(dtype=object, na_value=None)).tolist() == expected


def test_control_characters_do_not_break_xlsx(tmp_path):
    rows = _incident_rows(6)
    rows["location"] = ["On or near \x01Park\x1f", "=1\x00"] * 3
    export.write_layers({"incidents": export.incidents_layer(rows)}, tmp_path / "c.xlsx", _meta())
    back = pd.read_excel(tmp_path / "c.xlsx", sheet_name="incidents")
    assert back["location"].tolist() == ["On or near Park", "'=1"] * 3


def _hostile_layers() -> dict[str, pd.DataFrame]:
    rows = _incident_rows(len(HOSTILE)).drop(columns="knife_flag")  # bare True/False trips the float reader below
    rows["location"] = HOSTILE
    rows["offence"] = HOSTILE[::-1]
    return {"incidents": export.incidents_layer(rows)}


def test_hostile_strings_are_neutralised_in_csv(tmp_path):
    path = tmp_path / "incidents.csv"
    export.write_layers(_hostile_layers(), path, _meta())
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("location", "offence"):
        for value in back[column]:
            assert value.startswith("'") and value[1:] in HOSTILE
    # Read as a spreadsheet would: quoted fields are text, bare fields are numbers.
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, quoting=csv.QUOTE_NONNUMERIC))
    header = rows[0]
    for row in rows[1:]:
        for value in row:
            assert not (isinstance(value, str) and value.startswith(export.FORMULA_PREFIXES)), value
        # Longitudes here are negative numbers: they stay plain numbers, not quoted text.
        assert isinstance(row[header.index("lon")], float) and row[header.index("lon")] < 0


def test_hostile_strings_are_neutralised_in_xlsx(tmp_path):
    import openpyxl

    path = tmp_path / "incidents.xlsx"
    export.write_layers(_hostile_layers(), path, _meta())
    sheet = openpyxl.load_workbook(path)["incidents"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", (header[cell.column - 1], cell.value)
        location = row[header.index("location")].value
        # XML normalises a stored carriage return to a line feed when the sheet is read back.
        assert location.startswith("'") and location[1:] in HOSTILE + ["\n=1"]
        assert isinstance(row[header.index("lon")].value, float)


# ----------------------------------------------------------------------------------------------
# Partner-safe


def _count_values(frame: pd.DataFrame) -> list[float]:
    values: list[float] = []
    for column in disclosure._count_columns(frame):
        values += [float(v) for v in frame[column] if pd.notna(v)]
    return values


def test_partner_safe_drops_records_and_blanks_small_counts(layers):
    safe = export.partner_safe(layers, threshold=5, round_to=1)  # exact above the threshold, to compare
    assert sorted(safe) == ["areas", "cells", "impact"]
    cells = safe["cells"]
    original = layers["cells"]
    small = original["count"] < 5
    assert small.any() and (~small).any()  # the fixture has both, so the test can fail
    assert cells.loc[small, "count"].isna().all()
    assert cells.loc[small, "harm"].isna().all()  # harm would give the count back
    assert cells.loc[small, "suppressed"].all()
    assert cells.loc[small, "top_location"].isna().all() and cells.loc[~small, "top_location"].notna().all()
    assert cells.loc[~small, "count"].tolist() == original.loc[~small, "count"].astype(float).tolist()
    # patrols: 2 per non-hotspot cell, 12 per hotspot cell
    assert cells.loc[~original["is_hotspot"], "patrols"].isna().all()
    assert cells.loc[~original["is_hotspot"], "patrol_minutes"].isna().all()
    assert cells.loc[original["is_hotspot"], "patrols"].tolist() == [12.0] * int(original["is_hotspot"].sum())
    # impact: H02 had 0.25 a month over 12 months = 3 offences before and after
    impact = safe["impact"].set_index("hotspot_id")
    assert pd.isna(impact.loc["H02", "mean_pre"]) and pd.isna(impact.loc["H02", "simple_change_pct"])
    assert impact.loc["H01", "mean_pre"] == 4.0 and bool(impact.loc["H02", "suppressed"])
    for frame in safe.values():
        assert all(v >= 5 for v in _count_values(frame))
    assert layers["cells"]["count"].notna().all()  # the caller's layers are not modified


def test_partner_safe_keeps_each_area_s_number_of_cells(layers):
    # an area's size in cells is no event count: its own cell list gives it, so rounding it is only wrong
    areas = layers["areas"]
    assert "n_cells" in areas.columns and (areas["n_cells"] < 5).any()  # else the test cannot fail
    safe = export.partner_safe(layers, threshold=5, round_to=5)
    assert safe["areas"]["n_cells"].tolist() == areas["n_cells"].tolist()


def test_partner_safe_threshold_is_configurable(layers):
    safe = export.partner_safe(layers, threshold=10)
    values = _count_values(safe["cells"])
    assert values and min(values) >= 10


def test_partner_safe_rounding_keeps_counts_at_or_above_threshold(layers):
    safe = export.partner_safe(layers, threshold=5, round_to=5)
    values = _count_values(safe["cells"]) + _count_values(safe["areas"])
    assert values and all(v >= 5 and v % 5 == 0 for v in values)


def test_partner_safe_export_has_no_incident_rows_and_no_small_counts(layers, tmp_path):
    for fmt in ("gpkg", "csv", "xlsx"):
        path = tmp_path / fmt / f"safe.{fmt}"
        written = export.write_layers(layers, path, _meta(), partner_safe=True, threshold=5)
        for p in written:
            assert "incidents" not in p.name and "patrols" not in p.name
        ids = set(layers["incidents"]["incident_id"]) | set(layers["patrols"]["patrol_id"])
        for p in written:
            if p.suffix in (".csv", ".json", ".txt"):
                text = p.read_text()
                assert not any(i in text for i in ids), p.name
        if fmt == "gpkg":
            import pyogrio

            names = [l[0] for l in pyogrio.list_layers(path)]
            assert sorted(names) == ["areas", "cells", "impact"]
            for name in names:
                frame = gpd.read_file(path, layer=name)
                assert "incident_id" not in frame.columns and "patrol_id" not in frame.columns
                assert all(v >= 5 for v in _count_values(frame))
        meta = json.loads(written[-2].read_text())
        assert meta["partner_safe"] is True and meta["threshold"] == 5
        assert "below 5" in meta["suppression"]
        assert "Partner-safe: yes" in written[-1].read_text()


def test_partner_safe_with_only_incidents_is_refused(layers, tmp_path):
    with pytest.raises(InputError, match="partner-safe"):
        export.write_layers({"incidents": layers["incidents"]}, tmp_path / "x.csv", _meta(), partner_safe=True)


# ----------------------------------------------------------------------------------------------
# Sidecar and file names


def test_sidecar_records_how_to_reproduce(layers, tmp_path):
    written = export.write_layers({"cells": layers["cells"], "areas": layers["areas"]}, tmp_path / "h.gpkg", _meta())
    json_path, text_path = written[-2:]
    assert json_path.name == "h.methods.json" and text_path.name == "h.methods.txt"
    meta = json.loads(json_path.read_text())
    assert meta["what"] == "hotspot cells"
    assert meta["filters"]["date_from"] == "2023-04" and meta["filters"]["districts"] == ["Southampton"]
    assert meta["res"] == 9 and meta["method"] == "gistar" and meta["params"]["alpha"] == 0.05
    assert meta["software_version"] == __version__
    assert meta["exported_at"].startswith("2026-11-27T09:30")
    assert meta["row_counts"] == {"cells": len(layers["cells"]), "areas": len(layers["areas"])}
    assert meta["partner_safe"] is False and meta["sources"][0]["first"] == "2019-04"
    text = text_path.read_text()
    assert FILTERS.describe() in text and "gistar" in text and "2019-04 to 2024-03" in text
    assert geography.ATTRIBUTION in text


def test_sources_come_from_the_store():
    from hotspot_engine.store import database as store

    con = store.connect(":memory:")
    con.execute(
        "INSERT INTO incidents (incident_id, source, month, lat, lon, offence_group, is_proxy, district) VALUES "
        "('a', 'sample', DATE '2019-04-01', 50.9, -1.4, 'robbery', false, 'Southampton'),"
        "('b', 'sample', DATE '2024-03-01', 50.9, -1.4, 'robbery', false, 'Southampton')"
    )
    con.execute(
        "INSERT INTO loads (load_id, file, sha256, format, kind, rows_read, added, already_present, rejected) "
        "VALUES (1, 'incidents.csv', 'abc123', 'incidents', 'incidents', 2, 2, 0, 0)"
    )
    meta = export.ExportMeta.from_store(con, "incidents", Filters(), method=None)
    assert meta.sources == [{"kind": "incidents", "source": "sample", "first": "2019-04", "last": "2024-03", "rows": 2}]
    assert meta.loads[0]["file"] == "incidents.csv" and meta.loads[0]["sha256"] == "abc123"


def test_export_filename_says_what_and_when_in_safe_characters():
    when = datetime(2026, 11, 27, 9, 30)
    name = export.export_filename("hotspot cells", Filters("2022-04", "2023-03"), "gpkg", when)
    assert name == "hotspot_cells_2022-04_2023-03_res9_20261127-0930.gpkg"
    hostile = export.export_filename("../../etc/passwd; rm -rf", Filters(districts=("Basingstoke and Deane",)), ".CSV", when)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", hostile) and ".." not in hostile and hostile.endswith(".csv")
    assert "basingstoke-and-deane" in hostile
    with pytest.raises(InputError, match="shp"):
        export.export_filename("cells", Filters(), "shp")


def test_empty_layers_are_written_and_read_back(layers, tmp_path):
    cells = _cells(_incident_rows()).assign(hotspot_id=None)
    empty = {"cells": export.cells_layer(cells).iloc[:0], "areas": export.areas_layer(None, cells)}
    assert len(empty["areas"]) == 0
    export.write_layers(empty, tmp_path / "e.gpkg", _meta())
    back = gpd.read_file(tmp_path / "e.gpkg", layer="areas")
    assert len(back) == 0 and "hotspot_id" in back.columns


def test_export_filename_names_the_offence_filter():
    when = datetime(2026, 11, 27, 9, 30)
    one = export.export_filename("incidents", Filters(offences=("Robbery",)), "csv", when)
    assert "_robbery_" in one
    many = export.export_filename("incidents", Filters(offences=("Robbery", "GBH", "Murder")), "csv", when)
    assert "_3offences_" in many
