"""Sign-in and roles. Off by default (local use); when `[access] auth_required = true` in
settings.toml, every page needs Streamlit's OIDC sign-in (st.login, provider in
.streamlit/secrets.toml), and uploads and incident-level exports need a data-manager role.

Safe by default (issue 25): with sign-in off, uploads and incident-level exports are open only when
the app listens on this machine alone (``server.address`` 127.0.0.1, localhost or ::1; the repo's
.streamlit/config.toml sets 127.0.0.1) or ``[access] open_uploads = true``. Before, any visitor to a
default ``streamlit run app.py`` reachable on the network could upload. Other loopback addresses
(127.0.0.2...) count as the network: only the three names a user types for "this machine" are local.
A request that came through a reverse proxy (X-Forwarded-For, Forwarded or X-Real-IP set) is from the
network whatever the address: a proxy in front of a loopback-bound app would otherwise open uploads
to everyone who reaches the proxy.
"""
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


LOCAL_ADDRESSES = ("127.0.0.1", "localhost", "::1")
#: Shown where uploads are refused, so the reason is on the page.
UPLOADS_CLOSED = ("Loading data needs a signed-in data manager (settings.toml, [access]). With sign-in off, uploads "
                  "are open only when the app listens on this machine alone (server.address 127.0.0.1) or "
                  "settings.toml sets [access] open_uploads = true.")


def served_locally(address: str | None) -> bool:
    """Whether the server listens on this machine alone (an unset address listens on every interface)."""
    return (address or "").strip().strip("[]").lower() in LOCAL_ADDRESSES


#: Headers a reverse proxy adds (lower case).
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def uploads_allowed(settings: Settings, email: str | None, address: str | None, proxied: bool = False) -> bool:
    """Uploads and incident-level exports: a data manager when sign-in is on; with it off, anyone
    only on a local-only server reached directly, or when settings.toml opens uploads."""
    if settings.auth_required:
        return is_data_manager(settings, email)
    return settings.open_uploads or (served_locally(address) and not proxied)


def server_address() -> str | None:
    return st.get_option("server.address")


def _proxied() -> bool:
    try:
        headers = {k.lower() for k in st.context.headers.keys()}
    except Exception:  # no request behind this run (a test harness): nothing was forwarded
        return False
    return any(h in headers for h in PROXY_HEADERS)


def can_manage_data(settings: Settings) -> bool:
    """:func:`uploads_allowed` for this session's user, this server and this request."""
    email = str(getattr(st.user, "email", "") or "") if settings.auth_required else None
    return uploads_allowed(settings, email, server_address(), _proxied())
