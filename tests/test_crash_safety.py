"""Crash safety of the store: an ingest killed with SIGKILL leaves all or none of its file's rows,
and two ingests at once never corrupt the store (the second is refused with one clear line).

Every load is one DuckDB transaction (hotspot_engine/store.py, store_rows); DuckDB holds an exclusive
file lock for a writing process. These tests check both from the outside, through the real command
line in a subprocess, the way a user or a scheduled job would run it."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to see the store opened"),
]


def _start_ingest(paths: list[Path], db: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hotspot_engine", "ingest", *map(str, paths), "--db", str(db)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HOTSPOT_DEBUG": ""})


def _start_python(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _holds_open(pid: int, path: Path) -> bool:
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd_dir / fd) == str(path) for fd in os.listdir(fd_dir))
    except OSError:  # the process exited, or a descriptor closed while we looked
        return False


def _wait_until_store_open(proc: subprocess.Popen, db: Path, timeout: float = 60) -> float:
    """Block until the process has the store file open (it then holds DuckDB's lock); return when."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _holds_open(proc.pid, db):
            return time.monotonic()
        if proc.poll() is not None:
            raise AssertionError(f"ingest exited {proc.returncode} before opening the store: {proc.stderr.read()}")
        time.sleep(0.005)
    raise AssertionError("ingest did not open the store in time")


def _wait_for_wal(proc: subprocess.Popen, db: Path, timeout: float = 120) -> float:
    """Block until DuckDB's write-ahead log appears next to the store (a commit is being written)."""
    wal = db.with_name(db.name + ".wal")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if wal.exists():
            return time.monotonic()
        if proc.poll() is not None:
            return time.monotonic()  # finished (and checkpointed) between two looks
        time.sleep(0.002)
    raise AssertionError("no commit seen in time")


def _state(db: Path) -> dict:
    """Open the store the normal way (replaying DuckDB's WAL) and read what it holds."""
    from hotspot_engine.store.database import connect

    con = connect(db)
    try:
        one = lambda sql: con.execute(sql).fetchall()[0][0]  # noqa: E731
        state = {
            "incidents": one("SELECT count(*) FROM incidents"),
            "distinct_ids": one("SELECT count(DISTINCT incident_id) FROM incidents"),
            "patrols": one("SELECT count(*) FROM patrols"),
            "incident_loads": one("SELECT count(*) FROM loads WHERE kind = 'incidents'"),
            "loaded_rows": one("SELECT COALESCE(sum(added), 0) FROM loads WHERE kind = 'incidents'"),
            "unlogged_rows": one("SELECT count(*) FROM incidents WHERE load_id NOT IN (SELECT load_id FROM loads)"),
        }
        con.execute("CHECKPOINT")  # the recovered store can be written back to disk
    finally:
        con.close()
    return state


@pytest.fixture(scope="module")
def base_store(sample_dir, tmp_path_factory) -> tuple[Path, int]:
    """A store holding the sample's patrols only (so a crash must not touch other loads)."""
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    db = tmp_path_factory.mktemp("crash") / "base.duckdb"
    con = connect(db)
    (summary,) = ingest_paths(con, [sample_dir / "patrols.csv"])
    con.close()
    return db, summary.added


def _rows_in(csv: Path) -> int:
    """Data rows of a sample file: all of them load (conftest's sample_db checks there are no rejects)."""
    import pandas as pd

    return len(pd.read_csv(csv, usecols=["incident_id"]))


def _copy(base: Path, to: Path) -> Path:
    shutil.copy(base, to)
    return to


def _assert_all_or_none(state: dict, patrols: int, full: int) -> str:
    assert state["patrols"] == patrols, "a crashed incident load changed the patrols already stored"
    assert state["distinct_ids"] == state["incidents"]
    assert state["unlogged_rows"] == 0, "rows in the store without their load record"
    if state["incidents"] == 0:
        assert state["incident_loads"] == 0 and state["loaded_rows"] == 0
        return "none"
    assert state["incidents"] == full, f"a partial load survived the crash: {state['incidents']} of {full} rows"
    assert state["incident_loads"] == 1 and state["loaded_rows"] == full
    return "all"


# Deterministic crash points: the CLI with one store function wrapped to SIGKILL the process.
KILL_AT = """
import os, signal, sys
import hotspot_engine.store.database as store
{name} = store.{name}
def then_die(*args, **kwargs):
    result = {name}(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
store.{name} = then_die
from hotspot_engine.__main__ import main
sys.exit(main(["ingest", {csv!r}, "--db", {db!r}]))
"""


@pytest.mark.parametrize("crash_after, expected", [
    ("_insert_new", "none"),  # every row inserted, COMMIT not yet run
    ("store_rows", "all"),  # committed, but killed before the connection closed (no checkpoint)
])
def test_sigkill_at_fixed_points_of_a_load(sample_dir, base_store, tmp_path, crash_after, expected):
    base, patrols = base_store
    db = _copy(base, tmp_path / "fixed.duckdb")
    proc = _start_python(KILL_AT.format(name=crash_after, csv=str(sample_dir / "incidents.csv"), db=str(db)))
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    full = _rows_in(sample_dir / "incidents.csv")
    assert _assert_all_or_none(_state(db), patrols, full) == expected


def test_sigkill_at_any_moment_leaves_all_or_none(sample_dir, base_store, tmp_path):
    """Kill one ingest the instant DuckDB's WAL file appears, i.e. while its load commits (the base
    store is checkpointed, so it has no WAL before), and time that moment; then kill another part-way
    to it (parsing, or inside store_rows: H3 and the insert). Then load the file again."""
    base, patrols = base_store
    csv = sample_dir / "incidents.csv"
    full = _rows_in(csv)

    outcomes = []
    to_commit = None
    for i, when in enumerate(("wal", 0.7)):
        db = _copy(base, tmp_path / f"kill{i}.duckdb")
        proc = _start_ingest([csv], db)
        opened = _wait_until_store_open(proc, db)
        if when == "wal":
            to_commit = _wait_for_wal(proc, db) - opened
        else:
            time.sleep(to_commit * when)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        killed = proc.returncode == -signal.SIGKILL
        assert killed or proc.returncode == 0, proc.returncode
        outcome = _assert_all_or_none(_state(db), patrols, full)
        assert killed or outcome == "all", "an ingest that finished lost its rows"
        outcomes.append((when, "killed" if killed else "finished", outcome))
    assert any(kind == "killed" for _, kind, _ in outcomes), f"no ingest was killed mid-load: {outcomes}"

    # The store of the last run is usable: loading the file again completes it, exactly once.
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    con = connect(db)
    try:
        ingest_paths(con, [csv])
    finally:
        con.close()
    state = _state(db)
    assert state["incidents"] == state["distinct_ids"] == state["loaded_rows"] == full
    assert state["patrols"] == patrols and state["unlogged_rows"] == 0
    print("kill outcomes (when, process, rows kept):", outcomes, f"commit {to_commit:.1f} s after the store opened")


def test_two_ingests_at_once_one_is_refused_and_the_store_is_whole(sample_dir, tmp_path):
    db = tmp_path / "shared.duckdb"
    # The second command is started first and waits, imports done, for a line on its input: then it
    # meets the store within milliseconds of the first opening it, however slow start-up is on a
    # busy machine (started afresh, it once arrived after the first had already finished).
    second = subprocess.Popen(
        [sys.executable, "-c", "import sys, duckdb; from hotspot_engine.__main__ import main; import hotspot_engine.service, "
                               "hotspot_engine.read.loading, hotspot_engine.settings; print('ready', flush=True); "
                               "sys.stdin.readline(); sys.exit(main(sys.argv[1:]))",
         "ingest", str(sample_dir / "patrols.csv"), "--db", str(db)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HOTSPOT_DEBUG": ""})
    assert second.stdout.readline().strip() == "ready"
    first = _start_ingest([sample_dir / "incidents.csv"], db)
    _wait_until_store_open(first, db)
    out2, err2 = second.communicate(input="go\n", timeout=120)
    out1, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1

    # The first holds the store for seconds after opening it, so the second must meet the lock.
    assert second.returncode == 2, (second.returncode, err2)
    lines = err2.strip().splitlines()
    assert len(lines) == 1, err2
    assert lines[0].startswith("error: shared.duckdb: ") and "in use" in lines[0]
    assert str(tmp_path) not in err2 and "Traceback" not in err2
    assert out2 == ""

    # Run again once the store is free: the loads serialise, nothing is lost or doubled.
    again = _start_ingest([sample_dir / "patrols.csv"], db)
    out3, err3 = again.communicate(timeout=120)
    assert again.returncode == 0, err3
    from hotspot_engine.store.database import connect

    con = connect(db, read_only=True)
    try:
        incidents, patrols, loads = con.execute(
            "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM patrols), (SELECT count(*) FROM loads)"
        ).fetchall()[0]
    finally:
        con.close()
    assert loads == 2
    assert _added(out1) == [incidents] and incidents > 10_000
    assert _added(out3) == [patrols] and patrols > 1_000


def _added(stdout: str) -> list[int]:
    """The 'added N' figure of each ingest summary line."""
    return [int(line.split(", added ")[1].split(",")[0]) for line in stdout.splitlines() if ", added " in line]


KILL_MID_POLICE_UK_STREAM = """
import os, signal, sys
import hotspot_engine.read.ingest as ingest
import hotspot_engine.read.streaming as streaming
import hotspot_engine.store.database as store
ingest.STREAM_BYTES = 1
streaming.POLICE_UK_BLOCK_ROWS = 500
streaming.STREAMED_DUCKDB_MEMORY = "8MB"  # uncommitted blocks are written to the store file early
with_h3, calls = store.with_h3, []
def then_die(frame):
    calls.append(1)
    if len(calls) == 8:
        os.kill(os.getpid(), signal.SIGKILL)
    return with_h3(frame)
store.with_h3 = then_die
from hotspot_engine.__main__ import main
sys.exit(main(["ingest", {csv!r}, "--db", {db!r}]))
"""


def test_sigkill_mid_police_uk_stream_with_duckdb_memory_held_leaves_none(base_store, tmp_path):
    """A police.uk file streams with DuckDB's memory held down, so its uncommitted rows go to the store
    file before COMMIT: a kill after seven blocks leaves none of them, and the file then loads whole."""
    base, patrols = base_store
    db = _copy(base, tmp_path / "stream.duckdb")
    head = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
            "Last outcome category,Context")
    rows = [f"{'' if k % 3 == 0 else f'id{k:06d}'},2024-0{1 + k % 4},Hampshire Constabulary,Hampshire Constabulary,"
            f"{-1.4044 + (k % 97) * 1e-4:.6f},{50.9097 + (k % 89) * 1e-4:.6f},On or near Street {k % 50},E01017140,"
            f"Southampton 001A,{'Anti-social behaviour' if k % 3 == 0 else 'Robbery'},," for k in range(6000)]
    csv = tmp_path / "street.csv"
    csv.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    proc = _start_python(KILL_MID_POLICE_UK_STREAM.format(csv=str(csv), db=str(db)))
    proc.communicate(timeout=180)
    assert proc.returncode == -signal.SIGKILL
    assert _assert_all_or_none(_state(db), patrols, 6000) == "none"
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    con = connect(db)
    try:
        [summary] = ingest_paths(con, [csv])
    finally:
        con.close()
    assert summary.added == 6000
    assert _assert_all_or_none(_state(db), patrols, 6000) == "all"
