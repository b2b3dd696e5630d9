"""The published baselines beside EWC: SI, MAS, A-GEM and GDumb, each checked against its own
definition (a hand computation where the method is a formula), and the order in which the trainer
calls a strategy's hooks (Lightning's hook-order test, for our strategies)."""

from __future__ import annotations

import pytest
import torch

import modstudio as ms
from modstudio.learn.strategies import STRATEGIES, make_strategy, register_strategy, unregister_strategy
from modstudio.learn.strategies.agem import project
from modstudio.learn.strategies.base import Strategy
from modstudio.project.strategy_specs import StrategySpec


class _Collective:
    rank, world_size, batch_size = 0, 1, 0

    def sum_(self, tensors):
        pass

    def share(self, items):
        return items


class _Ctx:
    collective = _Collective()


def test_si_integrates_the_task_loss_gradient_along_the_path_and_damps_the_importance():
    """ω −= g·Δθ per step with g the task loss's gradient (the penalty's own taken out), then
    Ω = max(ω, 0) / (Δ² + ξ) summed into the old Ω."""
    si = make_strategy("si", **{"lambda": 2.0, "damping": 0.5})
    si.ctx = _Ctx()
    p = torch.nn.Parameter(torch.tensor([1.0, 2.0, -1.0]))
    si.shared = lambda task: {"0": p}
    si.importance, si.anchor, si._grad, si._before = {}, {}, {}, {}  # what bind sets, without a trainer
    si.start, si.omega, si._keys = {"0": p.detach().clone()}, {"0": torch.zeros(3)}, {"0": p}
    steps = [(torch.tensor([0.5, -1.0, 0.0]), torch.tensor([-0.1, 0.2, 0.0])),
             (torch.tensor([0.2, -0.5, 1.0]), torch.tensor([-0.05, 0.1, 0.3]))]
    expected_omega = torch.zeros(3)
    for grad, delta in steps:
        p.grad = grad.clone()
        si.before_step(0, [p])
        with torch.no_grad():
            p += delta
        si.after_step(0, [p])
        expected_omega -= grad * delta
    assert torch.allclose(si.omega["0"], expected_omega)
    si.end_task(0)
    change = torch.tensor([-0.15, 0.3, 0.3])
    assert torch.allclose(si.importance["0"], expected_omega.clamp(min=0) / (change ** 2 + 0.5))
    assert torch.equal(si.anchor["0"], p.detach())

    # task 2: the gradient seen holds the penalty's 2·λ·Ω·(θ − θ*); ω integrates what is left
    si.omega, si.start = {"0": torch.zeros(3)}, {"0": p.detach().clone()}
    with torch.no_grad():
        p += torch.tensor([0.1, 0.0, 0.0])
    own = 2 * 2.0 * si.importance["0"] * (p.detach() - si.anchor["0"])
    task_grad = torch.tensor([1.0, 1.0, 1.0])
    p.grad = task_grad + own
    si.before_step(1, [p])
    with torch.no_grad():
        p -= 0.1 * p.grad
    si.after_step(1, [p])
    assert torch.allclose(si.omega["0"], -task_grad * (-0.1 * (task_grad + own)))


def test_mas_importance_is_the_mean_output_norm_gradient(tiny_project):
    """After one task, Ω = mean over the training batches of |∂ mean‖f(x)‖² / ∂θ|, θ the body's weights."""
    tiny_project.tasks[:] = tiny_project.tasks[:1]
    box = {}
    ms.train(tiny_project, strategy="mas", trainer_ready=lambda t: box.update(trainer=t))
    trainer = box["trainer"]
    strategy, net = trainer.strategy, trainer.net
    shared = strategy.shared(0)
    x = trainer.data[0].train_x
    batch = tiny_project.settings.batch_size
    expected = {k: torch.zeros_like(p) for k, p in shared.items()}
    net.eval()
    batches = 0
    for start in range(0, len(x), batch):
        net.zero_grad()
        net.features_and_logits(x[start:start + batch], 0).pow(2).sum(dim=1).mean().backward()
        for k, p in shared.items():
            expected[k] += p.grad.abs()
        batches += 1
    assert shared and set(strategy.importance) == set(shared)
    for k in shared:
        assert torch.allclose(strategy.importance[k], expected[k] / batches, rtol=1e-5, atol=1e-7), k
        assert torch.equal(strategy.anchor[k], shared[k].detach())


