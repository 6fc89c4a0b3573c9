"""Dashboard speed on a large store: re-render time of each page after a filter change (Streamlit
AppTest, the same script runs a browser session triggers), the size of the pydeck JSON the map page
sends, and the process memory. Prints the figures and the machine; asserts nothing.

    python -m hotspot_engine sample --out /tmp/big --incidents 1000000
    python -m hotspot_engine ingest /tmp/big/incidents.csv /tmp/big/patrols.csv --db /tmp/big/store.duckdb
    python benchmarks/bench_app.py --db /tmp/big/store.duckdb [--changes 8] [--profile]

Targets (issue 6): median re-render after a filter change < 0.5 s, map JSON < 2 MB, RSS < 1.5 GB.
"Cold" changes pick filter values not seen before (nothing cached: the SQL and the Gi* run);
"warm" changes return to values seen before (Streamlit's cache answers, as when a user flips back).
The first run of each page (imports, store, study-area cache) is reported apart.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from machine_info import machine_summary

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = {"Overview": None, "Hotspot map": "pages/1_Hotspot_map.py", "Patrols": "pages/2_Patrols.py",
         "Impact": "pages/3_Impact.py", "Data & export": "pages/4_Data_and_export.py"}
#: Filter changes in order: each a (widget key, value) the sidebar sets. Places and months vary, so
#: every change is a new query for every page.
CHANGES = [
    ("f_csp", ["Safe City Partnership Southampton"]),
    ("f_csp", ["Safer Portsmouth Partnership"]),
    ("f_csp", ["Safer North Hampshire", "Winchester CSP"]),
    ("f_csp", []),
    ("f_months", ("2022-04", "2023-03")),
    ("f_months", ("2021-04", "2022-03")),
    ("f_offence", ["robbery"]),
    ("f_offence", []),
    ("f_csp", ["Havant CSP"]),
    ("f_res", 8),
    ("f_res", 10),
    ("f_res", 9),
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return machine_summary()


def set_widget(at, key: str, value) -> None:
    if key == "f_months" or key == "f_res":
        at.select_slider(key=key).set_value(value)
    else:
        at.multiselect(key=key).set_value(value)


def deck_bytes(at) -> int:
    charts = at.get("deck_gl_json_chart")
    return max((len(c.proto.json.encode()) for c in charts), default=0)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@contextlib.contextmanager
def profiled(what: str):
    """cProfile the script run, which AppTest executes on its own thread (a profiler enabled on
    this thread would only see the waiting)."""
    import cProfile
    import pstats

    from streamlit.runtime.scriptrunner import script_runner

    prof = cProfile.Profile()
    original = script_runner.ScriptRunner._run_script

    def run_script(self, *args, **kwargs):
        prof.enable()
        try:
            return original(self, *args, **kwargs)
        finally:
            prof.disable()

    script_runner.ScriptRunner._run_script = run_script
    try:
        yield
    finally:
        script_runner.ScriptRunner._run_script = original
    print(f"--- profile: {what} ---")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


def bench_page(db: str, name: str, script: str | None, n_changes: int, profile: bool) -> dict:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    t = time.perf_counter()
    at.run()
    if script:
        at.switch_page(script).run()
    first = time.perf_counter() - t
    if at.exception:
        raise SystemExit(f"{name}: {at.exception[0].value}")
    cold, sizes = [], [deck_bytes(at)]
    seen = []
    for key, value in CHANGES[:n_changes]:
        set_widget(at, key, value)
        t = time.perf_counter()
        if profile and len(cold) in (0, n_changes - 1):
            with profiled(f"filter change {key}={value} on {name}"):
                at.run()
        else:
            at.run()
        cold.append(time.perf_counter() - t)
        if at.exception:
            raise SystemExit(f"{name} after {key}={value}: {at.exception[0].value}")
        sizes.append(deck_bytes(at))
        seen.append((key, value))
    warm = []
    for key, value in seen[:n_changes]:
        set_widget(at, key, value)
        t = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t)
    return {"first": first, "cold": cold, "warm": warm, "deck": max(sizes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="store file (not changed: the app only reads it here)")
    parser.add_argument("--changes", type=int, default=8, help=f"filter changes per page (at most {len(CHANGES)})")
    parser.add_argument("--pages", nargs="*", default=list(PAGES), help="page names to measure")
    parser.add_argument("--profile", action="store_true", help="cProfile the first filter change on the map page")
    args = parser.parse_args()
    os.environ["HOTSPOT_DB"] = str(Path(args.db).resolve())
    os.environ.setdefault("HOTSPOT_CACHE", "/tmp/hotspot_bench_cache")

    from hotspot_engine.store.query import extent
    from hotspot_engine.store.database import connect

    con = connect(args.db, read_only=True)
    ext = extent(con)
    con.close()
    print(f"Machine: {machine()}")
    print(f"Store: {ext.incidents:,} incidents, {ext.patrols:,} patrols, {ext.first_month} to {ext.last_month}")
    print(f"{'page':<14} {'first run':>9} {'cold median':>12} {'cold p95':>9} {'warm median':>12} {'deck JSON':>10}")
    for name in args.pages:
        r = bench_page(args.db, name, PAGES[name], min(args.changes, len(CHANGES)), args.profile)
        deck = f"{r['deck'] / 1e6:.2f} MB" if r["deck"] else "-"
        print(f"{name:<14} {r['first']:>8.2f}s {statistics.median(r['cold']):>11.3f}s {pct(r['cold'], 0.95):>8.3f}s "
              f"{statistics.median(r['warm']):>11.3f}s {deck:>10}", flush=True)
    print(f"Process RSS now {rss_mb():,.0f} MB, peak {peak_rss_mb():,.0f} MB (targets: median < 0.5 s, deck < 2 MB, "
          "RSS < 1.5 GB)")
    print(json.dumps({"changes": [f"{k}={v}" for k, v in CHANGES[:args.changes]]}))


if __name__ == "__main__":
    main()
