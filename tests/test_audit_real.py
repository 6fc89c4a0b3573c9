"""Audit on real police.uk months (this session): what the command line's outputs say about
themselves on a police.uk store, and what they say about months the store does not hold."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hotspot_engine.reference.offences import PROXY_NOTE

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # the command line on a real two-month store
def test_command_line_sidecars_carry_the_police_uk_proxy_caveat(gap_store, tmp_path):
    """The hotspots, export, impact and schedule sidecars on the real Hampshire store never named the
    serious-violence proxy (only the app's exports, which pass a context, did)."""
    from hotspot_engine.__main__ import main

    db = tmp_path / "gap.duckdb"
    shutil.copy(gap_store, db)
    assert main(["hotspots", "--db", str(db), "--from", "2024-01", "--to", "2024-03", "--sv-only",
                 "--adopt", "S", "--out", str(tmp_path / "hs.csv")]) == 0
    assert main(["export", "hotspots", "--db", str(db), "--set", "S", "--out", str(tmp_path / "set.csv")]) == 0
    assert main(["impact", "--db", str(db), "--set", "S", "--intervention", "2024-03-01",
                 "--out", str(tmp_path / "imp.csv")]) == 0
    assert main(["schedule", "--db", str(db), "--set", "S", "--start", "2024-04-01", "--days", "28",
                 "--out", str(tmp_path / "sched.csv")]) == 0
    for stem in ("hs", "set", "imp", "sched"):
        text = (tmp_path / f"{stem}.methods.txt").read_text(encoding="utf-8")
        assert f"Note: Data: data.police.uk street-level crime (month and approximate location only). {PROXY_NOTE}" in text, stem


def test_force_records_get_no_proxy_note(sample_store):
    from hotspot_engine import service
    from hotspot_engine.filters import Filters

    meta = service.export_meta(sample_store, "incidents", Filters())
    assert not any("proxy" in note for note in meta.notes)


@pytest.mark.slow  # the command line on a real two-month store
def test_hold_out_check_on_months_the_store_does_not_hold(gap_store, tmp_path, capsys):
    """'--validate-to' past the store's last month scored the hotspots on months it does not hold
    ("nothing to score (no incidents)", PAI nan, exit 0); a check over a gap counted its unstored months."""
    from hotspot_engine.__main__ import main

    assert main(["hotspots", "--db", str(gap_store), "--from", "2024-01", "--to", "2024-03", "--validate-to", "2024-05",
                 "--out", str(tmp_path / "late.csv")]) == 2
    assert capsys.readouterr().err.strip() == ("error: hold-out check: none of the test months 2024-04 to 2024-05 is "
                                              "in the store; load them, or end the check at a stored month")
    assert main(["hotspots", "--db", str(gap_store), "--from", "2024-01", "--to", "2024-01", "--validate-to", "2024-03",
                 "--out", str(tmp_path / "gap.csv")]) == 0
    line = "Scored on the 1 of the 2 test months 2024-02 to 2024-03 that the store holds"
    assert line in capsys.readouterr().err
    assert line in (tmp_path / "gap.methods.txt").read_text(encoding="utf-8")


def test_a_force_missing_months_another_force_holds_is_named():
    from hotspot_engine.analyse import quality

    gaps = pd.DataFrame([("Durham Constabulary", "2021-01", "missing", 0, None),
                         ("Durham Constabulary", "2021-02", "missing", 0, None),
                         ("Hampshire Constabulary", "2019-01", "missing", 0, None)], columns=quality.GAP_COLUMNS)
    # 2019-01 is held by no force: a gap of the store, which the pages draw as a gap; not named here.
    assert quality.uneven_lines(gaps, {"2021-01", "2021-02", "2021-03"}) == [
        "Durham Constabulary holds no data for 2021-01 to 2021-02, which other forces' data cover"]


@pytest.mark.slow  # ingests three real police.uk months of two forces
def test_a_store_of_two_forces_with_different_months_warns_every_page(tmp_path):
    """Cleveland 2021 with Durham 2021-10..12: the Overview drew a rise in October that was Durham's
    data arriving, and the hotspots (12 months, '12 with data') were chosen with Durham's first nine
    months read as zero; nothing said so."""
    import zipfile

    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.reference import geography
    from hotspot_engine.service.quality import quality_warning

    data = ROOT / "tests" / "data" / "realdata"
    paths = []
    for zip_name, month, force in (("police-uk-cleveland-2021.zip", "2021-09", "cleveland"),
                                   ("police-uk-cleveland-2021.zip", "2021-10", "cleveland"),
                                   ("police-uk-durham-2021-10-to-12.zip", "2021-10", "durham")):
        with zipfile.ZipFile(data / zip_name) as archive:
            paths.append(tmp_path / f"{month}-{force}-street.csv")
            paths[-1].write_bytes(archive.read(f"{month}/{month}-{force}-street.csv"))
    con = service.open_store(tmp_path / "two.duckdb")
    try:
        service.ingest_files(con, paths)
        line = ("Data quality: Durham Constabulary holds no data for 2021-09, which other forces' data cover: "
                "those months are no data for its places, not zero incidents")
        assert quality_warning(con, Filters()).startswith(line)
        assert quality_warning(con, Filters(districts=("County Durham",))).startswith(line)
        assert quality_warning(con, Filters(districts=("Middlesbrough",))) is None  # Durham's few rows over the border
        assert quality_warning(con, Filters(date_from="2021-10")) is None
    finally:
        con.close()
        geography.use_area(())


def test_a_wdq_without_an_interval_is_not_shown_as_a_figure():
    """Impact page on the real months: WDQ +62.40 beside 'No reading' (its success measure within chance)."""
    from ui.impact.forest import wdq_cells

    nan = float("nan")
    table = pd.DataFrame({"wdq": [62.4, 0.8, nan], "wdq_low": [nan, 0.2, nan], "wdq_high": [nan, 1.4, nan]})
    assert wdq_cells(table) == (["not read", "+0.80", "undefined"],
                                ["none: within chance", "+0.20 to +1.40", "undefined"])


@pytest.mark.slow  # an AppTest of the Impact page
def test_impact_page_shows_no_bare_wdq_on_real_months(tmp_path):
    """Real Southampton 2024-01..03, intervention 2024-03-01: no hotspot's fall is beyond chance, so no
    WDQ is shown as a figure on the page (the All figures table keeps them)."""
    from conftest import REAL_ZIP, app_serving, run_app
    from date_typing import type_date

    from hotspot_engine import service

    path = tmp_path / "real.duckdb"
    con = service.open_store(path)
    service.ingest_files(con, [REAL_ZIP])
    con.close()
    with app_serving(path):
        at = run_app("pages/3_Impact.py")
        type_date(at, "i_date", "2024-03-01")
        assert not at.exception
        shown = next(df.value for df in at.dataframe if "WDQ 95% interval" in df.value.columns)
        bare = shown[(shown["WDQ 95% interval"] == "none: within chance") & (shown["WDQ"] != "not read")]
        assert bare.empty, bare
        assert (shown["WDQ"] == "not read").any()


@pytest.mark.slow  # the command line on a real two-month store
def test_patrol_plan_gives_no_unmeasured_reasons_on_month_only_records(gap_store, tmp_path, capsys):
    """Real months, no patrol data: every extra visit read "harm rank 1/19 (13 weeks), dosed 0% of required
    days" (no incident carries a day, so every recent harm was 0; no patrol was ever measured)."""
    from hotspot_engine.__main__ import main

    assert main(["patrol-plan", "--db", str(gap_store), "--out", str(tmp_path / "plan.csv")]) == 0
    reasons = set(pd.read_csv(tmp_path / "plan.csv")["reason"])
    assert reasons == {"target; time for the team to set", "extra: shared evenly; time for the team to set"}
    assert "extra, shared evenly (no dated incident in the last 13 weeks" in capsys.readouterr().err


def test_plan_reasons_name_only_what_was_measured():
    from hotspot_engine.analyse.patrol_plan import _reasons

    assert _reasons(0.5, 2, 19, (True, True), 1) == [
        "target; dosed 50% of required days in the last 4 weeks", "extra: harm rank 2/19 (13 weeks), dosed 50% of "
        "required days (4 weeks)"]
    assert _reasons(0.0, 1, 19, (True, False), 1) == ["target", "extra: harm rank 1/19 (13 weeks)"]


def test_the_concentration_headline_says_what_chance_gives():
    import numpy as np

    from hotspot_engine.analyse.concentration import chance_concentration, concentration
    from ui.hotspot_map.lorenz import concentration_sentence

    counts = np.zeros(44_270)
    counts[:885] = np.resize([3, 2, 1, 1, 1, 1], 885)  # sparse, as the real months: 1,000-odd incidents
    conc = concentration(counts)
    chance = chance_concentration(int(counts.sum()), len(counts))
    sentence = concentration_sentence(conc, chance, 0.15, 0.001)
    by_chance = f"({chance.value_share_in_top(0.01):.0%} would by chance alone"
    assert sentence.startswith(f"{conc.value_share_in_top(0.01):.0%} of serious violence happened in 1% of the area "
                               + by_chance)


def test_the_trial_flow_line_adds_up():
    from hotspot_engine.cli_trial import flow_line

    flow = {"place_days": 3477, "patrol_days": 1735, "patrol_delivered": 1373, "patrol_visited": 1524,
            "patrol_not_visited": 211, "control_days": 1742, "control_washout": 0, "control_contaminated": 87}
    assert flow_line(flow, 10) == ("flow: 3,477 place-days; 1,735 patrol (1,373 delivered, 151 visited for less than "
                                   "10 minutes, 211 not visited); 1,742 control (87 visited anyway, 0 washout)")


def test_impact_warns_when_the_hotspots_were_chosen_after_the_intervention():
    from hotspot_engine.service.analyses import chosen_after

    assert chosen_after(("2024-01", "2024-04"), "2024-03").startswith(
        "The hotspots were chosen on 2024-01 to 2024-04, which runs past the intervention (from 2024-03)")
    assert chosen_after(("2023-03", "2024-02"), "2024-03") is None
    assert chosen_after(None, "2024-03") is None


@pytest.mark.slow  # the command line on a real two-month store
def test_impact_on_a_set_chosen_after_the_intervention_says_so(gap_store, tmp_path, capsys):
    from hotspot_engine.__main__ import main

    db = tmp_path / "gap.duckdb"
    shutil.copy(gap_store, db)
    assert main(["hotspots", "--db", str(db), "--from", "2024-01", "--to", "2024-03", "--adopt", "S",
                 "--out", str(tmp_path / "hs.csv")]) == 0
    capsys.readouterr()
    assert main(["impact", "--db", str(db), "--set", "S", "--intervention", "2024-03-01",
                 "--out", str(tmp_path / "imp.csv")]) == 0
    assert "note: The hotspots were chosen on 2024-01 to 2024-03, which runs past the intervention" in capsys.readouterr().err
    assert "runs past the intervention" in (tmp_path / "imp.methods.txt").read_text(encoding="utf-8")


@pytest.mark.slow  # an AppTest of the Impact page
def test_impact_page_warns_of_a_set_chosen_after_the_intervention(gap_store, tmp_path):
    from conftest import app_serving, run_app
    from date_typing import type_date

    from hotspot_engine.__main__ import main

    db = tmp_path / "gap.duckdb"
    shutil.copy(gap_store, db)
    assert main(["hotspots", "--db", str(db), "--from", "2024-01", "--to", "2024-03", "--adopt", "S",
                 "--out", str(tmp_path / "hs.csv")]) == 0
    with app_serving(db):
        at = run_app("pages/3_Impact.py")
        type_date(at, "i_date", "2024-03-01")
        assert not at.exception
        assert any("which runs past the intervention" in w.value.replace("\\", "") for w in at.warning)


def _real_trial():
    from datetime import date
    from types import SimpleNamespace

    ids = {"HS-8919590258f": "#1 Southampton - Hanover Buildings", "HS-891959025a7": "#18 Southampton - Canute Road",
           "HS-891959025cf": "#3 Southampton - Parking Area near Tintern Grove"}
    days = pd.date_range("2024-05-01", periods=4)
    schedule = pd.DataFrame([(h, n, d, "patrol" if k % 2 else "control") for h, n in ids.items()
                             for k, d in enumerate(days)], columns=["hotspot_id", "hotspot_name", "date", "arm"])
    design = SimpleNamespace(first=date(2024, 5, 1), last=date(2024, 5, 4), days=4, block_weeks=4, patrol_share=0.5,
                             washout_days=0, seed=0)
    return SimpleNamespace(schedule=schedule, design=design, power=SimpleNamespace(line=lambda: "power"),
                           history="history", set_name="Real 2024 Jan-Apr")


def test_the_trial_protocol_lists_hotspots_by_number():
    from hotspot_engine.render.trial_protocol import protocol_markdown

    rows = [line for line in protocol_markdown(_real_trial(), "t").splitlines() if line.startswith("| HS")]
    assert [row.split(" | ")[1].split(" ")[0] for row in rows] == ["\\#1", "\\#3", "\\#18"]  # escaped Markdown


@pytest.mark.slow  # reads the PDF back with pdftotext
def test_the_trial_protocol_pdf_prints_whole_ids(tmp_path):
    import subprocess

    from hotspot_engine.render.trial_protocol import protocol_pdf

    (tmp_path / "p.pdf").write_bytes(protocol_pdf(_real_trial(), "t"))
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "p.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "HS-8919590258f" in text and "HS-891959025a7" in text  # cut to 9 characters, every id read HS-891959


@pytest.mark.slow  # the command line on a real two-month store
def test_impact_before_the_stores_first_month_says_there_is_no_data(gap_store, tmp_path, capsys):
    """The Durham-only impact on Cleveland 2021 + Durham 2021-10..12 said 'no hotspots were found in the
    12 months before the intervention' when the store held no month of those places before it."""
    from hotspot_engine.__main__ import main

    assert main(["impact", "--db", str(gap_store), "--intervention", "2024-01-01", "--out", str(tmp_path / "i.csv")]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: the store holds no incidents of the selected places and offences in 2023-01 to 2023-12, the 12 "
        "months before the intervention: choose a later date, or load them")


def test_window_words_say_how_many_months_are_stored():
    from hotspot_engine.service.store_data import window_words

    assert window_words("2023-05", "2024-04", {"2024-01", "2024-02", "2024-03", "2024-04", "2018-03"}) == (
        "2023-05 to 2024-04, 4 of 12 months stored")
    assert window_words("2024-01", "2024-02", {"2024-01", "2024-02"}) == "2024-01 to 2024-02"


@pytest.mark.slow  # builds the two-month real store
def test_meeting_outputs_and_briefings_title_the_stored_months(gap_store):
    """Meeting PNG/PDF/HTML without a set on the real store were titled '2023-05 to 2024-04' over the 4
    months stored; the pages already said '4 of 12 months stored'."""
    from hotspot_engine import service
    from hotspot_engine.filters import Filters
    from hotspot_engine.service.exports import store_context

    con = service.open_store(gap_store, read_only=True)
    try:
        context = store_context(con, Filters(date_from="2024-01", date_to="2024-03"))
    finally:
        con.close()
    assert context.title.endswith("force-wide, 2024-01 to 2024-03, 2 of 3 months stored")


@pytest.mark.slow  # an AppTest drawing the meeting maps on the two-month real store
def test_the_apps_meeting_map_titles_the_stored_months(gap_store, tmp_path):
    import html

    from conftest import app_serving, run_app

    db = tmp_path / "gap.duckdb"
    shutil.copy(gap_store, db)
    with app_serving(db):
        at = run_app("pages/4_Data_and_export.py", query={"from": "2024-01", "to": "2024-03"})
        at.toggle(key="x_maps").set_value(True).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        page = html.unescape(at.get("iframe")[0].proto.srcdoc)
        assert "2024-01 to 2024-03, 2 of 3 months stored" in page
