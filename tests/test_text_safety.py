"""Text from data shown as text: each escaper checked against the markup that would parse it."""
from __future__ import annotations

import html
import re
import string

import matplotlib
import pytest

from hotspot_engine.render.text_safety import html_plain, markdown_plain, matplotlib_plain

matplotlib.use("Agg")

HOSTILE = [
    "Police Station ![b](http://127.0.0.1:9999/x.png)",
    "**bold** $x^2$ _it_ `code`",
    "<img src=http://127.0.0.1:9999/y.png onerror=alert(1)>",
    "[link](javascript:alert(1)) :red[colour] :material/home:",
    "# heading\n- item\n1. one\n```fence",
    r"$\undefinedcmd{x}$ back\slash \$ &amp; <!-- c -->",
    "Café Street, O'Neil's \"Bar\" 50% ~strike~ |a|b|",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_plain_escapes_every_punctuation_mark_on_one_line(value):
    # CommonMark shows a backslash-escaped ASCII punctuation mark as itself and never as syntax, so
    # with every mark escaped nothing can open an image, link, emphasis, maths, directive or tag.
    # (The browser walk in test_injection_walk.py checks the rendering in Streamlit itself.)
    escaped = markdown_plain(value)
    assert "\n" not in escaped and "\r" not in escaped
    bare = re.sub(r"\\.", "", escaped)
    assert not any(c in string.punctuation for c in bare), bare
    shown = re.sub(r"\\(.)", r"\1", escaped)
    assert shown.replace("\u2060", "") == " ".join(value.splitlines())
    assert not re.search(r"(?i)(https?:|www\.|\w@)", shown)  # no bare URL or address left to link


@pytest.mark.parametrize("value", HOSTILE)
def test_html_plain_leaves_no_tag_or_attribute_break(value):
    escaped = html_plain(value)
    assert "<" not in escaped and ">" not in escaped and '"' not in escaped and "'" not in escaped
    assert html.unescape(escaped) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_matplotlib_plain_is_never_mathtext_and_shows_the_value(value):
    from matplotlib.figure import Figure

    fig = Figure()
    text = fig.text(0.1, 0.5, matplotlib_plain(value))
    fig.canvas.draw()  # would raise ValueError on the undefined command if parsed as mathtext
    shown, is_math = text._preprocess_math(text.get_text())
    assert is_math is False
    assert shown == value


def test_none_is_empty_text():
    assert markdown_plain(None) == html_plain(None) == matplotlib_plain(None) == ""
