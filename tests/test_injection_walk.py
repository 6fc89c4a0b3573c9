"""Text from data is text on every page and in every export (issue 20, item 1), in Chromium.

Markdown images, HTML and ``$...$`` maths are planted in every text field of an incident file (id,
offence, location, LSOA name, district given) and a patrol file (id, hotspot, unit), loaded into a
copy of the sample store so that one planted location names a hotspot and another (a "Police
Station") lands in the excluded-places note; a third file is uploaded through the page under a
hostile file name. The test then walks every page with every expander opened, prepares the patrol
briefing, makes the meeting maps and opens the exported HTML map, and asserts: no request to the
planted URLs (a port nothing listens on) and none off 127.0.0.1; no planted markup rendered (no
image, link, bold or KaTeX from the data); and the planted text shown literally where notes show it.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser import chromium_path, free_port, recording_page, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a running app and Chromium

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["", "Hotspot_map", "Patrols", "Impact", "Data_and_export"]


def _payload(trap: int, tag: str, label: str = "Zeta") -> str:
    return (f"{label} {tag} ![m](http://127.0.0.1:{trap}/{tag}-md.png) <img src=http://127.0.0.1:{trap}/{tag}-html.png> "
            f"<b>bold{tag}</b> **strong{tag}** $x^2$ :red[red{tag}]")


def _hostile_files(folder: Path, trap: int) -> tuple[Path, Path]:
    """80 robberies at one Portsmouth point named by a planted location (a hotspot), 80 at a planted
    'Police Station' in Basingstoke (excluded), and patrols there, every text field planted."""
    incidents = ["incident_id,occurred_at,lat,lon,ho_code,offence,knife_flag,location,lsoa_name,district"]
    places = [("street", 50.798900, -1.091200), ("Police Station", 51.266500, -1.087600)]
    for place, lat, lon in places:
        text = _payload(trap, place.replace(" ", ""), "Police Station" if place == "Police Station" else "Zeta")
        quoted = '"' + text.replace('"', '""') + '"'
        for k in range(80):
            month = 4 + k % 12
            year = 2023 if month <= 12 else 2024
            month = month if month <= 12 else month - 12
            incidents.append(f'"X{place[:3]}{k} {text[:40]}",{year}-{month:02d}-{1 + k % 27:02d}T22:{k % 60:02d}:00,'
                             f"{lat + (k % 3) * 1e-5:.6f},{lon:.6f},34B,{quoted},Y,{quoted},{quoted},{quoted}")
    patrols = ["patrol_id,start,end,hotspot_id,lat,lon,unit"]
    text = _payload(trap, "patrol")
    quoted = '"' + text.replace('"', '""') + '"'
    for k in range(60):
        day = 1 + k % 27
        patrols.append(f'"P{k} {text[:30]}",2024-03-{day:02d} 21:00,2024-03-{day:02d} 21:15,{quoted},50.798900,'
                       f"-1.091200,{quoted}")
    inc, pat = folder / "hostile_incidents.csv", folder / "hostile_patrols.csv"
    inc.write_text("\n".join(incidents) + "\n", encoding="utf-8")
    pat.write_text("\n".join(patrols) + "\n", encoding="utf-8")
    return inc, pat


def _open_everything(page) -> None:
    """Open every expander on the page (their content is then drawn)."""
    for summary in page.locator("[data-testid='stExpander'] summary").all():
        try:
            if summary.is_visible():
                summary.click()
        except Exception:  # an expander re-drawn under us: the next walk step waits for the app again
            pass
    wait_for_app(page)


def _rendered_markup(page, trap: int) -> list[str]:
    """Any planted markup the page rendered: images or links to the trap, bold/strong from the data,
    KaTeX, or Streamlit's red text directive."""
    return page.evaluate(
        """(trap) => {
            const found = [];
            const here = [document, ...[...document.querySelectorAll('iframe')].map(f => {
                try { return f.contentDocument; } catch (e) { return null; } }).filter(Boolean)];
            for (const doc of here) {
                for (const el of doc.querySelectorAll('img, a, source, link')) {
                    const url = el.getAttribute('src') || el.getAttribute('href') || '';
                    if (url.includes(':' + trap)) {
                        const box = el.closest('[data-testid]');
                        found.push(el.outerHTML.slice(0, 120) + ' in ' + (box ? box.getAttribute('data-testid') + ': ' + box.textContent.slice(0, 200) : '?'));
                    }
                }
                for (const el of doc.querySelectorAll('b, strong')) {
                    if (/bold|strong/.test(el.textContent) && /Zeta|street|Police|patrol/i.test(el.textContent + el.outerHTML))
                        found.push(el.outerHTML.slice(0, 120));
                    if (/^(bold|strong)(street|PoliceStation|patrol)$/.test(el.textContent.trim())
                        || /^B(set|places|layer|upload)$/.test(el.textContent.trim())) found.push(el.outerHTML);
                }
                if (doc.querySelector('.katex')) found.push('katex: ' + doc.querySelector('.katex').textContent.slice(0, 60));
                for (const el of doc.querySelectorAll('[class*="red"], span[style*="color"]')) {
                    if (/red(street|PoliceStation|patrol)/.test(el.textContent) && !el.textContent.includes(':red['))
                        found.push('colour: ' + el.outerHTML.slice(0, 120));
                }
            }
            return found;
        }""", trap)


