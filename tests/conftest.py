"""Shared fixtures: the built-in sample, generated and ingested once per test session; and the split
between the inner loop (`pytest -m "not slow"`, about a minute) and CI (every test).

Measured on the 2-core machine (docs/architecture.md, "Which tests run in the inner loop"): before
the split the inner loop used 344 s of CPU (821 tests), most of it in Chromium, simulations,
AppTests over several stores or pages, and subprocesses; after it, about 73 s (731 tests), of which
about 6 s is collection. Three rules live here rather than in each file: a `browser` test is always
`slow`; hypothesis draws fewer examples in the inner loop (profile "inner") than in CI; and the
inner loop ends with the tests that used over a second of CPU. Two savings for AppTests live here
too (2026-12-07, 933 inner-loop tests at about 110-135 s of CPU on the loaded machine): the
sample's app caches survive a test that points the app at another store, and AppTest's scan of the
installed packages runs once; on the same 12 AppTest modules run side by side, 56.5 -> 47.7 s CPU.
"""
from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

# One BLAS thread, set before numpy loads: the engine's matrices are small (60-120 rows), and
# OpenBLAS's second thread only adds hand-over cost. Measured on the 2-core machine with other work
# beside: its.fixed_b_null on a controlled design (120 x 14, 1,000 draws) took 34 ms of CPU (85 ms
# wall) with two threads, 4 ms (12 ms wall) with one. Subprocesses (the command line, app servers)
# inherit it. A value already set in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

# The checkout's root is on sys.path through pytest's `pythonpath` setting (pyproject.toml).
ROOT = Path(__file__).resolve().parent.parent

# Property tests that leave max_examples to the profile: the full count in CI, a quarter of it in
# the inner loop. `--hypothesis-profile` or $HYPOTHESIS_PROFILE chooses one by hand.
hypothesis_settings.register_profile("ci", max_examples=60, deadline=None)
hypothesis_settings.register_profile("inner", max_examples=15, deadline=None)


def pytest_configure(config):
    chosen = config.getoption("--hypothesis-profile", None) or os.environ.get("HYPOTHESIS_PROFILE")
    hypothesis_settings.load_profile(chosen or ("inner" if _inner_loop(config) else "ci"))


def _inner_loop(config) -> bool:
    return "not slow" in (config.getoption("markexpr", "") or "")


_CPU_SECONDS: dict[str, float] = {}
INNER_LOOP_CPU_LIMIT = 1.0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if "streamlit" in sys.modules:  # only where a test module already uses Streamlit (no import cost)
        _scan_installed_components_once()
        _keep_app_caches_per_store()
    start = time.process_time()
    try:
        return (yield)
    finally:
        item.user_properties.append(("cpu_seconds", time.process_time() - start))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    start = time.process_time()
    try:
        return (yield)
    finally:
        item.user_properties.append(("cpu_seconds", time.process_time() - start))


def pytest_runtest_logreport(report):
    """The CPU of setup and call reaches the process that prints the summary through the test's
    report (with pytest-xdist, the workers measure and the controller prints)."""
    if report.when == "teardown":
        _CPU_SECONDS[report.nodeid] = sum(v for k, v in report.user_properties if k == "cpu_seconds")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """In the inner loop, name the tests that used over a second of CPU (setup and call, this
    process's threads): candidates for `@pytest.mark.slow` or a shared fixture. CPU rather than wall
    time, so that the list does not depend on what else the machine is doing; advice, not a check."""
    if not _inner_loop(config) or not _CPU_SECONDS:
        return
    heavy = sorted(((t, n) for n, t in _CPU_SECONDS.items() if t > INNER_LOOP_CPU_LIMIT), reverse=True)
    total = sum(_CPU_SECONDS.values())
    terminalreporter.write_sep("-", f"inner loop: {total:.0f} s of CPU in tests; {len(heavy)} over "
                                    f"{INNER_LOOP_CPU_LIMIT:.0f} s (mark slow, or share the fixture)")
    for t, nodeid in heavy[:20]:
        terminalreporter.write_line(f"{t:6.1f}s {nodeid}")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """A browser test is slow wherever it is written (it starts an app server and Chromium), so the
    inner loop never waits for one; tryfirst so that `-m "not slow"` sees the added mark."""
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


