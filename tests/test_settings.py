"""settings.toml: which file the app and the command line read, what overrides it, and the
dashboard's DuckDB threads per query ([store] query_threads)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hotspot_engine.errors import InputError
from hotspot_engine.settings import load_settings, settings_path

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.slow  # the Overview's impact run in AppTest
def test_the_app_store_runs_queries_with_those_threads(app_db):
    from streamlit.testing.v1 import AppTest

    from tests.test_app import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception
    from ui.cached import cursor, settings

    threads = cursor().execute("SELECT current_setting('threads')").fetchall()[0][0]
    assert int(threads) == settings().app_query_threads


# -- which settings file, and what overrides it ------------------------------------------------------

@pytest.fixture
def no_overrides(monkeypatch, tmp_path):
    """No $HOTSPOT_SETTINGS or $HOTSPOT_DB (the session's app_db fixture sets the latter), working
    folder an empty temp folder."""
    monkeypatch.delenv("HOTSPOT_SETTINGS", raising=False)
    monkeypatch.delenv("HOTSPOT_DB", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _write(path: Path, store: str, threshold: int = 5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[store]\npath = "{store}"\n[export]\npartner_safe_threshold = {threshold}\n'
                    f'[hotspots]\nharm_weights = "tables/harm.csv"\n', encoding="utf-8")
    return path


def test_without_a_local_file_the_checkouts_settings_are_read(no_overrides):
    settings = load_settings()
    assert settings_path() == ROOT / "settings.toml"
    assert settings.db_path == ROOT / "data" / "hotspot.duckdb"  # relative to the file, not the working folder


def test_a_settings_file_in_the_working_folder_comes_before_the_checkouts(no_overrides):
    _write(no_overrides / "settings.toml", "local.duckdb", threshold=9)
    settings = load_settings()
    assert settings.db_path == no_overrides / "local.duckdb"
    assert settings.partner_safe_threshold == 9


def test_hotspot_settings_comes_first_and_its_paths_are_relative_to_its_folder(no_overrides, tmp_path, monkeypatch):
    _write(no_overrides / "settings.toml", "local.duckdb")
    named = _write(tmp_path / "deploy" / "hotspot.toml", "stores/main.duckdb", threshold=11)
    monkeypatch.setenv("HOTSPOT_SETTINGS", str(named))
    settings = load_settings()
    assert settings.db_path == tmp_path / "deploy" / "stores" / "main.duckdb"
    assert settings.harm_weights == tmp_path / "deploy" / "tables" / "harm.csv"
    assert settings.partner_safe_threshold == 11


def test_hotspot_settings_naming_no_file_is_an_error_not_the_defaults(no_overrides, monkeypatch):
    # Silently falling back would, for one, drop a deployment's auth_required = true.
    monkeypatch.setenv("HOTSPOT_SETTINGS", str(no_overrides / "missing.toml"))
    with pytest.raises(InputError, match=r"HOTSPOT_SETTINGS: no settings file 'missing\.toml'"):
        load_settings()


def test_hotspot_db_overrides_the_files_store_relative_to_the_working_folder(no_overrides, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTSPOT_SETTINGS", str(_write(tmp_path / "deploy" / "settings.toml", "file.duckdb")))
    monkeypatch.setenv("HOTSPOT_DB", "env.duckdb")
    assert load_settings().db_path == no_overrides / "env.duckdb"


def test_an_installed_engine_without_a_settings_file_uses_the_working_folder(no_overrides, monkeypatch):
    # Installed, the folder above the package is site-packages: no app.py there, so no settings.toml
    # is taken from it, and the store is data/hotspot.duckdb under the working folder.
    site = no_overrides.parent / "site-packages"
    site.mkdir()
    (site / "settings.toml").write_text('[store]\npath = "not-this.duckdb"\n', encoding="utf-8")
    monkeypatch.setattr("hotspot_engine.settings.APP_DIR", site)
    assert settings_path() is None
    settings = load_settings()
    assert settings.db_path == no_overrides / "data" / "hotspot.duckdb"
    assert settings.error_log == no_overrides / "data" / "logs" / "errors.log"  # not inside site-packages
    assert settings.partner_safe_threshold == 5 and settings.harm_weights is None


# -- the command line reads the same file; its options win ---------------------------------------------

def _parsed(*argv: str):
    from hotspot_engine.__main__ import apply_settings, build_parser

    return apply_settings(build_parser().parse_args(list(argv)))


def test_the_command_line_takes_its_defaults_from_the_settings_file(no_overrides):
    _write(no_overrides / "settings.toml", "local.duckdb", threshold=8)
    args = _parsed("export", "hotspots", "--out", "x.csv")
    assert args.db == no_overrides / "local.duckdb"
    assert args.threshold == 8
    assert args.harm_weights == no_overrides / "tables" / "harm.csv"


def test_command_line_options_override_the_settings_file(no_overrides):
    _write(no_overrides / "settings.toml", "local.duckdb", threshold=8)
    args = _parsed("export", "hotspots", "--out", "x.csv", "--db", "given.duckdb", "--threshold", "3",
                   "--harm-weights", "mine.csv")
    assert (args.db, args.threshold, args.harm_weights) == ("given.duckdb", 3, "mine.csv")


def test_commands_without_settings_options_do_not_read_the_file(no_overrides, monkeypatch):
    monkeypatch.setenv("HOTSPOT_SETTINGS", str(no_overrides / "missing.toml"))
    assert _parsed("sample", "--out", "s").out == "s"  # no InputError: the sample needs no settings


@pytest.mark.slow  # every export layer through the command line
def test_export_uses_the_store_and_threshold_of_the_settings_file(no_overrides, sample_db):
    from hotspot_engine.__main__ import main

    shutil.copy(sample_db, no_overrides / "from-settings.duckdb")
    _write(no_overrides / "settings.toml", "from-settings.duckdb", threshold=7)
    (no_overrides / "tables").mkdir()
    shutil.copy(ROOT / "hotspot_engine" / "data" / "harm_weights.csv", no_overrides / "tables" / "harm.csv")
    assert main(["export", "hotspots", "--method", "top-n", "--partner-safe", "--out", "out/h.csv"]) == 0
    assert json.loads((no_overrides / "out" / "h.methods.json").read_text(encoding="utf-8"))["threshold"] == 7


def test_a_broken_settings_file_stops_the_command_line_with_one_line(no_overrides, capsys):
    from hotspot_engine.__main__ import main

    (no_overrides / "settings.toml").write_text("[store\n", encoding="utf-8")
    assert main(["export", "incidents", "--out", "x.csv"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: settings.toml: cannot read settings") and err.count("\n") == 1


def test_the_store_opens_where_the_settings_say_when_no_path_is_given(no_overrides):
    from hotspot_engine.store.database import connect

    _write(no_overrides / "settings.toml", "stores/default.duckdb")
    connect().close()
    assert (no_overrides / "stores" / "default.duckdb").is_file()
