"""Issue 27: text and labels fit, read from the PDFs themselves. Poppler's ``pdftotext -bbox`` gives
every word's box on every page; no word may leave the page and no two words may overlap (labels on the
maps included). Checked on the patrol briefing and the meeting summary of the sample and of a store
of real data.police.uk months; the briefing carries the output context, and a flagged month is named
on the meeting PNG/PDF/HTML and the briefing (issue 24 item 4)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REALDATA = Path("/work/shared/realdata/police-uk-hampshire-2018-03-and-2024-01-to-04.zip")
#: Points two word boxes may share before they count as overlapping (rounding of glyph advances).
TOLERANCE_PT = 0.5


def pdf_words(pdf: bytes, tmp_path: Path) -> list[tuple[float, float, list[tuple[float, float, float, float, str]]]]:
    """(page width, page height, words as (x0, y0, x1, y1, text)) for every page, from pdftotext."""
    path = tmp_path / "checked.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for width, height, body in re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out, re.S):
        words = [(float(a), float(b), float(c), float(d), text) for a, b, c, d, text in re.findall(
            r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>', body)]
        pages.append((float(width), float(height), words))
    return pages


def layout_problems(pdf: bytes, tmp_path: Path) -> list[str]:
    """'page N: ... off the page' and 'page N: A overlaps B' for every word that breaks the rules."""
    problems = []
    for number, (width, height, words) in enumerate(pdf_words(pdf, tmp_path), 1):
        problems += [f"page {number}: '{w[4]}' off the page" for w in words
                     if w[0] < 0 or w[1] < 0 or w[2] > width or w[3] > height]
        boxes = np.array([w[:4] for w in words], dtype=float).reshape(-1, 4)
        for i in range(len(boxes)):
            a = boxes[i]
            hit = ((a[0] < boxes[i + 1:, 2] - TOLERANCE_PT) & (boxes[i + 1:, 0] < a[2] - TOLERANCE_PT)
                   & (a[1] < boxes[i + 1:, 3] - TOLERANCE_PT) & (boxes[i + 1:, 1] < a[3] - TOLERANCE_PT))
            problems += [f"page {number}: '{words[i][4]}' overlaps '{words[i + 1 + j][4]}'" for j in np.flatnonzero(hit)]
    return problems


def page_text(pdf: bytes, tmp_path: Path) -> list[str]:
    """Each page's words joined by spaces."""
    return [" ".join(w[4] for w in words) for _, _, words in pdf_words(pdf, tmp_path)]


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext is not installed")


# -- the placer itself, in matplotlib (fast) --------------------------------------------------------

