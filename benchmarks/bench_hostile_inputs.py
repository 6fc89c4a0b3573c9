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

Target: every hostile file refused with one line naming it, under about 1 GB peak and in seconds.
``--scale`` shrinks the sizes for a quick run (0.1 = a tenth).
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
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    s = args.scale
    cases = [
        ("zip_bomb_member.zip", lambda p: _zip_bomb_member(p, int(600 * MB * s)), []),
        ("xlsx_huge_sheet.xlsx", lambda p: _xlsx_huge_sheet(p, int(200 * MB * s)), []),
        ("csv_huge_field.csv", lambda p: _csv_huge_field(p, int(200 * MB * s)), []),
        ("zip_many_members.zip", lambda p: _many_members(p, 40, int(40 * MB * s)), ["--max-archive-gb", str(s)]),
    ]
    if (REAL / "police-uk-hampshire-2018-03-and-2024-01-to-04.zip").exists():
        cases.append(("real_months.zip", lambda p: shutil.copy(REAL / "police-uk-hampshire-2018-03-and-2024-01-to-04.zip", p), []))
    print(f"{'file':<24} {'size MB':>8} {'exit':>4} {'peak MB':>8} {'seconds':>8}  message")
    try:
        for name, build, extra in cases:
            path = folder / name
            if not path.exists():
                build(path)
            workdir = Path(tempfile.mkdtemp(prefix="hostile-run-"))
            try:
                code, line, peak, seconds = _run(path, workdir, extra)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            print(f"{name:<24} {path.stat().st_size / MB:>8.2f} {code:>4} {peak:>8.0f} {seconds:>8.2f}  {line[:150]}",
                  flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
