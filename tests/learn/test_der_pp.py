"""DER++ and the memory a run keeps: its loss, its stored logits, and the memory in the record,
on the command line, in the project file and across the training process's boundary."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import modstudio as ms
from modstudio.learn.events import MemoryUpdated, event_from_json


def test_without_its_two_terms_der_pp_is_fine_tuning(tiny_project):
    plain = ms.train(tiny_project, strategy="finetune", scenario="class").run
    bare = ms.train(tiny_project, strategy="der_pp", scenario="class",
                    strategy_params={"alpha": 0.0, "beta": 0.0}).run
    assert bare.acc_matrix == plain.acc_matrix
    full = ms.train(tiny_project, strategy="der_pp", scenario="class").run
    assert full.acc_matrix != plain.acc_matrix


@pytest.mark.parametrize("scenario", ["task", "class"])
def test_stored_logits_are_the_networks_answer_at_insertion(tiny_project, scenario):
    result = ms.train(tiny_project, strategy="der_pp", scenario=scenario, strategy_params={"memory": 30})
    assert result.run.status == "finished", result.run.message
    strategy, net = result.trainer.strategy, result.network.eval()
    memory, last = strategy.memory, len(tiny_project.tasks) - 1
    positions = [p for p, (t, _) in enumerate(memory.items) if t == last]  # stored after the last training
    assert positions and len(memory) == 30
    x, _, _ = memory.gather(strategy.ctx, positions)
    with torch.no_grad():
        now = net.features_and_logits(x, last)
    width = len(result.trainer.union_classes) if scenario == "class" else tiny_project.tasks[last].num_classes
    assert now.shape[1] == width
    assert torch.allclose(torch.stack(memory.extras(positions)), now, atol=1e-6)
    # earlier tasks' logits were stored before the later training moved the network
    older = [p for p, (t, _) in enumerate(memory.items) if t < last]
    ox, _, ot = memory.gather(strategy.ctx, older)
    with torch.no_grad():
        current = torch.cat([net.features_and_logits(ox[ot == t], t) for t in torch.unique(ot).tolist()])
    assert not torch.allclose(torch.stack(memory.extras(older)), current, atol=1e-3)


def test_the_run_records_its_memory_after_every_task(tiny_project):
    events = []
    run = ms.train(tiny_project, strategy="der_pp", strategy_params={"memory": 20},
                   callbacks=[events.append]).run
    updates = [e for e in events if isinstance(e, MemoryUpdated)]
    assert [e.task for e in updates] == [0, 1, 2]
    assert all(e.samples == len(e.items) <= 20 for e in updates)
    for event in updates:  # they cross the training process's boundary as JSON
        assert event_from_json(json.loads(json.dumps(event.to_json()))) == event
    per_sample = 8 * 4 + 8  # 8 float32 inputs and an int64 label
    logits = 2 * 4  # each task's head: 2 classes, float32
    assert run.memory == {"samples": 20, "bytes": 20 * (per_sample + logits), "items": updates[-1].items}
    assert ms.train(tiny_project, strategy="finetune").run.memory is None
    replay = ms.train(tiny_project, strategy="replay", strategy_params={"memory": 20}).run.memory
    assert replay["samples"] == 20 and replay["bytes"] == 20 * per_sample


def test_a_run_in_its_own_process_keeps_the_same_memory(tiny_project):
    from modstudio.learn import remote

    tiny_project.configure(strategy="der_pp", scenario="class", strategy_params={"memory": 25})
    trainer = remote.RemoteTrainer(tiny_project.graph, tiny_project.tasks, tiny_project.settings, [], threads=1)
    result = trainer.run()
    assert result.status == "finished", result.message
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local = ms.train(tiny_project).run
    finally:
        torch.set_num_threads(threads)
    assert result.memory == local.memory and result.memory["samples"] == 25


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "modstudio", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("scenario", ["task", "class"])
def test_der_pp_from_the_command_line_and_the_memory_in_the_file(tiny_project, tmp_path, scenario):
    path, out = tmp_path / "p.modstudio", tmp_path / "trained.modstudio"
    tiny_project.save(path)
    result = run_cli("train", str(path), "--strategy", "der_pp", "--param", "memory=40", "--scenario", scenario,
                     "--json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["status"] == "finished" and printed["memory_samples"] == 40
    classes = 6 if scenario == "class" else 2
    assert printed["memory_bytes"] == 40 * (8 * 4 + 8 + classes * 4)
    run = ms.load_project(out).runs[-1]
    assert run.settings["strategy_params"]["memory"] == 40
    assert run.memory["samples"] == 40 and len(run.memory["items"]) == 40
    assert all(0 <= t < 3 and 0 <= i < len(tiny_project.tasks[t].train) for t, i in run.memory["items"])
    again = ms.load_project(ms.load_project(out).save(tmp_path / "again.modstudio"))
    assert again.runs[-1] == run
    info = json.loads(run_cli("info", str(out), "--json").stdout)
    assert info["runs"][-1]["memory_samples"] == 40 and info["runs"][-1]["memory_bytes"] == printed["memory_bytes"]
    assert "memory 40 samples" in run_cli("info", str(out)).stdout
