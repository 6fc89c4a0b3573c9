"""Loaded by the streamlit server that benchmarks/load_test.py starts (this folder is put on its
PYTHONPATH): appends one line per script run to $HOTSPOT_RUN_TIMING -- end time, wall seconds and
CPU seconds of the run's thread. No page content, filter or session id is written. Wraps a private
Streamlit method, so it does nothing when that method is not there."""
import os
import threading
import time

_path = os.environ.get("HOTSPOT_RUN_TIMING")
if _path:
    try:
        from streamlit.runtime.scriptrunner import script_runner as _runner
    except ImportError:
        _runner = None
    if _runner is not None and hasattr(_runner.ScriptRunner, "_run_script"):
        _original = _runner.ScriptRunner._run_script
        _lock = threading.Lock()

        def _timed_run(self, *args, **kwargs):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return _original(self, *args, **kwargs)
            finally:
                line = f"{time.time():.3f} {time.perf_counter() - wall:.4f} {time.thread_time() - cpu:.4f}\n"
                with _lock, open(_path, "a", encoding="ascii") as out:
                    out.write(line)

        _runner.ScriptRunner._run_script = _timed_run
