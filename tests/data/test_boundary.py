"""The data layer must import without torch or Qt (DESIGN: dependencies point one way)."""

import subprocess
import sys


def test_imports_with_torch_and_qt_blocked():
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['PySide6'] = None; "
        "sys.modules['sklearn'] = None; import modstudio.data as d; "
        "d.split_by_class(d.load_builtin('digits'), n_tasks=5); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'sklearn', 'pyqtgraph') "
        "and sys.modules[m] is not None]; assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
