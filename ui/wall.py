"""What the wall screen shows of a long table: the first rows that fit on the screen and a line saying
how many more the desk view holds.

In presentation mode Patrols, Data & export (and a long list anywhere) ran one or two screens below
the first (issue 27: 19 hotspots at 22 px type are about 900 px of table at 1920x1080, with the
figures above them). A meeting reads the figures and the top of the list; the rest is desk work. The
number of rows comes from the browser's report of the screen and of the table's own row height
(ui/viewport.py), so it follows the screen and the type size instead of a fixed guess.

The marker above the table takes no room (``fit_marker(takes_no_room=True)``, as the Overview's chart):
its empty element had cost the table Streamlit's 16 px (1280x720) or 22 px (1920x1080) gap. Given
back, the sample's tables show a row more in three of four cases (Patrols 6 -> 7 at 1920x1080, Data &
export 7 -> 8 at 1280x720 and 9 -> 10 at 1920x1080; Patrols stays 5 at 1280x720), every page still one
screen on the sample and the real police.uk store (tools/screenshots.py --presentation).
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from ui.viewport import fit_marker, measure_screen, rows_that_fit

#: Room kept under a fitted table for its "more on the desk view" line: one caption line of 22 px type
#: (41 px measured at 1920x1080) and the gap above it (22 px). The page's padding below is in
#: ui/viewport.BOTTOM_MARGIN_PX.
CAPTION_PX = 64


def draw_wall_table(table: pd.DataFrame, page: str, noun: str, style: Callable | None = None) -> None:
    """The first rows of ``table`` that fit the screen (all of them when they do), as an HTML table that
    presentation type enlarges, then the count left for the desk view. ``style`` turns the shown frame
    into a Styler (colours, number format)."""
    fit_marker(takes_no_room=True)
    rows = rows_that_fit(page, CAPTION_PX)
    shown = table if len(table) <= rows else table.head(rows)
    st.table(style(shown) if style else shown.style.hide(axis="index"))
    if len(shown) < len(table):
        st.caption(f"The first {len(shown)} of {len(table)} {noun}; the other {len(table) - len(shown)} are on "
                   "the desk view (Exit presentation mode).")
    measure_screen(page)
