"""Sign-in end to end: the app (``streamlit run app.py`` and ``streamlit run serve.py``) against a stub OpenID Connect provider on
127.0.0.1, in Chromium, through Streamlit's own st.login (Authlib + httpx).

The stub serves a discovery document, an authorize endpoint that signs in whichever user the test
chose (redirecting back with a code), a token endpoint that checks the code, client secret and
redirect URI and returns an RS256-signed id_token carrying the nonce, and the JWKS to check it. So
the whole flow runs as with a real provider: redirect, code exchange over httpx, signature and nonce
checks, the signed user cookie. Then: a data manager sees the upload panel and loads a file; a
signed-in viewer does not see it, and a viewer's or a signed-out session's direct PUT to Streamlit's
upload endpoint is refused by the gate (ui/upload_gate.py), while the data manager's is accepted.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser import browser, chromium_path, free_port, running_app, wait_for_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "hotspot-test"
CLIENT_SECRET = secrets.token_hex(16)
MANAGER = "analyst@hants.police.uk"
VIEWER = "viewer@hants.police.uk"
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class StubProvider:
    """A minimal OpenID Connect provider: one signing key, one client, the user the test picks."""

    def __init__(self) -> None:
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048, parameters={"kid": "stub-1", "use": "sig", "alg": "RS256"})
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.email = VIEWER
        self.codes: dict[str, dict] = {}
        self.token_requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())

    def discovery(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo", "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]}

    def id_token(self, email: str, nonce: str | None) -> str:
        from joserfc import jwt

        now = int(time.time())
        claims = {"iss": self.issuer, "sub": email.split("@")[0], "aud": CLIENT_ID, "email": email,
                  "email_verified": True, "name": email.split("@")[0], "iat": now, "exp": now + 600}
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode({"alg": "RS256", "kid": "stub-1"}, claims, self.key)

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def _json(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    return self._json(provider.discovery())
                if url.path == "/jwks":
                    return self._json({"keys": [provider.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    assert query.get("client_id") == CLIENT_ID and query.get("response_type") == "code"
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {"email": provider.email, "nonce": query.get("nonce"),
                                            "redirect_uri": query["redirect_uri"]}
                    target = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return None
                return self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if urllib.parse.urlsplit(self.path).path != "/token":
                    return self._json({"error": "not_found"}, 404)
                provider.token_requests += 1
                basic = self.headers.get("Authorization", "")
                if basic.startswith("Basic "):
                    given_id, _, given_secret = base64.b64decode(basic[6:]).decode().partition(":")
                    given_id, given_secret = urllib.parse.unquote(given_id), urllib.parse.unquote(given_secret)
                else:
                    given_id, given_secret = form.get("client_id"), form.get("client_secret")
                grant = provider.codes.pop(form.get("code", ""), None)
                if (given_id, given_secret) != (CLIENT_ID, CLIENT_SECRET) or grant is None \
                        or form.get("redirect_uri") != grant["redirect_uri"]:
                    return self._json({"error": "invalid_grant"}, 400)
                return self._json({"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                                   "expires_in": 600, "id_token": provider.id_token(grant["email"], grant["nonce"])})

        return Handler

    @contextmanager
    def running(self):
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


@contextmanager
def signed_in_app(db: Path, provider: StubProvider, folder: Path, script: str = "serve.py"):
    """``streamlit run serve.py`` with sign-in on, the provider in its secrets and one data manager."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.issuer}/.well-known/openid-configuration"\n')
    settings_file = folder / "settings.toml"
    settings_file.write_text(f'[access]\nauth_required = true\ndata_managers = ["{MANAGER}"]\n'
                             f'[store]\nsample_on_empty = false\n')
    with running_app(db, port=port, extra_env={"HOTSPOT_SETTINGS": str(settings_file)}, script=script,
                     extra_args=("--secrets.files", str(secrets_file))) as app_url:
        yield app_url


