"""Real-browser helpers: start `streamlit run app.py` on 127.0.0.1 and drive Debian's Chromium with
Playwright (never a downloaded browser); and a bare client of Streamlit's websocket and upload endpoint
(what a script, not a browser, can send). Used by the browser tests and by tools/screenshots.py."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--use-gl=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")



#: The app's pages as the browser tests walk them: URL path -> the title (h1) each shows.
PAGE_TITLES = {"": "Serious violence overview", "Hotspot_map": "Hotspot map", "Patrols": "Patrols",
               "Impact": "Impact of hotspot patrols", "Data_and_export": "Data & export"}


def browser_test_marks() -> list:
    """A browser test module's ``pytestmark``: ``browser`` and ``slow`` (an app server and Chromium),
    skipped where Debian's chromium is not installed."""
    import pytest

    return [pytest.mark.browser, pytest.mark.slow,
            pytest.mark.skipif(chromium_path() is None,
                               reason="Debian's chromium is not installed (apt-get install chromium)")]

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(db_path: Path, port: int | None = None, extra_env: dict | None = None, script: str = "app.py",
                extra_args: tuple[str, ...] = (), address: str = "127.0.0.1"):
    """Start ``streamlit run script`` (the app, or serve.py), or with ``script="python serve.py"`` the
    production command, against ``db_path``; yield its base URL; stop it afterwards. ``extra_args`` go to
    ``streamlit run`` (e.g. ``--secrets.files``)."""
    port = port or free_port()
    env = {**os.environ, "HOTSPOT_DB": str(db_path), **(extra_env or {})}
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / script), "--server.address", address,
           "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
           *extra_args]
    if script == "python serve.py":
        cmd = [sys.executable, str(ROOT / "serve.py"), "--address", address, "--port", str(port), *extra_args]
    log_path = Path(db_path).with_suffix(f".{port}.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{address}:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not become healthy in 90 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def this_machines_network_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (`hostname -I`), or None."""
    try:
        found = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10).stdout.split()
    except OSError:
        return None
    return next((a for a in found if "." in a and not a.startswith("127.")), None)