def _assert_nothing_fetched(requests: list[str], trap: int) -> None:
    """No request reached the planted URLs (port ``trap``) and none left 127.0.0.1."""
    trapped = [r for r in requests if f":{trap}" in r]
    outside = [r for r in requests if urlparse(r).scheme in ("http", "https", "ws", "wss")
               and urlparse(r).hostname != "127.0.0.1"]
    assert trapped == [] and outside == [], (trapped[:5], outside[:5])


@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium")
def test_planted_markup_stays_text_on_every_page_and_export(app_db, tmp_path):
    from hotspot_engine.read import loading
    from hotspot_engine.store import database as store

    trap = free_port()  # nothing listens here: a request to it is the failure, not its answer
    db = tmp_path / "store.duckdb"
    shutil.copy(app_db, db)
    incidents, patrols = _hostile_files(tmp_path, trap)
    con = store.connect(db)
    loaded = loading.ingest_paths(con, [incidents, patrols])
    con.close()
    assert all(s.added > 0 for s in loaded), [s.line() for s in loaded]
    with recording_page(db, accept_downloads=True) as (url, page, requests):
        # An upload under a hostile file name: its name comes back in the success line and the loads table.
        page.goto(f"{url}/Data_and_export")
        wait_for_app(page)
        # (No '/' in it: a file name's folders are dropped before it is shown.)
        hostile_name = "**b** $x^2$ ![u](x.png) <img src=x onerror=alert(1)> :red[r].csv"
        page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(
            {"name": hostile_name, "mimeType": "text/csv", "buffer": incidents.read_bytes()})
        page.get_by_role("button", name="Load into the store").click()
        line = page.get_by_text(re.compile(r"\[incidents\]: read 160"))
        line.first.wait_for(timeout=60_000)
        assert hostile_name in line.first.inner_text(), "the file name is not shown as typed"
        assert _rendered_markup(page, trap) == []
        seen_literally = False
        for path in PAGES:
            page.goto(f"{url}/{path}?from=2023-04&to=2024-03")
            wait_for_app(page, "canvas" if path == "Hotspot_map" else "h1")
            _open_everything(page)
            assert page.locator("[data-testid='stException']").count() == 0, path
            rendered = _rendered_markup(page, trap)
            assert rendered == [], f"{path}: " + " || ".join(rendered)
            shown = page.inner_text("body").replace("\u2060", "")  # the invisible word joiner that stops autolinks
            seen_literally |= f"Police Station PoliceStation ![m](http://127.0.0.1:{trap}/PoliceStation-md.png)" in shown
            if path == "Patrols":
                page.get_by_role("button", name=re.compile("Prepare the briefing")).click()
                # Preparing took 10 s alone and over the click's own 30 s on the loaded machine.
                page.get_by_role("button", name=re.compile("Download the briefing")).wait_for(timeout=120_000)
                with page.expect_download(timeout=120_000) as briefing:
                    page.get_by_role("button", name=re.compile("Download the briefing")).click()
                assert briefing.value.path().read_bytes().startswith(b"%PDF")
            if path == "Data_and_export":
                page.get_by_text("Make the maps").click()
                wait_for_app(page)
                with page.expect_download(timeout=120_000) as html_map:
                    page.get_by_role("button", name=re.compile("Interactive map")).click()
                exported = Path(html_map.value.path()).read_text(encoding="utf-8")
                assert _rendered_markup(page, trap) == []
                viewer = page.context.new_page()
                viewer.set_content(exported, wait_until="load")
                assert _rendered_markup(viewer, trap) == []
                viewer.close()
        assert seen_literally, "the excluded-places note did not show the planted location as text"
    _assert_nothing_fetched(requests, trap)


