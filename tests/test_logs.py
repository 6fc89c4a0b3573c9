"""No incident row, coordinate or free text reaches the logs, stdout or stderr during a full run:
sample generation, ingest of the sample and of a data.police.uk file, hotspots, impact and export
through the command line, and every page of the app (AppTest). Police data must not leak into
server logs, which are kept and shipped with far weaker controls than the store."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICE_UK = ROOT / "tests" / "data" / "good" / "2024-03-hampshire-street.csv"
PAGES = ["pages/1_Hotspot_map.py", "pages/2_Patrols.py", "pages/3_Impact.py", "pages/4_Data_and_export.py"]
CANARY = "log-capture-canary-7f3a"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record whose arguments do not format still counts, raw
            self.lines.append(f"{record.msg!r} {record.args!r}")


@pytest.fixture
def every_log():
    """A handler at DEBUG on the root logger and on every logger that does not propagate (Streamlit's
    own), including loggers created later under 'streamlit' or 'hotspot_engine'."""
    handler = _Collect()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(exc_text)s"))
    touched: list[tuple[logging.Logger, int]] = []

    def attach(logger: logging.Logger) -> None:
        touched.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        if handler not in logger.handlers:
            logger.addHandler(handler)

    # pytest's own capture would print DEBUG records in a failure report: keep it out of this test.
    quiet = [(h, h.level) for h in logging.getLogger().handlers if type(h).__module__.startswith("_pytest")]
    for h, _ in quiet:
        h.setLevel(logging.CRITICAL + 1)
    attach(logging.getLogger())
    for name in ("streamlit", "hotspot_engine", "duckdb", "py.warnings"):
        attach(logging.getLogger(name))
    original_get_logger = logging.Logger.manager.getLogger

    def capture_new(name):  # Streamlit makes its loggers lazily and sets propagate=False on them
        logger = original_get_logger(name)
        if handler not in logger.handlers:
            attach(logger)
        return logger

    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            attach(logger)
    logging.Logger.manager.getLogger = capture_new
    logging.captureWarnings(True)
    try:
        yield handler
    finally:
        logging.captureWarnings(False)
        logging.Logger.manager.getLogger = original_get_logger
        for h, level in quiet:
            h.setLevel(level)
        for logger, level in reversed(touched):
            logger.setLevel(level)
            if handler in logger.handlers:
                logger.removeHandler(handler)


def _sensitive(sample_dir: Path) -> tuple[set[str], set[str], set[str]]:
    """Ids, coordinates (as written in the files) and free-text locations of both inputs."""
    sample = pd.read_csv(sample_dir / "incidents.csv", dtype=str, keep_default_na=False)
    police = pd.read_csv(POLICE_UK, dtype=str, keep_default_na=False) if POLICE_UK.exists() else pd.DataFrame()
    ids = set(sample["incident_id"]) | set(police.get("Crime ID", pd.Series(dtype=str))) - {""}
    coords = set(sample["lat"]) | set(sample["lon"])
    locations = set(sample["location"])
    if not police.empty:
        coords |= set(police["Latitude"]) | set(police["Longitude"])
        locations |= set(police["Location"])
    return ids, {c for c in coords if c}, {loc for loc in locations if len(loc) >= 6}


def _leaks(text: str, ids: set[str], coords: set[str], locations: set[str]) -> list[str]:
    found = [t for t in re.findall(r"HIPS-SYN-\d+|\b[0-9a-f]{64}\b", text) if t in ids]
    # Any number with 5+ decimals that is a coordinate of the data, as written there (or rounded to 6).
    for number in re.findall(r"-?\d{1,3}\.\d{5,}", text):
        if number in coords or f"{float(number):.6f}" in coords:
            found.append(number)
    found += [loc for loc in locations if loc in text]
    return found


@pytest.mark.slow  # every command and every page, one after another
def test_a_full_run_writes_no_incident_data_to_logs(tmp_path, monkeypatch, capfd, every_log):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from hotspot_engine.__main__ import main

    db = tmp_path / "store.duckdb"
    sample_dir = tmp_path / "sample"
    logging.getLogger("streamlit.log_test").warning(CANARY)  # proves Streamlit's loggers are captured

    steps = [
        ["sample", "--out", str(sample_dir)],
        ["ingest", str(sample_dir / "incidents.csv"), str(sample_dir / "patrols.csv"), "--db", str(db)],
        *([["ingest", str(POLICE_UK), "--db", str(db)]] if POLICE_UK.exists() else []),
        ["hotspots", "--db", str(db), "--out", str(tmp_path / "hotspots.gpkg")],
        ["impact", "--db", str(db), "--intervention", "2023-04-01", "--out", str(tmp_path / "impact.csv")],
        ["export", "incidents", "--db", str(db), "--sv-only", "--from", "2023-04", "--out", str(tmp_path / "x.csv")],
        ["export", "hotspots", "--db", str(db), "--partner-safe", "--out", str(tmp_path / "h.geojson")],
    ]
    for argv in steps:
        assert main(argv) == 0, argv

    # Every page of the app, on the store just built (caches cleared so it opens this store).
    monkeypatch.setenv("HOTSPOT_DB", str(db))
    monkeypatch.delenv("HOTSPOT_SETTINGS", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        for page in PAGES:
            at.switch_page(page).run()
            assert not at.exception, (page, [e.value for e in at.exception])
        at.multiselect(key="x_layers").set_value(["hotspot_cells", "incidents"]).run()
        at.button(key="x_prepare").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert at.get("download_button"), "the export was not prepared"
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()

    out, err = capfd.readouterr()
    logs = "\n".join(every_log.lines)
    assert CANARY in logs, "the log capture missed Streamlit's loggers"
    assert "incidents.csv [incidents]: read " in out  # stdout was captured
    ids, coords, locations = _sensitive(sample_dir)
    assert len(ids) > 60_000 and len(coords) > 60_000 and locations
    for name, text in (("logs", logs), ("stdout", out), ("stderr", err)):
        # Count only: a failing test must not print the values either (its report is a log too).
        leaked = len(_leaks(text, ids, coords, locations))
        assert leaked == 0, f"incident ids, coordinates or locations found in {name}"


def test_the_leak_check_finds_planted_values():
    """The checker itself: each kind of value is found when it is there (a check that cannot fail is
    no check). Values shaped as in the sample and in data.police.uk files."""
    crime_id = "e9810664fdad1757a3f98ef5ffaee984b5847d16151c494afe8df84edd7f1d5e"
    ids = {"HIPS-SYN-00025837", crime_id}
    coords = {"50.727716", "-1.297277", "-1.408550"}
    locations = {"On or near High Street"}
    assert _leaks("x HIPS-SYN-00025837 y", ids, coords, locations) == ["HIPS-SYN-00025837"]
    assert _leaks(f"crime {crime_id}.", ids, coords, locations) == [crime_id]
    assert _leaks("row at 50.727716,-1.297277", ids, coords, locations) == ["50.727716", "-1.297277"]
    assert _leaks("lon -1.40855000", ids, coords, locations) == ["-1.40855000"]  # same value, other format
    assert _leaks("near 'On or near High Street'", ids, coords, locations) == ["On or near High Street"]
    assert _leaks("read 64486, added 64486 in 3.14159 s; HIPS-SYN-99999999", ids, coords, locations) == []
