"""The offline HTML map: no remote asset in the page, and a real headless Chromium with no network
draws its cells."""
from __future__ import annotations

import html
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from hotspot_engine.write import export

from hotspot_engine.render import html_map as foliummap

from hotspot_engine.errors import InputError

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def page(map_layers) -> str:
    cells, areas, districts = map_layers
    return foliummap.map_html(foliummap.offline_map(cells, areas, districts, "Serious violence, Southampton"))


def test_page_loads_nothing_from_the_network(page):
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page, flags=re.IGNORECASE)
    for tag in tags:
        assert not re.search(r"\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", tag, flags=re.IGNORECASE), tag
    assert foliummap.remote_assets(page) == []
    for cdn in ("cdn.jsdelivr", "code.jquery", "cdnjs.cloudflare", "bootstrapcdn"):
        assert cdn not in page
    assert "Leaflet 1.9.4" in page  # inlined from django-js-lib-leaflet
    assert "L.tileLayer(" not in page  # no basemap unless configured
    assert "sourceMappingURL" not in page


def test_remote_asset_check_catches_a_cdn_script(page):
    hostile = page.replace("</head>", '<script src="https://cdn.example.com/x.js"></script><link href="//cdn.example.com/x.css" rel="stylesheet"></head>', 1)
    assert len(foliummap.remote_assets(hostile)) == 2
    assert foliummap.remote_assets('<a href="https://leafletjs.com">Leaflet</a>') == []


def test_page_has_title_legend_attribution_and_escaped_names(page):
    assert "Serious violence, Southampton" in page
    assert "hs-legend" in page and "Incidents" in page
    assert "Open Government Licence v3.0" in page
    assert "Above Bar <Street>" not in page  # names are escaped; the browser test reads them back


def test_basemap_only_when_configured(map_layers):
    cells, areas, districts = map_layers
    m = foliummap.offline_map(cells, areas, districts, "t", basemap_url="https://tiles.example/{z}/{x}/{y}.png", basemap_attribution="Example")
    assert "L.tileLayer(" in foliummap.map_html(m) and "tiles.example" in foliummap.map_html(m)


def test_unknown_value_column_is_an_input_error(map_layers):
    cells, areas, districts = map_layers
    with pytest.raises(InputError, match="risk"):
        foliummap.offline_map(cells, areas, districts, "t", value_column="risk")


def test_gi_map_colours_by_the_engines_bins(map_layers):
    cells, areas, districts = map_layers
    binned = cells.assign(gi_bin=np.where(cells["count"] >= 3, 3, 0).astype(np.int8))
    page = foliummap.map_html(foliummap.offline_map(binned, areas, districts, "t", value_column="gi_bin"))
    from hotspot_engine.render.classes import GI_BIN_LABELS, LEGEND_TITLES

    assert html.escape(GI_BIN_LABELS[3]) in page and html.escape(LEGEND_TITLES["gi_bin"]) in page
    # Classes and legend are the shared ones (tests/test_map_classes.py checks all four renderers).


def test_partner_safe_map_leaves_blanked_cells_out(map_layers):
    cells, areas, districts = map_layers
    safe = export.partner_safe({"cells": cells, "areas": areas})
    assert safe["cells"]["suppressed"].any() and (~safe["cells"]["suppressed"]).any()
    page = foliummap.map_html(foliummap.offline_map(safe["cells"], safe["areas"], districts, "Partner-safe"))
    assert "small numbers suppressed: not shown" in page
    shown = set(re.findall(r'"h3": "([0-9a-f]{15})"', page))
    assert shown == set(safe["cells"].loc[~safe["cells"]["suppressed"], "h3"])
    small = cells.loc[cells["count"] < 5, "count"]
    assert len(small)
    # No blanked count leaks into the tooltips: they are only ever written as text like '"count": "3"'.
    for value in small.unique():
        assert f'"count": "{int(value)}"' not in page


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium on PATH: cannot run the real-browser offline test")
def test_headless_chromium_draws_the_map_with_no_network(map_layers, page, tmp_path):
    from playwright.sync_api import sync_playwright

    cells, areas, _ = map_layers
    html_path = tmp_path / "map.html"
    html_path.write_text(page, encoding="utf-8")
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            view = browser.new_page(viewport={"width": 1000, "height": 700})
            view.on("request", lambda r: requests.append(r.url))
            view.on("pageerror", lambda e: errors.append(str(e)))
            view.goto(html_path.as_uri())
            view.wait_for_selector("path.leaflet-interactive", timeout=10_000)
            drawn = view.locator("path.leaflet-interactive").count()
            legend = view.locator(".hs-legend").inner_text()
            label = view.locator(".hs-label").first.inner_text()
            shot = tmp_path / "map.png"
            view.screenshot(path=str(shot))
        finally:
            browser.close()
    assert errors == []
    assert requests and all(u.startswith(("file://", "data:")) for u in requests), [u for u in requests if not u.startswith(("file://", "data:"))]
    # every cell with incidents is a path, plus the hotspot outline
    assert drawn >= int((cells["count"] > 0).sum()) + len(areas)
    assert "Incidents" in legend
    assert label == "Southampton - Above Bar <Street>"  # shown as text, not parsed as a tag
    _assert_not_blank(shot)


def _assert_not_blank(png) -> None:
    """The screenshot shows the colour scale: many pixels far from the plain background."""
    from PIL import Image

    image = np.asarray(Image.open(png).convert("RGB"), dtype=int)
    background = np.array([0xF4, 0xF4, 0xF2])
    coloured = np.abs(image - background).sum(axis=2) > 60
    assert coloured.mean() > 0.05, f"only {coloured.mean():.1%} of the screenshot differs from the background"
    # the darkest YlOrRd class (#bd0026 at 75% over the background) appears somewhere
    reds = (image[..., 0] > 150) & (image[..., 1] < 90) & (image[..., 2] < 100)
    assert reds.sum() > 100


def test_a_view_with_nothing_to_show_still_renders(map_layers):
    cells, _, districts = map_layers
    empty = cells.iloc[:0]
    page = foliummap.map_html(foliummap.offline_map(empty, None, districts, "No incidents for these filters"))
    assert "No incidents for these filters" in page and foliummap.remote_assets(page) == []
    assert '"h3":' not in page
