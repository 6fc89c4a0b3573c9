"""Load test: concurrent browser sessions against one `streamlit run app.py` on 127.0.0.1.

Builds the sample store in a temp folder (`python -m hotspot_engine sample` then `ingest`), starts the
app on loopback (tests/browser.py running_app), opens N sessions (one headless Debian Chromium, one
context per session) and has each change the sidebar filters (CSP, district, months) and switch pages
through the sidebar links until the time is up. Prints p50/p95 page-update times, errors and the
machine. Loopback only, bounded in sessions and seconds. Target (issue 9): no errors, p95 < 3 s.

- Ramp-up: the sessions arrive 1 s apart and each opens the Overview; the measured period (``--seconds``)
  starts when all of them have it. First-load times are printed on their own line.
- A page update is timed from the browser's rerun request (BackMsg rerun_script on the websocket) to
  the server's ScriptFinished message for that run; then the page must settle (no running indicator)
  and the session waits its think time (``--think``, default 5-15 s: a person reading the page).
- The browsers are the load, not the system under test, but here they share the server's cores (ten
  Chromium renderers use several times the server's CPU). By default they run under the idle scheduling
  class (``chrt --idle``, inherited by every Chromium process and thread): they use whatever CPU the
  server leaves, as browsers on users' own machines would. ``nice`` cannot do this: Chromium, run as
  root, sets its own priorities (its browser and GPU processes at -8, renderers at 0). The policy the
  Chromium processes really had is checked during the run and printed; ``--browser-priority normal``
  lets them compete with the server on equal terms.
- The server's own part: benchmarks/server_timing/sitecustomize.py times every script run inside the
  server (from the rerun request reaching it to the run's end, and the run's wall and CPU seconds;
  nothing else is written), printed beside the browser-side times.

    python benchmarks/load_test.py [--sessions 10] [--seconds 120] [--think 5 15] [--browser-priority idle] [--seed 1]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from browser import CHROMIUM_ARGS, chromium_path, running_app  # noqa: E402
from machine_info import machine_summary

# The sessions share the test machine's cores with the server. Map drawing happens on each user's own
# machine in real use, so the sessions here do not draw WebGL (no software GL in 10 tabs): the
# server still builds and sends every map, and the browser still receives and lays out the page.
SESSION_ARGS = [a for a in CHROMIUM_ARGS if "swiftshader" not in a and "gpu-blocklist" not in a] + [
    "--disable-webgl", "--disable-3d-apis"]
PAGES = ["Overview", "Hotspot map", "Patrols", "Impact", "Data & export"]
UPDATE_TIMEOUT_S = 60
VERBOSE = False
THINK_S = (5.0, 15.0)  # a person reads a map or a table before the next click


@dataclass
class SessionLog:
    name: str
    updates: list[tuple[str, float]] = field(default_factory=list)  # (action kind, seconds)
    first_load: float | None = None
    measured_from: float | None = None  # time.time() when the measured phase began
    errors: list[str] = field(default_factory=list)


class RunWatcher:
    """Follows one page's websocket: rerun requests sent and script runs finished."""

    def __init__(self, page):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._fwd, self._back = ForwardMsg, BackMsg
        self.reruns: list[float] = []
        self.finished: list[float] = []
        self.exceptions: list[str] = []
        page.on("websocket", self._attach)

    def _attach(self, ws) -> None:
        ws.on("framesent", self._sent)
        ws.on("framereceived", self._received)

    def _sent(self, payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            msg = self._back.FromString(bytes(payload))
            if msg.WhichOneof("type") == "rerun_script":
                self.reruns.append(time.monotonic())

    def _received(self, payload) -> None:
        if not isinstance(payload, (bytes, bytearray)):
            return
        msg = self._fwd.FromString(bytes(payload))
        kind = msg.WhichOneof("type")
        if kind == "script_finished" and msg.script_finished == self._fwd.FINISHED_SUCCESSFULLY:
            self.finished.append(time.monotonic())
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element" \
                and msg.delta.new_element.WhichOneof("type") == "exception":
            exc = msg.delta.new_element.exception
            # The exception's type and first line (the app's messages hold no incident data).
            self.exceptions.append(f"{exc.type}: {exc.message.splitlines()[0][:150] if exc.message else ''}")

    async def update_time(self, since: float, timeout: float = UPDATE_TIMEOUT_S) -> float | None:
        """Seconds from the first rerun request after ``since`` to the next finished run, or None
        when the action sent no rerun (e.g. the value did not change)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = [t for t in self.reruns if t >= since]
            if sent:
                done = [t for t in self.finished if t >= sent[0]]
                if done:
                    return done[0] - sent[0]
            elif time.monotonic() - since > 3:
                return None
            await asyncio.sleep(0.02)
        raise TimeoutError(f"no finished run within {timeout:.0f} s")


async def settle(page, timeout_ms: int = UPDATE_TIMEOUT_S * 1000) -> None:
    await page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
                 && !document.querySelector('[data-stale="true"]')""", timeout=timeout_ms, polling=100)


