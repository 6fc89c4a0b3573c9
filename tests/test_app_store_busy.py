"""An app started while an ingest holds the store shows a clear message, not Streamlit's generic
error (issue 25, item 9)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_an_app_started_during_an_ingest_says_the_store_is_in_use(app_db, tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "busy.duckdb"
    shutil.copy(app_db, db)
    # Another process holds the store's write lock, as a running ingest does.
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); "
                               "print('locked', flush=True); time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        monkeypatch.setenv("HOTSPOT_DB", str(db))
        st.cache_resource.clear()  # the app's connection is one per process
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        errors = [e.value for e in at.error]
        assert errors and "busy.duckdb: the store is in use by another process" in errors[0].replace("\\", "")
        assert str(tmp_path) not in errors[0]
    finally:
        holder.kill()
        holder.wait()
        st.cache_resource.clear()  # later tests reopen their own store
        time.sleep(0.1)
