"""The data-quality guard (issue 24 item 4, issue 29 item 4): a month planted with one type at 4
times its level is flagged at ingest (command line and service), on the Overview and in export
sidecars; a missing month is reported; ordinary months (the sample, real police.uk months) are not.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.analyse import quality
from tests.conftest import app_serving

ROOT = Path(__file__).resolve().parent.parent
REALDATA = Path("/work/shared/realdata/police-uk-hampshire-2018-03-and-2024-01-to-04.zip")
PLANTED_MONTH = "2022-06"
PLANTED_OFFENCE = "Robbery of personal property"


def _counts(series: dict[str, list[int]], first: str = "2022-01", force: str = "F") -> pd.DataFrame:
    from hotspot_engine.filters import shift_month

    rows = [(force, shift_month(first, k), crime_type, n) for crime_type, values in series.items()
            for k, n in enumerate(values) if n]
    return pd.DataFrame(rows, columns=["force", "month", "crime_type", "count"])


def test_a_type_at_four_times_its_level_is_flagged_and_named():
    rng = np.random.default_rng(1)
    big = list(rng.poisson(300, 12))
    small = list(rng.poisson(80, 12))
    big[5] *= 4
    flags = quality.flag_months(_counts({"Violence and sexual offences": big, "Shoplifting": small}))
    assert flags[["month", "crime_type"]].values.tolist() == [["2022-06", "Violence and sexual offences"]]
    assert 3.5 < flags["ratio"].iloc[0] < 4.5
    line = quality.flag_lines(flags)[0]
    assert line.startswith("2022-06: Violence and sexual offences at ") and "times its usual level" in line
    assert line.endswith(": flagged")


def test_a_type_at_a_fifth_is_flagged_too():
    values = [500, 520, 480, 510, 100, 490, 505]
    flags = quality.flag_months(_counts({"Shoplifting": values}))
    assert flags["month"].tolist() == ["2022-05"] and flags["ratio"].iloc[0] < 0.25


def test_ordinary_noise_and_small_types_are_not_flagged():
    rng = np.random.default_rng(7)
    series = {f"type {k}": list(rng.negative_binomial(20, 20 / (20 + mean), 36))
              for k, mean in enumerate([2, 5, 12, 40, 150, 900])}
    assert quality.flag_months(_counts(series)).empty
    # A rare type jumping from 2 to 9 is noise at this size, whatever its ratio.
    assert quality.flag_months(_counts({"Murder": [2, 1, 3, 9, 2, 2, 1]})).empty


def test_too_few_neighbours_judge_nothing():
    assert quality.flag_months(_counts({"Robbery": [100, 400, 100]})).empty


def test_missing_and_partial_months_are_coverage_gaps():
    counts = _counts({"A": [300, 310, 0, 0, 295, 60, 305, 300], "B": [100, 90, 0, 0, 110, 20, 95, 105]})
    gaps = quality.coverage_gaps(counts)
    assert gaps[["month", "status"]].values.tolist() == [
        ["2022-03", "missing"], ["2022-04", "missing"], ["2022-06", "partial"]]
    line = quality.gap_lines(gaps)[0]
    assert line.startswith("F: missing 2022-03 to 2022-04 (2 months); partial 2022-06 (80 rows, usually")


def test_forces_are_judged_apart():
    a = _counts({"Robbery": [100] * 8}, force="Force A")
    b = _counts({"Robbery": [100, 100, 100, 400, 100, 100, 100, 100]}, force="Force B")
    flags = quality.flag_months(pd.concat([a, b]))
    assert flags["force"].tolist() == ["Force B"]
    assert quality.flag_lines(flags, with_force=True)[0].startswith("Force B 2022-04: Robbery")


# -- through the store, the service, the command line and the app ---------------------------------

def _planted_csv(sample_dir: Path, out: Path, drop_month: str | None = None) -> Path:
    """2022 of the sample, with one offence at 4 times its level in PLANTED_MONTH (3 copies of its
    rows under new ids) or, with ``drop_month``, a month taken out."""
    frame = pd.read_csv(sample_dir / "incidents.csv", dtype=str)
    frame = frame[frame["occurred_at"].str.startswith("2022")]
    if drop_month:
        frame = frame[~frame["occurred_at"].str.startswith(drop_month)]
    else:
        hit = frame[frame["occurred_at"].str.startswith(PLANTED_MONTH) & (frame["offence"] == PLANTED_OFFENCE)]
        copies = [hit.assign(incident_id=hit["incident_id"] + f"-copy{k}") for k in range(3)]
        frame = pd.concat([frame, *copies])
    path = out / "incidents.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def planted_db(sample_dir, tmp_path_factory) -> Path:
    from hotspot_engine import service

    folder = tmp_path_factory.mktemp("planted")
    con = service.open_store(folder / "planted.duckdb")
    service.ingest_files(con, [_planted_csv(sample_dir, folder)])
    con.close()
    return folder / "planted.duckdb"


def test_service_flags_the_planted_month_and_nothing_else(planted_db):
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import open_store
    from hotspot_engine.service.quality import quality_report, quality_warning

    con = open_store(planted_db, read_only=True)
    try:
        report = quality_report(con)
        assert report.flags[["month", "crime_type"]].values.tolist() == [[PLANTED_MONTH, "robbery"]]
        assert 3.0 < report.flags["ratio"].iloc[0] < 4.5
        assert report.gaps.empty
        assert PLANTED_MONTH in quality_warning(con, Filters())
        assert quality_warning(con, Filters(date_from="2022-07")) is None
    finally:
        con.close()


def test_export_sidecar_names_the_flagged_month(planted_db, tmp_path):
    from hotspot_engine.__main__ import main

    out = tmp_path / "incidents.csv"
    assert main(["export", "incidents", "--db", str(planted_db), "--out", str(out)]) == 0
    text = out.with_name("incidents.methods.txt").read_text(encoding="utf-8")
    assert f"Data quality: data quality: {PLANTED_MONTH}: robbery at " in text


def test_exclude_flagged_months_leaves_the_month_out(planted_db):
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import monthly_counts, open_store

    con = open_store(planted_db, read_only=True)
    try:
        kept = monthly_counts(con, Filters())
        left = monthly_counts(con, Filters(exclude_flagged=True))
    finally:
        con.close()
    assert PLANTED_MONTH in kept["month"].tolist() and PLANTED_MONTH not in left["month"].tolist()
    assert len(left) == len(kept) - 1


def test_setting_is_read_strictly(tmp_path):
    from hotspot_engine.errors import InputError
    from hotspot_engine.settings import load_settings

    path = tmp_path / "settings.toml"
    path.write_text("[quality]\nexclude_flagged_months = true\n", encoding="utf-8")
    assert load_settings(path).exclude_flagged_months is True
    path.write_text('[quality]\nexclude_flagged_months = "no"\n', encoding="utf-8")
    with pytest.raises(InputError, match="exclude_flagged_months"):
        load_settings(path)


@pytest.mark.slow  # two ingests through the command line: about 3 s quiet
def test_ingest_prints_the_flag_line_and_a_missing_month(sample_dir, tmp_path, capsys):
    from hotspot_engine.__main__ import main

    planted = _planted_csv(sample_dir, tmp_path)
    assert main(["ingest", str(planted), "--db", str(tmp_path / "a.duckdb")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("data quality:", "coverage:"))]
    assert len(lines) == 1 and lines[0].startswith(f"data quality: {PLANTED_MONTH}: robbery at ")
    assert lines[0].endswith("times its usual level: flagged")

    gap_dir = tmp_path / "gap"
    gap_dir.mkdir()
    assert main(["ingest", str(_planted_csv(sample_dir, gap_dir, drop_month="2022-05")),
                 "--db", str(tmp_path / "b.duckdb")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("data quality:", "coverage:"))]
    assert lines == ["coverage: force records: missing 2022-05 (1 month)"]


@pytest.fixture()
def planted_app(planted_db):
    """The app on the planted store; the shared sample store is restored afterwards."""
    with app_serving(planted_db):
        yield planted_db


def _shown(markdown: str) -> str:
    import re

    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


@pytest.mark.slow  # two AppTest page runs on their own store: about 3 s quiet
def test_overview_and_data_page_warn_of_the_planted_month(planted_app):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [_shown(w.value) for w in at.warning if "Data quality" in w.value]
    assert len(warnings) == 1 and f"{PLANTED_MONTH}: robbery at " in warnings[0]
    at.switch_page("pages/4_Data_and_export.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Far off its neighbouring months" in _shown(w.value) for w in at.warning)


@pytest.mark.slow
def test_real_police_uk_months_and_the_sample_are_not_flagged(sample_dir, tmp_path):
    from hotspot_engine import service

    con = service.open_store(tmp_path / "real.duckdb")
    try:
        service.ingest_files(con, [REALDATA] if REALDATA.exists() else [ROOT / "tests/data/realdata"])
        report = service.quality_report(con)
        assert report.flags.empty, report.flag_lines()
        assert set(report.gaps["status"]) <= {"missing"}  # 2018-03 then 2024-01..04: the years between
    finally:
        con.close()
    con = service.open_store(tmp_path / "sample.duckdb")
    try:
        service.ingest_files(con, [sample_dir / "incidents.csv"])
        report = service.quality_report(con)
        assert report.flags.empty and report.gaps.empty, report.lines()
    finally:
        con.close()


def test_the_setting_leaves_the_month_out_of_command_line_outputs(planted_db, tmp_path, monkeypatch):
    from hotspot_engine.__main__ import main

    settings = tmp_path / "settings.toml"
    settings.write_text("[quality]\nexclude_flagged_months = true\n", encoding="utf-8")
    monkeypatch.setenv("HOTSPOT_SETTINGS", str(settings))
    out = tmp_path / "incidents.csv"
    assert main(["export", "incidents", "--db", str(planted_db), "--out", str(out)]) == 0
    months = pd.read_csv(out, usecols=["month"])["month"]
    assert PLANTED_MONTH not in set(months) and "2022-05" in set(months)
    text = out.with_name("incidents.methods.txt").read_text(encoding="utf-8")
    assert "flagged months left out" in text and "left out of this export" in text


def test_the_setting_on_a_store_made_before_the_check_exits_2_with_one_line(planted_db, tmp_path, monkeypatch, capsys):
    import shutil

    from hotspot_engine.__main__ import main
    from hotspot_engine.store.database import connect

    old = tmp_path / "old.duckdb"
    shutil.copy(planted_db, old)
    con = connect(old)
    con.execute("DROP TABLE quality_flags")
    con.execute("DROP TABLE coverage_gaps")
    con.close()
    settings = tmp_path / "settings.toml"
    settings.write_text("[quality]\nexclude_flagged_months = true\n", encoding="utf-8")
    monkeypatch.setenv("HOTSPOT_SETTINGS", str(settings))
    assert main(["export", "incidents", "--db", str(old), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exclude_flagged_months" in err[0] and "ingest" in err[0]


def test_a_force_holding_fewer_of_the_stores_months_has_them_missing():
    # Cleveland 2021-01..12 with Durham 2021-10..12 (tests/data/realdata): force-wide windows cover
    # Durham's first nine months too, so they are gaps, not months of zero incidents.
    cleveland = _counts({"all": [8000] * 12}, first="2021-01", force="Cleveland Police")
    durham = _counts({"all": [6000] * 3}, first="2021-10", force="Durham Constabulary")
    gaps = quality.coverage_gaps(pd.concat([cleveland, durham]))
    assert gaps["force"].unique().tolist() == ["Durham Constabulary"]
    assert quality.gap_lines(gaps) == ["Durham Constabulary: missing 2021-01 to 2021-09 (9 months)"]


def test_a_flagged_month_left_out_of_the_only_force_is_no_gap_beside_another(planted_db):
    """With [quality] exclude_flagged_months the planted month's rows are left out; on a store of one
    force no other force holds that month, so the hotspots name no force's gap (service.force_gaps):
    their month grid is the months of the rows kept. A series' months are the stored ones, so there
    the month is left out by service.held_months: before, the mean a month counted it as zeros."""
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import force_gaps, held_months, open_store
    from hotspot_engine.service.overview import overview_periods
    from hotspot_engine.store.query import stored_months

    con = open_store(planted_db, read_only=True)
    try:
        gaps = force_gaps(con, Filters(date_from="2022-01", date_to="2023-12", exclude_flagged=True))
        assert gaps.gaps.empty and gaps.lines() == []
        stored = stored_months(con)
        assert held_months(con, Filters()) == stored and PLANTED_MONTH in stored
        assert held_months(con, Filters(exclude_flagged=True)) == stored - {PLANTED_MONTH}
        counted, _ = overview_periods(con, Filters())
        left, _ = overview_periods(con, Filters(exclude_flagged=True))
    finally:
        con.close()
    assert counted is not None and left is not None
    assert (counted.months_held, left.months_held) == (12, 11) and "left out as flagged or partial" in left.line
