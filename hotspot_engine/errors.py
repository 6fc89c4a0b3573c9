"""The one exception type for input a user can fix: its message names the file, row or column."""
from __future__ import annotations


class InputError(ValueError):
    """Unusable input or arguments. The command line prints the message on one line and exits 2;
    the pages show it as an error box. Messages never contain incident rows or full paths."""
