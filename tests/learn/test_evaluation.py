"""The evaluation of a trained run: confusion matrices that add up to the test splits, accuracies
that are the run's own matrix (the trainer's reading, with the task id and without it), the most
confidently wrong samples in order, and predictions of samples through every head."""

import numpy as np
import pytest
import torch

import modstudio as ms
from modstudio.learn.evaluation import (EvaluationError, evaluate_run, find_run, predict_file, predict_samples,
                                        restored)
from modstudio.project import Project, TrainingSettings
from tests.learn.conftest import mlp_graph


def _trained(tasks, strategy="finetune", scenario="task", **params):
    project = Project.new("evaluate")
    project.graph = mlp_graph()
    project.tasks.extend(tasks)
    project.settings = TrainingSettings(strategy=strategy, epochs=1, batch_size=32, lr=1e-2, scenario=scenario,
                                        strategy_params=params)
    run = ms.train(project).run
    assert run.status == "finished", run.message
    return project, run


@pytest.fixture(scope="module")
def task_run(blob_tasks):
    return _trained(blob_tasks, "expansion")


def test_each_task_matrix_counts_its_test_split_and_its_diagonal_is_the_run_accuracy(task_run):
    project, run = task_run
    result = evaluate_run(project, run)
    assert result.all_classes is None and len(result.tasks) == 3
    for t, view in enumerate(result.tasks):
        task = project.tasks[t]
        assert view.task_given and view.true_names == task.class_names == view.predicted_names
        assert view.samples == len(task.test)
        assert [sum(row) for row in view.confusion] == np.bincount(task.test.y, minlength=2).tolist()
        diagonal = sum(view.confusion[i][i] for i in range(len(view.confusion)))
        assert diagonal / view.samples == pytest.approx(run.acc_matrix[-1][t], abs=1e-12)
        assert view.per_class_accuracy == [row[i] / sum(row) for i, row in enumerate(view.confusion)]


def test_confidently_wrong_samples_are_wrong_and_in_falling_confidence(task_run):
    project, run = task_run
    net = restored(project, run)
    result = evaluate_run(project, run, k=50, net=net)
    some = [v for v in result.tasks if v.confident_wrong]
    assert some, "a one-epoch run gets some test samples wrong"
    for view in some:
        wrong = view.confident_wrong
        assert len(wrong) == min(50, view.samples - view.correct)
        confidences = [w.confidence for w in wrong]
        assert confidences == sorted(confidences, reverse=True)
        task = project.tasks[view.task]
        with torch.no_grad():
            probs = net(torch.tensor(np.asarray(task.test.x[[w.index for w in wrong]])), view.task).softmax(1)
        for w, p in zip(wrong, probs):
            assert w.true == task.test.y[w.index] != w.predicted == int(p.argmax())
            assert w.confidence == pytest.approx(float(p.max()), abs=1e-6)
    assert len(evaluate_run(project, run, k=1, net=net).tasks[some[0].task].confident_wrong) == 1


@pytest.mark.parametrize("strategy, params", [("finetune", {}), ("expansion", {"task_inference": "unified"}),
                                               ("expansion", {"task_inference": "gate"}),
                                               ("expansion", {"task_inference": "confidence"})])
def test_class_incremental_runs_are_evaluated_without_the_task_id_as_they_were_measured(blob_tasks, strategy, params):
    project, run = _trained(blob_tasks, strategy, "class", **params)
    result = evaluate_run(project, run)
    for t, view in enumerate(result.tasks):
        assert not view.task_given and len(view.predicted_names) == 6  # every class of the problem
        assert view.accuracy == pytest.approx(run.acc_matrix[-1][t], abs=1e-12)
        assert [view.predicted_names[c] for c in view.true_columns] == project.tasks[t].class_names
    whole = result.all_classes
    assert whole is not None and whole.samples == sum(len(t.test) for t in project.tasks)
    names = [n for t in project.tasks for n in t.class_names]  # blobs: tasks of distinct classes, in order
    assert whole.true_names == whole.predicted_names == names
    assert whole.correct == sum(v.correct for v in result.tasks)
    # each task's rows of the whole problem are that task's matrix
    for t, view in enumerate(result.tasks):
        rows = [whole.confusion[c] for c in view.true_columns]
        assert rows == view.confusion
    assert [sum(row) for row in whole.task_confusion] == [len(t.test) for t in project.tasks]
    if run.metrics.task_inference is not None:  # path strategies record how often the task was named
        assert whole.task_inferred == pytest.approx(run.metrics.task_inference, abs=1e-12)


def test_predictions_answer_through_every_head_and_without_the_task_id(blob_tasks):
    project, run = _trained(blob_tasks, "expansion", "class", task_inference="gate")
    net = restored(project, run)
    x = np.asarray(project.tasks[1].test.x[:5])
    prediction = predict_samples(project, run, x, net=net)
    evaluation = evaluate_run(project, run, net=net)
    assert len(prediction.samples) == 5 and prediction.readout == "gate"
    for i, sample in enumerate(prediction.samples):
        assert [h.task for h in sample.heads] == [0, 1, 2]
        for head in sample.heads:
            assert sum(head.probabilities) == pytest.approx(1.0, abs=1e-5)
            assert head.predicted_name == head.class_names[int(np.argmax(head.probabilities))]
        assert sample.problem.predicted_name in sample.problem.class_names
        assert sample.problem.inferred_task_name == project.tasks[sample.problem.inferred_task].name
    # the first test samples of task 2, predicted: the evaluation's counts for those samples agree
    right = sum(s.problem.predicted_name == project.tasks[1].class_names[y]
                for s, y in zip(prediction.samples, project.tasks[1].test.y[:5]))
    wrong_here = {w.index for w in evaluate_run(project, run, k=1000, net=net).tasks[1].confident_wrong if w.index < 5}
    assert right == 5 - len(wrong_here)
    assert evaluation.tasks[1].samples == len(project.tasks[1].test)
    only = predict_samples(project, run, x, task=2, net=net)
    assert [h.task for h in only.samples[0].heads] == [2]


def test_a_file_that_does_not_fit_names_both_shapes(task_run, tmp_path):
    project, run = task_run
    np.save(tmp_path / "bad.npy", np.zeros((4, 5), dtype=np.float32))
    with pytest.raises(EvaluationError, match=r"shape 4×5 does not fit the tasks' sample shape 8"):
        predict_file(project, run, tmp_path / "bad.npy")
    np.save(tmp_path / "good.npy", np.zeros((3, 8), dtype=np.float32))
    assert len(predict_file(project, run, tmp_path / "good.npy").samples) == 3


def test_a_run_without_weights_or_unknown_is_refused(task_run):
    project, run = task_run
    with pytest.raises(EvaluationError, match="no run 'nope'"):
        find_run(project, "nope")
    weights, run.weights = run.weights, None
    try:
        with pytest.raises(EvaluationError, match="no trained weights"):
            find_run(project, run.id)
    finally:
        run.weights = weights
    assert find_run(project, None) is run
