"""The lesion study: numbers that follow from the network, and the trained weights left untouched."""

import numpy as np
import pytest
import torch

import modstudio as ms
from modstudio.learn.lesion import LesionError, lesion_network, lesion_study, task_accuracies
from modstudio.learn.restore import restore_network


@pytest.fixture(scope="module")
def trained(blob_tasks):
    """Trained once for the module: lesions never change the run, which the tests also check."""
    from modstudio.project import Project, TrainingSettings
    from tests.learn.conftest import mlp_graph

    project = Project.new("lesion")
    project.graph = mlp_graph()
    project.tasks.extend(blob_tasks)
    project.settings = TrainingSettings(strategy="expansion", epochs=3, batch_size=32, lr=1e-2)
    run = ms.train(project).run
    assert run.status == "finished", run.message
    return project, run


def _mlp_node(project):
    return next(n for n, node in project.graph.nodes.items() if node.kind == "mlp_block")


def test_intact_accuracies_match_the_run_matrix(trained):
    project, run = trained
    net = restore_network(project, run)
    assert task_accuracies(net, project.tasks) == pytest.approx(run.acc_matrix[-1], abs=1e-9)


def test_zeroing_every_instance_drops_to_the_zero_input_prediction(trained):
    project, run = trained
    node = _mlp_node(project)
    net = restore_network(project, run)
    weights_before = {k: v.clone() for k, v in net.state_dict().items()}
    result = lesion_study(project, run, node, mode="zero", net=net)
    assert result.before == pytest.approx(run.acc_matrix[-1])
    assert all(result.affected) and len(result.after) == 3
    # With the hidden block zeroed its output is a constant, so each head predicts one class for
    # every sample: accuracy equals that class's share of the test split.
    lesioned = lesion_network(net, node, mode="zero")
    for task, accuracy in enumerate(result.after):
        test = project.tasks[task].test
        with torch.no_grad():
            predicted = lesioned(torch.tensor(np.asarray(test.x, dtype=np.float32)), task).argmax(1)
        assert len(set(predicted.tolist())) == 1
        share = float(np.mean(np.asarray(test.y) == predicted[0].item()))
        assert accuracy == pytest.approx(share)
        assert accuracy < result.before[task]
    assert all(torch.equal(weights_before[k], v) for k, v in net.state_dict().items()), "trained weights changed"


def test_lesioning_one_instance_affects_only_the_tasks_that_use_it(trained):
    project, run = trained
    node = _mlp_node(project)
    users = [t for t, path in enumerate(run.paths) if path[node] == 0]
    result = lesion_study(project, run, node, instance=0, mode="zero")
    assert result.instances == [0]
    assert result.affected == [t in users for t in range(3)]
    for task in range(3):
        if task not in users:
            assert result.after[task] == result.before[task]


def test_noise_scales_the_damage_and_zero_noise_changes_nothing(trained):
    project, run = trained
    node = _mlp_node(project)
    net = restore_network(project, run)
    none = lesion_study(project, run, node, mode="noise", scale=0.0, net=net)
    assert none.after == none.before and none.drops == [0.0, 0.0, 0.0]
    big = lesion_study(project, run, node, mode="noise", scale=20.0, seed=1, net=net)
    assert sum(big.drops) > 0
    again = lesion_study(project, run, node, mode="noise", scale=20.0, seed=1, net=net)
    assert again.after == big.after  # seeded


def test_bad_lesions_are_refused(trained):
    project, run = trained
    net = restore_network(project, run)
    node = _mlp_node(project)
    with pytest.raises(LesionError, match="instance"):
        lesion_network(net, node, [99])
    with pytest.raises(LesionError, match="unknown lesion"):
        lesion_network(net, node, mode="melt")
    with pytest.raises(LesionError, match="no module"):
        lesion_network(net, "nope")
