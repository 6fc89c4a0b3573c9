"""A full disk is input the user can fix (exit 2, one line naming the file), on the store and on every
export format; export headers go through the formula guard (issue 25, items 5 and 8)."""
from __future__ import annotations

import errno
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pytest

from hotspot_engine.__main__ import main as cli_main
from hotspot_engine.errors import is_disk_full
from hotspot_engine.write import export
from hotspot_engine.write.sidecar import ExportMeta


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KB tmpfs (needs mount rights: root in the CI container), unmounted afterwards."""
    folder = tmp_path / f"tiny-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "gpkg", "geojson", "parquet"])
def test_an_export_to_a_full_disk_exits_2_with_one_line_and_leaves_nothing(sample_db, tiny_disk, capsys, fmt):
    out = tiny_disk / f"out.{fmt}"
    assert cli_main(["export", "incidents", "--db", str(sample_db), "--out", str(out)]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"error: --out out.{fmt}: cannot write (") and "space" in line.lower(), line
    assert "Traceback" not in line and list(tiny_disk.iterdir()) == []


@pytest.mark.slow
def test_an_ingest_into_a_store_on_a_full_disk_exits_2_with_one_line(sample_dir, tiny_disk, capsys):
    db = tiny_disk / "store.duckdb"
    assert cli_main(["ingest", str(sample_dir / "incidents.csv"), "--db", str(db)]) == 2
    assert _one_line(capsys) == ("error: store.duckdb: cannot write (no space left on the disk); free some space and "
                                 "run the command again")


def test_disk_full_is_recognised_through_library_wrappers():
    class DataLayerError(Exception):
        pass

    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise DataLayerError("write failed") from inner
    except DataLayerError as outer:
        assert is_disk_full(outer)
    assert is_disk_full(RuntimeError('Could not write file "x": No space left on device'))
    assert not is_disk_full(ValueError("bad value"))


def _meta() -> ExportMeta:
    from hotspot_engine.filters import Filters

    return ExportMeta(what="hotspot areas", filters=Filters(date_from="2024-01", date_to="2024-03"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_formula_in_a_column_name_is_neutralised_in_spreadsheet_exports(tmp_path, fmt):
    """A partner layer named '=WEBSERVICE(...)' made the header '=WEBSERVICE(...)_count', which XLSX
    stored as a real formula."""
    name = '=WEBSERVICE("http://127.0.0.1:9/x")_count'
    layer = pd.DataFrame({"hotspot_id": ["H01", "H02"], name: [3, 4], "+other": ["a", "b"]})
    [written, *_] = export.write_layers({"areas": layer}, tmp_path / f"t.{fmt}", _meta())
    if fmt == "csv":
        header = Path(written).read_text(encoding="utf-8").splitlines()[0]
        assert f"\"'{name.replace(chr(34), chr(34) * 2)}\"" in header and "\"'+other\"" in header
    else:
        import openpyxl

        sheet = openpyxl.load_workbook(written).worksheets[0]
        cells = list(sheet.iter_rows(min_row=1, max_row=1))[0]
        assert [c.data_type for c in cells] == ["s", "s", "s"]  # text, never 'f' (formula)
        assert [c.value for c in cells] == ["hotspot_id", "'" + name, "'+other"]
