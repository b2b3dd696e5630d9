"""`modstudio evaluate` and `modstudio predict`: the evaluation as JSON and tables, predictions of an
image, an array and CSV rows, and one-line refusals with exit status 2."""

import json

import numpy as np
import pytest

import modstudio as ms
from modstudio.cli import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """split-digits (5 tasks of 2 digits, 64 features) after one epoch, saved with its weights."""
    path = tmp_path_factory.mktemp("evaluate") / "digits.modstudio"
    project = ms.examples.build_example("split-digits")
    project.configure(epochs=1, strategy="finetune", strategy_params={})
    run = ms.train(project).run
    assert run.status == "finished", run.message
    project.save(path)
    return path, run


def test_evaluate_json_has_a_matrix_per_task_that_adds_up_to_the_run(trained, capsys):
    path, run = trained
    assert main(["evaluate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["run_id"] == run.id and out["scenario"] == "task" and out["all_classes"] is None
    assert len(out["tasks"]) == 5
    for t, view in enumerate(out["tasks"]):
        assert view["samples"] == run.metrics.test_sizes[t] == sum(map(sum, view["confusion"]))
        assert view["accuracy"] == pytest.approx(run.acc_matrix[-1][t], abs=1e-12)
        assert view["true_names"] == [str(2 * t), str(2 * t + 1)]
        assert len(view["confident_wrong"]) <= 8


def test_evaluate_prints_a_table_per_task(trained, capsys):
    path, run = trained
    assert main(["evaluate", str(path), "--run", "0", "--wrong", "2"]) == 0
    out = capsys.readouterr().out
    assert f"run {run.id[:8]}: finetune, task scenario, 5 task(s)" in out
    first = out.split("T1 digits 0-1:")[1].split("\n\n")[0]
    assert f"{run.acc_matrix[-1][0] * 100:.1f} % of 72 test samples" in first
    assert "true \\ pred" in first and "recall" in first


def test_predict_a_png_an_npy_and_csv_rows(trained, tmp_path, capsys):
    from PIL import Image

    path, run = trained
    project = ms.load_project(path)
    sample = np.asarray(project.tasks[2].test.x[0])  # a 4 or a 5, as 8×8 grey pixels
    Image.fromarray((sample.reshape(8, 8) * 255).round().astype(np.uint8)).save(tmp_path / "digit.png")
    assert main(["predict", str(path), str(tmp_path / "digit.png"), "--json"]) == 0
    png = json.loads(capsys.readouterr().out)
    assert png["sample_shape"] == [64] and len(png["samples"]) == 1
    heads = png["samples"][0]["heads"]
    assert [h["task_name"] for h in heads] == [t.name for t in project.tasks]
    assert all(sum(h["probabilities"]) == pytest.approx(1.0, abs=1e-5) for h in heads)

    # the PNG's pixels are the sample rounded to 8 bits: as an array, the same answers
    pixels = (sample * 255).round().astype(np.uint8) / np.float32(255.0)
    np.save(tmp_path / "two.npy", np.stack([pixels, np.asarray(project.tasks[2].test.x[1])]).astype(np.float32))
    assert main(["predict", str(path), str(tmp_path / "two.npy"), "--task", "2", "--json"]) == 0
    npy = json.loads(capsys.readouterr().out)
    assert [[h["task"] for h in s["heads"]] for s in npy["samples"]] == [[2], [2]]
    assert npy["samples"][0]["heads"][0]["probabilities"] == pytest.approx(heads[2]["probabilities"], abs=1e-6)

    rows = np.asarray(project.tasks[0].test.x[:3])
    with open(tmp_path / "rows.csv", "w") as f:
        f.write(",".join(f"x{j}" for j in range(64)) + ",label\n")
        for row, label in zip(rows, project.tasks[0].test.y[:3]):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{label}\n")
    assert main(["predict", str(path), str(tmp_path / "rows.csv"), "--task", "digits 0-1"]) == 0
    out = capsys.readouterr().out
    assert "rows.csv: 3 samples of shape 64" in out and out.count("T1 digits 0-1: ") == 3


def test_refusals_say_what_is_wrong_and_exit_2(trained, tmp_path, capsys):
    path, run = trained
    np.save(tmp_path / "wide.npy", np.zeros((2, 65), dtype=np.float32))
    assert main(["predict", str(path), str(tmp_path / "wide.npy")]) == 2
    assert "shape 2×65 does not fit the tasks' sample shape 64" in capsys.readouterr().err
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    assert main(["predict", str(path), str(tmp_path / "broken.png")]) == 2
    assert "modstudio predict: broken.png:" in capsys.readouterr().err
    assert main(["predict", str(path), str(tmp_path / "missing.npy")]) == 2
    assert "missing.npy" in capsys.readouterr().err
    (tmp_path / "notes.docx").write_text("x")
    assert main(["predict", str(path), str(tmp_path / "notes.docx")]) == 2
    assert "cannot predict from a .docx" in capsys.readouterr().err
    beyond = next(str(k) for k in range(9, 100) if not run.id.startswith(str(k)))  # no run's number nor id prefix
    assert main(["evaluate", str(path), "--run", beyond]) == 2
    assert f"no run '{beyond}'" in capsys.readouterr().err
    assert main(["predict", str(path), str(tmp_path / "wide.npy"), "--task", "7"]) == 2
    assert "no task '7'" in capsys.readouterr().err


def test_a_run_without_weights_is_refused(tmp_path, capsys):
    project = ms.examples.build_example("split-digits")
    project.configure(epochs=1, strategy="finetune", strategy_params={})
    ms.train(project).run.weights = None
    path = project.save(tmp_path / "light.modstudio")
    assert main(["evaluate", str(path)]) == 2
    assert "no run of project 'split digits' has trained weights" in capsys.readouterr().err
    assert main(["evaluate", str(path), "--run", "0"]) == 2
    assert "has no trained weights to evaluate" in capsys.readouterr().err
