"""A gate in front of Streamlit's upload endpoint: with sign-in on, only a signed-in data manager's
browser may send files.

Why: Streamlit accepts ``PUT /_stcore/upload_file/<session>/<file>`` from any live session (it checks
the XSRF token and that the session exists, not who is signed in), so the page-level check in
ui/access.py hid the upload panel but did not stop a signed-out visitor from sending files: issue 20
measured four 50 MB uploads from a signed-out session taking the server from 236 MB to 443 MB.

The gate is ASGI middleware on ``st.App`` (app.py, which ``streamlit run app.py`` serves as an st.App,
and serve.py), so it stands before the server takes its first request. (Installing it on the running
server when a page first runs would leave a gap: Streamlit sends a new session its id before the
script's first line runs, and that first run imports the whole app.) It reads the same signed
``_streamlit_user`` cookie Streamlit sets after OIDC sign-in (verified with the cookie secret, chunked
cookies joined, by Streamlit's own helper), and refuses the request with 403 before its body is read unless the cookie
is valid, signed in and names a data manager. With sign-in off it lets uploads through only when
the server listens on this machine alone or settings.toml opens uploads (ui/access.py), and it
gates DELETE like PUT. Tested end to end against a stub identity provider in tests/test_sign_in_flow.py.
"""
from __future__ import annotations

import json
from typing import Any

from starlette.middleware import Middleware

from hotspot_engine.settings import Settings, load_settings
from ui.access import PROXY_HEADERS, server_address, uploads_allowed

UPLOAD_PATH_PART = "/_stcore/upload_file/"
#: Every method that adds or removes an upload (issue 25: an anonymous DELETE was not gated).
GATED_METHODS = ("PUT", "POST", "DELETE", "PATCH")


def signed_in_email(request: Any) -> str | None:
    """The email of the signed-in user the request's cookie names, or None (no, forged or expired cookie)."""
    from streamlit.web.server.server_util import AUTH_COOKIE_NAME
    from streamlit.web.server.starlette.starlette_auth_routes import _get_cookie_value_from_request

    try:
        raw = _get_cookie_value_from_request(request, AUTH_COOKIE_NAME)
        user = json.loads(raw) if raw else None
    except Exception:  # a malformed or wrongly signed cookie is no sign-in
        return None
    if not isinstance(user, dict) or not user.get("is_logged_in"):
        return None
    email = user.get("email")
    return str(email) if email else None


class UploadGate:
    """ASGI middleware: 403 for upload requests :func:`ui.access.uploads_allowed` refuses."""

    def __init__(self, app: Any, settings: Settings | None = None) -> None:
        self.app = app
        self._settings = settings

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and UPLOAD_PATH_PART in scope.get("path", "").lower() \
                and scope.get("method") in GATED_METHODS:
            from starlette.requests import Request
            from starlette.responses import PlainTextResponse

            request = Request(scope)
            email = signed_in_email(request) if self.settings.auth_required else None
            proxied = any(h in request.headers for h in PROXY_HEADERS)
            if not uploads_allowed(self.settings, email, server_address(), proxied):
                response = PlainTextResponse("Uploads need a signed-in data manager.", status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


#: The middleware of every Hotspot server: app.py's (``streamlit run app.py``) and serve.py's.
GATE = [Middleware(UploadGate)]