def _scan_installed_components_once() -> None:
    """Every AppTest instance scans the installed distributions' metadata for Streamlit v2 components
    on its first run (streamlit.components.v2.manifest_scanner, about 95 packages parsed here); the
    installed packages do not change during a test session, so the scan runs once and its answer is
    reused. Measured (2026-12-07): a warm Overview AppTest run took 0.23 s of CPU with the scan, 0.08 s
    without (0.75-1 s wall under load), and each page test creates its own AppTest. The app servers the
    browser tests start are separate processes and still scan for themselves."""
    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:  # a Streamlit without v2 components: nothing to share
        return
    scan = manifest_scanner.scan_component_manifests
    if getattr(scan, "_hotspot_once", False):
        return
    found: list = []

    def scan_once(max_workers: int | None = None) -> list:
        if not found:
            found.append(scan(max_workers))
        return list(found[0])

    scan_once._hotspot_once = True  # type: ignore[attr-defined]
    manifest_scanner.scan_component_manifests = scan_once


#: Stores whose app caches are put aside when a test points the app elsewhere: the session's own
#: (``app_db``), which the app returns to after every such test. Other stores' caches are cleared as
#: before, so their connections close and a test may reopen, copy or lock their files at once.
SHARED_APP_STORES: set[str] = set()


def _serving() -> tuple:
    """What the app would open now: the store, the settings file and every other HOTSPOT_ variable."""
    return (os.getcwd(), *sorted((k, v) for k, v in os.environ.items() if k.startswith("HOTSPOT_")))


def _files_state(serving: tuple) -> tuple:
    """(mtime, size) of the store, its write-ahead log and the settings file that ``serving`` names."""
    env = dict(serving[1:])
    paths = [env.get("HOTSPOT_DB"), env.get("HOTSPOT_DB") and env["HOTSPOT_DB"] + ".wal", env.get("HOTSPOT_SETTINGS")]
    state = []
    for path in paths:
        try:
            found = os.stat(path) if path else None
        except OSError:
            found = None
        state.append(found and (found.st_mtime_ns, found.st_size))
    return tuple(state)


def _keep_app_caches_per_store() -> None:
    """Tests that point the app at another store (or settings file) clear Streamlit's caches when
    they start and again when they end, as the store connection and every cached figure belong to
    the store they were computed on (and the data version, max(load_id), is not unique across
    stores). The clear at the end used to throw away the session sample's caches, so the next
    AppTest on the sample recomputed the Overview's headline and impact (3-5 s of CPU) after each
    such module. Here a clear that comes with a change of store (or settings, or any HOTSPOT_
    variable) away from a store in ``SHARED_APP_STORES`` puts its caches aside instead, and the
    clear that returns to it, its files unchanged since (mtime and size of the store, its WAL and
    the settings file), brings them back: what a test sees is still what that store computes. Any
    other clear clears as before."""
    try:
        from streamlit.runtime.caching import cache_data_api, cache_resource_api
    except ImportError:
        return
    for registry in (cache_data_api._data_caches, cache_resource_api._resource_caches):
        if not hasattr(registry, "_function_caches") or getattr(registry, "_hotspot_kept", None) is not None:
            continue  # another Streamlit's internals, or already done
        registry._hotspot_kept = {}  # serving -> (its function caches, its files' state when put aside)
        registry._hotspot_label = None  # what the caches now in use were filled for
        _wrap_cache_registry(registry)


def _wrap_cache_registry(registry) -> None:
    clear_all, get_cache = registry.clear_all, registry.get_cache

    def labelled_get_cache(*args, **kwargs):
        if registry._hotspot_label is None:
            registry._hotspot_label = _serving()
        return get_cache(*args, **kwargs)

    def clear_really(caches: dict) -> None:
        in_use = registry._function_caches
        registry._function_caches = caches
        try:
            clear_all()
        finally:
            registry._function_caches = in_use

    def clear_or_put_aside() -> None:
        now, label = _serving(), registry._hotspot_label
        kept = registry._hotspot_kept
        if (label is not None and label != now and registry._function_caches
                and dict(label[1:]).get("HOTSPOT_DB") in SHARED_APP_STORES):
            with registry._caches_lock:
                kept[label] = (registry._function_caches, _files_state(label))
                registry._function_caches = {}
            while len(kept) > 2:  # e.g. the sample under a test's own settings file: not served again
                clear_really(kept.pop(next(iter(kept)))[0])
        else:
            clear_all()
        registry._hotspot_label = None
        back = kept.pop(now, None)
        if back is not None and back[1] == _files_state(now):
            with registry._caches_lock:
                registry._function_caches = back[0]
            registry._hotspot_label = now
        elif back is not None:
            clear_really(back[0])

    registry.get_cache = labelled_get_cache
    registry.clear_all = clear_or_put_aside


# The app skips Vega-Lite schema validation when drawing charts (a cost on every run); the tests,
# and the app servers they start, validate every chart they draw.
os.environ["HOTSPOT_VALIDATE_CHARTS"] = "1"


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """incidents.csv, patrols.csv and truth.json written by the `sample` code path."""
    from hotspot_engine.sample import write_sample

    out = tmp_path_factory.mktemp("sample")
    write_sample(out)
    return out