def test_mas_keeps_a_running_average_of_the_importance():
    mas = make_strategy("mas", alpha=0.25)
    mas.importance, mas.anchor = {}, {}
    p = torch.nn.Parameter(torch.ones(2))
    mas.shared = lambda task: {"0": p}
    mas.consolidate(0, {"0": torch.tensor([4.0, 8.0])}, decay=0.25)
    mas.consolidate(1, {"0": torch.tensor([0.75, 1.5])}, decay=0.25)  # already (1 − α)·Ω_task
    assert torch.allclose(mas.importance["0"], torch.tensor([1.75, 3.5]))


def test_agem_projects_a_gradient_that_opposes_the_reference():
    g, r = [torch.tensor([1.0, -2.0]), torch.tensor([0.5])], [torch.tensor([-1.0, 1.0]), torch.tensor([0.0])]
    projected, changed = project(g, r)
    flat_g, flat_r = torch.cat(projected), torch.cat(r)
    assert changed and torch.isclose(flat_g @ flat_r, torch.tensor(0.0), atol=1e-6)
    # g − (g·r / r·r) r with g·r = −3, r·r = 2
    assert torch.allclose(flat_g, torch.tensor([1.0, -2.0, 0.5]) + 1.5 * torch.tensor([-1.0, 1.0, 0.0]))
    agreeing = [torch.tensor([1.0, 1.0]), torch.tensor([0.0])]
    same, changed = project(agreeing, [torch.tensor([1.0, 0.0]), torch.tensor([0.0])])
    assert not changed and same is agreeing


def test_agem_never_steps_against_the_memory_in_training(tiny_project, monkeypatch):
    """Every step of a real run: the gradient taken agrees with the memory's reference gradient
    (g · g_ref ≥ 0), projected where it did not."""
    from modstudio.learn.strategies import agem

    steps = []

    def recording(gradient, reference):
        out, changed = project(gradient, reference)
        steps.append((float(sum((g * r).sum() for g, r in zip(out, reference))), changed))
        return out, changed

    monkeypatch.setattr(agem, "project", recording)
    run = ms.train(tiny_project, strategy="agem", strategy_params={"memory": 60}).run
    assert run.status == "finished" and run.memory["samples"] == 60
    assert steps and any(changed for _, changed in steps)  # the memory is consulted from task 2 on
    assert all(dot >= -1e-6 for dot, _ in steps), min(steps)


def test_gdumb_trains_from_scratch_on_its_memory_alone(tiny_project):
    """Per task: the memory takes the task's samples (class-balanced), the network starts again and
    trains on the memory only: the samples it trains on are epochs × the memory's size."""
    box, seen = {}, []

    def on_event(event):
        from modstudio.learn import events as ev

        if isinstance(event, ev.TaskEnded):
            seen.append((box["trainer"]._samples, len(box["trainer"].strategy.memory)))

    budget = 30
    run = ms.train(tiny_project, strategy="gdumb", strategy_params={"memory": budget}, callbacks=[on_event],
                   trainer_ready=lambda t: box.update(trainer=t)).run
    assert run.status == "finished"
    epochs = tiny_project.settings.epochs
    trained = [s - (seen[i - 1][0] if i else 0) for i, (s, _) in enumerate(seen)]
    assert trained == [epochs * size for _, size in seen]
    assert [size for _, size in seen] == [budget] * 3
    counts = box["trainer"].strategy.memory.class_counts()
    assert len(counts) == 6 and max(counts.values()) - min(counts.values()) <= 1  # 6 classes, balanced


def test_gdumb_resets_the_network_before_each_task(tiny_project, monkeypatch):
    from modstudio.learn.strategies.gdumb import GDumb

    resets = []
    original = GDumb._reset_network
    monkeypatch.setattr(GDumb, "_reset_network", lambda self: (resets.append(1), original(self)))
    ms.train(tiny_project, strategy="gdumb")
    assert len(resets) == 3


@pytest.mark.parametrize("strategy,stronger", [("si", {"lambda": 100.0}), ("mas", {"lambda": 10.0})])
def test_a_stronger_penalty_keeps_the_shared_weights_closer_to_task_one(tiny_project, strategy, stronger):
    """What the penalty is for: the body's weights move less from where task 1 left them."""
    from modstudio.learn import events as ev

    def movement(params) -> float:
        box, after_first = {}, {}

        def on_event(event):
            if isinstance(event, ev.TaskEnded) and event.task == 0:
                after_first.update({k: p.detach().clone() for k, p in box["t"].strategy.shared(0).items()})

        ms.train(tiny_project, strategy=strategy, strategy_params=params, callbacks=[on_event],
                 trainer_ready=lambda t: box.update(t=t))
        now = box["t"].strategy.shared(0)
        return sum(float((now[k].detach() - v).pow(2).sum()) for k, v in after_first.items())

    assert movement(stronger) < 0.5 * movement({"lambda": 0.0})


