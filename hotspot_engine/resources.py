"""Where the engine's data files are: its own tables, the boundary data and the static map styles.

Found through ``importlib.resources`` so that the engine works the same from a checkout and from an
installed copy (``pip install .`` places ``geodata/`` and ``static/`` inside the package as
``hotspot_engine/geodata`` and ``hotspot_engine/static``). ``$HOTSPOT_GEODATA`` overrides the boundary
folder (tests and deployments with their own boundaries).
"""
from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

PACKAGE_DIR = Path(str(files("hotspot_engine")))
#: Default lookup tables shipped with the engine (harm weights, exclusions, offence maps).
DATA_DIR = PACKAGE_DIR / "data"


def _bundled(name: str) -> Path:
    """The installed copy inside the package if there is one, else the checkout's top-level folder."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


GEODATA_DIR = Path(os.environ["HOTSPOT_GEODATA"]) if os.environ.get("HOTSPOT_GEODATA") else _bundled("geodata")
STATIC_DIR = _bundled("static")
