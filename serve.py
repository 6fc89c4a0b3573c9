"""Production entry point: ``streamlit run serve.py`` serves app.py with the upload gate in front of
Streamlit's upload endpoint (ui/upload_gate.py), so that with sign-in on only a signed-in data
manager can send files. ``streamlit run app.py`` still works for local use (sign-in off), where the
gate has nothing to do. See docs/deploying.md."""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ui.upload_gate import UploadGate  # noqa: E402

app = st.App(str(Path(__file__).resolve().parent / "app.py"), middleware=[Middleware(UploadGate)])
