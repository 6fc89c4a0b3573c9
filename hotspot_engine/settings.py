"""Product settings from one ``settings.toml``, read by the app and the command line alike.

Which file: ``$HOTSPOT_SETTINGS`` if set (it must exist: a misspelt name must not silently drop, say,
``auth_required``), else ``settings.toml`` in the working folder, else the checkout's (next to
``app.py``); with none of them (an installed engine run elsewhere) the defaults, with the store at
``data/hotspot.duckdb`` under the working folder as the command line has always used.

Paths inside the file are relative to the file's folder, so a deployment's settings work whatever
folder the app or the command line starts in. ``$HOTSPOT_DB`` overrides the store path; like the
command line's own options (``--db``, ``--harm-weights``, ``--threshold``...), which override the
file, it is relative to the working folder.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hotspot_engine.errors import InputError

#: The checkout's folder (app.py, settings.toml). For an installed engine it is the folder holding
#: the package, where no settings.toml is looked for.
APP_DIR = Path(__file__).resolve().parent.parent
#: The store and the error log when no settings file names them: relative to the settings file's
#: folder, or to the working folder when there is no file (never inside an installed package).
DEFAULT_STORE = Path("data") / "hotspot.duckdb"
DEFAULT_ERROR_LOG = Path("data") / "logs" / "errors.log"


@dataclass(frozen=True)
class Settings:
    db_path: Path = DEFAULT_STORE
    sample_on_empty: bool = True
    basemap_url: str = ""
    basemap_attribution: str = ""
    harm_weights: Path | None = None
    exclusions: Path | None = None
    offence_map: Path | None = None
    auth_required: bool = False
    data_managers: tuple[str, ...] = field(default_factory=tuple)
    #: With sign-in off, uploads are refused unless the app listens on this machine only
    #: (127.0.0.1/localhost/::1) or this says otherwise (ui/access.py; issue 25).
    open_uploads: bool = False
    #: Partner-safe exports blank counts below this (issue 7; the ONS and Home Office convention
    #: for small numbers is to suppress counts under 5).
    partner_safe_threshold: int = 5
    #: DuckDB threads for the dashboard's queries; 0 means half the machine's cores (at least one).
    query_threads: int = 0
    #: Internal errors (type and traceback frames, never values) go to this rotating log.
    error_log: Path = DEFAULT_ERROR_LOG
    #: [area] forces: the police force areas the store covers, as data.police.uk spells them or as
    #: PFA codes; rows elsewhere are rejected as outside the area. Empty: the data's "Falls within" decides.
    area_forces: tuple[str, ...] = field(default_factory=tuple)
    #: Leave force-months the data-quality guard flags (or finds partial) out of every window and
    #: evaluation (issue 24): off by default, so nothing disappears without the user asking.
    exclude_flagged_months: bool = False

    @property
    def sample_dir(self) -> Path:
        return self.db_path.parent / "sample"

    @property
    def app_query_threads(self) -> int:
        """Threads one dashboard query may use. Many sessions query at once and each also needs a
        core for its own Python: with a query free to take every core (DuckDB's default), ten sessions
        on two cores waited on each other's queries (load test: server p95 1.5-2.3 s; with one thread
        1.1-1.4 s). One query alone is then slower on a large store: raise it for few users."""
        return self.query_threads or max(1, (os.cpu_count() or 2) // 2)


def _path(value: str, base: Path) -> Path | None:
    if not value:
        return None
    p = Path(value)
    return p if p.is_absolute() else base / p


def _whole_number(path: Path, data: dict, section: str, key: str, default: int, least: int) -> int:
    try:
        value = int(data.get(section, {}).get(key, default))
    except (TypeError, ValueError):
        raise InputError(f"{path.name}: [{section}] {key} must be a whole number") from None
    if value < least:
        raise InputError(f"{path.name}: [{section}] {key} must be at least {least}")
    return value


def settings_path() -> Path | None:
    """The settings file in force: $HOTSPOT_SETTINGS, else ./settings.toml, else the checkout's; None
    when there is none. Raises InputError when $HOTSPOT_SETTINGS names no file."""
    named = os.environ.get("HOTSPOT_SETTINGS")
    if named:
        if not Path(named).is_file():
            raise InputError(f"HOTSPOT_SETTINGS: no settings file '{Path(named).name}'")
        return Path(named)
    in_working_folder = Path.cwd() / "settings.toml"
    if in_working_folder.is_file():
        return in_working_folder
    in_checkout = APP_DIR / "settings.toml"
    # Only a checkout has app.py beside the engine: an installed engine must not read a settings.toml
    # that happens to lie in site-packages' parent.
    if in_checkout.is_file() and (APP_DIR / "app.py").is_file():
        return in_checkout
    return None


def _store_from_environment() -> Path | None:
    db = os.environ.get("HOTSPOT_DB")
    return Path(db).absolute() if db else None


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from ``path`` if given, else from the file ``settings_path()`` finds (the defaults when
    there is none). $HOTSPOT_DB overrides the store path in either case."""
    if path is not None and not Path(path).is_file():
        raise InputError(f"{Path(path).name}: no settings file here")
    path = Path(path) if path is not None else settings_path()
    if path is None:
        return Settings(db_path=_store_from_environment() or Path.cwd() / DEFAULT_STORE,
                        error_log=Path.cwd() / DEFAULT_ERROR_LOG)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path.name}: cannot read settings ({exc})") from None
    base = path.absolute().parent
    store = data.get("store", {})
    maps = data.get("map", {})
    hot = data.get("hotspots", {})
    access = data.get("access", {})
    logs = data.get("logging", {})
    area = data.get("area", {})
    forces = area.get("forces", []) if isinstance(area, dict) else []
    if isinstance(forces, str) or not all(isinstance(f, str) for f in forces):
        raise InputError(f"{path.name}: [area] forces must be a list of force names, e.g. [\"Cleveland Police\"]")
    threshold = _whole_number(path, data, "export", "partner_safe_threshold", default=5, least=1)
    query_threads = _whole_number(path, data, "store", "query_threads", default=0, least=0)
    return Settings(
        db_path=_store_from_environment() or _path(str(store.get("path", "")), base) or base / DEFAULT_STORE,
        sample_on_empty=bool(store.get("sample_on_empty", True)),
        basemap_url=str(maps.get("basemap_url", "")),
        basemap_attribution=str(maps.get("basemap_attribution", "")),
        harm_weights=_path(hot.get("harm_weights", ""), base),
        exclusions=_path(hot.get("exclusions", ""), base),
        offence_map=_path(hot.get("offence_map", ""), base),
        auth_required=bool(access.get("auth_required", False)),
        data_managers=tuple(access.get("data_managers", [])),
        open_uploads=access.get("open_uploads", False) is True,
        partner_safe_threshold=threshold,
        query_threads=query_threads,
        error_log=_path(str(logs.get("error_log", "")), base) or base / DEFAULT_ERROR_LOG,
        area_forces=tuple(forces),
        exclude_flagged_months=_true_or_false(path, data, "quality", "exclude_flagged_months"),
    )


def _true_or_false(path: Path, data: dict, section: str, key: str, default: bool = False) -> bool:
    value = data.get(section, {}).get(key, default)
    if not isinstance(value, bool):
        raise InputError(f"{path.name}: [{section}] {key} must be true or false")
    return value
