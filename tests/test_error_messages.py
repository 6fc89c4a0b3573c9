"""What a user sees when something is wrong: one line on stderr, exit status 2, naming the file they
gave (its name only) or the argument, never a stack trace or a directory of the server or the
user's machine. Bad files are the corpus in tests/data/bad/ (tests/data/make_corpus.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hotspot_engine.__main__ import main
from hotspot_engine.errors import InputError

BAD = Path(__file__).resolve().parent / "data" / "bad"
# A directory name that must never show up in any message.
HIDDEN_DIR = "private-folder-9c2e"


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse exits itself on bad arguments
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _assert_clean(text: str, where: Path) -> None:
    assert "Traceback" not in text and 'File "' not in text
    assert HIDDEN_DIR not in text and str(where) not in text
    assert str(Path(__file__).resolve().parent.parent) not in text, "the code's own folder leaked"


@pytest.fixture
def private_dir(tmp_path) -> Path:
    folder = tmp_path / HIDDEN_DIR
    folder.mkdir()
    return folder


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.iterdir()) if BAD.exists() else [])
def test_bad_file_gives_one_line_naming_only_the_file(name, private_dir, capsys):
    path = shutil.copy(BAD / name, private_dir / name)
    code, out, err = _run(["ingest", str(path), "--db", str(private_dir / "store.duckdb")], capsys)
    _assert_clean(out + err, private_dir)
    if code == 0:  # some corpus files are awkward but loadable (BOM, cp1252, nested zip): a summary
        assert err == "" and name.split(".")[0] in out or Path(name).suffix == ".zip"
        return
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{len(lines)} lines on stderr"
    assert lines[0].startswith("error: ")
    assert name in lines[0] or Path(name).stem in lines[0], "the message does not name the file"
    assert out == ""


@pytest.mark.parametrize("argv, names", [
    (["ingest", "{dir}/missing.csv", "--db", "{dir}/s.duckdb"], "missing.csv"),
    (["ingest", "{dir}", "--db", "{dir}/s.duckdb", "--format", "nonsense"], "--format"),
    (["hotspots", "--db", "{dir}/none.duckdb", "--out", "{dir}/h.gpkg"], "none.duckdb"),
    (["hotspots", "--db", "{dir}/s.duckdb", "--from", "2023-13", "--out", "{dir}/h.gpkg"], "2023-13"),
    (["hotspots", "--db", "{dir}/s.duckdb", "--res", "12", "--out", "{dir}/h.gpkg"], "res"),
    (["export", "incidents", "--db", "{dir}/s.duckdb", "--out", "{dir}/x.docx"], "docx"),
    (["impact", "--db", "{dir}/s.duckdb", "--intervention", "yesterday", "--out", "{dir}/i.csv"],
     ("intervention", "no incidents")),  # the empty store may be noticed first
    (["sample", "--out", "{dir}/s", "--incidents", "10"], "--incidents"),
    (["frobnicate"], "frobnicate"),
    ([], "command"),
])
def test_bad_arguments_give_one_line(argv, names, private_dir, capsys):
    from hotspot_engine.store.database import connect

    connect(private_dir / "s.duckdb").close()  # an empty store for the commands that read one
    argv = [a.replace("{dir}", str(private_dir)) for a in argv]
    code, out, err = _run(argv, capsys)
    _assert_clean(out + err, private_dir)
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{len(lines)} lines on stderr"
    assert any(n in lines[0] for n in ((names,) if isinstance(names, str) else names)), lines[0]


def test_internal_errors_are_one_line_without_a_trace(private_dir, capsys, monkeypatch):
    """A bug (not bad input) still gives one line and exit 1; HOTSPOT_DEBUG is for developers."""
    import hotspot_engine.__main__ as cli

    def broken(args):
        raise KeyError(str(private_dir / "secret.csv"))

    monkeypatch.delenv("HOTSPOT_DEBUG", raising=False)
    monkeypatch.setattr(cli, "cmd_sample", broken)
    code, out, err = _run(["sample", "--out", str(private_dir)], capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert HIDDEN_DIR not in err, "an internal error message repeats a path from the exception"


# ----------------------------------------------------------------------------------------------
# Issue 20, item 6: arguments and outputs that used to end as internal errors.

@pytest.mark.parametrize("argv, expected", [
    (["ingest", "{good}", "--db", "{dir}/s.duckdb", "--max-gb", "nan"], "--max-gb: must be a number of GiB more than 0; got nan"),
    (["ingest", "{good}", "--db", "{dir}/s.duckdb", "--max-gb", "inf"], "--max-gb: must be a number of GiB more than 0; got inf"),
    (["ingest", "{good}", "--db", "{dir}/s.duckdb", "--max-gb=-inf"], "--max-gb: must be a number of GiB more than 0"),
    (["ingest", "{good}", "--db", "{dir}/s.duckdb", "--max-archive-gb", "nan"], "--max-archive-gb: must be a number"),
    (["ingest", "{good}", "--db", "{dir}/folder.csv"], "--db folder.csv: is a folder; give the store's file name"),
    (["export", "incidents", "--db", "{db}", "--out", "{dir}/folder.csv"], "--out folder.csv: is a folder; give a file name"),
    (["hotspots", "--db", "{db}", "--out", "{dir}/folder.csv"], "--out folder.csv: is a folder"),
    (["impact", "--db", "{db}", "--intervention", "2023-04-01", "--out", "{dir}/folder.csv"], "--out folder.csv: is a folder"),
    (["patrol-plan", "--db", "{db}", "--out", "{dir}/folder.csv"], "--out folder.csv: is a folder"),
    (["patrol-plan", "--db", "{db}", "--out", "{dir}/p.csv", "--briefing", "{dir}/folder.csv"], "--briefing folder.csv: is a folder"),
    (["patrol-plan", "--db", "{db}", "--out", "{dir}/p.csv", "--dosage", "{dir}/folder.csv"], "--dosage folder.csv: is a folder"),
    (["sample", "--out", "{good}"], "is a file; give a folder"),
])
def test_bad_sizes_stores_and_outputs_give_one_line(argv, expected, private_dir, sample_db, capsys):
    (private_dir / "folder.csv").mkdir()
    good = Path(__file__).resolve().parent / "data" / "good" / "2024-03-hampshire-street.csv"
    argv = [a.replace("{dir}", str(private_dir)).replace("{db}", str(sample_db)).replace("{good}", str(good)) for a in argv]
    code, out, err = _run(argv, capsys)
    _assert_clean(out + err, private_dir)
    assert code == 2, (code, err)
    assert err.count("\n") == 1 and expected in err, err
    assert sorted(p.name for p in private_dir.iterdir()) == ["folder.csv"], "a failed command left a file behind"


def _read_only_mount(folder: Path) -> list[str] | None:
    """argv prefix running a command with ``folder`` as an empty read-only filesystem (a private
    mount namespace), or None where this machine cannot make one."""
    import subprocess

    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o ro tmpfs '{folder}'"], capture_output=True)
    if probe.returncode != 0:
        return None
    return ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o ro tmpfs '{folder}' && exec \"$@\"", "sh"]


@pytest.mark.slow  # the command line in a subprocess
@pytest.mark.parametrize("argv, expected", [
    (["ingest", "{good}", "--db", "{ro}/missing/s.duckdb"], "--db s.duckdb: cannot create its folder (Read-only file system)"),
    (["ingest", "{good}", "--db", "{ro}/s.duckdb"], "s.duckdb: cannot open the store"),
    (["export", "incidents", "--db", "{db}", "--out", "{ro}/x.gpkg"], "--out x.gpkg: cannot write there (Read-only file system)"),
    (["impact", "--db", "{db}", "--intervention", "2023-04-01", "--out", "{ro}/sub/i.csv"], "--out i.csv: cannot create its folder"),
    (["patrol-plan", "--db", "{db}", "--out", "{dir}/p.csv", "--briefing", "{ro}/b.pdf"], "--briefing b.pdf: cannot write there"),
    (["sample", "--out", "{ro}/sample"], "cannot create its folder (Read-only file system)"),
])
def test_read_only_filesystem_gives_one_line(argv, expected, private_dir, sample_db):
    import subprocess
    import sys

    read_only = private_dir / "ro"
    read_only.mkdir()
    prefix = _read_only_mount(read_only)
    if prefix is None:
        pytest.skip("no private mount namespace here (unshare)")
    good = Path(__file__).resolve().parent / "data" / "good" / "2024-03-hampshire-street.csv"
    argv = [a.replace("{ro}", str(read_only)).replace("{dir}", str(private_dir)).replace("{db}", str(sample_db))
            .replace("{good}", str(good)) for a in argv]
    run = subprocess.run([*prefix, sys.executable, "-m", "hotspot_engine", *argv], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent)
    _assert_clean(run.stdout + run.stderr, private_dir)
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and expected in run.stderr, run.stderr
    assert not (private_dir / "p.csv").exists(), "the plan was written although the briefing could not be"


def test_a_failing_briefing_leaves_no_plan(private_dir, sample_db, capsys, monkeypatch):
    from hotspot_engine.analyse import patrols

    def broken(*args, **kwargs):
        raise InputError("briefing: cannot draw")

    monkeypatch.setattr(patrols, "briefing_pdf", broken)
    code, _, err = _run(["patrol-plan", "--db", str(sample_db), "--out", str(private_dir / "p.csv"),
                         "--dosage", str(private_dir / "d.csv"), "--briefing", str(private_dir / "b.pdf")], capsys)
    assert code == 2 and "briefing: cannot draw" in err
    assert list(private_dir.iterdir()) == []
