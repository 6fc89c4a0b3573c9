"""One way for a page to fail: :func:`page_errors` around the work that may raise.

Bad input (:class:`~hotspot_engine.errors.InputError`) shows its message, which names the file,
row or column and never data. Anything else is an internal error: it is recorded in the error log
(type and traceback frames only, see :mod:`hotspot_engine.errorlog`) and the page shows a short
message that says whether the record was written. Never a traceback or a server path in the page.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from hotspot_engine.errorlog import record_error
from hotspot_engine.errors import InputError

RECORDED = "Something went wrong preparing this view. It has been recorded in the error log; try other filters."
NOT_RECORDED = ("Something went wrong preparing this view, and the error log could not be written; "
                "try other filters, and tell the administrator.")


def show_error(exc: Exception, where: str = "") -> None:
    """User-facing errors: the message of bad input; for anything else a short message, after
    recording the error."""
    if isinstance(exc, InputError):
        st.error(str(exc))
        return
    st.error(RECORDED if record_error(exc, where) else NOT_RECORDED)


@contextmanager
def page_errors(where: str, stop: bool = False) -> Iterator[None]:
    """``with page_errors("Patrols: dosage"):`` shows any error of the block as :func:`show_error`
    does, then goes on after the block, or with ``stop`` ends the page run (the rest of the page
    needs the block's result). Streamlit's own stop and rerun pass through: they are not errors."""
    try:
        yield
    except Exception as exc:  # never a traceback in the page
        show_error(exc, where)
        if stop:
            st.stop()