def test_the_placer_keeps_crowded_matplotlib_labels_apart_and_inside_the_map():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from hotspot_engine.render.labels import place_texts

    fig = Figure(figsize=(4, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_aspect("equal")
    anchors = np.array([[50 + i * 0.5, 50] for i in range(8)] + [[99, 99]])  # eight piled up, one in a corner
    kinds = ["number"] * 4 + ["town"] * 5
    texts = [ax.text(x, y, f"Label {i}" if k == "town" else str(i), ha="center", va="center", fontsize=9)
             for i, ((x, y), k) in enumerate(zip(anchors, kinds))]
    before = [(t.get_position()) for t in texts]
    place_texts(ax, texts, anchors, kinds, list(range(len(texts))), avoid=anchors)
    kept = [t for t in texts if t.axes is not None]
    assert all(t in kept for t in texts[:4])  # numbers are never dropped
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in kept]
    assert not [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]
    frame = ax.get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    assert [t.get_position() for t in kept] != before[:len(kept)]  # they moved: the test can fail


def test_the_offline_html_map_places_numbers_per_zoom_without_overlaps():
    """Leaflet opens at a zoom the browser chooses, so the HTML map carries the placer's labels for
    every zoom; at each, no two boxes overlap (issue 27: names piled up on the HTML map)."""
    from hotspot_engine.render.labels import overlapping_pairs, place_by_zoom

    labels = pd.DataFrame({"text": [str(k) for k in range(1, 8)], "lat": 50.90 + np.arange(7) * 0.0004,
                           "lon": -1.40 + np.arange(7) * 0.0004, "size_px": 12, "kind": "number", "priority": 1})
    placed = place_by_zoom(labels, range(8, 17))
    assert sorted(placed) == list(range(8, 17))
    for zoom, frame in placed.items():
        assert len(frame) == 7 and overlapping_pairs(frame) == [], zoom
    assert placed[8]["leader"].any() and not placed[16]["leader"].any()  # crowded far out, apart close in


# -- briefings and meeting summaries, read back from the PDF (slow) ---------------------------------

def _outputs(db: Path, window: dict, set_name: str | None = None, synthetic: bool = False):
    """(briefing PDF, meeting summary PDF, the briefing's context) of the store at ``db``."""
    from hotspot_engine import service
    from hotspot_engine.analyse.patrols import briefing_pdf, suggest_plan
    from hotspot_engine.filters import Filters
    from hotspot_engine.service import exports

    con = service.open_store(db, read_only=True)
    try:
        filters = Filters(sv_only=True, **window)
        report = service.patrol_report(con, filters)
        plan = suggest_plan(report, seed=0)
        context = exports.store_context(con, exports.report_window(filters, report.period), set_name)
        briefing = briefing_pdf(report, plan, synthetic=synthetic, context=context)
        result = service.hotspots(con, filters)
        _, _, summary, _ = exports.meeting_maps(result, None, filters, filters, "count", False, 5, synthetic, "filters",
                                               context=exports.store_context(con, filters))
    finally:
        con.close()
    return briefing, summary, context, report


@needs_poppler
@pytest.mark.slow  # a briefing page per hotspot and the meeting summary, read back with pdftotext
def test_sample_briefing_and_summary_keep_every_word_on_the_page_and_apart(sample_db, tmp_path):
    briefing, summary, context, report = _outputs(sample_db, {"date_from": "2023-04", "date_to": "2024-03"},
                                                  synthetic=True)  # the banner, as the app draws the sample
    assert layout_problems(briefing, tmp_path) == []
    assert layout_problems(summary, tmp_path) == []
    pages = page_text(briefing, tmp_path)
    assert len(pages) == len(report.dosage) >= 10
    ranks = sorted(report.dosage["hotspot_rank"].astype(int))
    assert [int(re.match(r"#(\d+)", page).group(1)) for page in pages] == ranks  # the numbers the map shows
    for page in pages:
        assert "force-wide" in page and "figures 2023-04 to 2024-03" in page
        assert "Data: force crime records." in page and context.caveat == ""


@pytest.fixture(scope="module")
def real_store(tmp_path_factory) -> Path:
    """The five real Hampshire months (2018-03, 2024-01 to 2024-04), every row, as the CLI loads them;
    on a machine without them, the repository's real Southampton months (2024-01 to 2024-03)."""
    from hotspot_engine import service
    from tests.conftest import REAL_ZIP

    path = tmp_path_factory.mktemp("realstore") / "hampshire.duckdb"
    con = service.open_store(path)
    service.ingest_files(con, [REALDATA if REALDATA.exists() else REAL_ZIP])
    con.close()
    return path


@needs_poppler
@pytest.mark.slow  # a whole police.uk store, its briefing and summary
def test_real_police_uk_briefing_and_summary_keep_every_word_on_the_page_and_apart(real_store, tmp_path):
    briefing, summary, context, report = _outputs(real_store, {"date_from": "2024-01", "date_to": "2024-03"})
    assert layout_problems(briefing, tmp_path) == []
    assert layout_problems(summary, tmp_path) == []
    pages = page_text(briefing, tmp_path)
    assert len(pages) == len(report.dosage) >= 5
    assert context.caveat and all("police.uk proxy" in page for page in pages)  # the proxy caveat on every page
    assert all("(" in page for page in pages)  # snap-point names with their counts are drawn on the maps


# -- flagged months on every output that uses them (issue 24 item 4) ---------------------------------

@needs_poppler
@pytest.mark.slow  # a planted store, the three meeting files and a briefing
def test_a_flagged_month_is_named_on_the_meeting_png_pdf_html_and_the_briefing(sample_dir, tmp_path, monkeypatch):
    from hotspot_engine import service
    from hotspot_engine.analyse.patrols import briefing_pdf
    from hotspot_engine.filters import Filters
    from hotspot_engine.render import static_map
    from hotspot_engine.service import exports
    from tests.test_quality import PLANTED_MONTH, _planted_csv

    db = tmp_path / "planted.duckdb"
    con = service.open_store(db)
    service.ingest_files(con, [_planted_csv(sample_dir, tmp_path)])
    subtitles = []
    real_png = static_map.map_png
    monkeypatch.setattr(static_map, "map_png", lambda *a, **k: subtitles.append(k["subtitle"]) or real_png(*a, **k))
    try:
        window = Filters(sv_only=True, date_from="2022-01", date_to="2022-12")
        result = service.hotspots(con, window)
        html, png, pdf, _ = exports.meeting_maps(result, None, window, window, "count", False, 5, True, "f",
                                                 context=exports.store_context(con, window))
        report = service.patrol_report(con, window.with_(date_from="2022-07"))
        later = exports.store_context(con, exports.report_window(window, report.period))
        report_with_month = service.patrol_report(con, window)
        briefing = briefing_pdf(report_with_month, None, context=exports.store_context(
            con, exports.report_window(window, report_with_month.period)))
    finally:
        con.close()
    assert f"{PLANTED_MONTH}: robbery at" in html
    assert png[:4] == b"\x89PNG" and f"{PLANTED_MONTH}: robbery at" in subtitles[0]
    assert f"{PLANTED_MONTH}:" in " ".join(page_text(pdf, tmp_path))
    assert all(f"{PLANTED_MONTH}:" in page for page in page_text(briefing, tmp_path))
    assert later.quality == ""  # a window without the month names none


def test_the_briefing_names_area_set_and_months_on_every_page():
    from hotspot_engine.filters import Filters
    from hotspot_engine.render.briefing import _where_line
    from hotspot_engine.render.context import output_context

    context = output_context(Filters(csps=("Gosport CSP",), date_from="2024-01", date_to="2024-04"), 1.0, "FY 2023-24",
                             "Data quality: 2024-02: robbery at 4.6 times its usual level: flagged")
    line = _where_line(context, "2024-01-01", "2024-04-30")
    assert line == "Gosport CSP  ·  hotspot set 'FY 2023-24'  ·  figures 2024-01 to 2024-04"
    assert context.subtitle.splitlines()[1].startswith("Data quality: 2024-02") and "police.uk proxy" in context.subtitle
