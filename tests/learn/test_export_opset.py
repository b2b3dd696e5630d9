"""``--opset N`` for ONNX: the file is written at the opset asked for, or an ExportError says why not."""

from __future__ import annotations

import pytest
import torch

from modstudio.cli import build_parser, main
from modstudio.learn.export import ExportError, export
from modstudio.learn.export.formats import DEFAULT_OPSET
from tests.learn.test_export import assert_same, needs_onnx, needs_ort, run_file, trained  # noqa: F401

pytestmark = needs_onnx


def opset_of(path) -> int:
    import onnx

    return next(entry.version for entry in onnx.load(str(path)).opset_import if entry.domain in ("", "ai.onnx"))


def newest() -> int:
    import onnx

    return onnx.defs.onnx_opset_version()


def test_a_conversion_that_fails_says_why(trained, tmp_path):
    with pytest.raises(ExportError, match=r"this model needs (ONNX opset \d+ or newer, not 15|a newer ONNX opset than "
                                          r"15: the installed onnx could not convert it below opset 18)"):
        export(trained("conv-expansion").project, tmp_path / "m.onnx", task=0, opset=15)
    assert not list(tmp_path.iterdir())


def test_the_default_is_18(trained, tmp_path):
    assert DEFAULT_OPSET == 18
    export(trained("digits-finetune").project, tmp_path / "m.onnx", task=0)
    assert opset_of(tmp_path / "m.onnx") == 18


@needs_ort
@pytest.mark.parametrize("opset", [17, 21])
def test_another_opset_is_written_and_reproduces_the_studio(trained, tmp_path, opset):
    t = trained("digits-finetune")
    export(t.project, tmp_path / "m.onnx", all_tasks=True, opset=opset)
    assert opset_of(tmp_path / "m.onnx") == opset
    for task in (0, 1):
        assert_same(f"opset {opset}", run_file("onnx", tmp_path / "m.onnx", t.x[task], task)[0], t.logits[task])


def test_a_model_that_needs_a_newer_opset_says_so(trained, tmp_path):
    """The exporter writes opset 18 and converts; an operator without a way down stops it."""
    with pytest.raises(ExportError, match=r"this model needs (ONNX opset \d+ or newer, not 13|a newer ONNX opset "
                                          r"than 13)"):
        export(trained("digits-finetune").project, tmp_path / "m.onnx", task=0, opset=13)
    assert not list(tmp_path.iterdir())


def test_the_needed_opset_it_names_works(trained, tmp_path):
    import re

    project = trained("digits-finetune").project
    with pytest.raises(ExportError) as caught:
        export(project, tmp_path / "m.onnx", task=0, opset=13)
    need = re.search(r"needs ONNX opset (\d+) or newer", str(caught.value))
    if need is None:
        pytest.skip(f"this onnx does not name the opset: {caught.value}")
    export(project, tmp_path / "m.onnx", task=0, opset=int(need[1]))
    assert opset_of(tmp_path / "m.onnx") == int(need[1])


@pytest.mark.parametrize("opset", [0, -1, 10_000])
def test_an_opset_the_installed_onnx_lacks_is_refused_with_the_range(trained, tmp_path, opset):
    import onnx

    with pytest.raises(ExportError, match=rf"ONNX opset {opset} is not one the installed onnx {onnx.__version__} "
                                          rf"supports: choose 1–{newest()} \(default 18\)"):
        export(trained("digits-finetune").project, tmp_path / "m.onnx", task=0, opset=opset)
    assert not list(tmp_path.iterdir())


def test_opset_newer_than_onnx_knows_is_refused(trained, tmp_path):
    with pytest.raises(ExportError, match=f"choose 1–{newest()}"):
        export(trained("digits-finetune").project, tmp_path / "m.onnx", task=0, opset=newest() + 1)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"opset": True}, "opset: expected a whole number"),
    ({"opset": "18"}, "opset: expected a whole number"),
    ({"opset": 18, "format": "pt2"}, "opset applies to ONNX exports only, not to pt2"),
    ({"opset": 18, "format": "python"}, "opset applies to ONNX exports only, not to python"),
])
def test_bad_opset_arguments(trained, tmp_path, kwargs, message):
    with pytest.raises(ExportError, match=message):
        export(trained("digits-finetune").project, tmp_path / "m.onnx", task=0, **kwargs)


def test_an_exporter_failure_names_the_opset(trained, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("unsupported operator aten::weird\nmore detail")

    monkeypatch.setattr(torch.onnx, "export", fail)
    with pytest.raises(ExportError, match=r"the ONNX exporter could not write this model at opset 19: RuntimeError: "
                                          r"unsupported operator aten::weird$"):
        export(trained("digits-finetune").project, tmp_path / "m.onnx", task=0, opset=19)


def test_cli_opset(trained, tmp_path, capsys):
    t = trained("digits-finetune")
    assert main(["export", str(t.file), "-o", str(tmp_path / "m.onnx"), "--task", "0", "--opset", "20"]) == 0
    assert opset_of(tmp_path / "m.onnx") == 20
    capsys.readouterr()
    assert main(["export", str(t.file), "-o", str(tmp_path / "n.onnx"), "--task", "0", "--opset", "999"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("modstudio export: ONNX opset 999 is not one") and err.count("\n") == 1
    assert main(["export", str(t.file), "-o", str(tmp_path / "n.pt2"), "--task", "0", "--opset", "18"]) == 2
    assert "ONNX exports only" in capsys.readouterr().err


def test_help_documents_the_opset():
    parser = build_parser()
    export_parser = parser._subparsers._group_actions[0].choices["export"]
    text = " ".join(export_parser.format_help().split())
    assert "--opset N" in text and "default 18" in text
