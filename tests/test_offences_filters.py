"""Offence groups (the partnership's serious-violence definition), harm weights, and Filters."""
from __future__ import annotations

import pandas as pd
import pytest

from hotspot_engine.errors import InputError
from hotspot_engine.filters import Filters, months_between, shift_month
from hotspot_engine.reference.offences import SV_GROUPS, load_harm_weights, load_offence_map, resolve_group


def test_eight_serious_violence_groups():
    # HIPS VRP definition: murder, attempted murder, GBH, robbery, possession of a weapon,
    # violent disorder, riot, violence with injury where a bladed item was used.
    assert len(SV_GROUPS) == 8 and "knife_injury" in SV_GROUPS and "riot" in SV_GROUPS


@pytest.mark.parametrize("ho, text, knife, expected", [
    ("1", "Murder", "N", "murder"),
    ("4.1", "Manslaughter", "N", "murder"),
    ("2", "Attempted murder", "Y", "attempted_murder"),
    (None, "Attempted murder", None, "attempted_murder"),
    ("5D", "Wounding with intent", "N", "gbh"),
    ("8N", "Inflicting grievous bodily harm without intent (s20)", "N", "gbh"),  # s20 sits in 8N
    ("8N", "Assault occasioning actual bodily harm", "Y", "knife_injury"),
    ("8N", "Assault occasioning actual bodily harm", "N", "other_violence"),
    ("34B", "Robbery of personal property", "N", "robbery"),
    ("10D", "Possession of article with blade or point", "N", "weapon_possession"),
    ("062A", "Violent disorder", "N", "violent_disorder"),  # leading zeros tolerated
    ("", "Riot", "N", "riot"),
    ("105A", "Assault without injury", "Y", "other_violence"),  # knife flag only upgrades injury
    ("49", "Theft from the person", "N", "other"),
])
def test_classification(ho, text, knife, expected):
    offence_map = load_offence_map()
    knife_flag = pd.Series([knife == "Y"]) if knife is not None else None
    got = offence_map.classify(pd.Series([ho], dtype=object), pd.Series([text]), knife_flag)
    assert got[0] == expected


def test_offence_map_errors_name_row_and_column(tmp_path):
    bad = tmp_path / "map.csv"
    bad.write_text("kind,pattern,group\nho_code,1,murder\nho_code,2,homicidal\n")
    with pytest.raises(InputError, match=r"map.csv: row 3, column group"):
        load_offence_map(bad)


def test_harm_weights_default_and_partial_user_file(tmp_path):
    default = load_harm_weights().set_index("group")["weight_days"]
    assert default["murder"] > default["gbh"] > default["robbery"] > default["other_violence"] > 0
    user = tmp_path / "w.csv"
    user.write_text("group,weight_days\nrobbery,1000\n")
    merged = load_harm_weights(user).set_index("group")["weight_days"]
    assert merged["robbery"] == 1000 and merged["murder"] == default["murder"]
    user.write_text("group,weight_days\nrobbery,-3\n")
    with pytest.raises(InputError, match="row 2, column weight_days"):
        load_harm_weights(user)


def test_resolve_group_accepts_labels():
    assert resolve_group("Possession of a weapon") == "weapon_possession"
    assert resolve_group("GBH") == "gbh"
    with pytest.raises(InputError, match="unknown offence category"):
        resolve_group("jaywalking")


def test_filters_validate_and_describe():
    f = Filters(date_from="2023-04", date_to="2024-03", csps=("B", "A", "A"), res=9)
    assert f.csps == ("A", "B") and hash(f) == hash(Filters(date_from="2023-04", date_to="2024-03", csps=("A", "B")))
    assert "2023-04 to 2024-03" in f.describe()
    for bad in ({"date_from": "2023-13"}, {"date_from": "2024-01", "date_to": "2023-01"}, {"res": 12}):
        with pytest.raises(InputError):
            Filters(**bad)


@pytest.mark.parametrize("window, words", [
    ({}, "all stored months"),
    ({"date_from": "2024-01"}, "2024-01 to the last stored month"),
    ({"date_to": "2024-04"}, "the first stored month to 2024-04"),
    ({"date_from": "2024-01", "date_to": "2024-04"}, "2024-01 to 2024-04"),
])
def test_an_open_window_is_worded_not_start_to_end(window, words):
    """`impact` without --from wrote "Filters: start to end" in its sidecar (audit 3 item 13)."""
    from hotspot_engine.write.sidecar import ExportMeta

    filters = Filters(**window)
    assert filters.period() == words and filters.describe().startswith(words + " | ")
    meta = ExportMeta(what="impact", filters=filters)
    assert f"Filters: {words} | " in meta.to_text() and meta.to_dict()["filters_text"].startswith(words)
    assert "start" not in filters.describe().replace("stored", "") and " end" not in filters.describe()


def test_month_helpers():
    assert months_between("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert shift_month("2024-01", -1) == "2023-12" and shift_month("2023-04", 11) == "2024-03"
