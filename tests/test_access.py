"""Sign-in and the data-manager role (ui/access.py), in both states: off (the default, local use)
and on (`[access] auth_required = true`). The signed-in user is seeded through AppTest.user, which
is what `st.user` reads in a test run; no identity provider is contacted."""
from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from hotspot_engine.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["app.py", "pages/1_Hotspot_map.py", "pages/2_Patrols.py", "pages/3_Impact.py", "pages/4_Data_and_export.py"]
MANAGER = "analyst@hants.police.uk"


# -- the role logic --------------------------------------------------------------------------------

def _settings(auth: bool, managers: tuple[str, ...] = ()) -> Settings:
    return Settings(auth_required=auth, data_managers=managers)


@pytest.mark.parametrize("email, managers, expected", [
    (MANAGER, (MANAGER,), True),
    ("Analyst@Hants.Police.UK ", (MANAGER,), True),  # case and stray spaces from the provider
    (MANAGER, ("@hants.police.uk",), True),  # a whole domain
    ("someone@hants.police.uk.evil.example", ("@hants.police.uk",), False),  # suffix, not substring
    ("someone@evilhants.police.uk", ("@hants.police.uk",), False),  # the '@' is part of the domain rule
    ("other@hants.police.uk", (MANAGER,), False),
    ("", ("@hants.police.uk",), False),
    (None, (MANAGER,), False),
    (MANAGER, (), False),  # nobody is a data manager until listed
    ("hants.police.uk", ("@hants.police.uk",), False),
])
def test_is_data_manager(email, managers, expected):
    from ui.access import is_data_manager

    assert is_data_manager(_settings(True, managers), email) is expected


def test_can_manage_data_follows_sign_in_and_role(monkeypatch):
    import ui.access as access

    # Sign-in off: on a server listening on this machine alone, everyone may load and export;
    # listening on the network, no one (issue 25: safe by default).
    monkeypatch.setattr(access.st, "user", SimpleNamespace(is_logged_in=False, email=None), raising=False)
    monkeypatch.setattr(access, "server_address", lambda: "127.0.0.1")
    assert access.can_manage_data(_settings(False)) is True
    monkeypatch.setattr(access, "server_address", lambda: "0.0.0.0")
    assert access.can_manage_data(_settings(False)) is False
    # Sign-in on: a signed-out user and a signed-in user without the role may not.
    assert access.can_manage_data(_settings(True, (MANAGER,))) is False
    monkeypatch.setattr(access.st, "user", SimpleNamespace(is_logged_in=True, email="viewer@hants.police.uk"))
    assert access.can_manage_data(_settings(True, (MANAGER,))) is False
    monkeypatch.setattr(access.st, "user", SimpleNamespace(is_logged_in=True, email=MANAGER))
    assert access.can_manage_data(_settings(True, (MANAGER,))) is True


def test_shipped_settings_keep_sign_in_off_and_no_roles():
    settings = load_settings(ROOT / "settings.toml")
    assert settings.auth_required is False
    assert settings.data_managers == ()


def test_settings_file_turns_sign_in_on(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[access]\nauth_required = true\ndata_managers = ["a@x.org", "@y.org"]\n', encoding="utf-8")
    settings = load_settings(path)
    assert settings.auth_required is True and settings.data_managers == ("a@x.org", "@y.org")


# -- the app, both states --------------------------------------------------------------------------

@pytest.fixture
def settings_file(tmp_path, monkeypatch, app_db):
    """Point HOTSPOT_SETTINGS at a temp file; clear Streamlit's caches around the test, because
    settings() and the store are cache_resource and every AppTest in the process shares them."""
    import streamlit as st

    def write(auth: bool, managers: tuple[str, ...] = ()) -> Path:
        path = tmp_path / "settings.toml"
        roles = ", ".join(f'"{m}"' for m in managers)
        path.write_text(f'[store]\npath = "{app_db}"\nsample_on_empty = false\n\n'
                        f'[access]\nauth_required = {str(auth).lower()}\ndata_managers = [{roles}]\n',
                        encoding="utf-8")
        monkeypatch.setenv("HOTSPOT_SETTINGS", str(path))
        st.cache_resource.clear()
        st.cache_data.clear()
        return path

    yield write
    monkeypatch.delenv("HOTSPOT_SETTINGS", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()


def _run(page: str, user: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if user is not None:
        at.user = user
    at.run()
    if page != "app.py":
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [i.value for i in at.info] + [t.value for t in at.title]
    return "\n".join(str(p) for p in parts)


@pytest.mark.slow  # the Overview's impact again after clearing the caches, and the Data page
def test_sign_in_off_pages_show_data(settings_file):
    settings_file(auth=False)
    at = _run("app.py", user={"is_logged_in": False})
    assert not [b for b in at.button if b.label == "Sign in"]
    assert at.metric, "the overview shows no figures with sign-in off"
    at = _run("pages/4_Data_and_export.py", user={"is_logged_in": False})
    stored = next(m for m in at.metric if m.label == "Incidents stored")
    assert stored.value != "0"
    assert at.get("file_uploader"), "the upload panel is hidden with sign-in off"
    assert "needs a data-manager role" not in _texts(at)
    assert set(RECORD_LAYERS) <= set(at.multiselect(key="x_layers").options)


@pytest.mark.parametrize("page", PAGES)
def test_sign_in_on_signed_out_sees_only_the_button(settings_file, page):
    settings_file(auth=True, managers=(MANAGER,))
    at = _run(page, user={"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe and not at.get("deck_gl_json_chart")
    assert not at.get("file_uploader") and not at.sidebar.multiselect
    assert "Sign in to see" in _texts(at)


RECORD_LAYERS = ("Incidents (one row each)", "Patrols (one row each)")


def _captions(at) -> str:
    return "\n".join(str(c.value) for c in at.caption)


def test_sign_in_on_viewer_sees_data_but_cannot_load_or_export_incidents(settings_file):
    settings_file(auth=True, managers=(MANAGER,))
    at = _run("pages/4_Data_and_export.py", user={"is_logged_in": True, "email": "viewer@hants.police.uk"})
    assert next(m for m in at.metric if m.label == "Incidents stored").value != "0"
    assert not at.get("file_uploader")
    assert "Loading data needs a signed-in data manager" in _texts(at)
    layers = at.multiselect(key="x_layers")
    assert layers.options and not set(RECORD_LAYERS) & set(layers.options)
    assert "need a data-manager role" in _captions(at)


@pytest.mark.slow  # loads a file and writes exports in AppTest
def test_sign_in_on_data_manager_can_load_and_export(settings_file):
    settings_file(auth=True, managers=("@hants.police.uk",))
    at = _run("pages/4_Data_and_export.py", user={"is_logged_in": True, "email": MANAGER})
    assert at.get("file_uploader"), "a data manager sees no upload panel"
    assert "needs a data-manager role" not in _texts(at)
    assert set(RECORD_LAYERS) <= set(at.multiselect(key="x_layers").options)
    assert "need a data-manager role" not in _captions(at)


# -- limits in .streamlit/config.toml ---------------------------------------------------------------

def test_streamlit_config_limits_uploads_and_keeps_xsrf_on():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config["server"]
    assert server["enableXsrfProtection"] is True
    assert 1 <= server["maxUploadSize"] <= 500  # MB; Streamlit's own default is 200
    # Internal errors reach the page as a message, never a traceback.
    assert config["client"]["showErrorDetails"] in ("none", False)
    assert config["browser"]["gatherUsageStats"] is False