def _watch_session(page) -> dict:
    """The Streamlit session id of the page's latest websocket, read from its first message."""
    seen: dict = {}

    def on_socket(socket) -> None:
        mine: dict = {}

        def on_frame(payload) -> None:  # each new page load opens a new socket and session
            data = payload if isinstance(payload, bytes) else str(payload).encode()
            found = UUID.findall(data)
            # The first message of a session (NewSession) holds the run id, the page's script hash
            # twice and, last, the session id, which Streamlit puts in its upload URLs.
            if len(found) >= 4 and "session" not in mine:
                mine["session"] = seen["session"] = found[3].decode()

        socket.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    return seen


def _direct_upload(page, url: str, session: str) -> int:
    """PUT a file straight to Streamlit's upload endpoint from the page, as a script could."""
    return page.evaluate(
        """async ([url, session]) => {
            const xsrf = (document.cookie.match(/_streamlit_xsrf=([^;]+)/) || [])[1] || "";
            const form = new FormData();
            form.append("file", new Blob(["x".repeat(1000)], {type: "text/csv"}), "probe.csv");
            const r = await fetch(`${url}/_stcore/upload_file/${session}/probe-${Date.now()}`,
                                  {method: "PUT", body: form, headers: {"X-Xsrftoken": decodeURIComponent(xsrf)},
                                   credentials: "same-origin"});
            return r.status;
        }""", [url, session])


def _sign_in(context, url: str, provider: StubProvider, email: str):
    provider.email = email
    page = context.new_page()
    seen = _watch_session(page)
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(url) + r"/?(\?.*)?$"), timeout=60_000)
    wait_for_app(page)
    return page, seen


@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium")
@pytest.mark.parametrize("script", ["serve.py", "app.py"])
def test_oidc_sign_in_then_only_a_data_manager_can_upload(app_db, tmp_path, script):
    import shutil

    db = tmp_path / "store.duckdb"
    shutil.copy(app_db, db)
    good = ROOT / "tests" / "data" / "good" / "2024-03-hampshire-street.csv"
    provider = StubProvider()
    with provider.running(), signed_in_app(db, provider, tmp_path, script) as url, browser() as chromium:
        # Signed out: only the Sign in button, and Streamlit's upload endpoint refuses the session.
        anonymous = chromium.new_context()
        page = anonymous.new_page()
        seen = _watch_session(page)
        page.goto(url)
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        assert page.get_by_text("Sign in to see serious-violence data.").is_visible()
        assert "session" in seen, "no session id seen on the websocket"
        assert _direct_upload(page, url, seen["session"]) == 403
        anonymous.close()

        # A signed-in viewer: dashboards, no upload panel, and the endpoint still refuses.
        viewer = chromium.new_context()
        page, seen = _sign_in(viewer, url, provider, VIEWER)
        assert provider.token_requests == 1  # the code went through the token endpoint (httpx)
        page.goto(f"{url}/Data_and_export")
        wait_for_app(page)
        page.get_by_text("Loading data needs a signed-in data manager").first.wait_for(timeout=60_000)
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
        assert _direct_upload(page, url, seen["session"]) == 403
        viewer.close()

        # A signed-in data manager: the upload panel, a file loaded into the store.
        manager = chromium.new_context()
        page, seen = _sign_in(manager, url, provider, MANAGER)
        page.goto(f"{url}/Data_and_export")
        wait_for_app(page)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(good))
        uploads = []
        page.on("request", lambda r: uploads.append(r.url) if "/_stcore/upload_file/" in r.url else None)
        page.get_by_role("button", name="Load into the store").click()
        page.get_by_text(re.compile(r"2024-03-hampshire-street\.csv \[police-uk\]: read \d+")).first.wait_for(timeout=60_000)
        assert uploads and f"/upload_file/{seen['session']}/" in uploads[0], "the session id read is the upload's"
        assert _direct_upload(page, url, seen["session"]) in (200, 204)
        manager.close()
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM loads WHERE file = '2024-03-hampshire-street.csv'").fetchall() == [(1,)]
