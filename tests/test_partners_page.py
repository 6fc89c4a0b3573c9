"""The Partner data page in Streamlit's AppTest, on the built-in sample with its partner layers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/5_Partner_data.py"


def _page(app_db):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at, start: str):
    return next(m for m in at.metric if m.label.startswith(start))


def _layers(at) -> dict[str, dict]:
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return {layer["id"]: layer for layer in spec["layers"]}


def test_page_flags_the_planted_lsoas_and_draws_every_layer(app_db, sample_truth):
    at = _page(app_db)
    assert int(_metric(at, "LSOAs higher").value) == len(sample_truth["partner_underreported_lsoas"])
    assert not at.error
    layers = _layers(at)
    shaded = layers["partner-lsoas"]["data"]["features"]
    higher = [f for f in shaded if f["properties"]["fill"][:3] == [189, 0, 38]]
    assert len(higher) == len(sample_truth["partner_underreported_lsoas"])
    points = [layer for key, layer in layers.items() if key.startswith("partner-points")]
    assert len(points) == 2
    # The ambulance layer is 'restricted': drawn as cells holding at least the threshold, never points,
    # their counts rounded to 5s as a partner-safe export shows them ("about 10 ... in this cell").
    restricted = [layer for layer in points if "in this cell" in layer["data"][0]["label"]]
    shown = [int(p["label"].split()[1].replace(",", "")) for p in restricted[0]["data"]] if restricted else []
    assert shown and all(n >= 5 and n % 5 == 0 for n in shown)
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


@pytest.mark.slow  # an AppTest with several reruns or pages; the page smoke stays in the inner loop
def test_layer_switch_and_weights_change_what_is_shown(app_db):
    at = _page(app_db)
    before = [df.value for df in at.dataframe][-1]
    at.toggle(key="p_layer_Licensed premises").set_value(False).run()
    assert not any(k.startswith("partner-points") and "closes" in json.dumps(v["data"][:1])
                   for k, v in _layers(at).items())
    at.slider(key="p_w_police").set_value(0.0).run()
    at.slider(key="p_w_Ambulance call-outs").set_value(0.0).run()
    after = [df.value for df in at.dataframe][-1]
    assert list(after["h3"]) != list(before["h3"])
    # Layer names are escaped Markdown (they come from partner files): compare what the reader sees.
    assert any("Score = 100% × share of A&E assaults" in c.value.replace("\\", "") for c in at.caption)


@pytest.mark.slow
def test_page_works_with_only_a_places_layer_and_says_how_to_upload(sample_dir, tmp_path):
    """Issue 27: with only licensed premises the page stopped on "--source: no partner layer named
    'None'"; with no partner layer its empty state named only the command line."""
    from hotspot_engine.read.loading import ingest_paths
    from hotspot_engine.sample_partners import load_partner_sample
    from hotspot_engine.store.database import connect
    from tests.conftest import app_serving

    for with_premises in (False, True):
        db = tmp_path / f"store_{with_premises}.duckdb"
        con = connect(db)
        ingest_paths(con, [sample_dir / "incidents.csv"])
        if with_premises:
            load_partner_sample(con, {"partner_premises": sample_dir / "partner_licensed_premises.csv"})
        con.close()
        with app_serving(db):
            at = _page(db)
        texts = [str(e.value) for kind in ("info", "caption", "error", "warning") for e in getattr(at, kind)]
        assert not at.error, [e.value for e in at.error]
        if with_premises:
            assert any("No funnel" in t for t in texts), texts
            assert at.get("deck_gl_json_chart"), "the map still shows the premises"
        else:
            assert any("Data & export" in t for t in texts), texts
