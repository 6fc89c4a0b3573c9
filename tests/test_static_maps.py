"""Static outputs: the PNG map and the one-page A4 PDF summary."""
from __future__ import annotations

import io
import re
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.write import export

from hotspot_engine.render import classes


from hotspot_engine.render import static_map as static_maps
from hotspot_engine.errors import InputError


def _image(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def _share_near(image: np.ndarray, hex_colour: str, tolerance: int = 40) -> float:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return float((np.abs(image - rgb).sum(axis=2) < tolerance).mean())


def test_map_png_draws_the_cells_in_the_colour_scale(map_layers):
    cells, areas, districts = map_layers
    png = static_maps.map_png(cells, areas, districts, "Serious violence, Southampton", dpi=60)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = _image(png)
    assert image.shape[:2] == (8 * 60, 10 * 60)
    # The darkest and the lightest YlOrRd classes both cover a visible part of the image (alpha
    # 0.9 over the background shifts them a little, hence the tolerance).
    assert _share_near(image, classes.hex_colour(classes.YLORRD_ON_LIGHT[-1]), 60) > 0.002
    assert _share_near(image, classes.hex_colour(classes.YLORRD_ON_LIGHT[0]), 40) > 0.005


def _drawn_cells(cells, areas, districts) -> int:
    fig = static_maps._figure((6, 5))
    ax = fig.add_axes((0, 0, 1, 1))
    static_maps.draw_map(ax, cells, areas, districts, "count")
    return len(ax.collections[0].get_paths())  # the cells are drawn first


def test_partner_safe_map_leaves_blanked_cells_out(map_layers):
    cells, areas, districts = map_layers
    safe = export.partner_safe({"cells": cells, "areas": areas})
    assert _drawn_cells(cells, areas, districts) == int((cells["count"] > 0).sum())
    shown = int((~safe["cells"]["suppressed"]).sum())
    assert 0 < shown < len(cells)
    assert _drawn_cells(safe["cells"], safe["areas"], districts) == shown
    png = static_maps.map_png(safe["cells"], safe["areas"], districts, "t", dpi=40)
    assert png[:4] == b"\x89PNG"


def test_drawn_map_has_legend_title_and_labels(map_layers):
    cells, areas, districts = map_layers
    fig = static_maps._figure((8, 6))
    ax = fig.add_axes((0, 0, 1, 1))
    static_maps.draw_map(ax, cells, areas, districts, "count")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    labels = [label for label, _ in classes.classify_cells(cells, "count").legend.entries]
    assert legend[: len(labels)] == labels
    assert "hotspot area" in legend and "district boundary" in legend
    assert ax.get_legend().get_title().get_text() == "Incidents per cell"
    texts = [t.get_text() for t in ax.texts]
    assert "1. Southampton - Above Bar <Street>" in texts  # text from data drawn as text
    assert any(re.fullmatch(r"\d+ (m|km)", t) for t in texts)  # scale bar


def test_gi_map_uses_the_engines_bins(map_layers):
    cells, areas, districts = map_layers
    cells = cells.assign(gi_bin=np.resize(np.arange(-3, 4), len(cells)).astype(np.int8))
    fig = static_maps._figure((8, 6))
    ax = fig.add_axes((0, 0, 1, 1))
    static_maps.draw_map(ax, cells, areas, districts, "gi_bin")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == classes.GI_BIN_LABELS[3] and classes.GI_BIN_LABELS[-3] in legend


def test_unknown_value_column_is_an_input_error(map_layers):
    cells, areas, districts = map_layers
    with pytest.raises(InputError, match="risk"):
        static_maps.map_png(cells, areas, districts, "t", value_column="risk")


def _summary_args(map_layers, rows: int = 20):
    cells, areas, districts = map_layers
    table = pd.DataFrame(
        {
            "hotspot_rank": range(1, rows + 1),
            "hotspot_name": [f"Southampton - Street number {i} with a long name" for i in range(rows)],
            "count": np.arange(rows, 0, -1) * 7,
        }
    )
    headline = {"Serious violence 2023-24": "4,780", "Change on 2022-23": "-4.8% (-241)", "Hotspots": "19"}
    return "Serious-violence hotspots", headline, cells, areas, districts, table


def test_summary_pdf_is_one_a4_landscape_page(map_layers):
    pdf = static_maps.summary_pdf(*_summary_args(map_layers), filters_line="2023-04 to 2024-03", synthetic=True)
    assert pdf.startswith(b"%PDF-")
    assert re.findall(rb"/Type /Pages[^>]*?/Count (\d+)", pdf, flags=re.S) == [b"1"] or re.findall(rb"/Count (\d+)", pdf) == [b"1"]
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    width_pt, height_pt = float(box.group(1)), float(box.group(2))
    # A4 is 297 x 210 mm = 841.9 x 595.3 pt (ISO 216); matplotlib rounds to its inch figure size.
    assert width_pt == pytest.approx(841.9, abs=1.5) and height_pt == pytest.approx(595.3, abs=1.5)
    assert b"/Title (Serious-violence hotspots)" in pdf


def test_summary_page_carries_figures_table_filters_banner_and_attribution(map_layers):
    fig = static_maps.summary_figure(
        *_summary_args(map_layers), filters_line="2023-04 to 2024-03 | CSP: all", synthetic=True, when=datetime(2026, 11, 27, 9, 30)
    )
    fig.canvas.draw()
    texts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        texts += [t.get_text() for t in ax.texts] + [ax.get_title(loc="left")]
        for table in ax.tables:
            texts += [cell.get_text().get_text() for cell in table.get_celld().values()]
    joined = "\n".join(texts)
    assert static_maps.SYNTHETIC_BANNER in joined
    assert "4,780" in joined and "-4.8% (-241)" in joined
    assert "Top hotspots" in joined and "hotspot name" in joined
    assert "Southampton - Street number 0" in joined.replace("\n", " ")
    assert f"... and {20 - static_maps.TABLE_ROWS} more" in joined
    assert "Filters: 2023-04 to 2024-03 | CSP: all" in joined
    assert "Open Government Licence v3.0" in joined.replace("\n", " ")
    assert "2026-11-27 09:30" in joined
    # Every table column fits inside the page.
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    for ax in fig.axes:
        for table in ax.tables:
            assert table.get_window_extent(renderer).x1 <= page.x1 + 1


def test_no_banner_unless_asked(map_layers):
    fig = static_maps.summary_figure(*_summary_args(map_layers, rows=3))
    assert all(static_maps.SYNTHETIC_BANNER not in t.get_text() for t in fig.texts)