def _hostile_partner_files(folder: Path, trap: int, lsoas: list[str]) -> tuple[Path, Path, str]:
    """A partner-events layer whose name (its --source), owner and category are planted markup, and a
    partner-areas file with a planted measure; returns (events, areas, layer name)."""
    layer = f"![i](http://127.0.0.1:{trap}/layer.png) **Blayer** $x^2$ <img src=http://127.0.0.1:{trap}/l.png>"
    owner, category = _payload(trap, "owner"), _payload(trap, "category")
    events = ["callout_id,datetime,lat,lon,category,owner,sharing"]
    for k in range(60):
        events.append(f"E{k},2024-0{1 + k % 3}-{1 + k % 27:02d}T22:00:00,{50.7989 + (k % 5) * 1e-4:.6f},"
                      f'-1.091200,"{category}","{owner}",open')
    areas = ["lsoa_code,month,count,measure", *[f'{code},2024-01,{k % 9 + 1},"{_payload(trap, "measure")}"'
                                                for k, code in enumerate(lsoas)]]
    ev, ar = folder / "events.csv", folder / "areas.csv"
    ev.write_text("\n".join(events) + "\n", encoding="utf-8")
    ar.write_text("\n".join(areas) + "\n", encoding="utf-8")
    return ev, ar, layer


@pytest.mark.slow
@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium")
def test_partner_names_owners_and_categories_stay_text_on_the_partner_page(app_db, tmp_path):
    """Issue 25 item 1: partner layer names went to the subheader, toggle and slider labels and metric
    help as Markdown, so a file named like an image made every viewer fetch its URL."""
    from hotspot_engine.read import loading
    from hotspot_engine.read.partners import PartnerOptions
    from hotspot_engine.store import database as store

    trap = free_port()
    db = tmp_path / "store.duckdb"
    shutil.copy(app_db, db)
    con = store.connect(db)
    lsoas = [r[0] for r in con.execute("SELECT DISTINCT lsoa_code FROM incidents WHERE lsoa_code IS NOT NULL "
                                       "ORDER BY 1 LIMIT 60").fetchall()]
    events, areas, layer = _hostile_partner_files(tmp_path, trap, lsoas)
    loaded = loading.ingest_paths(con, [events], partner=PartnerOptions(source=layer))
    loaded += loading.ingest_paths(con, [areas], fmt="partner-areas",
                                   partner=PartnerOptions(source=_payload(trap, "areas")))
    con.close()
    assert all(s.added > 0 for s in loaded), [s.line() for s in loaded]
    with recording_page(db) as (url, page, requests):
        page.goto(f"{url}/Data_and_export")
        wait_for_app(page)
        # A partner file uploaded under a hostile name: the name becomes the layer's name.
        hostile_name = f"![u](x.png) **Bupload** $x^2$ <img src=x> :red[r] {trap}.csv"
        page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(
            {"name": hostile_name, "mimeType": "text/csv", "buffer": events.read_bytes()})
        page.get_by_role("button", name="Load into the store").click()
        page.get_by_text(re.compile(r"read 60")).first.wait_for(timeout=60_000)
        assert _rendered_markup(page, trap) == []
        page.goto(f"{url}/Partner_data?from=2023-04&to=2024-03")
        wait_for_app(page, "h1")
        _open_everything(page)
        assert page.locator("[data-testid='stException']").count() == 0
        assert _rendered_markup(page, trap) == []
        shown = page.inner_text("body").replace("\u2060", "")
        assert "**Blayer**" in shown and "**Bupload**" in shown, "the layer names are not shown as typed"
    _assert_nothing_fetched(requests, trap)


