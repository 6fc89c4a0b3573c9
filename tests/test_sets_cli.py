"""The CONTRACT's hotspot-set commands: `hotspots --adopt`, `sets`, and `--set` on impact,
patrol-plan and export (run in-process through `main`, as the user's arguments reach it)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hotspot_engine.__main__ import main
from hotspot_engine.service import sets
from hotspot_engine.store.database import connect

ROOT = Path(__file__).resolve().parent.parent
NAME = "FY 2023-24"
#: Each command runs a hotspot selection or a model on the sample (seconds each): outside the inner loop.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def adopted_db(sample_db, tmp_path_factory) -> Path:
    """A copy of the sample store with the set NAME adopted through the command line."""
    out = tmp_path_factory.mktemp("sets_cli")
    path = out / "store.duckdb"
    shutil.copy(sample_db, path)
    assert main(["hotspots", "--db", str(path), "--from", "2023-04", "--to", "2024-03", "--adopt", NAME,
                 "--note", "the report's list", "--out", str(out / "chosen.csv")]) == 0
    return path


def _set(path: Path):
    con = connect(path, read_only=True)
    try:
        return sets.load(con, NAME)
    finally:
        con.close()


def test_adopt_stores_what_hotspots_wrote(adopted_db):
    chosen = pd.read_csv(adopted_db.parent / "chosen.csv", dtype={"h3": str}, low_memory=False)
    hot = chosen[chosen["is_hotspot"]]
    adopted = _set(adopted_db)
    assert sorted(adopted.cells["h3"]) == sorted(hot["h3"])
    assert dict(zip(adopted.cells["h3"], adopted.cells["hotspot_id"])) == dict(zip(hot["h3"], hot["hotspot_id"]))
    assert adopted.note == "the report's list" and adopted.adopted_by.startswith("command line")
    # Whether each hotspot stood out beyond chance is kept as the CSV wrote it (audit item 4).
    assert dict(zip(adopted.cells["h3"], adopted.cells["significant"].astype(bool))) == dict(
        zip(hot["h3"], hot["significant"].astype(bool)))
    assert (adopted.window_from, adopted.window_to) == ("2023-04", "2024-03")
    from hotspot_engine.analyse.hotspots import HotspotParams

    assert adopted.filters.sv_only and adopted.params["method"] == HotspotParams().method  # the default method


def test_adopting_a_taken_name_exits_2_unless_replace(adopted_db, tmp_path, capsys):
    args = ["hotspots", "--db", str(adopted_db), "--from", "2022-04", "--to", "2023-03", "--out", str(tmp_path / "h.csv")]
    assert main([*args, "--adopt", NAME]) == 2
    assert "exists" in capsys.readouterr().err
    assert main([*args, "--replace"]) == 2  # --replace alone means nothing
    copy = tmp_path / "copy.duckdb"
    shutil.copy(adopted_db, copy)
    args[2] = str(copy)
    assert main([*args, "--adopt", NAME, "--replace"]) == 0
    assert _set(copy).window_from == "2022-04"


def test_sets_lists_one_line_each(adopted_db, capsys):
    assert main(["sets", "--db", str(adopted_db)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    adopted = _set(adopted_db)
    assert len(lines) == 1
    assert lines[0].startswith(NAME) and "window 2023-04 to 2024-03" in lines[0]
    assert f"{len(adopted.hotspots())} hotspots" in lines[0] and f"{len(adopted.cells)} cells" in lines[0]


def test_export_hotspots_with_set_writes_the_sets_cells(adopted_db, tmp_path):
    out = tmp_path / "set.csv"
    assert main(["export", "hotspots", "--set", NAME, "--db", str(adopted_db), "--out", str(out)]) == 0
    cells = pd.read_csv(tmp_path / "set_hotspot_cells.csv", dtype={"h3": str})
    adopted = _set(adopted_db)
    assert cells["is_hotspot"].all() and sorted(cells["h3"]) == sorted(adopted.cells["h3"])
    merged = cells.merge(adopted.cells, on="h3", suffixes=("", "_set"))
    assert (merged["hotspot_id"] == merged["hotspot_id_set"]).all()
    assert (merged["hotspot_name"] == merged["hotspot_name_set"]).all()
    assert (merged["hotspot_number"] == merged["hotspot_number_set"]).all()


def test_export_patrols_with_set_tags_the_sets_hotspots(adopted_db, tmp_path):
    out = tmp_path / "patrols.csv"
    assert main(["export", "patrols", "--set", NAME, "--db", str(adopted_db), "--from", "2023-04", "--to", "2023-06",
                 "--out", str(out)]) == 0
    rows = pd.read_csv(out, dtype={"h3": str})
    tagged = rows[rows["hotspot_id"].notna()]
    adopted = _set(adopted_db)
    assert len(tagged) > 0
    names = adopted.hotspots().set_index("hotspot_id")["hotspot_name"]
    assert (tagged["hotspot_name"] == tagged["hotspot_id"].map(names)).all()


def test_patrol_plan_with_set_plans_the_sets_hotspots(adopted_db, tmp_path):
    out, dosage = tmp_path / "plan.csv", tmp_path / "dosage.csv"
    assert main(["patrol-plan", "--set", NAME, "--db", str(adopted_db), "--from", "2024-01", "--to", "2024-03",
                 "--out", str(out), "--dosage", str(dosage)]) == 0
    table = pd.read_csv(dosage)
    hotspots = _set(adopted_db).hotspots()
    assert list(table.sort_values("hotspot_rank")["hotspot_id"]) == list(hotspots["hotspot_id"])
    assert list(table.sort_values("hotspot_rank")["hotspot_rank"]) == list(hotspots["hotspot_number"])
    assert set(pd.read_csv(out)["hotspot_id"]) <= set(hotspots["hotspot_id"])


def test_impact_with_set_takes_its_hotspots_and_window(adopted_db, tmp_path):
    out = tmp_path / "impact.csv"
    assert main(["impact", "--set", NAME, "--db", str(adopted_db), "--intervention", "2023-10-01",
                 "--to", "2024-03", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    hotspots = _set(adopted_db).hotspots()
    rows = table[table["hotspot_id"] != "pooled"]
    assert list(rows["hotspot_id"]) == list(hotspots["hotspot_id"])
    assert list(rows["hotspot_number"].astype(int)) == list(hotspots["hotspot_number"])
    assert list(rows["hotspot_name"]) == list(hotspots["hotspot_name"])
    assert (table["selection_window"] == "2023-04 to 2024-03").all()


def test_an_unknown_set_exits_2_with_one_line(adopted_db, tmp_path):
    done = subprocess.run([sys.executable, "-m", "hotspot_engine", "impact", "--set", "no such", "--db", str(adopted_db),
                           "--intervention", "2023-10-01", "--out", str(tmp_path / "i.csv")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: --set no such: no such hotspot set; 'sets' lists them"]
