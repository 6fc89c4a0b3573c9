"""Hostile inputs against the loader's limits: peak memory and time of `ingest` on each.

    python benchmarks/bench_hostile_inputs.py [--keep DIR] [--scale 1.0]

Builds the files issue 20 measured (not timed), then runs ``python -m hotspot_engine ingest FILE``
on each in its own process and prints the exit status, the one line on stderr, the child's peak
resident memory (ru_maxrss from wait4) and the wall time:

- ``zip_bomb_member.zip``: about 2 MB holding one 600 MB CSV member (before: exit 0, 3.5 GB peak);
- ``xlsx_huge_sheet.xlsx``: under 1 MB holding a 200 MB sheet (before: 1.08 GB, 68 s);
- ``csv_huge_field.csv``: an incident CSV with one 200 MB field (before: 2.8 GB);
- ``zip_many_members.zip``: 40 members of 40 MB each, each one acceptable alone (about 10:1),
  1.6 GB together, run with ``--max-archive-gb 1``: refused when the running total passes 1 GB;
- ``real_months.zip``: the five real police.uk months (shared/realdata), for comparison with a
  file that is accepted.

and the files issue 25 measured (its "before" figures in brackets):

- ``xlsx_sheet_bin.xlsx`` / ``xlsx_strings_bin.xlsx``: the sheet, or the shared strings, under a
  name not ending .xml (0.7 MB: 6.1 GB and 377 s; shared strings 1.2-3.8 GB);
- ``parquet_huge_string.parquet``: a small Parquet holding one 900 MB string (4.85 GB);
- ``streets_one_line.geojson``: one 382 MB line (4.3 GB); ``streets_zigzag.geojson``: a 31 MB line
  zig-zagging across the district boundary (5.0 GB, 65 s); ``streets_many_lines.gpkg``: 2.5M lines
  (2.35 GB);
- ``partner_events_10m.csv`` and the same as ``partner_events_10m.zip``: 10M partner events (8.1 GB;
  now streamed and stored at 691 and 694 MB);
- ``partner_areas_10m.csv``: 10M partner area counts, every LSOA-month-measure distinct (refused over
  500,000 rows until its repeated-key check spanned blocks; now streamed: see the README);
- ``police_uk_1gb.csv``: a 1 GB police.uk street CSV (8.3 GB whole, 1,494 MB streamed; now 889 MB), read;
- ``police_uk_100k_columns.csv``: 889 KB with 100,000 extra columns (150 s of CPU);
- ``/dev/zero`` and a FIFO (read for ever; hung).

Target: every hostile file refused with one line naming it, or read, under 1 GB peak (the 1 GB
police.uk CSV included: 889 MB) and in seconds. ``--scale`` shrinks the sizes (0.1 = a tenth);
``--quick`` is ``--scale 0.1``. Timings depend on the machine's load: compare peaks first.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent.parent / "shared" / "realdata"
HEADER = "incident_id,occurred_at,lat,lon,ho_code,offence,location\n"
ROW = "INC-{:09d},2023-05-01T21:30:00,50.909700,-1.404400,34B,Robbery of personal property,On or near High Street\n"
MB = 1_000_000


def _zip_bomb_member(path: Path, size: int) -> None:
    """One CSV member of ``size`` bytes of near-identical rows (ids every 1,000 rows differ)."""
    block = "".join(ROW.format(0) for _ in range(1000)).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("2023-05/extract.csv", "w", force_zip64=True) as member:
            member.write(HEADER.encode())
            written = 0
            while written < size:
                member.write(block)
                written += len(block)


def _xlsx_huge_sheet(path: Path, size: int) -> None:
    """A real workbook whose first sheet's XML is ``size`` bytes of repeated rows."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["incident_id", "occurred_at", "lat", "lon", "offence"])
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    row = ('<row><c t="inlineStr"><is><t>X1</t></is></c><c t="inlineStr"><is><t>2023-05-01</t></is></c>'
           '<c><v>50.9097</v></c><c><v>-1.4044</v></c><c t="inlineStr"><is><t>Robbery</t></is></c></row>')
    rows = (row * 1000).encode()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, source.read(info))
                continue
            xml = source.read(info).decode()
            head, tail = xml.split("</sheetData>") if "</sheetData>" in xml else (xml.replace("<sheetData/>", "<sheetData>"), "")
            with out.open(info.filename, "w", force_zip64=True) as member:
                member.write(head.encode())
                written = 0
                while written < size:
                    member.write(rows)
                    written += len(rows)
                member.write(("</sheetData>" + tail).encode())
    plain.unlink()


