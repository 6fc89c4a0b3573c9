"""The front end's shape (issue 15): pages are thin ("filters -> service -> draw"), and only the
service layer touches the store: no file in ui/ or pages/ (or app.py) runs SQL or imports
hotspot_engine.store."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE_FILES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
FRONT_END = PAGE_FILES + sorted((ROOT / "ui").rglob("*.py"))
MAX_PAGE_LINES = 150
# An SQL statement in a string, or a call that would run one.
SQL = re.compile(r"\bSELECT\b[\s\S]{0,300}?\bFROM\b|\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bCREATE\s+(TABLE|VIEW)\b|"
                 r"\.execute\(|\.sql\(|\.query\(")


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_the_checks_can_fail():
    """The SQL pattern and the import check catch what they are meant to catch."""
    assert SQL.search('con.execute("SELECT count(*) FROM loads")')
    assert SQL.search("q = '''SELECT load_id\n  FROM rejects'''")
    assert not SQL.search("Select the months FROM the slider")  # prose, not SQL
    assert "hotspot_engine.store" in _imports(ast.parse("from hotspot_engine import store"))
    assert "hotspot_engine.store.query" in _imports(ast.parse("from hotspot_engine.store.query import extent"))


@pytest.mark.parametrize("path", FRONT_END, ids=lambda p: str(p.relative_to(ROOT)))
def test_front_end_runs_no_sql_and_never_imports_the_store(path):
    text = path.read_text(encoding="utf-8")
    found = SQL.search(text)
    assert not found, f"{path.name}: SQL or a query call ({found.group(0)[:40]!r}); call hotspot_engine.service"
    store = {name for name in _imports(ast.parse(text)) if name.startswith("hotspot_engine.store")}
    assert not store, f"{path.name} imports {sorted(store)}; only hotspot_engine.service may"


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_are_thin(path):
    """At most 150 lines, and no functions: a page reads filters, calls the service, draws with ui/
    modules; a function in a page would read the page's globals."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_PAGE_LINES, f"{path.name}: {len(lines)} lines"
    tree = ast.parse("\n".join(lines))
    functions = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    assert not functions, f"{path.name} defines {functions}: put them in a ui/ module with explicit arguments"
