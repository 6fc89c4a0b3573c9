"""Editable lookup CSVs (# comment lines): errors give the row as the line of the file, comments counted."""
from __future__ import annotations

import pytest

from hotspot_engine.errors import InputError
from hotspot_engine.analyse.hotspots import load_exclusions
from hotspot_engine.reference.lookup_csv import read_lookup_csv
from hotspot_engine.reference.offences import load_offence_map


def test_rows_keep_the_line_numbers_of_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("# a comment\n\n kind , pattern\n# between\nho_code, 105/01 \ntext\n", encoding="utf-8")
    header, rows = read_lookup_csv(path, "a table")
    assert header == ["kind", "pattern"]
    assert rows == [(5, {"kind": "ho_code", "pattern": "105/01"}), (6, {"kind": "text", "pattern": ""})]


def test_an_empty_or_comment_only_file_has_no_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("# only a comment\n", encoding="utf-8")
    assert read_lookup_csv(path, "a table") == ([], [])


def test_an_exclusion_error_names_the_line_after_the_comments(tmp_path):
    path = tmp_path / "exclusions.csv"
    path.write_text("# my list\n# of places\npattern,reason\nhospital,reported there\n,no pattern\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"exclusions\.csv: row 5, column pattern: empty"):
        load_exclusions(path)


def test_an_offence_map_error_names_the_line_after_the_comments(tmp_path):
    path = tmp_path / "offence_map.csv"
    path.write_text("# mapping\nkind,pattern,group\n\nho_code,105/01,gbh\ntext,robbery,no_such_group\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"offence_map\.csv: row 5, column group: unknown offence group 'no_such_group'"):
        load_offence_map(path)


def test_the_shipped_tables_still_load():
    assert len(load_exclusions()) > 0
    mapping = load_offence_map()
    assert mapping.ho_codes and mapping.text_rules
