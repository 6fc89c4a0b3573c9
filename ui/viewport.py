"""The wall screen's size, as the browser reports it, so presentation mode can fit the map to it.

Streamlit draws a pydeck map at a height in pixels fixed by the script, and deck.gl opens at the zoom
the script gives; neither follows the window. A map computed for a 1920x1080 screen (780 px tall) cut
off the north of the force and the south of the Isle of Wight on a 1280x720 projector (issue 27). A
tiny ``st.components.v2`` component (inline JavaScript, nothing fetched: it works offline) measures
the window and where the map starts on the page and sends them back; the page then draws the map
as tall as the screen below that point, with the zoom that fits the area into that box. It measures
again after a resize. The first run, before the browser has answered, uses a 1920x1080 screen.

Pages without a map (Patrols, Impact, Data & export, the Overview's chart) fit a table or a chart the
same way: a marker (``fit_marker``) stands where it starts, the component reports the marker's top and
the measured height of the table's rows, and the page shows as many rows as fit (``rows_that_fit``),
saying how many more the desk view holds. Long tables had run a screen or two below the first one.
Below a fitted chart it reports what the page draws under it (``after``: the chart's caption, its gap
and the page's padding, 48 px at 1280x720 and 73 px at 1920x1080 on the sample), as it does below a
map: the Overview's fixed 80 px guess was 32 px too much at 1280x720 and did not follow a caption
that wraps.

The component sends a new size only when a figure moved by more than a few pixels, so the rerun it
causes settles at once (the map's top does not move when only its height changes).
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

_JS = """
export default function(component) {
  const { setStateValue, data } = component;
  const last = data || {};
  function measure() {
    // The map, or on a page without one what follows the marker put above the fitted part (fit_marker).
    const marker = document.querySelector('.hs-fit');
    const deck = document.querySelector('[data-testid="stDeckGlJsonChart"]')
      || (marker && (marker.closest('[data-testid="stElementContainer"]') || marker).nextElementSibling) || marker;
    const box = deck ? deck.getBoundingClientRect() : null;
    const top = box ? Math.round(box.top + window.scrollY) : 0;
    // A fitted table's row height: the first HTML table below the marker.
    const table = [...document.querySelectorAll('[data-testid="stTable"] table')]
      .find((t) => t.getBoundingClientRect().top + window.scrollY >= top - 2);
    const row = table && table.tBodies[0] && table.tBodies[0].rows[0];
    // Below a map, what the page draws under it (its attribution line): the map leaves room for it. A
    // map in a column counts only its own column and what follows the row of columns: the side
    // column beside it (legend, set lines) is not below it, and counting its overflow shrank the map
    // to its minimum when that column grew taller than the screen.
    const block = document.querySelector('[data-testid="stMainBlockContainer"]');
    let after = 0;
    // Below a fitted chart (the Overview's), its caption: measured, since its lines follow the screen's
    // type and width and the months the store lacks (the caption names them).
    if (box && block && deck !== marker && deck.querySelector('[data-testid="stVegaLiteChart"]')) {
      after = Math.max(0, Math.round(block.getBoundingClientRect().bottom - box.bottom));
    } else if (box && block && deck.matches('[data-testid="stDeckGlJsonChart"]')) {
      const column = deck.closest('[data-testid="stColumn"]');
      const row = column && column.closest('[data-testid="stHorizontalBlock"]');
      after = row
        ? (column.getBoundingClientRect().bottom - box.bottom) + (block.getBoundingClientRect().bottom - row.getBoundingClientRect().bottom)
        : block.getBoundingClientRect().bottom - box.bottom;
      after = Math.max(0, Math.round(after));
    }
    const now = { vw: window.innerWidth, vh: window.innerHeight, top: top, width: box ? Math.round(box.width) : 0, after: after,
                  row: row ? Math.round(row.getBoundingClientRect().height) : 0,
                  head: table && table.tHead ? Math.round(table.tHead.getBoundingClientRect().height) : 0 };
    const moved = ['vw', 'vh', 'top', 'width', 'row', 'head', 'after'].some((k) => Math.abs((last[k] || 0) - now[k]) > 4);
    if (moved) { Object.assign(last, now); setStateValue('size', now); }
  }
  // Measured again a little later: on a loaded machine the map or table may not be in the page yet at
  // the first measure, and with nothing to resize the page would keep its first-run size (seen on the
  // real police.uk store at 1280x720). Unchanged figures send nothing, so this causes no extra rerun.
  const later = [400, 1500, 4000].map((ms) => setTimeout(measure, ms));
  let timer = null;
  const onResize = () => { clearTimeout(timer); timer = setTimeout(measure, 300); };
  window.addEventListener('resize', onResize);
  return () => { later.forEach(clearTimeout); clearTimeout(timer); window.removeEventListener('resize', onResize); };
}
"""

#: Space kept under the fitted part (pixels) so it never touches the screen's edge. Streamlit's main area
#: scrolls 11 px past the content's bottom padding: with 14, Patrols ending 8 px above the edge at
#: 1920x1080 still scrolled by 3 px.
BOTTOM_MARGIN_PX = 26
#: The smallest map drawn, however little room is left (a very short window scrolls instead).
MIN_HEIGHT_PX = 360


@dataclass(frozen=True)
class ScreenFit:
    """The map's size in pixels on this screen."""

    width_px: int
    height_px: int


