"""A long task sequence: 20 permuted-digit tasks, for the figures that only show as a sequence grows
(expansion's search cost per task, progressive's lateral growth, parameters against accuracy).

    python scripts/long_sequence.py expansion [--epochs 10] [--tasks 20] [--param tolerance=0.03]
        [--hidden 64,256,256] [--seeds 0-2]

``--hidden``: one MLP block per width instead of the permuted-digits example's 128-128 (a narrow first
layer makes the input layer, which a permutation calls for anew, a small part of the network).
``--seeds``: the run per seed, then ACC and parameters as mean ± sd over them.
"""

from __future__ import annotations

import argparse
import json
import time

from modstudio.data import load_builtin, permuted
from modstudio.examples import _mlp_project, build_example
from modstudio.learn.trainer import Trainer
from modstudio.project import TrainingSettings
from modstudio.project.seeds import aggregate, format_figure, parse_seeds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("strategy")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--hidden", help="widths of the MLP blocks, comma-separated (default: the example's)")
    parser.add_argument("--seeds", default="0", help="seeds, e.g. 0-2 (default: 0)")
    args = parser.parse_args()
    params = {k: json.loads(v) for k, v in (p.split("=", 1) for p in args.param)}
    tasks = permuted(load_builtin("digits", flat=True), n_tasks=args.tasks)
    if args.hidden:
        graph = _mlp_project("permuted digits", [], [int(w) for w in args.hidden.split(",")]).graph
    else:
        graph = build_example("permuted-digits").graph  # the example's 128-128 MLP
    runs = [_run(args, graph, tasks, params, seed) for seed in parse_seeds(args.seeds)]
    if len(runs) > 1:
        figures = aggregate(runs)["figures"]
        print(f"over {len(runs)} seeds:", ", ".join(format_figure(name, figures[name])
                                                    for name in ("acc", "total_parameters") if name in figures))
    return 0 if all(run.status == "finished" for run in runs) else 1


def _run(args, graph, tasks, params, seed: int):
    """One run of the sequence, its figures printed."""
    settings = TrainingSettings(strategy=args.strategy, epochs=args.epochs, batch_size=32, lr=3e-3, device="cpu",
                                strategy_params=params, seed=seed)
    started = time.monotonic()
    run = Trainer(graph, tasks, settings).run()
    m, seconds = run.metrics, run.metrics.seconds_per_task
    print(f"{args.strategy}{' ' + json.dumps(params) if params else ''}, seed {seed}: {run.status} {run.message}"
          .rstrip())
    print(f"  ACC {m.acc * 100:.2f} %, parameters {m.total_parameters:,}, {time.monotonic() - started:.0f} s in all")
    if run.paths:  # per task, each node in the path's order: G grown for it, r reused from an earlier task
        print("  modules per task", " ".join("".join("r" if any(p.get(n) == i for p in run.paths[:t]) else "G"
                                                     for n, i in path.items()) for t, path in enumerate(run.paths)))
    print("  seconds per task", [round(s, 2) for s in seconds])
    if len(seconds) >= 5:
        print(f"  last task / task 2 = {seconds[-1] / seconds[1]:.2f}; "
              f"last four / tasks 2-5 = {sum(seconds[-4:]) / sum(seconds[1:5]):.2f}")
    return run


if __name__ == "__main__":
    raise SystemExit(main())