def test_the_trainer_calls_a_strategys_hooks_in_order(tiny_project):
    """begin_task, fit_task, then per batch loss → before_step → after_step, per epoch end_epoch, then
    end_task, per task."""
    calls: list[str] = []

    @register_strategy(StrategySpec("recording", "Recording", "records the trainer's calls"))
    class Recording(Strategy):
        def begin_task(self, task):
            calls.append(f"begin_task {task}")
            super().begin_task(task)

        def fit_task(self, task):
            calls.append(f"fit_task {task}")
            super().fit_task(task)

        def loss(self, task, x, y, task_ids):
            calls.append("loss")
            return super().loss(task, x, y, task_ids)

        def before_step(self, task, params):
            assert all(p.grad is not None for p in params)  # after the backward pass
            calls.append("before_step")

        def after_step(self, task, params):
            calls.append("after_step")

        def end_epoch(self, task):
            calls.append("end_epoch")

        def end_task(self, task):
            calls.append(f"end_task {task}")

    try:
        tiny_project.tasks[:] = tiny_project.tasks[:2]
        tiny_project.settings = tiny_project.settings.replace(epochs=1, batch_size=10_000)  # one batch per epoch
        ms.train(tiny_project, strategy="recording")
    finally:
        unregister_strategy("recording")
    assert "recording" not in STRATEGIES
    assert calls == ["begin_task 0", "fit_task 0", "loss", "before_step", "after_step", "end_epoch", "end_task 0",
                     "begin_task 1", "fit_task 1", "loss", "before_step", "after_step", "end_epoch", "end_task 1"]


def test_icarl_classifies_by_the_nearest_mean_of_exemplars(tiny_project):
    """Class scenario: the unified readout's weights are the normalised means of the normalised
    exemplar features and predictions are argmin ‖f̂ − μ_y‖ over the classes seen."""
    import torch.nn.functional as F

    box = {}
    run = ms.train(tiny_project, strategy="icarl", scenario="class", strategy_params={"memory": 60},
                   trainer_ready=lambda t: box.update(trainer=t)).run
    assert run.status == "finished" and run.memory["samples"] == 60
    trainer = box["trainer"]
    net, memory = trainer.net, trainer.strategy.memory
    x, y, _ = memory.gather(trainer.strategy.ctx)
    with torch.no_grad():
        f = F.normalize(net.head_inputs(x, [0])[0], dim=1)
        means = torch.stack([F.normalize(f[y == c].mean(0), dim=0) for c in range(6)])
        assert torch.allclose(net.unified.blocks[0].weight, means, atol=1e-5)
        test_x = torch.cat([trainer.data[t].test_x for t in range(3)])
        ft = F.normalize(net.head_inputs(test_x, [0])[0], dim=1)
        nearest = torch.cdist(ft, means).argmin(1)
        predicted, _ = trainer._predict(test_x, 2, None)
    assert torch.equal(predicted, nearest)
    correct = sum(int((trainer._predict(trainer.data[t].test_x, t, None)[0] == trainer.data[t].union_labels[
        trainer.data[t].test_y]).sum()) for t in range(3))
    assert correct / len(test_x) == pytest.approx(run.metrics.acc, abs=1e-9)


def test_icarl_runs_restore_with_their_nearest_mean_classifier(tiny_project, tmp_path):
    """Saved and reopened, the network answers as trained: the class means travel as the unified
    readout's weights (``extra/unified/…``), so exports are the nearest-mean classifier too."""
    from modstudio.learn.restore import restore_network

    box = {}
    run = ms.train(tiny_project, strategy="icarl", scenario="class",
                   trainer_ready=lambda t: box.update(trainer=t)).run
    assert any(key.startswith("extra/unified/") for key in run.weights)
    loaded = ms.load_project(tiny_project.save(tmp_path / "p.modstudio"))
    net = restore_network(loaded, loaded.runs[-1])
    assert net.unified is not None and len(net.unified.blocks) == 1 and int(net.unified.active.sum()) == 6
    x = torch.cat([box["trainer"].data[t].test_x for t in range(3)])
    with torch.no_grad():
        assert torch.equal(net(x).argmax(1), box["trainer"].net(x).argmax(1))
