"""The one-way dependency rule of DESIGN.md, enforced: graph/ and data/ import neither Qt nor torch,
learn/ and project/ never import Qt, and the top-level package imports nothing heavy.

Two checks. Statically, the table LAYERS below is turned into import-linter contracts
(https://import-linter.readthedocs.io), checked over every import statement in the source, those
inside functions included; at run time, layers are imported in a subprocess with Qt or torch
blocked, which also covers what static analysis cannot see (the studio's side of training never
imports torch, although the training process it starts does)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import modstudio

BLOCK = "import sys\nfor name in {blocked!r}:\n    sys.modules[name] = None\n"


def import_with_blocked(modules: list[str], blocked: list[str]) -> subprocess.CompletedProcess:
    code = BLOCK.format(blocked=blocked) + "".join(f"import {m}\n" for m in modules)
    code += "assert not [m for m in sys.modules if m.split('.')[0] in {blocked!r} and sys.modules[m] is not None]\n".format(blocked=blocked)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


QT = ["PySide6", "shiboken6", "pyqtgraph"]
TORCH = ["torch"]
GUI = "modstudio.gui"

# The layering, declared once: each layer and what it must never import, directly or through a
# chain of modstudio modules. Dependencies point one way, gui → learn → project → graph, data
# (learn also uses graph and data directly): no layer imports gui, project does not import
# learn, graph and data at the bottom import no layer above them, graph not data either, and
# neither of them imports torch. A package named here stands for all of its submodules.
LAYERS = {
    "modstudio.graph": [*TORCH, *QT, "modstudio.data", "modstudio.project", "modstudio.learn", GUI],
    "modstudio.data": [*TORCH, *QT, "modstudio.project", "modstudio.learn", GUI],
    "modstudio.project": [*QT, "modstudio.learn", GUI],
    "modstudio.learn": [*QT, GUI],
}


@pytest.mark.parametrize(
    "modules, blocked",
    [
        (["modstudio", "modstudio.cli"], ["torch", *QT]),
        (["modstudio.graph", "modstudio.graph.layout"], ["torch", *QT]),
        (["modstudio.data"], ["torch", *QT]),
        (["modstudio.project"], QT),
        (["modstudio.learn.compiler"], QT),
        # the studio trains in a process of its own: its side of that never imports torch
        (["modstudio.learn.remote", "modstudio.gui.training.worker", "modstudio.gui.training.controller"], ["torch"]),
    ],
)
def test_layer_imports_without_forbidden_packages(modules, blocked):
    result = import_with_blocked(modules, blocked)
    assert result.returncode == 0, result.stderr


def test_the_block_itself_works():
    result = import_with_blocked(["modstudio.learn.compiler"], ["torch"])
    assert result.returncode != 0 and "torch" in result.stderr


# --- the same layering, checked statically ----------------------------------------------------
#
# import-linter builds its graph with grimp, which reads every import statement in a module's
# source, those inside functions too: checked with grimp 3.20 on a two-module package whose only
# imports sat in a function body (`import json`, `from pkg import b`), both came back from
# find_modules_directly_imported_by with their line numbers. (grimp's "is_lazy" flag means
# PEP 810's `lazy import`, not this.) test_a_broken_copy_fails below keeps that claim tested:
# every import it plants is inside a function. Imports under `if TYPE_CHECKING:` count as well
# (exclude_type_checking_imports is left off).


def contract_name(layer: str) -> str:
    return f"{layer} imports none of {', '.join(LAYERS[layer])}"


def importlinter_config() -> str:
    """LAYERS as an import-linter INI file: one forbidden contract per layer."""
    lines = ["[importlinter]", "root_package = modstudio", "include_external_packages = true", ""]
    for layer, forbidden in LAYERS.items():
        lines += [
            f"[importlinter:contract:{layer.rpartition('.')[2]}]",
            f"name = {contract_name(layer)}",
            "type = forbidden",
            f"source_modules = {layer}",
            "forbidden_modules =",
            *(f"    {module}" for module in forbidden),
            "",
        ]
    return "\n".join(lines)


# Prints which modstudio is analysed (grimp finds the package with importlib.util.find_spec, on
# the same sys.path), then runs lint-imports with the arguments given.
LINT = (
    "import importlib.util\n"
    "print('analysing', importlib.util.find_spec('modstudio').origin, flush=True)\n"
    "from importlinter.cli import lint_imports_command\n"
    "lint_imports_command()\n"
)


def lint(root: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """Check LAYERS against the modstudio package found in the directory root."""
    config = tmp_path / "layers.ini"
    config.write_text(importlinter_config(), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo", str(config)],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )


def analysed(result: subprocess.CompletedProcess) -> Path:
    return Path(result.stdout.splitlines()[0].removeprefix("analysing ")).resolve()


def test_layers_keep_their_contracts(tmp_path):
    root = Path(modstudio.__file__).resolve().parent.parent
    result = lint(root, tmp_path)
    assert analysed(result) == Path(modstudio.__file__).resolve()
    assert result.returncode == 0, result.stdout + result.stderr
    for layer in LAYERS:
        assert f"{contract_name(layer)} KEPT" in result.stdout
    assert f"Contracts: {len(LAYERS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    "path, planted, broken, chain",
    [
        ("graph/model.py", "import torch", ["modstudio.graph"], ["modstudio.graph.model -> torch (l."]),
        ("project/model.py", "import modstudio.learn", ["modstudio.project"],
         ["modstudio.project.model -> modstudio.learn (l."]),
        # indirectly: modstudio.progress belongs to no layer, but it imports modstudio.learn; and
        # project, which imports graph, now reaches learn through it too
        ("graph/layout.py", "from modstudio import progress", ["modstudio.graph", "modstudio.project"],
         ["modstudio.graph.layout -> modstudio.progress (l.", "modstudio.progress -> modstudio.learn"]),
    ],
)
def test_a_broken_copy_fails(tmp_path, path, planted, broken, chain):
    source = Path(modstudio.__file__).resolve().parent
    root = tmp_path / "copy"
    shutil.copytree(source, root / "modstudio", ignore=shutil.ignore_patterns("__pycache__"))
    with open(root / "modstudio" / path, "a", encoding="utf-8") as module:
        module.write(f"\n\ndef _planted():\n    {planted}\n")  # an import inside a function
    result = lint(root, tmp_path)
    assert analysed(result) == (root / "modstudio" / "__init__.py").resolve()  # the copy, not the installed one
    assert result.returncode == 1, result.stdout + result.stderr
    for layer in LAYERS:
        assert f"{contract_name(layer)} {'BROKEN' if layer in broken else 'KEPT'}" in result.stdout
    assert f"Contracts: {len(LAYERS) - len(broken)} kept, {len(broken)} broken." in result.stdout
    for link in chain:
        assert link in result.stdout
