"""``modstudio info`` names every headline figure of a run, AIA included, and the memory it kept."""

import json

import modstudio as ms
from modstudio.cli import main


def test_info_text_and_json_show_aia_and_memory(tmp_path, capsys):
    project = ms.examples.build_example("split-digits")
    project.tasks[:] = project.tasks[:2]
    run = ms.train(project, strategy="expansion", scenario="class", epochs=1,
                   strategy_params={"task_inference": "unified"}).run  # a readout that keeps a memory
    path = project.save(tmp_path / "p.modstudio")
    assert main(["info", str(path), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)["runs"]
    assert run.metrics.aia is not None and summary["aia"] == run.metrics.aia
    assert summary["memory_samples"] == run.memory["samples"] and summary["memory_bytes"] == run.memory["bytes"]
    assert main(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert f"aia {run.metrics.aia:+.3f}" in text and f"memory {run.memory['samples']:,} samples" in text
