"""Text from data is shown as text: escaping for each markup that data text meets.

Locations, hotspot names, districts, headers and file names come from files anyone may upload. An
attack run against a clone (issue 20) showed a Location of ``![b](http://127.0.0.1:9999/x.png)``
rendered by ``st.warning`` made every viewer's browser fetch the URL, a file name of
``**bold** $x^2$`` rendered as bold and KaTeX, and ``$\\undefinedcmd{x}$`` in a street name made
matplotlib's mathtext parser fail the patrol briefing. Each helper here turns one value into text that
its markup shows literally:

- :func:`markdown_plain` for Streamlit Markdown (``st.markdown``/``st.write``/``st.warning``/...,
  widget labels): every ASCII punctuation character is backslash-escaped (CommonMark allows escaping
  any of them, so they show as themselves), which defeats images, links, emphasis, KaTeX ``$``,
  Streamlit's ``:color[...]``/``:material/...:`` directives and raw HTML; an invisible word joiner
  after a URL scheme or ``www`` and before ``@`` keeps bare URLs and addresses from becoming links;
  line breaks become spaces so one value cannot start a new block (a heading, a list, a fence).
- :func:`html_plain` for HTML templates (the deck.gl tooltip, folium popups): ``html.escape``.
- :data:`FORMULA_PREFIXES` for spreadsheets: the cell starts that a spreadsheet runs as a formula.
- :func:`matplotlib_plain` for matplotlib text: every ``$`` escaped, so the string holds no unescaped
  dollar pair and mathtext is never invoked (matplotlib then shows ``\\$`` as ``$``).
"""
from __future__ import annotations

import html
import re
import string

__all__ = ["FORMULA_PREFIXES", "html_plain", "markdown_plain", "matplotlib_plain"]

#: A text cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets (OWASP
#: "CSV injection"). One list for the loader (which stores such values with a leading apostrophe) and
#: every export (which adds one): issue 20 found the loader's list missing '-'.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_MARKDOWN_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
# GitHub-flavoured Markdown turns a bare URL, "www." name or e-mail address into a link by searching
# the text *after* parsing, so neither backslash escapes nor character references stop it (both seen
# linking in Chromium). A word joiner (U+2060, invisible and zero-width) after the scheme or before
# '@' breaks the pattern it looks for; the text reads the same.
_AUTOLINK_START = re.compile(r"(?i)\b(https?|ftp|mailto|www|xmpp)(?=[:.])")
WORD_JOINER = "\u2060"
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def _as_text(value: object) -> str:
    return "" if value is None else str(value)


def markdown_plain(value: object) -> str:
    """``value`` as Markdown that renders exactly its characters, on one line."""
    text = _LINE_BREAKS.sub(" ", _as_text(value))
    text = _AUTOLINK_START.sub(lambda m: m.group(1) + WORD_JOINER, text).replace("@", WORD_JOINER + "@")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def html_plain(value: object) -> str:
    """``value`` escaped for HTML text and attribute values."""
    return html.escape(_as_text(value), quote=True)


def matplotlib_plain(value: object) -> str:
    """``value`` as matplotlib text that is never parsed as mathtext."""
    return _as_text(value).replace("$", r"\$")
