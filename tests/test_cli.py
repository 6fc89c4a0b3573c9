"""The command line (the README's "Command line" section): sample -> ingest -> export round-trips
every row; hotspots and impact write the documented columns; bad input exits 2 with one line and no
traceback."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hotspot_engine.__main__ import main

#: The command line is run as a user runs it, in subprocesses: outside the inner loop (`-m "not slow"`).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
INCIDENT_COLUMNS = ["incident_id", "month", "occurred_at", "lat", "lon", "offence", "sv_category", "district", "csp", "h3"]
HOTSPOT_COLUMNS = ["h3", "district", "csp", "count", "harm", "gi_z", "gi_p", "gi_p_fdr", "gi_bin", "is_hotspot",
                   "hotspot_id", "hotspot_name", "patrols", "patrol_minutes"]
IMPACT_COLUMNS = ["hotspot_id", "hotspot_name", "months_pre", "months_post", "mean_pre", "mean_post",
                  "simple_change_pct", "its_change_pct", "ci_low_pct", "ci_high_pct", "p_value", "wdq"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hotspot_engine", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def cli_db(sample_db, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "cli.duckdb"
    shutil.copy(sample_db, path)
    return path


def test_export_incidents_round_trips_every_row(sample_dir, cli_db, tmp_path):
    out = tmp_path / "incidents.csv"
    assert main(["export", "incidents", "--db", str(cli_db), "--out", str(out)]) == 0
    exported = pd.read_csv(out, dtype={"incident_id": str, "h3": str})
    source = pd.read_csv(sample_dir / "incidents.csv", dtype={"incident_id": str})
    assert set(INCIDENT_COLUMNS) <= set(exported.columns)
    assert len(exported) == len(source)
    assert set(exported["incident_id"]) == set(source["incident_id"])
    assert exported["district"].notna().all() and exported["csp"].notna().all()
    assert exported["h3"].str.len().eq(15).all()
    import h3

    # The cell that holds each point at --res (default 9), as h3-py computes it.
    expected = [h3.latlng_to_cell(a, b, 9) for a, b in zip(exported["lat"], exported["lon"])]
    assert (exported["h3"] == pd.Series(expected, index=exported.index)).all()
    merged = source.merge(exported, on="incident_id", suffixes=("_in", "_out"))
    assert (merged["lat_in"] - merged["lat_out"]).abs().max() < 1e-6
    # sv_category is empty exactly for the rows outside the serious-violence definition
    assert exported.loc[exported["offence"].str.contains("common assault", case=False), "sv_category"].isna().all()
    assert (out.parent / "incidents.methods.json").exists()


def test_export_filters_and_formats(cli_db, tmp_path):
    out = tmp_path / "robbery.gpkg"
    code = main(["export", "incidents", "--db", str(cli_db), "--offence", "robbery", "--csp", "Gosport CSP",
                 "--from", "2023-04", "--to", "2024-03", "--out", str(out)])
    assert code == 0
    import geopandas as gpd

    frame = gpd.read_file(out, layer="incidents")
    assert len(frame) > 0
    assert set(frame["sv_category"]) == {"robbery"} and set(frame["district"]) == {"Gosport"}
    assert frame["month"].between("2023-04", "2024-03").all()


def test_hotspots_command_writes_the_contract(cli_db, tmp_path, sample_truth):
    out = tmp_path / "hotspots.csv"
    result = _cli("hotspots", "--db", str(cli_db), "--from", "2022-04", "--to", "2023-03", "--out", str(out))
    assert result.returncode == 0, result.stderr
    cells = pd.read_csv(out, dtype={"h3": str, "hotspot_id": str, "hotspot_name": str, "top_location": str, "area_name": str})
    assert set(HOTSPOT_COLUMNS) <= set(cells.columns)
    assert cells["hotspot_id"].dropna().nunique() == len(sample_truth["hotspots"])
    assert (cells["count"] >= 0).all() and len(cells) > 40_000  # every cell of the study area, zeros included


def test_impact_command_with_a_hotspots_file(cli_db, tmp_path, sample_truth):
    hot = tmp_path / "hot.gpkg"
    assert _cli("hotspots", "--db", str(cli_db), "--from", "2022-04", "--to", "2023-03", "--out", str(hot)).returncode == 0
    out = tmp_path / "impact.csv"
    result = _cli("impact", "--db", str(cli_db), "--intervention", "2023-04-01", "--hotspots", str(hot), "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert set(IMPACT_COLUMNS) <= set(table.columns)
    pooled = table.set_index("hotspot_id").loc["pooled"]
    # The corrected estimate covers what the patrols really did; the window came from the sidecar.
    assert pooled["corrected_ci_low_pct"] <= sample_truth["true_effect"] * 100 <= pooled["corrected_ci_high_pct"]
    assert pooled["selection_window"] == "2022-04 to 2023-03"
    assert "pooled: corrected for regression to the mean" in result.stdout
    sidecar = (tmp_path / "impact.methods.txt").read_text(encoding="utf-8")
    assert "Kiefer & Vogelsang" in sidecar and "selection_window: 2022-04 to 2023-03" in sidecar


@pytest.mark.parametrize("args, needle", [
    (["hotspots", "--res", "13", "--out", "x.csv"], "resolution"),
    (["export", "incidents", "--from", "2023-13", "--out", "x.csv"], "YYYY-MM"),
    (["export", "incidents", "--csp", "Atlantis", "--out", "x.csv"], "Atlantis"),
    (["export", "incidents", "--out", "x.shp"], ".shp"),
    (["impact", "--intervention", "last tuesday", "--out", "x.csv"], "intervention"),
])
def test_bad_arguments_exit_2_with_one_line(cli_db, tmp_path, args, needle):
    result = _cli(*args[:1], "--db", str(cli_db), *args[1:])
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert needle.lower() in lines[0].lower()


def test_ingest_of_a_missing_file_exits_2(tmp_path):
    result = _cli("ingest", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "s.duckdb"))
    assert result.returncode == 2 and "nope.csv" in result.stderr and "Traceback" not in result.stderr


def test_every_command_has_help():
    for command in ("sample", "ingest", "export", "hotspots", "impact"):
        result = _cli(command, "--help")
        assert result.returncode == 0 and "usage" in result.stdout.lower()


def test_sample_command_writes_truth(tmp_path):
    assert main(["sample", "--out", str(tmp_path), "--incidents", "5000"]) == 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["intervention_date"] == "2023-04-01" and truth["report_change"] == -0.17 and truth["true_effect"] > -0.17
    assert len(truth["hotspots"]) == 19 and truth["patrols_2023_24"] == 2934
    rows = sum(1 for _ in open(tmp_path / "incidents.csv")) - 1
    assert abs(rows - 5000) < 200


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".parquet"])
def test_hotspots_writes_the_file_it_is_told_to(cli_db, tmp_path, suffix):
    """The file a user names is always written, whatever the format (`--out x.parquet` once wrote
    only x_hotspot_cells.parquet and x_hotspot_areas.parquet); it holds every study cell."""
    import geopandas as gpd

    out = tmp_path / f"hot{suffix}"
    assert main(["hotspots", "--db", str(cli_db), "--from", "2022-04", "--to", "2023-03", "--out", str(out)]) == 0
    assert out.exists()
    cells = {".csv": lambda p: pd.read_csv(p, low_memory=False), ".geojson": gpd.read_file,
             ".parquet": gpd.read_parquet}[suffix](out)
    assert set(HOTSPOT_COLUMNS) <= set(cells.columns)
    assert cells["is_hotspot"].astype(str).str.lower().isin(["true", "1", "1.0"]).any()
    if suffix == ".parquet":
        areas = gpd.read_parquet(tmp_path / "hot_hotspot_areas.parquet")
        assert len(areas) == cells.loc[cells["hotspot_id"].notna(), "hotspot_id"].nunique()


def test_export_hotspots_hot_only_keeps_only_the_hotspot_cells(cli_db, tmp_path):
    assert main(["export", "hotspots", "--db", str(cli_db), "--out", str(tmp_path / "all.csv")]) == 0
    assert main(["export", "hotspots", "--db", str(cli_db), "--hot-only", "--out", str(tmp_path / "hot.csv")]) == 0
    all_cells = pd.read_csv(tmp_path / "all_hotspot_cells.csv", low_memory=False)
    hot_cells = pd.read_csv(tmp_path / "hot_hotspot_cells.csv", low_memory=False)
    assert 0 < len(hot_cells) < len(all_cells) / 50 and hot_cells["is_hotspot"].all()
    assert set(hot_cells["h3"]) == set(all_cells.loc[all_cells["is_hotspot"], "h3"])
    # p-values keep their precision; a tail that underflowed to 0 is written as an upper bound, never 0.0.
    assert (all_cells["gi_p"] > 0).all() and all_cells["gi_p"].min() < 1e-100
    assert "Hotspot cells only" in (tmp_path / "hot.methods.txt").read_text(encoding="utf-8")


def test_command_line_process_starts_one_blas_thread_and_no_huge_pages(tmp_path):
    """`python -m hotspot_engine`'s set-up (``__main__`` block): OpenBLAS (numpy's and scipy.special's
    copies) with one thread unless the user chose a count, and no transparent huge pages. Each was
    measured to cost 0.1-0.3 s of CPU a `hotspots` run (docstrings of the two functions)."""
    import os

    probe = (
        "import json, os\n"
        "from hotspot_engine.__main__ import keep_small_pages, one_blas_thread\n"
        "keep_small_pages(); one_blas_thread()\n"
        "import numpy\n"
        "from hotspot_engine.analyse.gistar import special_functions\n"
        "special_functions()\n"
        "from threadpoolctl import threadpool_info\n"
        "status = open('/proc/self/status').read() if os.path.exists('/proc/self/status') else ''\n"
        "thp = [line.split()[-1] for line in status.splitlines() if line.startswith('THP_enabled')]\n"
        "print(json.dumps({'blas': [i['num_threads'] for i in threadpool_info() if i['internal_api'] == 'openblas'],\n"
        "                  'thp': thp, 'env': os.environ.get('OPENBLAS_NUM_THREADS')}))\n")
    base = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")}
    root = Path(__file__).resolve().parent.parent

    def run(extra: dict) -> dict:
        out = subprocess.run([sys.executable, "-c", probe], env={**base, **extra}, cwd=root,
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    plain = run({})
    assert plain["env"] == "1" and plain["blas"] and set(plain["blas"]) == {1}
    if plain["thp"]:  # Linux with the field (kernel 6.x): huge pages off for the process
        assert plain["thp"] == ["0"]
    chosen = run({"OMP_NUM_THREADS": "2"})  # a count the user chose wins
    assert chosen["env"] is None and set(chosen["blas"]) == {2}
