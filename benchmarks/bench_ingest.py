"""Ingest speed: N incident rows from a realistic force-extract CSV into a fresh store.

    python benchmarks/bench_ingest.py [N] [--sample]

Writes the CSV into a temp dir (not timed), ingests it with ``loading.ingest_paths`` into a temp
DuckDB file (timed), then prints rows/s and peak memory (ru_maxrss). ``--sample`` uses the built-in
sample generator with ``--incidents N`` instead of the local generator. Target: 1,000,000 rows in
under 10 s on the 2-core build machine.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotspot_engine.reference import geography

from hotspot_engine.read import loading

from hotspot_engine.store import database as store  # noqa: E402

OFFENCES = [
    ("8N", "Assault occasioning actual bodily harm"),
    ("5A", "Wounding with intent to do grievous bodily harm"),
    ("34B", "Robbery of personal property"),
    ("10A", "Possession of article with blade or point"),
    ("105A", "Assault without injury"),
    ("66", "Violent disorder"),
    ("8G", "Wounding or inflicting grievous bodily harm"),
]
STREETS = ["High Street", "Commercial Road", "Above Bar Street", "London Road", "Station Road", "Nightclub",
           "Supermarket", "Parking Area", "Shopping Area", "Park/Open Space"]


def write_incidents_csv(path: Path, n: int, seed: int = 1) -> None:
    """A force extract like the sample's incidents.csv: points spread over the study-area cells."""
    rng = np.random.default_rng(seed)
    cells = geography.study_area(9).cells["h3"].to_numpy()
    # Crimes happen on land: keep cells whose centre lies inside a district, not in the sea.
    c_lat, c_lon = geography.cell_centres(cells)
    cells = cells[geography.assign_districts(c_lat, c_lon, tolerance_m=0.0) != None]  # noqa: E711
    # Skewed cell choice, as real crime concentrates in few places.
    weights = rng.pareto(1.2, len(cells)) + 0.01
    chosen = rng.choice(cells, size=n, p=weights / weights.sum())
    lat, lon = geography.cell_centres(chosen)
    lat = lat + rng.normal(0, 0.0003, n)  # about 30 m: points stay near their cell
    lon = lon + rng.normal(0, 0.0004, n)
    start = np.datetime64("2019-04-01T00:00")
    minutes = rng.integers(0, 5 * 365 * 24 * 60, n).astype("timedelta64[m]")
    offence = rng.integers(0, len(OFFENCES), n)
    frame = pd.DataFrame({
        "incident_id": "BENCH-" + pd.Series(np.arange(n)).astype(str).str.zfill(8),
        "occurred_at": pd.Series(start + minutes).dt.strftime("%Y-%m-%dT%H:%M:00"),
        "lat": lat.round(6),
        "lon": lon.round(6),
        "ho_code": np.array([o[0] for o in OFFENCES])[offence],
        "offence": np.array([o[1] for o in OFFENCES])[offence],
        "knife_flag": np.where(rng.random(n) < 0.08, "Y", "N"),
        "location": "On or near " + pd.Series(np.array(STREETS)[rng.integers(0, len(STREETS), n)]),
        "lsoa_code": "E0102" + pd.Series(rng.integers(1000, 9999, n)).astype(str),
    })
    import pyarrow as pa
    import pyarrow.csv as pacsv

    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="incident rows (default 1,000,000)")
    parser.add_argument("--sample", action="store_true", help="use hotspot_engine.sample's generator")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        t0 = time.perf_counter()
        if args.sample:
            from hotspot_engine import sample

            csv_path = sample.write_sample(tmp_path / "sample", incidents=args.n)["incidents"]
        else:
            csv_path = tmp_path / "incidents.csv"
            write_incidents_csv(csv_path, args.n)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"generated {args.n:,} rows ({size_mb:,.0f} MB) in {time.perf_counter() - t0:.1f} s (not timed)")
        # Warm the geography caches so the timing is the loader's, as in a running app.
        geography.assign_districts(np.array([50.9]), np.array([-1.4]))
        con = store.connect(tmp_path / "bench.duckdb")
        # Time spent inside store.store_rows (H3 columns + DuckDB insert) is reported apart from parsing.
        in_store = [0.0]
        real_store_rows = store.store_rows

        def timed_store_rows(*args, **kwargs):
            t = time.perf_counter()
            try:
                return real_store_rows(*args, **kwargs)
            finally:
                in_store[0] += time.perf_counter() - t

        store.store_rows = timed_store_rows
        streamed = [False]
        real_store_stream = store.store_stream

        def flagged_store_stream(*args, **kwargs):
            streamed[0] = True
            return real_store_stream(*args, **kwargs)

        store.store_stream = flagged_store_stream
        t1 = time.perf_counter()
        cpu0 = time.process_time()
        try:
            summaries = loading.ingest_paths(con, [csv_path], max_bytes=1 << 40)
        finally:
            store.store_rows = real_store_rows
            store.store_stream = real_store_stream
        elapsed = time.perf_counter() - t1
        cpu = time.process_time() - cpu0
        con.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for s in summaries:
        print(s.line())
    rows = sum(s.rows_read for s in summaries)
    print(f"ingest: {rows:,} rows in {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s; peak memory {peak_mb:,.0f} MB")
    if streamed[0]:
        print(f"  streamed in blocks of {loading.STREAM_BLOCK_ROWS:,} rows (file >= {loading.STREAM_BYTES >> 20} MB): parsing "
              "and storing overlap, so there is no split between them")
    else:
        print(f"  of which read + parse {elapsed - in_store[0]:.2f} s, store.store_rows (H3 + DuckDB insert) {in_store[0]:.2f} s")
    print(f"  CPU time of this process during ingest: {cpu:.2f} s (all threads; wall time above includes waiting for "
          f"the CPU when other work shares the machine)")
    print(f"  load average now: {' '.join(f'{x:.1f}' for x in __import__('os').getloadavg())} (other work on the machine inflates timings)")


if __name__ == "__main__":
    main()
