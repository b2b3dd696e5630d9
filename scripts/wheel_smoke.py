"""Smoke-test an installed (non-editable) ModStudio as a new user gets it from the wheel.

    /path/to/venv/bin/python scripts/wheel_smoke.py

Run it with the Python of a fresh virtual environment that has the wheel installed (with the
``onnx`` extra), from a folder outside the checkout. It works in a throw-away folder, with
throw-away per-user folders, and checks that ``modstudio`` is imported from that environment's
site-packages, not from a source checkout. Steps: the import (and where the shipped files are),
``examples``, ``new --example split-digits``, a one-epoch ``train``, ``export`` of every task to
every format (ONNX, TorchScript, torch.export .pt2, safetensors), the refusal of an existing file
without ``--force`` and the same export with it, ``info``, the studio's window offscreen with the
example project (its canvas, icons, style sheet and help), and the studio started by the
``modstudio`` command.

Prints one line per step; exits non-zero on the first failure, with that step's output. CI runs
it (``.ci/run``) after the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300

EXPORTS = (("onnx", "model.onnx"), ("torchscript", "model.pt"), ("pt2", "model.pt2"),
           ("safetensors", "model.safetensors"))

# Builds the studio's window on the example project offscreen and checks what the wheel ships.
WINDOW_CHECK = r"""
import sys
from pathlib import Path

import modstudio
from PySide6.QtWidgets import QApplication

from modstudio.gui import help, theme
from modstudio.gui.app import APP_ID
from modstudio.gui.icons import app_icon, category_icon
from modstudio.gui.main_window import MainWindow
from modstudio.project import load_project

path = Path(sys.argv[1])
project = load_project(path)
app = QApplication([])
app.setDesktopFileName(APP_ID)
theme.apply(app)
assert app.styleSheet(), "the style sheet (resources/styles/studio.qss) did not load"
assert not app_icon().isNull(), "the app icon (resources/icons/modstudio.svg) did not load"
assert not category_icon("Dense").pixmap(24, 24).isNull()
guide = help.page_text(help.GUIDE)
assert not guide.startswith("# Help is missing"), guide
window = MainWindow(project, path)
window.resize(1200, 800)
window.show()
for _ in range(50):
    app.processEvents()
    if window.windowHandle() is not None and window.windowHandle().isExposed():
        break
assert window.isVisible(), "the window is not shown"
nodes, expected = len(window.scene.nodes), len(project.graph.nodes)
assert nodes == expected > 0, f"the canvas shows {nodes} nodes, the project has {expected}"
assert window.document.report.ok, window.document.report.summary()
window.document.undo_stack.setClean()  # nothing to save: no question on close
window.close()
app.processEvents()
print(f"window shown on {app.platformName()}: {nodes} nodes on the canvas, {len(project.tasks)} tasks, "
      f"{len(project.runs)} run(s); modstudio from {Path(modstudio.__file__).parent}")
