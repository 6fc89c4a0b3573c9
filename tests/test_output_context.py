"""Issue 27: every meeting output carries its context (area, window, data source and its caveat, the
hotspot set's name), rank numbers that match the map, names wrapped not cut, and no text off the page."""
from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot_engine.filters import Filters
from hotspot_engine.reference.offences import PROXY_NOTE
from hotspot_engine.render import static_map
from hotspot_engine.render.context import FORCE_WIDE, output_context


def test_context_names_area_window_source_caveat_and_set():
    force = output_context(Filters(date_from="2025-01", date_to="2025-12"), proxy_share=1.0)
    assert force.area == FORCE_WIDE and "force-wide" in force.title and "2025-01 to 2025-12" in force.title
    assert PROXY_NOTE in force.source_line and "police.uk" in force.source_line
    csp = output_context(Filters(date_from="2025-01", date_to="2025-12", csps=("Southampton CSP",)), 0.0,
                         set_name="Summer 2025 set")
    assert csp.title.startswith("Summer 2025 set: ") and "Southampton CSP" in csp.title
    assert csp.caveat == "" and csp.as_dict()["hotspot_set"] == "Summer 2025 set"


def _texts_inside(fig) -> list[str]:
    """Every text artist of the figure; asserts each lies inside the page."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    found = []
    artists = list(fig.texts) + [t for ax in fig.axes for t in ax.texts]
    artists += [cell.get_text() for ax in fig.axes for table in ax.tables for cell in table.get_celld().values()]
    for text in artists:
        if not text.get_visible() or not text.get_text():
            continue
        box = text.get_window_extent(renderer)
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1 and page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, \
            text.get_text()
        found.append(text.get_text())
    return found


def test_meeting_summary_has_context_rank_column_whole_names_and_stays_on_the_page(map_layers):
    cells, areas, districts = map_layers
    context = output_context(Filters(date_from="2025-01", date_to="2025-12", csps=("Southampton CSP",)), 1.0,
                             set_name="A long adopted hotspot set name for the summer meetings")
    long_name = "Southampton - Landguard Road / Blechynden Terrace (parking area near the station)"
    table = pd.DataFrame({"rank": [1, 2, 3], "hotspot_name": [long_name, "Short", "Another place"],
                          "count": np.array([30, 20, 10])})
    fig = static_map.summary_figure(context.title, {"Hotspots": "3"}, cells, areas, districts, table,
                                    filters_line="2025-01 to 2025-12", synthetic=True, subtitle=context.source_line)
    texts = _texts_inside(fig)
    joined = " ".join(t.replace("\n", " ") for t in texts)
    assert "Southampton CSP" in joined and "2025-01 to 2025-12" in joined and "proxy" in joined
    assert long_name in joined  # wrapped, not cut
    assert "rank" in texts


def test_tooltips_use_plain_words_matching_the_exact_test():
    from hotspot_engine.render import deck, html_map

    assert html_map._tooltip_text(0, "gi_bin", False) == "Not significant"
    assert "FDR" not in html_map.TOOLTIP_FIELDS["gi_bin"] and "bin" not in html_map.TOOLTIP_FIELDS["gi_bin"]
    cells = pd.DataFrame({"k": [0, 1], "h3": ["89195da49b7ffff", "89195da49a3ffff"], "gi_bin": [3, 0]})
    text, fields, _ = deck.cell_records(cells, ("gi_bin",))
    assert "Not significant" in text and ("b", "Exact test") in fields


def test_export_sidecar_carries_the_context():
    from hotspot_engine.write.export import ExportMeta

    window = Filters(date_from="2025-01", date_to="2025-12", csps=("Gosport CSP",))
    meta = ExportMeta(what="hotspot_areas", filters=window, context=output_context(window, 1.0, "Set A").as_dict())
    text = meta.to_text()
    assert "Area: Gosport CSP; window: 2025-01 to 2025-12; hotspot set: Set A" in text
    assert PROXY_NOTE in text
    assert meta.to_dict()["context"]["area"] == "Gosport CSP"
