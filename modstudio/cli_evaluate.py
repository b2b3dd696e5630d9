"""``modstudio evaluate PROJECT [--run R] [--json]`` and ``modstudio predict PROJECT FILE [--task T]``.

How a trained run answers, headless: per task the confusion matrix, per-class accuracy and the
most confidently wrong test samples (and the whole class-incremental problem); and what it
predicts for the samples of a file. The numbers are ``modstudio.learn.evaluation``'s, which torch
computes, so torch is imported only when a command runs.
"""

from __future__ import annotations

import json

from modstudio.cli import EXTERNAL_DATA_HELP, CommandError, _load, map_data_option

RUN_HELP = "a run id (or its start) or index, 0-based (default: the last run with weights)"


def add_parsers(sub) -> None:
    """The ``evaluate`` and ``predict`` commands, on the CLI's sub-parsers."""
    evaluate = sub.add_parser("evaluate", help="a trained run per task: confusion matrix, per-class accuracy, "
                              "the most confidently wrong test samples",
                              description="Evaluate a trained run on every task's test split, as the run measured "
                              "it: the task id given in the task scenario, not given in the class scenario (plus "
                              "every class at once, and which task was inferred).")
    evaluate.add_argument("project", metavar="PROJECT")
    evaluate.add_argument("--allow-external-data", action="store_true", help=EXTERNAL_DATA_HELP)
    map_data_option(evaluate)
    evaluate.add_argument("--run", metavar="R", help=RUN_HELP)
    evaluate.add_argument("--wrong", type=int, default=8, metavar="K",
                          help="how many of the most confidently wrong samples to list per task (default 8)")
    evaluate.add_argument("--json", action="store_true", help="print the evaluation as one JSON object")

    predict = sub.add_parser("predict", help="what a trained run predicts for an image, a CSV, an NPY or NPZ file",
                             description="Predict the samples of FILE with a trained run: every task head's class "
                             "and probabilities (the task given), and in class-incremental runs the class without "
                             "the task id and the task inferred. An image is converted and resized to the tasks' "
                             "sample shape (values in [0, 1]); a CSV has one sample a row; an array is one sample "
                             "or a batch.")
    predict.add_argument("project", metavar="PROJECT")
    predict.add_argument("file", metavar="FILE", help="a .png/.jpg/.bmp image, a .csv/.tsv, a .npy or .npz array")
    predict.add_argument("--allow-external-data", action="store_true", help=EXTERNAL_DATA_HELP)
    map_data_option(predict)
    predict.add_argument("--task", metavar="T", help="only this task's head: its index (0-based) or name")
    predict.add_argument("--run", metavar="R", help=RUN_HELP)
    predict.add_argument("--json", action="store_true", help="print the prediction as one JSON object")


def _run(args):
    from modstudio.learn.evaluation import EvaluationError, find_run, restored

    project = _load(args.project, args.allow_external_data, args.map_data)
    try:
        run = find_run(project, args.run)
        return project, run, restored(project, run)
    except EvaluationError as exc:
        raise CommandError(str(exc)) from None


def cmd_evaluate(args) -> int:
    from modstudio.learn.evaluation import evaluate_run

    if args.wrong < 0:
        raise CommandError(f"--wrong must be 0 or more, got {args.wrong}")
    project, run, net = _run(args)
    result = evaluate_run(project, run, k=args.wrong, net=net)
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    given = "the task id given" if result.scenario != "class" else f"no task id ({result.readout})"
    print(f"run {run.id[:8]}: {run.strategy}, {result.scenario} scenario, {len(result.tasks)} task(s), {given}")
    for view in result.views():
        print()
        _print_view(view)
    return 0


def _print_view(view) -> None:
    print(f"{view.title}: {view.accuracy * 100:.1f} % of {view.samples:,} test samples")
    shown = [j for j in range(len(view.predicted_names)) if any(row[j] for row in view.confusion)
             or j in view.true_columns]  # columns no sample reached and no row owns are left out
    width = max(5, *(len(_cut(view.predicted_names[j])) for j in shown),
                *(len(f"{row[j]:,}") for row in view.confusion for j in shown))
    label = max(10, *(len(_cut(n)) for n in view.true_names))
    corner = "true \\ pred"
    print(f"  {corner:>{label}}  " + " ".join(f"{_cut(view.predicted_names[j]):>{width}}" for j in shown)
          + "    recall")
    for name, row, acc in zip(view.true_names, view.confusion, view.per_class_accuracy):
        recall = f"{acc * 100:6.1f} %" if acc is not None else "     –"
        print(f"  {_cut(name):>{label}}  " + " ".join(f"{row[j]:>{width},}" for j in shown) + f"  {recall}")
    if view.task_inferred is not None:
        rates = [(n, r) for n, r in zip(view.task_names, view.task_inferred) if r is not None]
        print("  task inferred right: " + ", ".join(f"{n} {r * 100:.1f} %" for n, r in rates))
    if view.confident_wrong:
        print("  most confidently wrong (task, test index: true → predicted, confidence):")
        for w in view.confident_wrong:
            print(f"    T{w.task + 1} #{w.index}: {view.true_names[w.true]} → {view.predicted_names[w.predicted]}"
                  f"  {w.confidence:.3f}")


def _cut(name: str, n: int = 14) -> str:
    return name if len(name) <= n else name[:n - 1] + "…"


def cmd_predict(args) -> int:
    from modstudio.learn.evaluation import EvaluationError, find_task, predict_file

    project, run, net = _run(args)
    try:
        task = find_task(project, run, args.task)
        result = predict_file(project, run, args.file, task=task, net=net)
    except EvaluationError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    shape = "×".join(map(str, result.sample_shape))
    n = len(result.samples)
    print(f"{args.file}: {n} sample{'s' * (n != 1)} of shape {shape}, run {run.id[:8]} ({run.strategy})")
    for i, sample in enumerate(result.samples):
        if n > 1:
            print(f"sample {i}:")
        for head in sample.heads:
            probs = "  ".join(f"{_cut(c)} {p:.3f}" for c, p in zip(head.class_names, head.probabilities))
            print(f"  T{head.task + 1} {head.task_name}: {head.predicted_name}"
                  f" ({head.probabilities[head.predicted]:.3f})   {probs}")
        if sample.problem is not None:
            p = sample.problem
            print(f"  without the task id ({result.readout}): {p.predicted_name} ({p.probabilities[p.predicted]:.3f}),"
                  f" task inferred: T{p.inferred_task + 1} {p.inferred_task_name}")
    return 0
