"""Sign-in and roles. Off by default (local use); when `[access] auth_required = true` in
settings.toml, every page needs Streamlit's OIDC sign-in (st.login, provider in
.streamlit/secrets.toml), and uploads and incident-level exports need a data-manager role."""
from __future__ import annotations

import streamlit as st

from hotspot_engine.settings import Settings


def require_sign_in(settings: Settings) -> None:
    """Stop the page with a sign-in button when sign-in is required and the user is not signed in."""
    if not settings.auth_required or getattr(st.user, "is_logged_in", False):
        return
    st.title("Hotspot")
    st.write("Sign in to see serious-violence data.")
    st.button("Sign in", on_click=st.login, type="primary")
    st.stop()


def is_data_manager(settings: Settings, email: str | None) -> bool:
    """An email listed in data_managers, or ending with a listed '@domain'."""
    email = (email or "").strip().lower()
    if not email:
        return False
    for role in settings.data_managers:
        role = role.strip().lower()
        if email == role or (role.startswith("@") and email.endswith(role)):
            return True
    return False


def can_manage_data(settings: Settings) -> bool:
    """Uploads and incident-level exports: anyone when sign-in is off, data managers when it is on."""
    if not settings.auth_required:
        return True
    return is_data_manager(settings, str(getattr(st.user, "email", "") or ""))
