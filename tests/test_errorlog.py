"""Internal errors are recorded (issue 15): the CLI's catch-all and the pages' page_errors write the
exception type and its frames (file, line, function) to the rotating error log set in settings, and
never a value or the exception's message, which can hold incident data."""
from __future__ import annotations

from pathlib import Path

import pytest

from hotspot_engine import errorlog
from hotspot_engine.settings import load_settings

SECRET = "INC-SECRET-42 12 Acacia Avenue"


def _fails_with_data(row: str):
    postcode = "SO14 7LY"  # a local value: must not reach the log
    raise ValueError(f"bad row {row} at {postcode}")


@pytest.fixture
def error_log(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "logs" / "errors.log"
    monkeypatch.setenv("HOTSPOT_ERROR_LOG", str(path))
    return path


def _assert_frames_without_data(text: str, function: str) -> None:
    assert "ValueError" in text
    assert f"in {function}" in text and "test_errorlog.py:" in text, text
    assert SECRET not in text and "SO14" not in text and "bad row" not in text, text


def test_a_forced_error_is_recorded_with_frames_and_no_data(error_log):
    try:
        _fails_with_data(SECRET)
    except ValueError as exc:
        where = errorlog.record_error(exc, "test")
    assert where == error_log
    _assert_frames_without_data(error_log.read_text(encoding="utf-8"), "_fails_with_data")


def test_an_unwritable_log_is_reported_not_raised(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("HOTSPOT_ERROR_LOG", str(blocker / "errors.log"))  # a folder that cannot exist
    assert errorlog.record_error(RuntimeError(SECRET)) is None


def test_the_log_place_comes_from_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTSPOT_ERROR_LOG", raising=False)
    settings = tmp_path / "settings.toml"
    settings.write_text('[logging]\nerror_log = "logs/app-errors.log"\n')
    assert load_settings(settings).error_log == tmp_path / "logs" / "app-errors.log"
    monkeypatch.setenv("HOTSPOT_SETTINGS", str(settings))
    assert errorlog.error_log_path() == tmp_path / "logs" / "app-errors.log"


def test_the_cli_catch_all_records_the_error(error_log, monkeypatch, capsys, tmp_path):
    import hotspot_engine.__main__ as cli

    monkeypatch.delenv("HOTSPOT_DEBUG", raising=False)
    monkeypatch.setattr(cli, "cmd_sample", lambda args: _fails_with_data(SECRET))
    assert cli.main(["sample", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "recorded in" in err and SECRET not in err
    _assert_frames_without_data(error_log.read_text(encoding="utf-8"), "_fails_with_data")


def _page_with_an_error():
    import streamlit as st

    from tests.test_errorlog import SECRET, _fails_with_data
    from ui.errors import page_errors

    with page_errors("test page"):
        _fails_with_data(SECRET)
    st.write("after the block")


def _page_with_bad_input():
    from hotspot_engine.errors import InputError
    from ui.errors import page_errors

    with page_errors("test page", stop=True):
        raise InputError("incidents.csv: row 3, column month: not a month")
    import streamlit as st

    st.write("never drawn")


def test_a_page_error_is_recorded_and_the_page_says_so(error_log):
    from streamlit.testing.v1 import AppTest

    from ui.errors import RECORDED

    at = AppTest.from_function(_page_with_an_error).run()
    assert [e.value for e in at.error] == [RECORDED]
    assert [m.value for m in at.markdown] == ["after the block"]
    _assert_frames_without_data(error_log.read_text(encoding="utf-8"), "_fails_with_data")


def test_a_page_says_when_the_log_could_not_be_written(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui.errors import NOT_RECORDED

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("HOTSPOT_ERROR_LOG", str(blocker / "errors.log"))
    at = AppTest.from_function(_page_with_an_error).run()
    assert [e.value for e in at.error] == [NOT_RECORDED]


def test_bad_input_shows_its_message_and_is_not_logged(error_log):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page_with_bad_input).run()
    assert [e.value for e in at.error] == ["incidents.csv: row 3, column month: not a month"]
    assert not at.markdown
    assert not error_log.exists()
