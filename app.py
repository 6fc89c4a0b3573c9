"""Hotspot: serious-violence hotspots, patrol dosage and impact for the HIPS Violence Reduction Partnership.

Run:  streamlit run app.py   (opens on the built-in synthetic sample when the store is empty)

Streamlit imports this file to find its server (``app``, below): Hotspot is served as an st.App with the
upload gate, so a plain ``streamlit run app.py`` on a network address refuses anonymous uploads at
Streamlit's upload endpoint (issue 25; ui/upload_gate.py). Each page run executes it as "__main__".

This script is the Overview page; the other pages are in pages/. Each page starts with
ui.common.page_setup, which draws the navigation and the shared filters, then reads as
filters -> service (through ui.cached) -> draw (ui/ modules named for what they draw).
"""
from __future__ import annotations

import streamlit as st

if __name__ != "__main__":
    # `streamlit run app.py` (and uvicorn, and serve.py) import this file to find the server before any
    # session exists: it is served as an st.App with the upload gate in front of Streamlit's upload
    # endpoint, so even the first request from the network meets the gate (ui/upload_gate.py).
    # Streamlit runs the page itself as "__main__".
    from ui.upload_gate import GATE

    app = st.App(__file__, middleware=GATE)
else:
    from ui.cached import (
        cached_headline,
        cached_held_months,
        cached_impact,
        cached_monthly,
        cached_overview_periods,
        cached_set,
        cached_stored_months,
        data_version,
        sets_version,
    )
    from ui.common import page_setup, presentation
    from ui.errors import page_errors
    from ui.overview.headline import draw_evidence_line, draw_headline
    from ui.overview.monthly_chart import draw_monthly
    from ui.overview.periods import draw_periods
    from ui.sets import current_set, set_ref

    filters = page_setup("Serious violence overview")
    version = data_version()

    head = None
    with page_errors("Overview: headline"):
        head = cached_headline(filters, version)
    if head is None:  # fewer than two financial years: the months loaded, compared as far as they allow
        adopted = current_set()
        with page_errors("Overview: figures"):
            draw_periods(*cached_overview_periods(filters, version, set_ref(adopted)), adopted.name if adopted else None,
                         adopted.chance_line(places=filters) if adopted else "")
    else:
        chosen, set_read = None, False
        with page_errors("Overview: the adopted set"):
            chosen, set_read = (cached_set(head.hotspot_set, sets_version()) if head.hotspot_set else None), True
        # How many of the set's hotspots stand out beyond chance (audit item 4): on the wall screen in the
        # line that names the set, where its own line left the monthly chart no room.
        draw_headline(head, wall=presentation(),
                      chance=chosen.chance_line(short=True, places=filters) if chosen is not None else "")
        if set_read:
            with page_errors("Overview: how much of the fall the evidence supports"):
                # To the end of the headline's year: later months (the sample's trial) would move its estimate.
                year = filters.with_(date_from=None, date_to=f"{int(head.fy_after[:4]) + 1}-03")
                draw_evidence_line(head, cached_impact(year, f"{head.fy_after[:4]}-04-01", "negbin", 1, version,
                                                       on=set_ref(chosen)))
                if chosen is not None and not presentation():
                    st.caption(chosen.chance_line(places=filters))

    st.subheader("Monthly serious violence by category")
    held = cached_held_months(filters, version)  # a month one force of the places lacks is a gap too
    draw_monthly(cached_monthly(filters, "offence_group", version), filters, presentation(), held,
                 held != cached_stored_months(version))