@contextlib.contextmanager
def live_session(url: str, xsrf: str) -> Iterator[str]:
    """Open a Streamlit session the way the browser does (websocket, then a script run) and yield its id."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    with connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit", xsrf],  # type: ignore[list-item]
                 additional_headers={"Cookie": f"_streamlit_xsrf={xsrf}", "Origin": url}) as socket:
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        socket.send(rerun.SerializeToString())
        while True:  # the session id comes in the first message of the run (NewSession)
            message = ForwardMsg()
            message.ParseFromString(socket.recv(timeout=60))
            if message.WhichOneof("type") == "new_session":
                yield message.new_session.initialize.session_id
                return


def upload_statuses(url: str) -> dict[str, int]:
    """What Streamlit's upload endpoint answers an anonymous client holding a valid XSRF token: a PUT
    before any session exists (so before the app script ran: Streamlit's own answer is 400, no such
    session), then a PUT and a DELETE of a file in a live session (204 when taken)."""
    import requests

    http = requests.Session()
    http.get(f"{url}/_stcore/health", timeout=30)  # sets the XSRF cookie, as the page load does
    xsrf = http.cookies["_streamlit_xsrf"]
    headers = {"X-Xsrftoken": xsrf}
    file = {"file": ("incidents.csv", b"month,lsoa\n2024-01,E01000001\n")}
    statuses = {"first PUT": http.put(f"{url}/_stcore/upload_file/no-session/f1", files=file, headers=headers,
                                      timeout=30).status_code}
    with live_session(url, xsrf) as session:
        upload = f"{url}/_stcore/upload_file/{session}/f1"
        statuses["PUT"] = http.put(upload, files=file, headers=headers, timeout=30).status_code
        statuses["DELETE"] = http.delete(upload, headers=headers, timeout=30).status_code
    return statuses


#: Installed in every page opened through :func:`browser`: follows the script runs of the page's Streamlit
#: session on its websocket. The browser asks for a run (BackMsg field 11, ``rerun_script``: the page load,
#: a widget, the screen-size component of ui/viewport.py); the server starts one (ForwardMsg field 4,
#: ``new_session``) and says when it finished (field 6, ``script_finished``; status 2 is "stopped early
#: for a rerun"). Only the top-level protobuf fields are read. The page's own signs of a run (the status
#: widget, faded stale elements) show only a moment after a run was asked for, so a wait on them alone
#: could take a page about to rerun for a settled one (the Partner data map was captured mid-rerun: an
#: empty grey bar, audit 3 item 12).
_RUNS_JS = """(() => {
  const Native = window.WebSocket;
  const runs = window.__hsRuns = { seq: 0, asked: 0, started: 0, finished: 0 };
  const bytesOf = (data) => data instanceof ArrayBuffer ? new Uint8Array(data)
    : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
  function fields(bytes) {
    let i = 0; const out = [];
    const varint = () => { let v = 0, scale = 1, b; do { b = bytes[i++]; v += (b & 0x7f) * scale; scale *= 128; } while (b & 0x80 && i < bytes.length); return v; };
    while (i < bytes.length) {
      const tag = varint(), number = Math.floor(tag / 8), wire = tag % 8;
      let value = null;
      if (wire === 0) value = varint(); else if (wire === 2) { const n = varint(); i += n; }
      else if (wire === 1) i += 8; else if (wire === 5) i += 4; else break;
      out.push([number, value]);
    }
    return out;
  }
  class Watched extends Native {
    constructor(...args) {
      super(...args);
      this.__hs = String(args[0]).includes('_stcore/stream');
      if (!this.__hs) return;
      runs.asked = runs.started = runs.finished = 0;
      this.addEventListener('message', (event) => {
        const bytes = bytesOf(event.data);
        if (!bytes) { runs.unreadable = true; return; }
        for (const [number, value] of fields(bytes)) {
          if (number === 4) runs.started = ++runs.seq;
          if (number === 6 && value !== 2) runs.finished = ++runs.seq;
        }
      });
    }
    send(data) {
      const bytes = this.__hs && bytesOf(data);
      if (bytes && fields(bytes).some(([number]) => number === 11)) { runs.asked = ++runs.seq; runs.askedAt = Date.now(); }
      return super.send(data);
    }
  }
  window.WebSocket = Watched;
})();"""


#: A UK user's browser: headless Chromium runs en-US, so date fields read mm/dd/yyyy in every
#: screenshot (audit 3 item 9); en-GB shows dd/mm/yyyy, and London's clock dates what the page stamps.
UK_BROWSER = {"locale": "en-GB", "timezone_id": "Europe/London"}


class _Browser:
    """Playwright's Browser, whose pages follow their app's script runs (:data:`_RUNS_JS`) and open as
    a UK user's browser (:data:`UK_BROWSER`) unless told otherwise."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_page(self, **options):
        page = self._browser.new_page(**{**UK_BROWSER, **options})
        page.add_init_script(_RUNS_JS)
        return page

    def new_context(self, **options):
        context = self._browser.new_context(**{**UK_BROWSER, **options})
        context.add_init_script(_RUNS_JS)
        return context


@contextlib.contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS + ["--lang=en-GB"])
        try:
            yield _Browser(b)
        finally:
            b.close()



@contextlib.contextmanager
def recording_page(db_path: Path, **context_options) -> Iterator[tuple[str, object, list[str]]]:
    """The app running on ``db_path`` and a page in a fresh 1500 x 1000 context of :func:`browser`;
    yields (the app's URL, the page, the URLs of every request the context makes, in order). The list
    is filled by the context, so pages opened later with ``page.context.new_page()`` are recorded too,
    and it stays readable after the block. ``context_options`` go to ``new_context``."""
    requests: list[str] = []
    with running_app(db_path) as url, browser() as chromium:
        context = chromium.new_context(**{"viewport": {"width": 1500, "height": 1000}, **context_options})
        context.on("request", lambda r: requests.append(r.url))
        try:
            yield url, context.new_page(), requests
        finally:
            context.close()

