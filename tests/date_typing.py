"""AppTest cannot type into a custom component, so this sends what the browser's date field sends
(ui/date_field.py: the state ``{"typed": {"date": ..., "n": ...}}`` of the component keyed
``<key>_field``) with the next run: the date then goes through the field's real callback and range
check, as a typed one does. The browser itself is tested in tests/test_date_field_browser.py."""
from __future__ import annotations

import itertools
import json

_TYPED = itertools.count(1)


def field_id(at, key: str) -> str:
    """The element id of the date field ``key`` on the page AppTest last ran."""
    from streamlit.testing.v1.element_tree import UnknownElement

    found = [node.proto.id for node in at._tree if isinstance(node, UnknownElement)
             and node.type == "bidi_component" and node.key == f"{key}_field"]
    assert found, f"no date field {key!r} on the page"
    return found[0]


def has_field(at, key: str) -> bool:
    try:
        field_id(at, key)
    except AssertionError:
        return False
    return True


def type_date(at, key: str, iso: str):
    """Run the app again as after the user typed ``iso`` into the date field ``key``."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    states = at._tree.get_widget_states()
    typed = WidgetState(id=field_id(at, key), json_value=json.dumps({"typed": {"date": iso, "n": str(next(_TYPED))}}))
    kept = [w for w in states.widgets if w.id != typed.id]
    del states.widgets[:]
    states.widgets.extend([*kept, typed])
    return at._run(states)
