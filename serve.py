"""Production entry point: ``python serve.py [--address A] [--port P]`` (or ``streamlit run serve.py``)
serves app.py with the upload gate in front of Streamlit's upload endpoint (ui/upload_gate.py), so that
only those ui/access.py allows (a signed-in data manager; with sign-in off, anyone only on a server
listening on this machine alone or with ``[access] open_uploads``) can send or delete files.

``streamlit run app.py`` is the same gated server (app.py builds the same st.App when Streamlit imports
it to find the server; issue 25: before, it was a plain Streamlit script whose upload endpoint took
anonymous files on any address). serve.py adds ``--address`` and ``--port`` and the default of
127.0.0.1. Before issue 25 ``python serve.py`` exited at once and served nothing; it now starts the
gated server (Streamlit's ``App.run``). See docs/deploying.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ui.upload_gate import GATE  # noqa: E402

app = st.App(str(Path(__file__).resolve().parent / "app.py"), middleware=GATE)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve Hotspot with the upload gate.")
    parser.add_argument("--address", help="interface to listen on (default: .streamlit/config.toml, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8501)")
    args = parser.parse_args()
    overrides = {k: v for k, v in (("server.address", args.address), ("server.port", args.port)) if v is not None}
    app.run(config=overrides or None)
