"""Loaded by the streamlit server that benchmarks/load_test.py starts (this folder is put on its
PYTHONPATH): appends one line per script run to $HOTSPOT_RUN_TIMING -- end time, wall seconds and
CPU seconds of the run's thread, and seconds from the browser's rerun request reaching the server to
the end of the run (the server's response time, queueing before the run included). No page content,
filter or session id is written. Wraps private Streamlit methods, so it does nothing when they are
not there."""
import os
import threading
import time

_path = os.environ.get("HOTSPOT_RUN_TIMING")
if _path:
    try:
        from streamlit.runtime import app_session as _app_session
        from streamlit.runtime.scriptrunner import script_runner as _runner
    except ImportError:
        _runner = _app_session = None
    if _runner is not None and hasattr(_runner.ScriptRunner, "_run_script") \
            and hasattr(_app_session.AppSession, "request_rerun"):
        _original_run = _runner.ScriptRunner._run_script
        _original_request = _app_session.AppSession.request_rerun
        _lock = threading.Lock()
        _asked: dict = {}  # session -> when its oldest rerun request not yet started arrived

        def _noted_request(self, *args, **kwargs):
            with _lock:
                _asked.setdefault(self.id, time.perf_counter())
            return _original_request(self, *args, **kwargs)

        def _timed_run(self, *args, **kwargs):
            wall, cpu = time.perf_counter(), time.thread_time()
            with _lock:  # requests arriving from now on are for the next run
                asked = _asked.pop(getattr(self, "_session_id", None), wall)
            try:
                return _original_run(self, *args, **kwargs)
            finally:
                end = time.perf_counter()
                line = f"{time.time():.3f} {end - wall:.4f} {time.thread_time() - cpu:.4f} {end - asked:.4f}\n"
                with _lock, open(_path, "a", encoding="ascii") as out:
                    out.write(line)

        _app_session.AppSession.request_rerun = _noted_request
        _runner.ScriptRunner._run_script = _timed_run
