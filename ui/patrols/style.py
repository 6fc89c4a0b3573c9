"""Chart text for the Patrols page: large enough for the back of a meeting room in presentation mode."""
from __future__ import annotations

import altair as alt


def font_size(big: bool) -> int:
    return 20 if big else 13


def styled(chart: alt.TopLevelMixin, big: bool):
    font = font_size(big)
    return chart.configure_axis(labelFontSize=font, titleFontSize=font + 1).configure_legend(
        labelFontSize=font, titleFontSize=font).configure_title(fontSize=font + 3, anchor="start")