def _csv_huge_field(path: Path, size: int) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write(ROW.format(1))
        f.write('INC-2,2023-05-01T21:30:00,50.9097,-1.4044,34B,Robbery,"')
        chunk = "A" * MB
        for _ in range(size // MB):
            f.write(chunk)
        f.write('"\n')
        f.write(ROW.format(3))


def _many_members(path: Path, members: int, size: int) -> None:
    """``members`` CSVs of ``size`` bytes whose rows differ enough to compress about 10:1."""
    import random

    rng = random.Random(1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        body = "".join(ROW.format(rng.randrange(10**9)) for _ in range(20_000)).encode()
        for k in range(members):
            with archive.open(f"m{k:02d}.csv", "w", force_zip64=True) as member:
                member.write(HEADER.encode())
                written = 0
                while written < size:
                    member.write(body)
                    written += len(body)


def _workbook_part_named_bin(path: Path, size: int, part: str) -> None:
    """A workbook whose sheet (``part`` 'sheet') or shared strings ('strings') are ``size`` bytes under
    a '.bin' name that the relationships point at."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["incident_id", "occurred_at", "lat", "lon", "offence"])
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    filler = b"<!-- " + b"x" * MB + b" -->"
    rel = (b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
           b'Target="strings.bin" Id="rId9" /></Relationships>')
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in source.infolist():
            data = source.read(info)
            name = info.filename
            if part == "sheet" and name == "xl/worksheets/sheet1.xml":
                end = data.rindex(b"</")
                with out.open("xl/worksheets/sheet1.bin", "w", force_zip64=True) as member:
                    member.write(data[:end])
                    for _ in range(size // MB):
                        member.write(filler)
                    member.write(data[end:])
                continue
            if part == "sheet":
                data = data.replace(b"sheet1.xml", b"sheet1.bin")
            if part == "strings" and name == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", rel)
            out.writestr(info, data)
        if part == "strings":
            with out.open("xl/strings.bin", "w", force_zip64=True) as member:
                member.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>R</t></si>')
                for _ in range(size // MB):
                    member.write(filler)
                member.write(b"</sst>")
    plain.unlink()


def _parquet_huge_string(path: Path, size: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"incident_id": ["a"], "occurred_at": ["2023-05-01"], "lat": [50.9097], "lon": [-1.4044],
                             "offence": ["x" * size]}), path, compression="zstd")


def _geojson_line(path: Path, vertices: int, zigzag: bool) -> None:
    """One LineString of ``vertices`` points near Southampton; ``zigzag`` crosses the Southampton-
    Eastleigh boundary at every step (the clip's worst case)."""
    with open(path, "w") as f:
        f.write('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Long Road"},'
                '"geometry":{"type":"LineString","coordinates":[')
        step = 200_000
        for start in range(0, vertices, step):
            n = min(step, vertices - start)
            if zigzag:
                pts = (f"[{-1.37 + (k % 2) * 0.02:.6f},{50.93 + (start + k) * 1e-7:.7f}]" for k in range(n))
            else:
                pts = (f"[{-1.45 + (start + k) * 1e-7:.7f},{50.90 + ((start + k) % 2) * 1e-5:.6f}]" for k in range(n))
            f.write(("," if start else "") + ",".join(pts))
        f.write("]}}]}")


def _many_lines(path: Path, count: int) -> None:
    import geopandas as gpd
    import numpy as np
    import shapely

    x = -1.45 + np.arange(count) % 1000 * 1e-4
    y = 50.88 + np.arange(count) // 1000 * 1e-5
    lines = shapely.linestrings(np.stack([np.stack([x, y], 1), np.stack([x + 5e-5, y + 5e-5], 1)], 1))
    gpd.GeoDataFrame({"name": ["Road"] * count}, geometry=lines, crs=4326).to_file(path, engine="pyogrio")


def _partner_events(path: Path, rows: int) -> None:
    with open(path, "w") as f:
        f.write("callout_id,datetime,lat,lon,category\n")
        for start in range(0, rows, 100_000):
            f.write("".join(f"E{k},2024-01-01T22:00:00,50.9097,-1.4044,assault\n"
                            for k in range(start, min(rows, start + 100_000))))


def _partner_areas(path: Path, rows: int) -> None:
    """``rows`` area counts, every one a distinct LSOA, month and measure (the repeated-key check's
    worst case: each key is kept), over the 1,194 LSOAs of geodata/ and 20 years of months."""
    sys.path.insert(0, str(ROOT))
    from hotspot_engine.reference.geography import lsoas

    codes = lsoas()["lsoa_code"].tolist()
    months = [f"{y}-{m:02d}" for y in range(2004, 2024) for m in range(1, 13)]
    per_measure = len(codes) * len(months)
    with open(path, "w") as f:
        f.write("lsoa_code,month,count,measure\n")
        for start in range(0, rows, 100_000):
            f.write("".join(f"{codes[k % len(codes)]},{months[k // len(codes) % len(months)]},{k % 40},"
                            f"measure {k // per_measure}\n" for k in range(start, min(rows, start + 100_000))))


def _zipped(path: Path, build) -> None:
    inner = path.with_suffix(".csv")
    if not inner.exists():
        build(inner)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.write(inner, inner.name)


POLICE_HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
                 "Last outcome category,Context\n")


def _police_uk(path: Path, size: int) -> None:
    """A police.uk street CSV of about ``size`` bytes: real-looking rows, a third anti-social behaviour."""
    import random

    rng = random.Random(7)
    with open(path, "w") as f:
        f.write(POLICE_HEADER)
        written, k = 0, 0
        while written < size:
            rows = []
            for _ in range(20_000):
                k += 1
                asb = k % 3 == 0
                crime_id = "" if asb else f"{rng.getrandbits(128):032x}"
                rows.append(f"{crime_id},2024-0{1 + k % 4},Hampshire Constabulary,Hampshire Constabulary,"
                            f"{-1.45 + rng.random() * 0.1:.6f},{50.88 + rng.random() * 0.06:.6f},"
                            f"On or near Street {k % 5000},E01017{k % 900:03d},Southampton {k % 200:03d}A,"
                            f"{'Anti-social behaviour' if asb else 'Violence and sexual offences'},"
                            f"{'' if asb else 'Under investigation'},\n")
            block = "".join(rows)
            f.write(block)
            written += len(block)


def _wide_police_uk(path: Path, columns: int) -> None:
    extra = "".join(f",x{k}" for k in range(columns))
    row = ",2024-01,Hampshire Constabulary,Hampshire Constabulary,-1.404,50.909,On or near X,E01017140,S 001A," \
          "Anti-social behaviour,,"
    with open(path, "w") as f:
        f.write(POLICE_HEADER.strip() + extra + "\n")
        for _ in range(4):
            f.write(row + "," * columns + "\n")


def _build(build, path: Path) -> None:
    """Build a file in a forked child: the ingest's child is started by fork too, and its peak
    (ru_maxrss) would otherwise start from this process's memory after a big build."""
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=build, args=(path,))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"building {path.name} failed")


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def _run(path: Path, workdir: Path, extra: list[str]) -> tuple[int, str, float, float]:
    """(exit status, last stderr line, peak MB, seconds) of one ingest in a fresh process."""
    started = time.perf_counter()
    with open(workdir / "stderr.txt", "w") as err:
        child = subprocess.Popen([sys.executable, "-m", "hotspot_engine", "ingest", str(path), "--db",
                                  str(workdir / "store.duckdb"), *extra], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    lines = (workdir / "stderr.txt").read_text().strip().splitlines()
    code = os.waitstatus_to_exitcode(status)
    return code, (lines[-1] if lines else "(none)"), usage.ru_maxrss / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="build the files here and keep them")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the issue's sizes")
    parser.add_argument("--quick", action="store_true", help="the same as --scale 0.1")
    parser.add_argument("--skip", default="", help="comma-separated file names not to run")
    parser.add_argument("--only", default="", help="comma-separated file names to run (default: all)")
    args = parser.parse_args()
    if args.quick:
        args.scale = 0.1
    folder = args.keep or Path(tempfile.mkdtemp(prefix="hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    s = args.scale
    cases = [
        ("zip_bomb_member.zip", lambda p: _zip_bomb_member(p, int(600 * MB * s)), []),
        ("xlsx_huge_sheet.xlsx", lambda p: _xlsx_huge_sheet(p, int(200 * MB * s)), []),
        ("csv_huge_field.csv", lambda p: _csv_huge_field(p, int(200 * MB * s)), []),
        ("zip_many_members.zip", lambda p: _many_members(p, 40, int(40 * MB * s)), ["--max-archive-gb", str(s)]),
    ]
    streets = ["--format", "streets"]
    cases += [
        ("xlsx_sheet_bin.xlsx", lambda p: _workbook_part_named_bin(p, int(200 * MB * s), "sheet"), []),
        ("xlsx_strings_bin.xlsx", lambda p: _workbook_part_named_bin(p, int(200 * MB * s), "strings"), []),
        ("parquet_huge_string.parquet", lambda p: _parquet_huge_string(p, int(900 * MB * s)), []),
        ("streets_one_line.geojson", lambda p: _geojson_line(p, int(15_000_000 * s), False), streets),
        ("streets_zigzag.geojson", lambda p: _geojson_line(p, int(1_200_000 * s), True), streets),
        ("streets_many_lines.gpkg", lambda p: _many_lines(p, int(2_500_000 * s)), streets),
        ("partner_events_10m.csv", lambda p: _partner_events(p, int(10_000_000 * s)), ["--format", "partner-events"]),
        ("partner_events_10m.zip", lambda p: _zipped(p, lambda q: _partner_events(q, int(10_000_000 * s))),
         ["--format", "partner-events"]),
        ("partner_areas_10m.csv", lambda p: _partner_areas(p, int(10_000_000 * s)), ["--format", "partner-areas"]),
        ("police_uk_1gb.csv", lambda p: _police_uk(p, int(1000 * MB * s)), []),
        ("police_uk_100k_columns.csv", lambda p: _wide_police_uk(p, 100_000), []),
        ("zero", lambda p: p.symlink_to("/dev/zero"), []),
        ("fifo.csv", lambda p: os.mkfifo(p), []),
    ]
    if (REAL / "police-uk-hampshire-2018-03-and-2024-01-to-04.zip").exists():
        cases.append(("real_months.zip", lambda p: shutil.copy(REAL / "police-uk-hampshire-2018-03-and-2024-01-to-04.zip", p), []))
    print(f"{'file':<28} {'size MB':>8} {'exit':>4} {'peak MB':>8} {'seconds':>8}  message")
    try:
        for name, build, extra in cases:
            if name in args.skip.split(",") or (args.only and name not in args.only.split(",")):
                continue
            path = folder / name
            if not path.exists() and not path.is_symlink():
                _build(build, path)
            workdir = Path(tempfile.mkdtemp(prefix="hostile-run-"))
            try:
                code, line, peak, seconds = _run(path, workdir, extra)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            print(f"{name:<28} {_size(path) / MB:>8.2f} {code:>4} {peak:>8.0f} {seconds:>8.2f}  {line[:150]}",
                  flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
