"""The shipped files are package data, checked statically (nothing is built here; CI builds the
wheel and smoke-tests it: scripts/wheel_smoke.py).

Every file the program reads at run time goes through ``modstudio.data.resources`` (``resource``,
``resource_path``; the GUI's ``resource_file``), which reads ``modstudio/resources/`` with
importlib.resources. A wheel carries a file there only if a package-data pattern in pyproject.toml
matches it, so: every file the code asks the helper for must be inside the package folder and
matched by those patterns, and every call of the helper must be one this test knows how to follow.
"""

from __future__ import annotations

import ast
import glob
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "modstudio"
RESOURCES = PACKAGE_DIR / "resources"
HELPERS = {"resource", "resource_path", "resource_file", "resources_dir", "resources_root"}
HELPER_MODULES = {"modstudio/data/resources.py", "modstudio/gui/resources.py"}
# Calls of the helper whose arguments are not plain strings: (file, function) -> how the test below
# exercises every file that function reads. A new one must be added here and exercised there.
READERS = {
    ("modstudio/data/builtin.py", "_digits"): "load_builtin('digits')",
    ("modstudio/gui/icons.py", "icon"): "app_icon() and category_icon() of every category",
    ("modstudio/gui/help.py", "page_text"): "page_text() of every page the studio opens",
}


def package_data() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]


def packaged_files() -> set[Path]:
    """What setuptools puts in the wheel for the package's data: it globs each pattern from the
    package folder exactly like this (``glob(..., recursive=True)``, files only)."""
    config = package_data()
    assert not config.get("exclude-package-data"), "exclude-package-data: teach this test about it"
    found = set()
    for pattern in config["package-data"]["modstudio"]:
        for name in glob.glob(str(PACKAGE_DIR / pattern), recursive=True):
            if Path(name).is_file():
                found.add(Path(name).resolve())
    return found


@pytest.fixture
def packaged(monkeypatch) -> set[Path]:
    monkeypatch.delenv("MODSTUDIO_RESOURCES", raising=False)
    return packaged_files()


def test_the_resources_are_the_packages_own(packaged):
    from modstudio.data.resources import resource, resources_dir, resources_root

    assert resources_dir() == RESOURCES.resolve()
    assert Path(str(resources_root())).resolve() == RESOURCES.resolve()  # importlib.resources.files
    assert resource("help", "continual-learning.md").read_text(encoding="utf-8").startswith("#")
    assert not (ROOT / "resources").exists(), "shipped files belong in modstudio/resources/ (package data)"


def test_every_shipped_file_is_package_data(packaged):
    shipped = {p.resolve() for p in RESOURCES.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert shipped, RESOURCES
    missing = sorted(str(p.relative_to(ROOT)) for p in shipped - packaged)
    assert not missing, f"not matched by [tool.setuptools.package-data] in pyproject.toml: {missing}"
    licence = RESOURCES / "datasets" / "DIGITS-LICENSE.txt"
    assert licence.resolve() in packaged, "the dataset's licence must ship with it"


class _Calls(ast.NodeVisitor):
    def __init__(self) -> None:
        self.functions = ["<module>"]
        self.found: list[tuple[str, ast.Call]] = []

    def visit_FunctionDef(self, node) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in HELPERS:
            self.found.append((self.functions[-1], node))
        self.generic_visit(node)


def helper_calls():
    """(file, enclosing function, call) for every call of the resources helper in the package."""
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in HELPER_MODULES:
            continue
        calls = _Calls()
        calls.visit(ast.parse(path.read_text("utf-8"), rel))
        for function, call in calls.found:
            yield rel, function, call


def test_every_helper_call_is_followed(packaged):
    literal, readers = [], set()
    for rel, function, call in helper_calls():
        if call.args and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args) \
                and not call.keywords:
            literal.append((rel, call.lineno, [a.value for a in call.args]))
        elif (rel, function) in READERS:
            readers.add((rel, function))
        else:
            pytest.fail(f"{rel}:{call.lineno}: {function}() asks the resources helper for a computed name: add "
                        "it to READERS and exercise it in test_every_file_the_code_reads_is_package_data")
    assert literal and readers, "no call of the resources helper found: is the scan still looking at the code?"
    for rel, line, parts in literal:
        target = RESOURCES.joinpath(*parts).resolve()
        assert target in packaged, f"{rel}:{line} reads {'/'.join(parts)}, which is not shipped package data"
    assert readers == set(READERS), f"READERS names functions that no longer read: {set(READERS) - readers}"


def test_every_file_the_code_reads_is_package_data(packaged, monkeypatch, qapp):
    """Runs every reader with every name the code gives it and records what it asks the helper for."""
    from modstudio.data import load_builtin
    from modstudio.data import resources as helper
    from modstudio.graph import catalog
    from modstudio.gui import help, icons, theme

    asked: list[tuple[str, ...]] = []
    real = helper.resource

    def recording(*parts: str):
        asked.append(parts)
        return real(*parts)

    monkeypatch.setattr(helper, "resource", recording)  # resource_path and resource_file go through it
    icons.icon.cache_clear()
    icons.category_icon.cache_clear()
    try:
        load_builtin("digits")
        load_builtin("digits", flat=True)
        for name in theme.CHROME:
            assert theme.style_sheet(name)
        assert not icons.app_icon().isNull()
        for category in catalog.categories():
            icons.category_icon(category)
        assert not help.page_text(help.GUIDE).startswith("# Help is missing")
    finally:
        icons.icon.cache_clear()
        icons.category_icon.cache_clear()
    assert {p[0] for p in asked} >= {"datasets", "styles", "icons", "help"}, asked
    for parts in asked:
        target = RESOURCES.joinpath(*parts).resolve()
        assert target.is_relative_to(RESOURCES.resolve()), parts
        if not target.exists() and parts[0] == "icons":
            continue  # icons have a drawn fallback (a plug-in's category may bring none)
        assert target in packaged, f"the code reads {'/'.join(parts)}, which is not shipped package data"