@st.cache_resource
def _component():
    return st.components.v2.component("hotspot.viewport", js=_JS)


def reported_size(page: str = "map") -> dict | None:
    """What the browser last reported on ``page`` (``vw, vh, top, width``), or None before its first
    answer. Kept per page: each page's map starts at its own height."""
    return st.session_state.get(f"_viewport_size_{page}")


def measure_screen(page: str = "map") -> None:
    """Mount the measuring component (after the map, so it can find it); its answer reruns the page."""
    key = f"viewport_{page}"

    def keep() -> None:
        st.session_state[f"_viewport_size_{page}"] = st.session_state[key].get("size")

    _component()(key=key, data=reported_size(page), on_size_change=keep, height=0)


def fit_marker(takes_no_room: bool = False) -> None:
    """Mark where the fitted part of a page without a map starts (a table, a chart): the component
    reports this marker's top, and the row height of the first table below it. ``takes_no_room``: the
    marker's empty element is not laid out, so it adds no gap of its own (Streamlit puts 16 px, 22 px in
    wall-screen type, between any two elements: the Overview's chart and the wall tables get them back)."""
    if takes_no_room:
        # :has() reaches the element's own container, which Streamlit draws and the markdown cannot style.
        st.markdown("<style>[data-testid='stElementContainer']:has(.hs-fit-no-room) { display: none; }</style>"
                    "<div class='hs-fit hs-fit-no-room'></div>", unsafe_allow_html=True)
        return
    st.markdown("<div class='hs-fit'></div>", unsafe_allow_html=True)


def free_height(page: str, default: int) -> int:
    """Pixels from the marker's (or map's) top to the screen's bottom edge, less the margin; ``default``
    before the browser's first report."""
    size = reported_size(page)
    if not size or not size.get("vh") or not size.get("top"):
        return default
    return int(size["vh"]) - int(size["top"]) - BOTTOM_MARGIN_PX


def rows_that_fit(page: str, reserve_px: int, default: int = 5, minimum: int = 3) -> int:
    """How many rows of the table below the marker fit on the screen, keeping ``reserve_px`` under the
    table for its caption. The row and header heights are measured in the browser (presentation type
    is 22 px, 16 px under 800 px tall), so the count follows the screen and the type, not a guess."""
    size = reported_size(page)
    if not size or not size.get("row"):
        return default
    free = free_height(page, 0) - reserve_px - int(size.get("head") or size["row"])
    return max(minimum, free // int(size["row"]))


def map_fit(default_width: int, default_height: int, page: str = "map") -> ScreenFit:
    """The map's size: the reported width, and the height from its top to the screen's bottom edge, less
    what the page draws below the map."""
    size = reported_size(page)
    if not size or not size.get("vh") or not size.get("top"):
        return ScreenFit(default_width, default_height)
    # What the page draws below the map (its attribution, three lines of wall-screen type) stays on the
    # screen too: at 1920x1080 it had run 174 px below the bottom edge.
    height = int(size["vh"]) - int(size["top"]) - int(size.get("after") or 0) - BOTTOM_MARGIN_PX
    return ScreenFit(int(size.get("width") or default_width), max(MIN_HEIGHT_PX, height))
