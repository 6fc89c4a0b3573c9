"""settings.toml: the dashboard's DuckDB threads per query ([store] query_threads)."""
from __future__ import annotations

import pytest

from hotspot_engine.errors import InputError
from hotspot_engine.settings import load_settings


def _settings(tmp_path, body: str):
    path = tmp_path / "settings.toml"
    path.write_text(body, encoding="utf-8")
    return load_settings(path)


@pytest.mark.parametrize("cores, expected", [(1, 1), (2, 1), (4, 2), (16, 8), (None, 1)])
def test_query_threads_default_to_half_the_cores(tmp_path, monkeypatch, cores, expected):
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    assert _settings(tmp_path, "[store]\n").app_query_threads == expected
    assert _settings(tmp_path, "[store]\nquery_threads = 0\n").app_query_threads == expected


def test_query_threads_can_be_set(tmp_path):
    assert _settings(tmp_path, "[store]\nquery_threads = 6\n").app_query_threads == 6


@pytest.mark.parametrize("value", ["-1", '"many"', "1.5x"])
def test_a_bad_query_threads_names_the_file_and_the_key(tmp_path, value):
    with pytest.raises(InputError, match=r"settings\.toml.*(query_threads|cannot read)"):
        _settings(tmp_path, f"[store]\nquery_threads = {value}\n")


def test_the_app_store_runs_queries_with_those_threads(app_db):
    from streamlit.testing.v1 import AppTest

    from tests.test_app import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception
    from ui.cached import cursor, settings

    threads = cursor().execute("SELECT current_setting('threads')").fetchall()[0][0]
    assert int(threads) == settings().app_query_threads
