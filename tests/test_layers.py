"""The one-way dependency rule of DESIGN.md, enforced: graph/ and data/ import neither Qt nor torch,
learn/ and project/ never import Qt, and the top-level package imports nothing heavy."""

import subprocess
import sys

import pytest

BLOCK = "import sys\nfor name in {blocked!r}:\n    sys.modules[name] = None\n"


def import_with_blocked(modules: list[str], blocked: list[str]) -> subprocess.CompletedProcess:
    code = BLOCK.format(blocked=blocked) + "".join(f"import {m}\n" for m in modules)
    code += "assert not [m for m in sys.modules if m.split('.')[0] in {blocked!r} and sys.modules[m] is not None]\n".format(blocked=blocked)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


QT = ["PySide6", "shiboken6", "pyqtgraph"]


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
