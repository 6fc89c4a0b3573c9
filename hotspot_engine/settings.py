"""Product settings from ``settings.toml`` (or the file named by $HOTSPOT_SETTINGS)."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hotspot_engine.errors import InputError

APP_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    db_path: Path = APP_DIR / "data" / "hotspot.duckdb"
    sample_on_empty: bool = True
    basemap_url: str = ""
    basemap_attribution: str = ""
    harm_weights: Path | None = None
    exclusions: Path | None = None
    offence_map: Path | None = None
    auth_required: bool = False
    data_managers: tuple[str, ...] = field(default_factory=tuple)
    #: Partner-safe exports blank counts below this (issue 7; the ONS and Home Office convention
    #: for small numbers is to suppress counts under 5).
    partner_safe_threshold: int = 5
    #: DuckDB threads for the dashboard's queries; 0 means half the machine's cores (at least one).
    query_threads: int = 0
    #: Internal errors (type and traceback frames, never values) go to this rotating log.
    error_log: Path = APP_DIR / "data" / "logs" / "errors.log"

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


def load_settings(path: str | Path | None = None) -> Settings:
    path = Path(path or os.environ.get("HOTSPOT_SETTINGS", APP_DIR / "settings.toml"))
    if not path.exists():
        return Settings(db_path=Path(os.environ["HOTSPOT_DB"]) if os.environ.get("HOTSPOT_DB") else Settings.db_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path.name}: cannot read settings ({exc})") from None
    base = path.parent
    store = data.get("store", {})
    maps = data.get("map", {})
    hot = data.get("hotspots", {})
    access = data.get("access", {})
    logs = data.get("logging", {})
    threshold = _whole_number(path, data, "export", "partner_safe_threshold", default=5, least=1)
    query_threads = _whole_number(path, data, "store", "query_threads", default=0, least=0)
    db = os.environ.get("HOTSPOT_DB") or store.get("path", "data/hotspot.duckdb")
    return Settings(
        db_path=_path(db, base) or Settings.db_path,
        sample_on_empty=bool(store.get("sample_on_empty", True)),
        basemap_url=str(maps.get("basemap_url", "")),
        basemap_attribution=str(maps.get("basemap_attribution", "")),
        harm_weights=_path(hot.get("harm_weights", ""), base),
        exclusions=_path(hot.get("exclusions", ""), base),
        offence_map=_path(hot.get("offence_map", ""), base),
        auth_required=bool(access.get("auth_required", False)),
        data_managers=tuple(access.get("data_managers", [])),
        partner_safe_threshold=threshold,
        query_threads=query_threads,
        error_log=_path(str(logs.get("error_log", "")), base) or Settings.error_log,
    )