@pytest.fixture(scope="session")
def sample_truth(sample_dir) -> dict:
    return json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_db(sample_dir, tmp_path_factory) -> Path:
    """A store file holding the whole sample, ingested through the real loaders."""
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    from hotspot_engine.sample_partners import PARTNER_FILES, load_partner_sample

    path = tmp_path_factory.mktemp("store") / "sample.duckdb"
    con = connect(path)
    summaries = ingest_paths(con, [sample_dir / "incidents.csv", sample_dir / "patrols.csv"])
    summaries += load_partner_sample(con, {key: sample_dir / name for key, name in PARTNER_FILES.items()})
    con.close()
    assert all(s.balanced and s.rejected == 0 for s in summaries), [s.line() for s in summaries]
    return path


@pytest.fixture(scope="session")
def sample_store(sample_db):
    """An open read-only connection to the sample store (shared: do not write to it)."""
    from hotspot_engine.store.database import connect

    con = connect(sample_db, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def map_layers():
    """(cells, hotspot areas, the Southampton district) that the map renderers' tests draw: about 170
    res-9 cells around Southampton's centre with count, harm and a gi_z, the busiest tenth one
    hotspot whose name carries markup characters (they must be shown as text)."""
    import numpy as np
    import pandas as pd

    from hotspot_engine.reference import geography
    from hotspot_engine.write import export

    rng = np.random.default_rng(5)
    lat = 50.905 + rng.normal(0, 0.005, 300)
    lon = -1.404 + rng.normal(0, 0.007, 300)
    cells = pd.DataFrame({"h3": geography.cells_for_points(lat, lon, 9)}).groupby("h3").size().rename("count").reset_index()
    cells["harm"] = cells["count"] * 365.0
    cells["district"] = "Southampton"
    cells["gi_z"] = (cells["count"] - cells["count"].mean()) / cells["count"].std() * 2
    hot = cells["count"] >= cells["count"].quantile(0.9)
    cells["hotspot_id"] = np.where(hot, "H01", None)
    cells["hotspot_name"] = np.where(hot, "Southampton - Above Bar <Street>", None)
    districts = geography.districts()
    return export.cells_layer(cells), export.areas_layer(None, cells), districts[districts["district"] == "Southampton"]


def _two_districts():
    from hotspot_engine.filters import Filters

    return Filters(date_from="2023-04", date_to="2024-03", districts=("Portsmouth", "Southampton"))


def store_of_police_uk_zips(folder: Path, zips: list[Path], name: str = "store.duckdb") -> Path:
    """A store ingested from the street-level files of data.police.uk download zips (each force's
    own months, as tests/data/realdata holds them), in ``folder`` (made here); the extracted CSVs are
    removed afterwards. The process-wide area goes back to HIPS (ingest widens it to the files' forces)."""
    import zipfile

    from hotspot_engine import service
    from hotspot_engine.reference import geography

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for zip_path in zips:
        with zipfile.ZipFile(zip_path) as archive:
            for member in archive.namelist():
                if member.endswith("-street.csv"):
                    paths.append(folder / Path(member).name)
                    paths[-1].write_bytes(archive.read(member))
    con = service.open_store(folder / name)
    try:
        service.ingest_files(con, paths)
    finally:
        con.close()
        geography.use_area(())
    for path in paths:
        path.unlink()
    return folder / name


#: The window of the adopted-set tests (test_sets.py, test_set_window.py): two districts keep the
#: selection well under a second (the whole force area takes seconds).
TWO_DISTRICTS = _two_districts()


@pytest.fixture()
def store(sample_db, tmp_path):
    """A writable copy of the sample store, open (for tests that adopt sets or otherwise write)."""
    import shutil

    from hotspot_engine.store.database import connect

    path = tmp_path / "store.duckdb"
    shutil.copy(sample_db, path)
    con = connect(path)
    yield con
    con.close()


@pytest.fixture(scope="module")
def chosen(sample_db):
    """The hotspots the engine chooses in ``TWO_DISTRICTS`` on the sample (once per module)."""
    from hotspot_engine.service import analyses
    from hotspot_engine.store.database import connect

    con = connect(sample_db, read_only=True)
    try:
        yield analyses.hotspots(con, TWO_DISTRICTS)
    finally:
        con.close()


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Study-area caches go to a temp folder, never into the developer's data/."""
    os.environ.setdefault("HOTSPOT_CACHE", str(tmp_path_factory.mktemp("cache")))
    os.environ.setdefault("HOTSPOT_ERROR_LOG", str(tmp_path_factory.mktemp("logs") / "errors.log"))


@pytest.fixture(scope="session")
def app_db(sample_db, tmp_path_factory) -> Path:
    """A private copy of the sample store for the app (which opens it read-write), shared by every
    AppTest in the session: Streamlit caches the store connection per process."""
    import shutil

    path = tmp_path_factory.mktemp("app") / "app.duckdb"
    shutil.copy(sample_db, path)
    os.environ["HOTSPOT_DB"] = str(path)
    SHARED_APP_STORES.add(str(path))
    return path


@contextmanager
def app_serving(path: Path):
    """The app pointed at the store ``path`` for the block; the store it served before is restored
    afterwards (Streamlit caches the store connection per process, so the caches are cleared both ways)."""
    import streamlit as st

    before = os.environ.get("HOTSPOT_DB")
    os.environ["HOTSPOT_DB"] = str(path)
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        yield path
    finally:
        if before is None:
            os.environ.pop("HOTSPOT_DB", None)
        else:
            os.environ["HOTSPOT_DB"] = before
        st.cache_resource.clear()
        st.cache_data.clear()


def run_app(page: str | None = None, query: dict | None = None, timeout: int = 180):
    """The app run once (on the store $HOTSPOT_DB names) with ``query`` in the URL, switched to
    ``page`` when given; fails on any exception the page raised."""
    from streamlit.testing.v1 import AppTest

    _scan_installed_components_once()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


REAL_ZIP = ROOT / "tests" / "data" / "realdata" / "police-uk-southampton-2024-01-to-03.zip"


def _real_month(out: Path, month: str) -> Path:
    """One real police.uk month of the test zip, as its own CSV file."""
    import zipfile

    with zipfile.ZipFile(REAL_ZIP) as archive:
        path = out / f"{month}-hampshire-street.csv"
        path.write_bytes(archive.read(f"{month}/{month}-hampshire-street.csv"))
    return path


@pytest.fixture(scope="session")
def real_month_csv(tmp_path_factory) -> Path:
    """A real data.police.uk month (March 2024, Southampton), as the site serves it."""
    return _real_month(tmp_path_factory.mktemp("realmonth"), "2024-03")


@pytest.fixture(scope="session")
def real_stores(sample_dir, real_month_csv, tmp_path_factory) -> dict[str, Path]:
    """Stores as real users have them: one police.uk month, three police.uk months (no times, no
    patrols), three police.uk months with the sample's patrol log, and the force extract with times
    (the sample) without patrols. The sample with patrols is ``sample_db``."""
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    folder = tmp_path_factory.mktemp("realstores")
    plans = {
        "police_uk_one_month": [real_month_csv],
        "police_uk_three_months": [REAL_ZIP],
        "police_uk_with_patrols": [REAL_ZIP, sample_dir / "patrols.csv"],
        "force_extract_no_patrols": [sample_dir / "incidents.csv"],
    }
    stores = {}
    for name, paths in plans.items():
        stores[name] = folder / f"{name}.duckdb"
        con = connect(stores[name])
        ingest_paths(con, paths)
        con.close()
    return stores


@pytest.fixture(scope="session")
def first_start_db(tmp_path_factory) -> Path:
    """The store the app builds at first start (service.open_app_store): the sample, its partner
    layers, its trial (2024-04..09, set and schedule) and the set "Sample 2023-24". Copy it before
    pointing the app at it (the app opens it read-write)."""
    from hotspot_engine import service
    from hotspot_engine.settings import Settings

    path = tmp_path_factory.mktemp("first") / "first.duckdb"
    service.open_app_store(Settings(db_path=path)).close()
    return path


@pytest.fixture(scope="session")
def trial_db(sample_db, sample_dir, tmp_path_factory) -> Path:
    """The sample store with its randomised trial (2024-04..09) loaded, the set adopted and the
    schedule stored (hotspot_engine.sample_trial)."""
    import shutil

    from hotspot_engine.sample_trial import TRIAL_FILES, load_trial_sample
    from hotspot_engine.store.database import connect

    path = tmp_path_factory.mktemp("trial") / "trial.duckdb"
    shutil.copy(sample_db, path)
    con = connect(path)
    summaries = load_trial_sample(con, {k: sample_dir / v for k, v in TRIAL_FILES.items()})
    con.close()
    assert all(s.balanced and s.rejected == 0 for s in summaries)
    return path


@pytest.fixture(scope="session")
def gap_store(tmp_path_factory) -> Path:
    """Real Southampton 2024-01 and 2024-03 only: February is a gap in the data, not a quiet month
    (tests of months the store does not hold). Copy it before writing to it."""
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.store.database import connect

    folder = tmp_path_factory.mktemp("gap")
    path = folder / "gap.duckdb"
    con = connect(path)
    ingest_paths(con, [_real_month(folder, "2024-01"), _real_month(folder, "2024-03")])
    con.close()
    return path