def _hostile_places(folder: Path, trap: int) -> Path:
    """A partner-places layer (licensed premises) whose place names, kinds and owner are planted markup,
    and a spreadsheet formula, at the planted Portsmouth hotspot and across the force."""
    rows = ["premises_id,name,lat,lon,kind,owner,sharing"]
    for k in range(40):
        lat, lon = (50.798900, -1.091200) if k < 10 else (50.70 + (k % 6) * 0.1, -1.70 + (k // 6) * 0.12)
        name = _payload(trap, "place") if k % 2 else f"=HYPERLINK(\"http://127.0.0.1:{trap}/f\";\"x\") {k}"
        rows.append(f'P{k},"{name.replace(chr(34), chr(34) * 2)}",{lat:.6f},{lon:.6f},"{_payload(trap, "kind")}",'
                    f'"{_payload(trap, "owner")}",open')
    path = folder / "places.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium")
def test_set_names_notes_hotspot_names_and_partner_places_stay_text_on_the_sets_and_partner_pages(app_db, tmp_path):
    """Audit 3 item 10: the walk above skipped the Hotspot sets page (hotspot names, set names and notes)
    and the Partner data page's places. A set is adopted under a planted name and note on a store whose
    planted location names a hotspot, and a places layer with planted names, kinds, owner and layer name
    is loaded; both pages (desk and wall screen, every expander open) must render none of it, fetch
    nothing, and show the planted set name and layer name as typed."""
    from hotspot_engine.filters import Filters
    from hotspot_engine.read import loading
    from hotspot_engine.read.partners import PartnerOptions
    from hotspot_engine.service import analyses
    from hotspot_engine.service import sets as sets_service
    from hotspot_engine.store import database as store

    trap = free_port()
    db = tmp_path / "store.duckdb"
    shutil.copy(app_db, db)
    incidents, _ = _hostile_files(tmp_path, trap)
    places = _hostile_places(tmp_path, trap)
    layer = f"![i](http://127.0.0.1:{trap}/layer.png) **Bplaces** $x^2$ <img src=http://127.0.0.1:{trap}/p.png>"
    set_name = f"**Bset** $x^2$ <img src=http://127.0.0.1:{trap}/set.png> :red[rset]"
    note = _payload(trap, "note")
    con = store.connect(db)
    loaded = loading.ingest_paths(con, [incidents])
    loaded += loading.ingest_paths(con, [places], fmt="partner-places", partner=PartnerOptions(source=layer))
    window = Filters(date_from="2023-04", date_to="2024-03", sv_only=True)
    chosen = analyses.hotspots(con, window)
    names = " ".join(chosen.areas["hotspot_name"].astype(str))
    assert "Zetastreet" in names.replace(" ", "") or "Zeta" in names, "the planted location names no hotspot"
    sets_service.adopt(con, set_name, chosen, window, chosen.params, window, "<b>boldadopter</b> $x^2$", note)
    con.close()
    assert all(s.added > 0 for s in loaded), [s.line() for s in loaded]
    with recording_page(db) as (url, page, requests):
        for path in ("Hotspot_sets", "Partner_data", "Hotspot_sets?present=1", "Partner_data?present=1"):
            page.goto(f"{url}/{path}")
            wait_for_app(page, "h1")
            _open_everything(page)
            assert page.locator("[data-testid='stException']").count() == 0, path
            rendered = _rendered_markup(page, trap)
            assert rendered == [], f"{path}: " + " || ".join(rendered)
            shown = page.inner_text("body").replace("\u2060", "")
            if path == "Hotspot_sets":
                assert set_name in shown, "the set's name is not shown as typed"
            if path == "Partner_data":
                assert "**Bplaces**" in shown, "the places layer's name is not shown as typed"
    _assert_nothing_fetched(requests, trap)
