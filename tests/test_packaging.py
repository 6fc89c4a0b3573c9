"""An installable engine: pyproject.toml lists every subpackage and ships every data file, and an
installed copy runs the command line from a folder outside the checkout, finding its tables, the
boundaries and the map styles inside the package (hotspot_engine.resources)."""
from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
#: Top-level folders of the checkout shipped inside the package, and their package name.
SHIPPED_FOLDERS = {name: folder for name, folder in SETUPTOOLS["package-dir"].items()}


def _folder(package: str) -> Path:
    return ROOT / SHIPPED_FOLDERS.get(package, package.replace(".", "/"))


def test_every_engine_subpackage_is_listed():
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "hotspot_engine").rglob("__init__.py")}
    listed = set(SETUPTOOLS["packages"])
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert all(_folder(p).is_dir() for p in listed)


@pytest.mark.parametrize("package, folder", [("hotspot_engine", "hotspot_engine/data"),
                                             *[(name, folder) for name, folder in SHIPPED_FOLDERS.items()]])
def test_every_data_file_is_shipped(package, folder):
    patterns = SETUPTOOLS["package-data"][package]
    base = _folder(package)
    files = [p for p in (ROOT / folder).iterdir() if p.is_file() and p.suffix != ".py"]
    assert files
    missing = [p.name for p in files if not any(fnmatch.fnmatch(str(p.relative_to(base)), pat) for pat in patterns)]
    assert not missing, f"add to [tool.setuptools.package-data] {package}: {missing}"


def _copy_of_the_checkout(dest: Path) -> Path:
    """The files a source distribution holds: pip builds in the source folder, and a build/ folder
    left in the checkout is not wanted."""
    ignore = shutil.ignore_patterns(".git", ".venv", "data", "build", "*.egg-info", "__pycache__", ".pytest_cache",
                                    ".hypothesis", "tests", "benchmarks", "tools", "out")
    shutil.copytree(ROOT, dest, ignore=ignore)
    # The engine's own tables are under hotspot_engine/data, which the ignore above skipped.
    shutil.copytree(ROOT / "hotspot_engine" / "data", dest / "hotspot_engine" / "data", dirs_exist_ok=True)
    return dest


@pytest.mark.slow
def test_an_installed_engine_runs_from_any_folder(tmp_path):
    target = tmp_path / "installed"
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                            str(_copy_of_the_checkout(tmp_path / "source"))],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (metadata,) = target.glob("hotspot-*.dist-info/METADATA")
    required = {line.split(":", 1)[1].strip() for line in metadata.read_text(encoding="utf-8").splitlines()
                if line.startswith("Requires-Dist:")}
    pinned = {line.strip() for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")}
    assert required == pinned  # the dependencies are requirements.txt's pins, one source
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The installed copy and the venv's own packages, not the checkout.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTSPOT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]])

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=600)

    where = run("-c", "import hotspot_engine.resources as r; print(r.PACKAGE_DIR, r.GEODATA_DIR, r.STATIC_DIR, sep='\\n')")
    assert where.returncode == 0, where.stderr
    package, geodata, static = (Path(line) for line in where.stdout.split())
    assert package == target / "hotspot_engine"
    assert geodata == package / "geodata" and (geodata / "districts.geojson").is_file()
    # The England and Wales pack ships whole: districts, lookups, and LSOAs of both vintages per force.
    assert {"districts.parquet", "district_csp.csv", "towns.csv", "lsoa11_lsoa21.csv.gz"} <= {
        p.name for p in (geodata / "ew").iterdir()}
    assert len(list((geodata / "ew" / "lsoa11").glob("*.parquet"))) == 43
    assert len(list((geodata / "ew" / "lsoa21").glob("*.parquet"))) == 43
    assert static == package / "static" and (static / "lsoa_outlines.geojson").is_file()

    helped = run("-m", "hotspot_engine", "--help")
    assert helped.returncode == 0 and "sample" in helped.stdout, helped.stderr
    made = run("-m", "hotspot_engine", "sample", "--out", "sample")
    assert made.returncode == 0, made.stderr
    assert {"incidents.csv", "patrols.csv", "truth.json"} <= {p.name for p in (elsewhere / "sample").iterdir()}
    # Ingest places every point in a district through the shipped boundaries; with no settings file
    # anywhere, the store is data/hotspot.duckdb under the working folder.
    loaded = run("-m", "hotspot_engine", "ingest", "sample/incidents.csv")
    assert loaded.returncode == 0, loaded.stderr
    assert ", rejected 0" in loaded.stdout, loaded.stdout
    assert (elsewhere / "data" / "hotspot.duckdb").is_file()