#: How long the app must stay settled before a wait ends: the screen-size component reports 0.4 and
#: 1.5 s after the page draws (ui/viewport.py), and its report starts another run.
QUIET_MS = 1500


def wait_for_app(page, selector: str = "h1", timeout_ms: int = 120_000) -> None:
    """Wait until ``selector`` shows and the app has settled for :data:`QUIET_MS`: every script run the
    page asked for has finished (:data:`_RUNS_JS`, on pages opened through :func:`browser`), and no
    status widget, spinner or stale element shows."""
    page.wait_for_selector(selector, timeout=timeout_ms)
    # The quiet time counts from this call on: the first poll with this call's token resets it. It is not
    # reset by a separate page.evaluate, because a redirect (the sign-in flow) can destroy the page's
    # context between the two calls; wait_for_function itself re-runs in the new page.
    token = f"{time.monotonic_ns()}"
    page.wait_for_function(
        """([quietMs, token]) => {
            if (window.__idleToken !== token) { window.__idleToken = token; window.__idleSince = null; }
            const runs = window.__hsRuns;
            // A run started and not finished; or one asked for and not yet started, unless the server has let
            // it drop for 3 s (a fragment's timer ask after the page stopped playing never starts).
            const running = runs && !runs.unreadable && (runs.started > runs.finished
                || (runs.asked > runs.finished && Date.now() - (runs.askedAt || 0) < 3000));
            const busy = running || document.querySelector('[data-testid="stStatusWidget"]')
                || document.querySelector('[data-testid="stSpinner"]')
                || document.querySelector('[data-stale="true"]');
            const now = Date.now();
            if (busy) { window.__idleSince = null; return false; }
            window.__idleSince = window.__idleSince || now;
            return now - window.__idleSince > quietMs;
        }""",
        arg=[QUIET_MS, token], timeout=timeout_ms, polling=250)


def wait_maps_drawn(page, timeout_ms: int = 60_000) -> None:
    """Wait until every deck.gl map on the page has drawn (its canvas holds more than the background)."""
    page.wait_for_function(_MAPS_DRAWN_JS, timeout=timeout_ms, polling=250)


def off_machine(requests: list[str]) -> list[str]:
    """The requests that went anywhere but this machine (data:, blob: and about: never leave it)."""
    return [u for u in requests if urlparse(u).scheme not in ("data", "blob", "about")
            and urlparse(u).hostname not in ("127.0.0.1", "localhost")]


#: Whether one canvas shows more than 8 colours once scaled to 200x200: drawn cells and outlines,
#: not a blank or one-colour background. Shared by the two waits below.
_CANVAS_HAS_DRAWN_JS = """(c) => {
            const probe = document.createElement('canvas');
            probe.width = 200; probe.height = 200;
            const ctx = probe.getContext('2d');
            ctx.drawImage(c, 0, 0, 200, 200);
            const data = ctx.getImageData(0, 0, 200, 200).data;
            const seen = new Set();
            for (let i = 0; i < data.length; i += 4) seen.add(data[i] + ',' + data[i+1] + ',' + data[i+2]);
            return seen.size > 8;
        }"""

_CANVAS_DRAWN_JS = f"""() => {{
            const drawn = {_CANVAS_HAS_DRAWN_JS};
            return [...document.querySelectorAll('canvas')]
                .some((c) => c.width >= 200 && c.height >= 200 && drawn(c));
        }}"""


_MAPS_DRAWN_JS = f"""() => {{
            const drawn = {_CANVAS_HAS_DRAWN_JS};
            return [...document.querySelectorAll('[data-testid="stDeckGlJsonChart"]')].every((deck) => {{
                const c = [...deck.querySelectorAll('canvas')].find((c) => c.width >= 200 && c.height >= 200);
                return Boolean(c) && drawn(c);
            }});
        }}"""


