"""The command line answers --version and --help, as a module and as a console script."""

import subprocess
import sys

import modstudio
from modstudio.cli import main


def test_version_flag(capsys):
    try:
        main(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0
    assert capsys.readouterr().out.strip() == f"modstudio {modstudio.__version__}"


def test_python_dash_m_help():
    result = subprocess.run([sys.executable, "-m", "modstudio", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "usage: modstudio" in result.stdout and "forgetting" in result.stdout
