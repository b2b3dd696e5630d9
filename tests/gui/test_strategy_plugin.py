"""A strategy is one spec and one class, in one file: this file adds a throwaway one and finds it
in the CLI's help, the studio's run settings and inspector, a trained, saved and restored run."""

from __future__ import annotations

import pytest
import torch

import modstudio as ms
from modstudio.cli import main
from modstudio.graph.catalog import ParamSpec
from modstudio.learn.strategies import Strategy, register_strategy, unregister_strategy
from modstudio.project import strategy_specs
from modstudio.project.strategy_specs import StrategySpec

SPEC = StrategySpec(
    "anchored", "Anchored fine-tune", "Fine-tunes with an L2 pull toward the weights each task began with.",
    reference="the L2 baseline of Kirkpatrick et al. 2017",
    params=(ParamSpec("strength", "float", 0.1, "weight of the pull toward the task's starting weights",
                      min=0.0, max=100.0),),
)


class Anchored(Strategy):
    def begin_task(self, task: int) -> None:
        super().begin_task(task)
        self.anchor = [p.detach().clone() for p in self.net.path_parameters(task)]

    def loss(self, task, x, y, task_ids):
        pull = sum((p - a).pow(2).sum() for p, a in zip(self.net.path_parameters(task), self.anchor))
        return super().loss(task, x, y, task_ids) + self.params["strength"] * pull


@pytest.fixture
def tiny_project():
    from modstudio.data import load_builtin, split_by_class
    from tests.learn.conftest import mlp_graph

    project = ms.Project.new("tiny")
    project.graph = mlp_graph()
    data = load_builtin("blobs", n_samples=240, n_features=8, n_classes=4, spread=1.5, seed=3)
    project.tasks.extend(split_by_class(data, n_tasks=2))
    project.configure(strategy="finetune", epochs=2, batch_size=32, lr=1e-2)
    return project


@pytest.fixture
def anchored():
    register_strategy(SPEC)(Anchored)
    yield SPEC
    unregister_strategy(SPEC.name)


def test_the_command_line_offers_it(anchored, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "anchored" in text and "Anchored fine-tune" in text and "strength=0.1 [0, 100]" in text


def test_the_studio_offers_it_with_its_parameters(anchored, window):
    panel = window.training.panel.run_panel
    index = panel.strategy.findData("anchored")
    assert index >= 0 and panel.strategy.itemText(index) == "Anchored fine-tune"
    panel.strategy.setCurrentIndex(index)
    panel._on_strategy_activated(index)
    assert window.document.project.settings.strategy == "anchored"
    assert set(panel.param_widgets) == {"strength"} and panel.param_widgets["strength"].maximum() == 100.0
    assert SPEC.doc in panel.doc.text()
    window.scene.clearSelection()
    assert "Anchored fine-tune" in window.inspector.project_page.run_summary.text()


def test_a_run_trains_saves_and_restores(anchored, tiny_project, tmp_path):
    from modstudio.learn.restore import restore_network

    with pytest.raises(strategy_specs.StrategyError, match="strength = 200 is above the maximum 100"):
        ms.train(tiny_project, strategy="anchored", strategy_params={"strength": 200})
    result = ms.train(tiny_project, strategy="anchored", strategy_params={"strength": 0.5})
    run = result.run
    assert run.status == "finished", run.message
    assert run.settings["strategy"] == "anchored" and run.settings["strategy_params"] == {"strength": 0.5}
    tiny_project.configure(strategy="anchored", strategy_params={"strength": 0.5})
    loaded = ms.load_project(tiny_project.save(tmp_path / "p.modstudio"))
    assert loaded.runs[0] == run and loaded.settings.strategy_params == {"strength": 0.5} and not loaded.warnings
    net = restore_network(loaded, loaded.runs[0])
    x = torch.tensor(tiny_project.tasks[1].test.x)
    with torch.no_grad():
        assert torch.equal(net(x, 1), result.network.eval()(x, 1))


def test_without_its_spec_a_project_naming_it_still_opens(anchored, tiny_project, tmp_path):
    tiny_project.configure(strategy="anchored")
    path = tiny_project.save(tmp_path / "p.modstudio")
    unregister_strategy("anchored")
    loaded = ms.load_project(path)
    assert loaded.settings.strategy == "anchored"
    assert any("'anchored', which this ModStudio does not have" in w for w in loaded.warnings)
    with pytest.raises(strategy_specs.StrategyError, match="unknown strategy 'anchored'"):
        ms.train(loaded)
