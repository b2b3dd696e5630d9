"""Expansion's search: suffix reuse for new inputs, copied and fresh; the head's warm start; and a
bounded number of probes per task."""

import pytest
import torch

from modstudio.data import load_builtin, permuted, split_by_class
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
    candidates = {(e.reuse, e.reused, e.init): e for e in events if isinstance(e, ev.CandidateEvaluated)}
    assert set(candidates) == {("prefix", 2, "copy"), ("prefix", 1, "copy"), ("suffix", 1, "copy"),
                               ("suffix", 1, "fresh"), ("prefix", 0, "copy")}
    assert candidates["suffix", 1, "fresh"].val_accuracy > candidates["prefix", 1, "copy"].val_accuracy + 0.1
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


@pytest.mark.parametrize("params, expected", [
    ({}, {("suffix", "copy"), ("suffix", "fresh"), ("prefix", "copy")}),
    ({"suffix_fresh": False}, {("suffix", "copy"), ("prefix", "copy")}),
    ({"warm_start": False}, {("suffix", "fresh"), ("prefix", "fresh")}),  # nothing copied: no twin to try
])
def test_suffix_candidates_are_tried_copied_and_fresh(params, expected):
    graph, _ = narrow_then_wide()
    tasks = permuted(load_builtin("digits", flat=True), n_tasks=2)
    events = []
    settings = TrainingSettings(strategy="expansion", epochs=2, batch_size=64, strategy_params=params)
    trainer = Trainer(graph, tasks, settings, [events.append])
    run = trainer.run()
    assert run.status == "finished", run.message
    tried = [(e.reuse, e.reused, e.init) for e in events if isinstance(e, ev.CandidateEvaluated)]
    assert {(kind, init) for kind, _, init in tried} == expected
    assert len(tried) == len(set(tried))
    assert trainer.strategy.planned_epochs(1) == len(tried) * 1 + 1 + 0  # candidates × search epochs + the rest


def _search_starts(graph, tasks, params=None):
    """For each search trial of task 1: (each grown module equal to the source's instance, the
    task's head equal to the source's head) as the trial starts."""
    settings = TrainingSettings(strategy="expansion", epochs=2, batch_size=64, strategy_params=params or {})
    trainer = Trainer(graph, tasks, settings)
    starts = []
    fit = trainer.fit

    def watching_fit(task, epochs, overrides=None, phase="train"):
        if phase == "search" and overrides:
            net = trainer.net
            same = lambda a, b: all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
            grown = {node: same(module, net.instances(node)[net.paths[0][node]]) for node, module in overrides.items()}
            starts.append((grown, same(net.instances(net.head_id)[task], net.instances(net.head_id)[0])))
        return fit(task, epochs, overrides=overrides, phase=phase)

    trainer.fit = watching_fit
    run = trainer.run()
    assert run.status == "finished", run.message
    return starts


def test_fresh_suffix_modules_start_anew_and_copies_as_the_source():
    graph, ids = narrow_then_wide()
    starts = _search_starts(graph, permuted(load_builtin("digits", flat=True), n_tasks=2))
    first_only = [grown for grown, _ in starts if set(grown) == {ids[1]}]  # suffix: grow the first block only
    assert sorted(g[ids[1]] for g in first_only) == [False, True]  # one fresh, one copied
    everything = [grown for grown, _ in starts if set(grown) == {ids[1], ids[2]}]
    assert everything == [{ids[1]: True, ids[2]: True}]  # prefix candidates are copies


def test_head_starts_as_the_source_head_only_when_the_classes_are_the_same():
    graph, _ = narrow_then_wide()
    digits = load_builtin("digits", flat=True)
    same_classes = _search_starts(graph, permuted(digits, n_tasks=2))
    assert same_classes and all(head for _, head in same_classes)
    other_classes = _search_starts(graph, split_by_class(digits, n_tasks=2))
    assert other_classes and not any(head for _, head in other_classes)
    no_warm_start = _search_starts(graph, permuted(digits, n_tasks=2), {"warm_start": False})
    assert no_warm_start and not any(head for _, head in no_warm_start)
