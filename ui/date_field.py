"""One date field for every page: a typed date applies as soon as it is a whole valid date, not only
on Enter or when the field loses focus (issue 27, item 7).

Streamlit's ``st.date_input`` (1.67) is three react-aria segments that apply on Enter or blur; they
pad a typed "1" to "01", so a listener cannot tell a finished day from a half-typed one (tried and
dropped last session). The browser's own ``<input type="date">`` can: measured in Debian's Chromium
(Playwright, keystroke by keystroke), it fires ``input`` only when every segment holds a value, and
its ``value`` is then the ISO date. Typing a year goes through 0002, 0020 and 0202 on the way to
2024, so a year before 1000 counts as still being typed (no message, nothing applied). Editing one
segment of a whole date applies each whole date on the way (typing "12" into the month applies
January, then December): each is a real date the field shows, and the last one wins. The page reruns
while the user types on; the input is built once and its attributes are set only when they change:
setting the same min/max again on each rerun reset Chromium's half-typed segment (3 of 3 runs typed
"15" as "05"; 0 of 3 after the change).

The field is a tiny ``st.components.v2`` component (inline JavaScript and CSS, nothing fetched: it
works offline, like ui/viewport.py). The chosen date lives in plain session state under the page's
own key (``i_date``, ``p_week``...), so the URL, the page switch and presentation mode keep it as
before; the component only reports what was typed. The browser checks min/max as the user types and
says why a date is not taken (out of range, not a date) under the field; the server checks the range
again before it takes a date. The component's colours and type come from Streamlit's theme (CSS
variables), so it follows light, dark and presentation mode.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import streamlit as st

_CSS = """
/* Sizes in rem, like Streamlit's own widgets: presentation mode's larger root type enlarges it too. */
:host { display: block; }
.hs-date { font-family: var(--st-font); color: var(--st-text-color); font-size: 1rem; }
.hs-date .hs-top { display: flex; align-items: center; gap: 0.3em; font-size: 0.875em; line-height: 1.6;
  min-height: 1.5em; margin-bottom: 0.25em; }
.hs-date .hs-help { cursor: help; opacity: 0.7; font-size: 0.9em; border: 1px solid currentColor; border-radius: 50%;
  width: 1.15em; height: 1.15em; display: inline-flex; align-items: center; justify-content: center; }
.hs-date input { box-sizing: border-box; width: 100%; height: 2.5em; padding: 0 0.75em; font: inherit;
  color: var(--st-text-color); background: var(--st-secondary-background-color);
  border: 1px solid var(--st-widget-border-color, transparent); border-radius: var(--st-base-radius, 0.5rem);
  outline: none; }