def sidebar_widget(page, testid: str, label: str):
    return page.locator(f'[data-testid="stSidebar"] [data-testid="{testid}"]').filter(has_text=label).first


async def choose(page, rng: random.Random, label: str) -> None:
    """Add one option to a sidebar multiselect, or remove the last one (each change reruns the script)."""
    box = sidebar_widget(page, "stMultiSelect", label)
    chips = box.locator("[data-tag]")
    await box.locator("input").click()
    if await chips.count() and rng.random() < 0.5:
        await page.keyboard.press("Backspace")
    else:
        options = page.locator('[role="listbox"] [role="option"]')
        await options.first.wait_for(timeout=10_000)
        n = await options.count()
        await options.nth(rng.randrange(n)).click()
    await page.keyboard.press("Escape")


async def move_months(page, rng: random.Random) -> None:
    """Click a point on the Months track: the nearer thumb jumps there (a mouse user's way)."""
    slider = sidebar_widget(page, "stSlider", "Months")
    track = slider.locator('[data-orientation="horizontal"][style*="touch-action"]').first
    box = await track.bounding_box()
    await page.mouse.click(box["x"] + box["width"] * rng.uniform(0.05, 0.95), box["y"] + box["height"] / 2)


async def switch_page(page, rng: random.Random, current: str) -> str:
    target = rng.choice([p for p in PAGES if p != current])
    await page.locator('[data-testid="stSidebar"] a').filter(has_text=target).first.click()
    return target


async def open_overview(page, url: str) -> None:
    await page.goto(url, timeout=UPDATE_TIMEOUT_S * 1000)
    await page.wait_for_selector("h1", timeout=UPDATE_TIMEOUT_S * 1000)
    await settle(page)


class AllArrived:
    """The measured part starts when every session has opened its first page: ten browsers loading
    the app at once is the ramp-up, reported on its own line, not the steady state."""

    def __init__(self, sessions: int):
        self._left, self._event = sessions, asyncio.Event()
        self.at: float | None = None

    def arrived(self) -> None:
        self._left -= 1
        if self._left <= 0 and not self._event.is_set():
            self.at = time.monotonic()
            self._event.set()

    async def wait(self) -> None:
        await self._event.wait()