def wait_canvas_drawn(page, timeout_ms: int = 60_000) -> None:
    """Wait until the deck.gl canvas holds non-background pixels (drawn cells and outlines)."""
    page.wait_for_function(_CANVAS_DRAWN_JS, timeout=timeout_ms, polling=250)


#: What keeps a presentation-mode page from being one screen (issue 27): a scrolling box, an element
#: (or a chart's canvas or svg, or a table) reaching past the window's edges, or a control on the wall
#: screen (the exit button and the map's own zoom buttons aside). One line per problem.
_WALL_PROBLEMS_JS = """() => {
    const vw = window.innerWidth, vh = window.innerHeight, out = [];
    const name = (e) => (e.getAttribute('data-testid') || e.tagName.toLowerCase()) + ' "'
        + (e.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 50) + '"';
    const shown = (r) => r.width > 0 && r.height > 0;
    for (const e of document.querySelectorAll('*')) {
        const style = getComputedStyle(e);
        if (/(auto|scroll)/.test(style.overflowY) && e.clientHeight > 0 && e.scrollHeight > e.clientHeight + 2)
            out.push(`scrolls ${e.scrollHeight - e.clientHeight} px: ${name(e)}`);
    }
    const main = document.querySelector('[data-testid="stMain"]') || document.body;
    for (const e of main.querySelectorAll('[data-testid="stElementContainer"], canvas, svg, table')) {
        const r = e.getBoundingClientRect();
        if (shown(r) && (r.bottom > vh + 1 || r.right > vw + 1 || r.left < -1 || r.top < -1))
            out.push(`cut (${Math.round(r.left)},${Math.round(r.top)})-(${Math.round(r.right)},${Math.round(r.bottom)}): ${name(e)}`);
    }
    const controls = ['stSelectbox', 'stMultiSelect', 'stSlider', 'stDateInput', 'stNumberInput', 'stTextInput',
                      'stFileUploader', 'stRadio', 'stCheckbox', 'stToggle', 'stExpander', 'stButton',
                      'stDownloadButton', 'stTextArea', 'stSegmentedControl', 'stPills'];
    for (const e of main.querySelectorAll(controls.map((c) => `[data-testid="${c}"]`).join(','))) {
        if (shown(e.getBoundingClientRect()) && !(e.innerText || '').includes('Exit presentation mode'))
            out.push(`control: ${name(e)}`);
    }
    return out;
}"""


def wall_screen_problems(page) -> list[str]:
    """Why the page in ``page`` is not one wall screen (empty when it is): see _WALL_PROBLEMS_JS."""
    return page.evaluate(_WALL_PROBLEMS_JS)


#: True once the map ends inside the window (ui/viewport.py has reported and the page has rerun).
MAP_FITTED_JS = ("(() => { const d = document.querySelector('[data-testid=\"stDeckGlJsonChart\"]');"
                 " return d && d.getBoundingClientRect().bottom <= window.innerHeight; })()")


def open_presented(page, url: str, path: str) -> None:
    """Open the page at ``path`` in presentation mode and wait until it has fitted itself to the window:
    the browser reports the screen (ui/viewport.py), the page reruns with its map or table sized to it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{url}/{path}?present=1")
    wait_for_app(page, "canvas" if path == "Hotspot_map" else "h1")
    if path in ("Hotspot_map", "Hotspot_sets", "Partner_data"):
        try:  # the Hotspot map always has its map; the sets and partner pages only with a set or a layer
            page.wait_for_function(MAP_FITTED_JS, timeout=60_000 if path == "Hotspot_map" else 20_000)
        except PlaywrightTimeout:
            if path == "Hotspot_map":
                raise
    # The screen-size report reruns pages without a map too (ui/wall.py): wait_for_app waits for that run.
    wait_for_app(page, "canvas" if path == "Hotspot_map" else "h1")
    try:  # a loaded machine may take a second report (ui/viewport.py measures again after 1.5 and 4 s)
        page.wait_for_function(f"({_WALL_PROBLEMS_JS})().length === 0", timeout=15_000, polling=500)
    except PlaywrightTimeout:
        pass  # the caller looks at what is still wrong (wall_screen_problems)