"""


class StepFailed(Exception):
    pass


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"]).resolve()


def run_step(name: str, command: list[str], cwd: Path, env: dict[str, str], expect: str = "") -> str:
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise StepFailed(f"{name}: timed out after {TIMEOUT_S} s\n{exc.stdout or ''}{exc.stderr or ''}") from None
    output = done.stdout + done.stderr
    if done.returncode != 0 or expect not in output:
        raise StepFailed(f"{name}: exit status {done.returncode}"
                         + (f", expected {expect!r} in the output" if expect else "") + f"\n{output}")
    last = next((line for line in reversed(done.stdout.splitlines()) if line.strip()), "")
    print(f"wheel-smoke: {name:38} ok  {time.monotonic() - start:5.1f} s  {last[:110]}", flush=True)
    return done.stdout


def check_import(python: str, cwd: Path, env: dict[str, str]) -> None:
    code = ("import modstudio, json; from modstudio.data.resources import resources_dir; "
            "print(json.dumps({'file': modstudio.__file__, 'resources': str(resources_dir())}))")
    out = run_step("import modstudio", [python, "-c", code], cwd, env)
    found = json.loads(out.strip().splitlines()[-1])
    module, resources = Path(found["file"]).resolve(), Path(found["resources"]).resolve()
    print(f"wheel-smoke: modstudio.__file__ = {module}", flush=True)
    print(f"wheel-smoke: shipped files in     {resources}", flush=True)
    if not module.is_relative_to(site_packages()):
        raise StepFailed(f"modstudio was imported from {module}, not from this environment's {site_packages()}")
    if module.is_relative_to(CHECKOUT):
        raise StepFailed(f"modstudio was imported from the checkout ({module}): the wheel is not what ran")
    if not resources.is_relative_to(module.parent) or not (resources / "datasets" / "digits.npz").is_file():
        raise StepFailed(f"the shipped files are not inside the installed package: {resources}")


def main() -> int:
    python = sys.executable
    scripts = Path(sysconfig.get_paths()["scripts"])
    exe = str(scripts / ("modstudio.exe" if os.name == "nt" else "modstudio"))
    work = Path(tempfile.mkdtemp(prefix="modstudio-wheel-smoke-"))
    if work.resolve().is_relative_to(CHECKOUT):
        print(f"wheel-smoke: the work folder {work} is inside the checkout", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "MODSTUDIO_RESOURCES")}
    env.update(QT_QPA_PLATFORM="offscreen", MODSTUDIO_NO_OPENGL="1", PYTHONDONTWRITEBYTECODE="1")
    for name in ("CONFIG", "DATA", "LOG", "CACHE"):
        env[f"MODSTUDIO_{name}_DIR"] = str(work / "user" / name.lower())
    project = work / "x.modstudio"
    print(f"wheel-smoke: python {python} ({sys.version.split()[0]}), work folder {work}", flush=True)
    start = time.monotonic()
    try:
        check_import(python, work, env)
        run_step("examples", [exe, "examples"], work, env, "split-digits")
        run_step("new --example split-digits", [exe, "new", project.name, "--example", "split-digits"], work, env)
        if not project.is_file():
            raise StepFailed(f"new: {project} was not written")
        out = run_step("train --epochs 1", [exe, "train", project.name, "--epochs", "1", "--json"], work, env)
        status = json.JSONDecoder().raw_decode(out[out.index("{"):])[0].get("status")
        if status != "finished":
            raise StepFailed(f"train: the run's status is {status!r}, not 'finished'")
        export = [exe, "export", project.name]
        for fmt, name in EXPORTS:
            run_step(f"export {fmt} ({name})", [*export, "--all-tasks", "-o", name], work, env, "wrote ")
            if not (work / name).is_file() or (work / name).stat().st_size == 0:
                raise StepFailed(f"export {fmt}: {name} was not written")
        again = [*export, "--task", "0", "-o", EXPORTS[0][1]]
        refused = subprocess.run(again, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        if refused.returncode == 0:
            raise StepFailed("export onto an existing file without --force was not refused")
        print(f"wheel-smoke: {'export onto it again, no --force':38} refused (exit {refused.returncode}), as it must",
              flush=True)
        run_step("export onto it with --force", [*again, "--force"], work, env, "wrote ")
        run_step("info", [exe, "info", project.name], work, env, "runs: 1")
        run_step("window offscreen, example project", [python, "-c", WINDOW_CHECK, str(project)], work, env,
                 "window shown")
        run_step("modstudio PROJECT (studio starts)", [exe, project.name], work,
                 dict(env, MODSTUDIO_SMOKE_TEST="1"), "welcome=0")
    except StepFailed as exc:
        print(f"wheel-smoke: FAILED {exc}", file=sys.stderr, flush=True)
        print(f"wheel-smoke: the work folder is kept for a look: {work}", file=sys.stderr, flush=True)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(f"wheel-smoke: all steps passed in {time.monotonic() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