.hs-date input:focus { border-color: var(--st-primary-color); box-shadow: 0 0 0 1px var(--st-primary-color); }
.hs-date input[aria-invalid="true"] { border-color: var(--st-red-color); box-shadow: 0 0 0 1px var(--st-red-color); }
.hs-date .hs-msg { color: var(--st-red-text-color, var(--st-red-color)); font-size: 0.8em; margin-top: 0.25em; }
.hs-date .hs-msg:empty, .hs-date [hidden] { display: none; }
"""

_JS = """
const FMT = { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' };
const shown = (iso) => new Date(iso + 'T00:00:00Z').toLocaleDateString('en-GB', FMT);

function dark(el) {
  // The native picker's icon and calendar follow color-scheme; Streamlit's theme gives only colours.
  const bg = getComputedStyle(el).getPropertyValue('--st-background-color').trim();
  const m = bg.match(/^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i);
  if (!m) return false;
  const [r, g, b] = m.slice(1).map((h) => parseInt(h, 16));
  return 0.299 * r + 0.587 * g + 0.114 * b < 128;
}

export default function(component) {
  const { data, setStateValue, parentElement } = component;
  let f = parentElement.__hsDate;
  if (!f) {
    // Built once: the function runs again on every rerun with new data, and rebuilding the input
    // would drop the focus (and the user's half-typed date) after each applied date.
    const root = document.createElement('div');
    root.className = 'hs-date';
    const id = 'hs-date-' + Math.random().toString(36).slice(2);
    root.innerHTML = `<div class="hs-top"><label for="${id}" class="hs-label"></label><span class="hs-help" aria-hidden="true" hidden>?</span></div>
      <input id="${id}" type="date" aria-describedby="${id}-msg"><div class="hs-msg" id="${id}-msg" aria-live="polite"></div>`;
    parentElement.appendChild(root);
    f = { root, input: root.querySelector('input'), msg: root.querySelector('.hs-msg'), data: {}, n: 0 };
    parentElement.__hsDate = f;
    const say = (text, final) => {
      // Once the user leaves the field, the message also says which date the page still uses.
      const still = text && final && f.data.value ? ` The page still uses ${shown(f.data.value)}.` : '';
      f.msg.textContent = text + still; f.input.setAttribute('aria-invalid', text ? 'true' : 'false');
    };
    const check = (final) => {
      const d = f.data, v = f.input.value;
      if (!v) {
        // Chromium leaves value empty until every segment holds a number.
        say(final && f.input.validity.badInput ? 'Not a whole date: type day, month and year.' : '', final);
        return;
      }
      if (Number(v.slice(0, 4)) < 1000) { say(final ? 'Type the year in full (four digits).' : '', final); return; }
      if ((d.min && v < d.min) || (d.max && v > d.max)) {
        say(d.min && d.max ? `Choose a date from ${shown(d.min)} to ${shown(d.max)}.`
            : d.min ? `Choose a date from ${shown(d.min)} on.` : `Choose a date up to ${shown(d.max)}.`, final);
        return;
      }
      say('', final);
      if (v !== f.sent) { f.sent = v; f.n += 1; setStateValue('typed', { date: v, n: Date.now() + '-' + f.n }); }
    };
    f.input.addEventListener('input', () => check(false));
    f.input.addEventListener('change', () => check(false));
    f.input.addEventListener('blur', () => {
      check(true);
      // Left with nothing usable typed: show the date in use again, and say so only if it was bad.
      if (!f.input.value && f.data.value && !f.msg.textContent) f.input.value = f.data.value;
    });
  }
  const d = data || {};
  // Attributes are touched only when they change: setting even the same min or max on a date
  // input resets Chromium's half-typed segment (measured: "15" arrived as "05" after a rerun).
  const set = (el, name, value) => { if ((el.getAttribute(name) || '') !== value) { if (value) el.setAttribute(name, value); else el.removeAttribute(name); } };
  const label = f.root.querySelector('.hs-label');
  if (label.textContent !== (d.label || '')) label.textContent = d.label || '';
  const help = f.root.querySelector('.hs-help');
  // The help is read out as the input's description; the "?" only shows it to the mouse.
  help.hidden = !d.help; set(help, 'title', d.help || '');
  set(f.input, 'aria-description', d.help || '');
  set(f.input, 'min', d.min || ''); set(f.input, 'max', d.max || '');
  if (f.input.disabled !== !!d.disabled) f.input.disabled = !!d.disabled;
  const scheme = dark(parentElement.host || parentElement) ? 'dark' : 'light';
  if (f.root.style.colorScheme !== scheme) f.root.style.colorScheme = scheme;
  // The date the page uses, shown unless the user is in the field: their keystrokes win, and the
  // date they applied comes back here as the same value.
  if (f.input.getRootNode().activeElement !== f.input) {
    if (f.input.value !== (d.value || '')) { f.input.value = d.value || ''; f.msg.textContent = ''; f.input.setAttribute('aria-invalid', 'false'); }
    f.sent = d.value || '';
  }
  f.data = d;
}
"""


@st.cache_resource
def _component():
    return st.components.v2.component("hotspot.date_field", js=_JS, css=_CSS)


def clamp(day: date, min_value: date | None, max_value: date | None) -> date:
    """``day`` moved into [min_value, max_value] (a link or a stored choice may lie outside the range a
    page offers now)."""
    if min_value is not None and day < min_value:
        return min_value
    if max_value is not None and day > max_value:
        return max_value
    return day


def typed_date(typed: Any, min_value: date | None = None, max_value: date | None = None) -> date | None:
    """The date a field reported (``{"date": "YYYY-MM-DD", ...}``), or None when it is not a date in
    range: the server takes nothing the browser should not have sent."""
    text = typed.get("date") if isinstance(typed, dict) else None
    try:
        day = date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
    except ValueError:
        return None
    if day is None or day.year < 1000:  # a year still being typed (0002, 0020, 0202 on the way to 2024)
        return None
    if (min_value is not None and day < min_value) or (max_value is not None and day > max_value):
        return None
    return day


def date_field(label: str, key: str, *, default: date | None = None, min_value: date | None = None,
               max_value: date | None = None, help: str | None = None, where=None,
               disabled: bool = False) -> date | None:
    """A date field whose date applies as it is typed. The date lives in ``st.session_state[key]``
    (seeded with ``default`` when absent, kept inside the range); returns it. ``where``: the column or
    container to draw in (the page's main area by default)."""
    state = st.session_state
    current = state.get(key)
    if isinstance(current, datetime):  # a Timestamp or datetime: the field holds days
        current = current.date()
    if not isinstance(current, date):
        current = default
    if current is not None:
        current = clamp(current, min_value, max_value)
    state[key] = current
    field_key = f"{key}_field"

    def take() -> None:
        day = typed_date((state.get(field_key) or {}).get("typed"), min_value, max_value)
        if day is not None:
            state[key] = day

    data = {"label": label, "value": current.isoformat() if current else "", "help": help or "",
            "min": min_value.isoformat() if min_value else "", "max": max_value.isoformat() if max_value else "",
            "disabled": disabled}
    with where if where is not None else st.container():
        _component()(key=field_key, data=data, on_typed_change=take)
    return state[key]