async def run_session(browser, url: str, name: str, seconds: float, rng: random.Random,
                      arrivals: AllArrived) -> SessionLog:
    log = SessionLog(name)
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    context.set_default_timeout(UPDATE_TIMEOUT_S * 1000)
    page.on("pageerror", lambda e: None if "WebGL" in str(e) else log.errors.append(f"page error: {str(e)[:120]}"))
    watcher = RunWatcher(page)
    try:
        start = time.monotonic()
        try:
            await open_overview(page, url)
        except Exception as exc:
            log.errors.append(f"first load: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
            arrivals.arrived()
            return log
        log.first_load = time.monotonic() - start
        arrivals.arrived()
        await arrivals.wait()
        log.measured_from = time.time() - (time.monotonic() - arrivals.at)
        await asyncio.sleep(rng.uniform(*THINK_S))  # read the first page before the first click
        current = "Overview"
        deadline = arrivals.at + seconds
        while time.monotonic() < deadline:
            kind = rng.choices(["csp", "district", "months", "page"], weights=[3, 2, 2, 3])[0]
            since = time.monotonic()
            try:
                if kind == "csp":
                    await choose(page, rng, "Community Safety Partnership")
                elif kind == "district":
                    await choose(page, rng, "District")
                elif kind == "months":
                    await move_months(page, rng)
                else:
                    current = await switch_page(page, rng, current)
                acted = time.monotonic()
                took = await watcher.update_time(since)
                updated = time.monotonic()
                await settle(page)
                if VERBOSE:
                    print(f"{name} {kind}: action {acted - since:.2f} s, run seen {updated - acted:.2f} s, "
                          f"settled {time.monotonic() - updated:.2f} s", flush=True)
            except Exception as exc:  # a timeout or a vanished element is an error of the run
                log.errors.append(f"{kind}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
                current = "Overview"
                try:
                    await open_overview(page, url)  # start again from the Overview
                except Exception as again:
                    log.errors.append(f"reload: {type(again).__name__}: {str(again).splitlines()[0][:120]}")
                    return log
                continue
            if took is not None:
                log.updates.append((kind, took))
            if VERBOSE:
                print(f"{name} {kind:8s} {current:13s} {'no rerun' if took is None else f'{took:.2f} s'}", flush=True)
            shown = await page.locator('[data-testid="stException"]').count()
            broken = await page.get_by_text("Something went wrong preparing this view").count()
            if shown or broken:
                log.errors.append(f"{kind}: the page shows an error ({current})")
            await asyncio.sleep(rng.uniform(*THINK_S))  # a person reads the page before the next click
        for text in watcher.exceptions:
            log.errors.append(f"server exception: {text}")
    finally:
        await context.close()
    return log


async def warm_up(browser, url: str) -> dict[str, float]:
    """Visit every page once with the default filters, as the app would be after its first user of
    the day; returns the cold times (server start -> each page drawn)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    watcher = RunWatcher(page)
    cold = {}
    try:
        start = time.monotonic()
        await page.goto(url)
        await page.wait_for_selector("h1", timeout=UPDATE_TIMEOUT_S * 1000)
        await settle(page)
        cold["Overview"] = time.monotonic() - start
        for name in PAGES[1:]:
            since = time.monotonic()
            await page.locator('[data-testid="stSidebar"] a').filter(has_text=name).first.click()
            cold[name] = await watcher.update_time(since, timeout=180) or 0.0
            await settle(page)
    finally:
        await context.close()
    return cold


async def drive(url: str, sessions: int, seconds: float, seed: int, warm: bool,
                executable: str) -> list[SessionLog]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=SESSION_ARGS)
        try:
            if warm:
                cold = await warm_up(browser, url)
                print("warm-up, first visit of each page (s): " + ", ".join(f"{k} {v:.1f}" for k, v in cold.items()),
                      flush=True)
            arrivals = AllArrived(sessions)

            # Stagger the arrivals a little, as people joining a meeting do.
            async def one(i: int) -> SessionLog:
                await asyncio.sleep(i * 1.0)
                return await run_session(browser, url, f"s{i}", seconds, random.Random(seed * 1000 + i), arrivals)

            return await asyncio.gather(*(one(i) for i in range(sessions)))
        finally:
            await browser.close()


def idle_chromium(work: Path) -> str:
    """A launcher that starts Debian's Chromium in the idle scheduling class (children inherit it)."""
    chrt = shutil.which("chrt")
    if chrt is None:
        raise SystemExit("chrt (util-linux) is needed for --browser-priority idle")
    launcher = work / "chromium-idle"
    launcher.write_text(f'#!/bin/sh\nexec {shlex.quote(chrt)} --idle 0 {shlex.quote(chromium_path())} "$@"\n')
    launcher.chmod(0o700)
    return str(launcher)


class PolicyCheck:
    """Samples the scheduling policy of every Chromium thread while the sessions run, so the report
    says what the browsers really ran under (not what was asked for)."""

    def __init__(self, interval: float = 2.0):
        self._interval, self._stop = interval, threading.Event()
        self.seen: dict[str, int] = {}
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        names = {os.SCHED_OTHER: "normal", os.SCHED_BATCH: "batch", os.SCHED_IDLE: "idle",
                 os.SCHED_FIFO: "fifo", os.SCHED_RR: "rr"}
        while not self._stop.wait(self._interval):
            for pid in [pid for pid, argv in _processes().items() if b"chromium" in argv[0]]:
                try:
                    tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
                except OSError:
                    continue
                for tid in tids:
                    try:
                        policy = names.get(os.sched_getscheduler(tid), "other")
                    except OSError:
                        continue
                    self.seen[policy] = self.seen.get(policy, 0) + 1

    def __enter__(self) -> "PolicyCheck":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def describe(self) -> str:
        total = sum(self.seen.values())
        if not total:
            return "not sampled"
        return ", ".join(f"{name} {n / total:.0%}" for name, n in sorted(self.seen.items(), key=lambda kv: -kv[1])) \
            + f" of {total} thread samples"


def _processes() -> dict[int, list[bytes]]:
    """pid -> argv of every process /proc shows (empty where /proc is missing)."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            found[int(entry.name)] = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            pass
    return found


def build_store(work: Path) -> Path:
    """The sample, written and ingested by the command line as a user would."""
    env = {**os.environ, "HOTSPOT_CACHE": str(work / "cache")}
    run = lambda *args: subprocess.run([sys.executable, "-m", "hotspot_engine", *args], cwd=ROOT, env=env,  # noqa: E731
                                       check=True, capture_output=True, text=True)
    run("sample", "--out", str(work / "sample"))
    db = work / "store.duckdb"
    run("ingest", str(work / "sample" / "incidents.csv"), str(work / "sample" / "patrols.csv"), "--db", str(db))
    return db


def machine() -> str:
    from importlib.metadata import version

    chromium = subprocess.run([chromium_path(), "--version"], capture_output=True, text=True).stdout.strip()
    return machine_summary(f"{platform.system()} {platform.release()}; streamlit {version('streamlit')}, "
                           f"playwright {version('playwright')}, {chromium}")


class CpuMeter:
    """CPU seconds used by the streamlit server and by the browsers (Chromium and the Playwright
    driver) while the sessions run, read from /proc once a second (browser processes come and go, so
    each one's last reading counts). Reports nothing where /proc is missing."""

    def __init__(self):
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._start: dict[int, float] = {}
        self._last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> dict[int, tuple[str, float]]:
        seen = {}
        for pid, argv in _processes().items():
            command = b" ".join(argv).decode(errors="replace")
            kind = ("server" if "streamlit run" in command else
                    "browsers" if ("chrom" in command or "playwright" in command) else None)
            if not kind:
                continue
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seen[pid] = (kind, (int(fields[11]) + int(fields[12])) / self._tick)
        return seen

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self._last.update(self._read())

    def __enter__(self) -> "CpuMeter":
        self._start = {pid: cpu for pid, (_, cpu) in self._read().items()}
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._last.update(self._read())

    def used(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for pid, (kind, cpu) in self._last.items():
            totals[kind] = totals.get(kind, 0.0) + cpu - self._start.get(pid, 0.0)
        return totals


def read_run_timing(path: Path, since: float | None) -> list[tuple[float, float, float]]:
    """(wall, cpu, response) seconds of each server script run that ended after ``since`` (a time.time())."""
    try:
        rows = [line.split() for line in path.read_text().splitlines()]
    except OSError:
        return []
    return [(float(r[1]), float(r[2]), float(r[3])) for r in rows
            if len(r) == 4 and (since is None or float(r[0]) >= since)]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    global VERBOSE, THINK_S
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=10, help="concurrent browser sessions (1-20)")
    ap.add_argument("--seconds", type=float, default=120, help="how long each session runs (10-600)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-warm-up", dest="warm", action="store_false",
                    help="start timing on a cold server (default: visit each page once first)")
    ap.add_argument("--think", type=float, nargs=2, metavar=("MIN", "MAX"), default=list(THINK_S),
                    help="seconds a session waits after a page has settled before its next action, drawn "
                         "uniformly (default %(default)s)")
    ap.add_argument("--browser-priority", choices=("idle", "normal"), default="idle",
                    help="scheduling of the Chromium processes (default %(default)s: they share this machine with "
                         "the server, while real users' browsers run on their own machines)")
    ap.add_argument("--verbose", action="store_true", help="print every action and its time")
    args = ap.parse_args()
    VERBOSE = args.verbose
    THINK_S = (min(args.think), max(args.think))
    if THINK_S[0] < 0 or THINK_S[1] > 60:
        ap.error("--think between 0 and 60 s")
    if not 1 <= args.sessions <= 20 or not 10 <= args.seconds <= 600:
        ap.error("--sessions 1-20 and --seconds 10-600: a bounded test on loopback")
    if chromium_path() is None:
        print("Debian's chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="hotspot-load-") as tmp:
        work = Path(tmp)
        t = time.monotonic()
        db = build_store(work)
        print(f"sample store built in {time.monotonic() - t:.0f} s")
        load_before = load_average()
        run_timing = work / "server_runs.txt"
        extra = {"HOTSPOT_CACHE": str(work / "cache"), "HOTSPOT_RUN_TIMING": str(run_timing),
                 "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent / "server_timing"),
                                                             os.environ.get("PYTHONPATH")]))}
        with running_app(db, extra_env=extra) as url:
            assert url.startswith("http://127.0.0.1:")
            t = time.monotonic()
            executable = idle_chromium(work) if args.browser_priority == "idle" else chromium_path()
            with CpuMeter() as cpu, PolicyCheck() as policy:
                logs = asyncio.run(drive(url, args.sessions, args.seconds, args.seed, args.warm, executable))
            wall = time.monotonic() - t
            measured_from = min((log.measured_from for log in logs if log.measured_from), default=None)
        server_runs = read_run_timing(run_timing, since=measured_from)
        shutil.rmtree(work / "cache", ignore_errors=True)

    times = [s for log in logs for _, s in log.updates]
    errors = [f"{log.name} {e}" for log in logs for e in log.errors]
    print(f"\n{machine()}")
    print(f"load average before {load_before}, after {load_average()} (other work on the machine inflates the times)")
    print(f"{args.sessions} sessions x {args.seconds:.0f} s ({wall:.0f} s wall), one streamlit server on 127.0.0.1; "
          f"think time {THINK_S[0]:g}-{THINK_S[1]:g} s after each settled page")
    print(f"browsers asked to run at {args.browser_priority} priority; Chromium threads seen: {policy.describe()}")
    used = cpu.used()
    print("CPU seconds during the run: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(used.items(), key=lambda kv: -kv[1]))
          + f" (of {wall * (os.cpu_count() or 1):.0f} available)")
    firsts = [log.first_load for log in logs if log.first_load is not None]
    if firsts:
        print(f"first page load (the ramp-up: sessions arrive 1 s apart; not in the updates below): "
              f"median {statistics.median(firsts):.2f} s, max {max(firsts):.2f} s")
    if times:
        print(f"page updates: {len(times)}  p50 {percentile(times, 0.5):.2f} s  p95 {percentile(times, 0.95):.2f} s  "
              f"max {max(times):.2f} s")
        for kind in ("csp", "district", "months", "page"):
            some = [s for log in logs for k, s in log.updates if k == kind]
            if some:
                print(f"  {kind:9s} n={len(some):4d}  p50 {percentile(some, 0.5):.2f} s  p95 {percentile(some, 0.95):.2f} s")
    if server_runs:
        walls, cpus, answers = ([run[i] for run in server_runs] for i in range(3))
        print(f"server side, the same period: {len(walls)} script runs; from a rerun request reaching the server to "
              f"the end of its run p50 {percentile(answers, 0.5):.2f} s p95 {percentile(answers, 0.95):.2f} s; "
              f"the run itself, wall p50 {percentile(walls, 0.5):.2f} s p95 {percentile(walls, 0.95):.2f} s, CPU of its "
              f"thread p50 {percentile(cpus, 0.5):.2f} s p95 {percentile(cpus, 0.95):.2f} s (wall above CPU is waiting: "
              "for the interpreter lock held by other sessions' runs, for DuckDB's threads, or for a core)")
    print(f"errors: {len(errors)}")
    for e in errors[:20]:
        print("  " + e)
    ok = not errors and times and percentile(times, 0.95) < 3.0
    print("target (no errors, p95 < 3 s): " + ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
