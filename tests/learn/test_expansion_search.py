"""Expansion's search: suffix reuse for new inputs, and a bounded number of probes per task."""

from modstudio.data import load_builtin, permuted
from modstudio.graph import Graph
from modstudio.learn import events as ev
from modstudio.learn.trainer import Trainer
from modstudio.project import TrainingSettings

from tests.learn.conftest import mlp_graph


def narrow_then_wide() -> tuple[Graph, list[str]]:
    """input → 16 units → 128 units → head: growing the first block is the cheap change."""
    g = Graph()
    ids = [g.add_node("input"), g.add_node("mlp_block", hidden=[16]), g.add_node("mlp_block", hidden=[128]),
           g.add_node("head")]
    for a, b in zip(ids, ids[1:]):
        g.connect(a, b)
    return g, ids


def test_permuted_inputs_grow_the_first_module_and_reuse_the_rest():
    graph, ids = narrow_then_wide()
    tasks = permuted(load_builtin("digits", flat=True), n_tasks=2)
    events = []
    settings = TrainingSettings(strategy="expansion", epochs=6, batch_size=32, lr=3e-3,
                                strategy_params={"tolerance": 0.05})
    run = Trainer(graph, tasks, settings, [events.append]).run()
    assert run.status == "finished", run.message
    candidates = {(e.reuse, e.reused): e for e in events if isinstance(e, ev.CandidateEvaluated)}
    assert set(candidates) == {("prefix", 2), ("prefix", 1), ("suffix", 1), ("prefix", 0)}
    assert candidates["suffix", 1].val_accuracy > candidates["prefix", 1].val_accuracy + 0.1
    reused = [e.node_id for e in events if isinstance(e, ev.ModuleReused) and e.task == 1]
    grown = [e.node_id for e in events if isinstance(e, ev.ModuleAdded) and e.task == 1]
    assert reused == [ids[2]] and grown == [ids[1]]  # the suffix won
    assert run.paths[1][ids[2]] == run.paths[0][ids[2]] and run.paths[1][ids[1]] != run.paths[0][ids[1]]


def test_without_suffix_reuse_only_prefix_candidates_are_tried():
    graph, _ = narrow_then_wide()
    tasks = permuted(load_builtin("digits", flat=True), n_tasks=2)
    events = []
    settings = TrainingSettings(strategy="expansion", epochs=2, batch_size=64,
                                strategy_params={"suffix_reuse": False})
    Trainer(graph, tasks, settings, [events.append]).run()
    assert {e.reuse for e in events if isinstance(e, ev.CandidateEvaluated)} == {"prefix"}


def test_probes_per_task_are_bounded_by_probe_sources(blob_tasks):
    tasks = list(blob_tasks) + list(blob_tasks)  # six tasks: up to five earlier ones to rank
    settings = TrainingSettings(strategy="expansion", epochs=2, batch_size=32, lr=1e-2,
                                strategy_params={"probe_sources": 2, "tolerance": 0.0})
    trainer = Trainer(mlp_graph((16,)), tasks, settings)
    probes: dict[int, int] = {}
    fit = trainer.fit

    def counting_fit(task, epochs, overrides=None, phase="train"):
        if phase == "search" and overrides is None:  # a probe trains only the head on an earlier path
            probes[task] = probes.get(task, 0) + 1
        return fit(task, epochs, overrides=overrides, phase=phase)

    trainer.fit = counting_fit
    run = trainer.run()
    assert run.status == "finished", run.message
    assert probes and max(probes.values()) <= 2
    assert 1 not in probes  # one earlier task: nothing to rank
