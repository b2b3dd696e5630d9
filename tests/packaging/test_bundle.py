"""The desktop bundle, built for real and used from itself (issue 19, part 2).

``packaging/build.sh`` builds the one-folder bundle with PyInstaller into a temporary folder and
runs ``packaging/smoke.py`` on it: the bundle starts (``--version``), lists the devices (the
training process the studio starts), opens an example (``new --example split-digits``), trains one
epoch, exports ONNX and shows the studio's window offscreen. Minutes long, so marked slow: the
default test command leaves it out; ``python -m pytest -m slow tests/packaging`` runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
BUILD_TIMEOUT_S = 3600
STEPS = ("--version", "new", "train (torch)", "export onnx", "training process", "studio, offscreen",
         "studio with a project")

pytestmark = pytest.mark.slow


@pytest.fixture
def build_dir(tmp_path):
    yield tmp_path / "bundle"
    shutil.rmtree(tmp_path / "bundle", ignore_errors=True)  # ~1 GB: not left for pytest to keep


def test_the_bundle_builds_starts_trains_and_exports(build_dir):
    pytest.importorskip("PyInstaller")
    done = subprocess.run(["bash", str(PACKAGING / "build.sh")], env=dict(os.environ, BUILD_DIR=str(build_dir)),
                          capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    for step in STEPS:
        assert re.search(rf"^smoke: {re.escape(step)} +ok ", done.stdout, flags=re.M), f"{step}:\n{done.stdout}"
    built = re.search(r"^built (\S+) in (\d+) s; size (\S+)", done.stdout, flags=re.M)
    assert built and Path(built.group(1)).is_dir()
    shown = re.search(r"window shown ([\d.]+) s after launch", done.stdout)
    assert shown and "torch was imported at start" not in done.stdout
    figures = [line for line in done.stdout.splitlines() if line.startswith(("built ", "smoke: "))]
    print("\n" + "\n".join(figures))  # the build time, the size and each step's time, for the log (-s)
