"""Smoke-test a built bundle: ``--version``, the headless commands (torch included: a one-epoch
``train`` and an ONNX ``export``), the training process the studio starts (it lists the devices),
and an offscreen start of the studio that quits once its window is shown.

    python packaging/smoke.py dist/ModStudio

Runs with throw-away per-user folders, so the tester's settings and recovery copies are untouched.
Exits non-zero on the first failure, saying which step failed and its output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def expected_version() -> str:
    sys.path.insert(0, str(ROOT))
    from modstudio import __version__

    return __version__


def main(bundle: Path) -> int:
    exe = bundle / ("modstudio.exe" if os.name == "nt" else "modstudio")
    if not exe.is_file():
        print(f"smoke: no executable at {exe}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="modstudio-smoke-"))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MODSTUDIO_NO_OPENGL="1")
    for name in ("CONFIG", "DATA", "LOG", "CACHE"):
        env[f"MODSTUDIO_{name}_DIR"] = str(tmp / name.lower())
    project = tmp / "example.modstudio"
    onnx_file = tmp / "model.onnx"

    steps = [
        ("--version", [str(exe), "--version"], f"modstudio {expected_version()}"),
        ("examples", [str(exe), "examples"], "split-digits"),
        ("new", [str(exe), "new", str(project), "--example", "split-digits"], "5 tasks"),
        ("train (torch)", [str(exe), "train", str(project), "--strategy", "finetune", "--epochs", "1",
                           "--device", "cpu", "--json"], '"status": "finished"'),
        ("export onnx", [str(exe), "export", str(project), "-o", str(onnx_file), "--all-tasks"],
         f"wrote {onnx_file}: onnx"),
        ("info", [str(exe), "info", str(project)], "runs: 1"),
        # the studio trains in this process of the bundle's own executable (modstudio.learn.host)
        ("training process", [str(exe), "--training-host"], '"devices": [', '{"devices": true}\n'),
        ("studio, offscreen", [str(exe)], "MODSTUDIO_SMOKE window_shown="),
        ("studio with a project", [str(exe), str(project)], "welcome=0"),
    ]
    for name, command, expect, *stdin in steps:
        step_env = dict(env, MODSTUDIO_SMOKE_TEST="1") if name.startswith("studio") else env
        start = time.time()
        try:
            done = subprocess.run(command, env=step_env, capture_output=True, text=True, timeout=300,
                                  input=stdin[0] if stdin else None)
        except subprocess.TimeoutExpired:
            print(f"smoke: {name}: timed out after 300 s", file=sys.stderr)
            return 1
        seconds = time.time() - start
        output = done.stdout + done.stderr
        if done.returncode != 0 or expect not in output:
            print(f"smoke: {name} FAILED (exit {done.returncode}, expected {expect!r} in the output)\n{output}",
                  file=sys.stderr)
            return 1
        detail = ""
        if name == "studio, offscreen":
            shown = float(output.split("window_shown=")[1].split()[0])
            detail = f"  (window shown {shown - start:.2f} s after launch)"
            if "torch_loaded=1" in output:
                detail += "  WARNING: torch was imported at start (slow start; see packaging/README.md)"
        print(f"smoke: {name:24} ok  {seconds:5.1f} s{detail}")
    log = tmp / "log" / "modstudio.log"
    print(f"smoke: log file written: {log.is_file()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist" / "ModStudio")))
