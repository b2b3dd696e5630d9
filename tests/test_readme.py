"""The README's Python example is real: it runs as written and gives a trained, saved project."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_python_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks()
    assert blocks, "the README lost its Python example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    result = namespace["result"]
    assert result.run.status == "finished"
    assert result.metrics.bwt == 0.0  # expansion never forgets
    import modstudio as ms

    assert ms.load_project(tmp_path / "digits.modstudio").runs[0].metrics.acc == result.metrics.acc
