"""Safe by default (issue 25, item 10): with sign-in off, uploads are taken only by a server that
listens on this machine alone, unless settings.toml opens them; the gate refuses DELETE like PUT."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from browser import (
    browser,
    chromium_path,
    running_app,
    this_machines_network_address,
    upload_statuses,
    wait_for_app,
)

from hotspot_engine.settings import Settings, load_settings
from ui.access import UPLOADS_CLOSED, served_locally, uploads_allowed

ROOT = Path(__file__).resolve().parent.parent
MANAGER = "analyst@hants.police.uk"


@pytest.mark.parametrize("address, local", [("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
                                            ("", False), (None, False), ("0.0.0.0", False), ("127.0.0.2", False),
                                            ("192.168.1.20", False), ("::", False)])
def test_only_the_names_of_this_machine_count_as_local(address, local):
    assert served_locally(address) is local


def test_uploads_allowed_by_sign_in_address_and_setting():
    off, opened = Settings(), Settings(open_uploads=True)
    on = Settings(auth_required=True, data_managers=(MANAGER,))
    assert uploads_allowed(off, None, "127.0.0.1") and not uploads_allowed(off, None, "0.0.0.0")
    assert not uploads_allowed(off, None, None)  # Streamlit's own default listens everywhere
    assert uploads_allowed(opened, None, "0.0.0.0")
    assert not uploads_allowed(on, None, "127.0.0.1") and not uploads_allowed(on, "viewer@x.org", "127.0.0.1")
    assert uploads_allowed(on, MANAGER, "0.0.0.0")
    assert not uploads_allowed(off, None, "127.0.0.1", proxied=True)


def test_shipped_settings_and_streamlit_config_are_local_only():
    import tomllib

    assert load_settings(ROOT / "settings.toml").open_uploads is False
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert served_locally(config["server"]["address"])


def _call_gate(method: str, address: str, monkeypatch, headers: tuple = ()) -> int:
    import ui.upload_gate as gate

    monkeypatch.setattr(gate, "server_address", lambda: address)
    reached = []

    async def app(scope, receive, send):
        reached.append(scope["method"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/_stcore/upload_file/session/file", "headers": list(headers),
             "query_string": b"", "server": ("127.0.0.1", 8501), "scheme": "http", "root_path": ""}
    asyncio.run(gate.UploadGate(app, Settings())(scope, receive, send))
    return sent[0]["status"]


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_the_gate_refuses_every_upload_method_on_a_network_server(method, monkeypatch):
    assert _call_gate(method, "0.0.0.0", monkeypatch) == 403
    assert _call_gate(method, "127.0.0.1", monkeypatch) == 204
    # Through a reverse proxy on this machine, every visitor would look local: forwarded is the network.
    assert _call_gate(method, "127.0.0.1", monkeypatch, ((b"x-forwarded-for", b"10.1.2.3"),)) == 403


@pytest.mark.slow
@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium")
def test_a_fresh_app_on_a_network_address_shows_why_uploads_are_closed(app_db, tmp_path):
    """`streamlit run app.py` and `serve.py` on 127.0.0.2 (loopback to the kernel, the network to the
    app: only the names of this machine count as local): no upload panel, the reason on the page."""
    db = tmp_path / "store.duckdb"
    shutil.copy(app_db, db)
    for script in ("app.py", "serve.py"):
        with running_app(db, script=script, address="127.0.0.2") as url, browser() as chromium:
            page = chromium.new_page()
            page.goto(f"{url}/Data_and_export")
            wait_for_app(page)
            page.get_by_text(UPLOADS_CLOSED[:60]).first.wait_for(timeout=60_000)
            assert page.locator('[data-testid="stFileUploader"]').count() == 0
            page.close()


REFUSED = {"first PUT": 403, "PUT": 403, "DELETE": 403}
TAKEN = {"first PUT": 400, "PUT": 204, "DELETE": 204}


@pytest.mark.slow
def test_a_fresh_streamlit_run_app_py_on_a_network_address_refuses_anonymous_uploads(app_db, tmp_path):
    """Issue 25's "Done when": `streamlit run app.py --server.address 0.0.0.0`, reached on this machine's
    network address, answers 403 to an anonymous PUT or DELETE at Streamlit's upload endpoint, from the
    first request on (before any session ran the app); so does `python serve.py`. On 127.0.0.1, or with
    ``[access] open_uploads``, the same requests are taken. Before, the network server took them (204)."""
    network = this_machines_network_address()
    if network is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    db = tmp_path / "store.duckdb"
    shutil.copy(app_db, db)
    opened = tmp_path / "opened.toml"
    opened.write_text("[access]\nopen_uploads = true\n[store]\nsample_on_empty = false\n")
    cases = [("app.py", "0.0.0.0", {}, REFUSED), ("python serve.py", "0.0.0.0", {}, REFUSED),
             ("app.py", "127.0.0.1", {}, TAKEN), ("app.py", "0.0.0.0", {"HOTSPOT_SETTINGS": str(opened)}, TAKEN)]
    for script, address, env, expected in cases:
        with running_app(db, script=script, address=address, extra_env=env) as url:
            got = upload_statuses(url.replace("0.0.0.0", network))
        assert got == expected, (script, address, env, got)


@pytest.mark.slow
def test_without_the_gate_streamlit_takes_anonymous_uploads(tmp_path):
    """What Streamlit itself allows (why the gate exists): a plain script under `streamlit run`, on a
    network address, takes a PUT and a DELETE from any live session; it checks the XSRF token and that
    the session exists, not who sends. If a Streamlit release starts refusing them, this fails: the gate
    may then be simplified."""
    network = this_machines_network_address()
    if network is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    plain = tmp_path / "plain.py"
    plain.write_text("import streamlit as st\n\nst.write('plain Streamlit')\n")
    with running_app(tmp_path / "unused.duckdb", script=str(plain), address="0.0.0.0") as url:
        assert upload_statuses(url.replace("0.0.0.0", network)) == TAKEN
