"""``modstudio new`` and ``train`` never lose work and never end in a traceback (issue 17).

A save that cannot happen (a missing folder, a folder, a read-only or full disk) is one line and
exit status 2; ``train`` checks what it can before training, and when the save fails after
training it keeps the trained project as a recovery copy in the per-user data folder and says
where. Settings and arguments that are refused save nothing and leave no ``PROJECT~``.
Projects here are tiny (one task of 8-D blobs), so each training takes well under a second.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import pytest

import modstudio as ms
from modstudio.cli import main
from modstudio.data import load_builtin, split_by_class
from modstudio.graph import Graph
from modstudio.project import Project, TrainingSettings, recovery


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "user-data"
    monkeypatch.setenv("MODSTUDIO_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def project_file(tmp_path) -> Path:
    project = Project.new("tiny")
    g = project.graph = Graph()
    x, m, h = g.add_node("input"), g.add_node("mlp_block", hidden=[8]), g.add_node("head")
    g.connect(x, m)
    g.connect(m, h)
    data = load_builtin("blobs", n_samples=120, n_features=8, n_classes=4, spread=1.5, seed=3)
    project.tasks.extend(split_by_class(data, n_tasks=2))
    project.settings = TrainingSettings(strategy="finetune", epochs=1, batch_size=64, device="cpu")
    return project.save(tmp_path / "p.modstudio", backup=False)


def one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith(f"modstudio {command}: ") and "Traceback" not in err, err
    return lines[-1]


def unchanged(path: Path, before: bytes) -> bool:
    return path.read_bytes() == before and not Path(str(path) + "~").exists()


def failing_replace(monkeypatch, folder: Path, code: int) -> None:
    """Renames into ``folder`` fail as on a read-only (EROFS) or full (ENOSPC) disk; others work."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).parent == folder:
            raise OSError(code, os.strerror(code), str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


@pytest.fixture
def read_only(tmp_path, monkeypatch):
    """A folder that refuses new files: chmod 0o555, or where that does not stop writes (root) a
    read-only file system's refusal of every rename into it."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        (folder / ".probe").write_bytes(b"")
    except OSError:
        pass
    else:
        (folder / ".probe").unlink()
        failing_replace(monkeypatch, folder, errno.EROFS)
    yield folder
    folder.chmod(0o755)


# ---------------------------------------------------------------- new

@pytest.mark.parametrize(("case", "message"), [
    ("missing-folder", "the folder .*nowhere does not exist"),
    ("a-folder", "is a folder"),
    ("under-a-file", "the folder .*file is not a folder"),
    ("read-only", "cannot save .*(Read-only|Permission)"),
])
def test_new_that_cannot_write_is_one_line(tmp_path, request, capsys, case, message):
    if case == "missing-folder":
        target = tmp_path / "nowhere" / "p.modstudio"
    elif case == "a-folder":
        target = tmp_path / "folder"
        target.mkdir()
    elif case == "under-a-file":
        (tmp_path / "file").write_text("mine")
        target = tmp_path / "file" / "p.modstudio"
    else:
        target = request.getfixturevalue("read_only") / "p.modstudio"
    for force in ([], ["--force"]):
        assert main(["new", str(target), "--example", "split-digits", *force]) == 2
        assert re.search(message, one_line_error(capsys, "new"))
    assert not target.is_file()
    if case == "under-a-file":
        assert (tmp_path / "file").read_text() == "mine"


# ---------------------------------------------------------------- train: caught before training

@pytest.mark.parametrize("case", ["missing-folder", "a-folder", "under-a-file"])
def test_train_output_checked_before_training(project_file, tmp_path, capsys, case):
    before = project_file.read_bytes()
    if case == "missing-folder":
        out, message = tmp_path / "nowhere" / "t.modstudio", "does not exist"
    elif case == "a-folder":
        out, message = tmp_path / "folder", "is a folder"
        out.mkdir()
    else:
        out, message = project_file / "t.modstudio", "is not a folder"
    assert main(["train", str(project_file), "-o", str(out)]) == 2
    line = one_line_error(capsys, "train")
    assert message in line
    assert "task 1/" not in capsys.readouterr().err  # nothing trained
    assert unchanged(project_file, before)


# ---------------------------------------------------------------- train: the save fails after training

@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC], ids=["read-only", "full-disk"])
@pytest.mark.parametrize("in_place", [True, False], ids=["in-place", "to-OUT"])
def test_a_failed_save_keeps_the_trained_run(project_file, tmp_path, monkeypatch, capsys, data_dir, code, in_place):
    before = project_file.read_bytes()
    out = project_file if in_place else tmp_path / "out" / "t.modstudio"
    out.parent.mkdir(exist_ok=True)
    failing_replace(monkeypatch, out.parent, code)
    assert main(["train", str(project_file), *([] if in_place else ["-o", str(out)])]) == 2
    line = one_line_error(capsys, "train")
    assert f"cannot save {out}: {os.strerror(code)}" in line and "is kept in" in line
    kept = Path(line.split("is kept in ", 1)[1].split(": copy it", 1)[0])
    assert kept.parent == data_dir / "recovery" and kept.is_file()
    run = ms.load_project(kept).runs[-1]
    assert run.status == "finished" and run.weights and len(run.paths) == 2
    assert unchanged(project_file, before) and not (tmp_path / "out" / "t.modstudio").exists()
    copies = recovery.list_recoverable()  # the studio offers it after its next start
    assert [c.path for c in copies] == [kept] and copies[0].source == str(out)


def test_a_failed_save_with_nowhere_to_keep_the_run_says_so(project_file, tmp_path, monkeypatch, capsys):
    (tmp_path / "blocker").write_text("")
    monkeypatch.setenv("MODSTUDIO_DATA_DIR", str(tmp_path / "blocker" / "data"))
    failing_replace(monkeypatch, project_file.parent, errno.EROFS)
    assert main(["train", str(project_file)]) == 2
    assert "could not be kept either" in one_line_error(capsys, "train")


def test_ctrl_c_twice_still_saves_the_stopped_run(project_file, monkeypatch, capsys):
    """The second Ctrl-C is a KeyboardInterrupt inside the loop: the run is kept and saved, exit 130."""
    from modstudio.learn import events as ev
    from modstudio.progress import ProgressPrinter

    real = ProgressPrinter.__call__

    def printer(self, event):
        real(self, event)
        if isinstance(event, ev.EpochEnded) and event.task == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(ProgressPrinter, "__call__", printer)
    assert main(["train", str(project_file)]) == 130
    run = ms.load_project(project_file).runs[-1]
    assert run.status == "stopped" and len(run.paths) == 1 and run.weights


# ---------------------------------------------------------------- refused settings save nothing (31, 32)

@pytest.mark.parametrize(("args", "message"), [
    (["--strategy", "replay", "--param", "memory=1e999"], "memory must be a"),
    (["--strategy", "ewc", "--param", "lambda=Infinity"], "lambda must be a finite number"),
    (["--seed", str(2**70)], "seed"),
    (["--strategy", "ewc", "--param", "lambda=strong"], "lambda"),
    (["--param", "nonsense"], "KEY=VALUE"),
    (["--epochs", "0"], "epochs"),
])
def test_refused_settings_are_one_line_and_save_nothing(project_file, capsys, args, message):
    before = project_file.read_bytes()
    assert main(["train", str(project_file), *args]) == 2
    assert message in one_line_error(capsys, "train")
    assert unchanged(project_file, before)


@pytest.mark.parametrize("args", [["--strategy", "nope"], ["--seed", "2**70"], ["--epochs", "many"]])
def test_argparse_refusals_save_nothing(project_file, capsys, args):
    before = project_file.read_bytes()
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(project_file), *args])
    assert exit_.value.code == 2 and "Traceback" not in capsys.readouterr().err
    assert unchanged(project_file, before)
