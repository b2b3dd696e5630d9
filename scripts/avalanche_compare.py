"""ModStudio's baselines against Avalanche's on the same arrays, matched settings, over seeds.

Avalanche (avalanche-lib 0.6.0) needs torchvision, which does not install beside ModStudio's CPU
torch, so its side runs in a venv of its own and the two sides meet through files:

    python -m venv /tmp/avenv && /tmp/avenv/bin/pip install torch==2.14.1 torchvision==0.29.1 \
        avalanche-lib==0.6.0 mnist1d==0.0.2.post1
    /tmp/avenv/bin/python scripts/avalanche_compare.py mnist1d OUT         # MNIST-1D's 5,000 samples
    python scripts/avalanche_compare.py export OUT                         # both projects, their arrays
    /tmp/avenv/bin/python scripts/avalanche_compare.py avalanche OUT --seeds 10
    python scripts/avalanche_compare.py modstudio OUT --seeds 10
    python scripts/avalanche_compare.py table OUT                          # the comparison, markdown

Both sides train the same 5 × 2 splits (``split_by_class``: 60/20/20 per task; only the training
split is trained on), an MLP of two 64-wide ReLU layers (MNIST-1D: 128) with one 2-way head per
task (task-incremental) or one 10-way head (class-incremental), Adam at the example's rate, its
epochs and batch size, the optimiser's state reset at every task (ModStudio's default; Avalanche
re-creates its optimiser per experience only with the plugin below). ACC is the mean over tasks of
the final test accuracy, from each side's own evaluation. Strategy parameters: ModStudio's
defaults, passed to Avalanche by its names (``AVALANCHE``). A-GEM's memory: ModStudio shares 200
samples over the tasks seen; Avalanche keeps ``patterns_per_exp`` per task, set to 200 / 5 = 40 so
the final memories are the same size. iCaRL has no task-incremental form in Avalanche.

Avalanche 0.6.0's SI does nothing on the CPU: ``SynapticIntelligencePlugin.extract_weights`` stores
``param.detach().cpu().flatten()``, which on the CPU is a view of the live parameter, not a copy, so
the "old" and "new" weights of every step are the same tensor, each step's movement is 0 and every
importance is 0 (SI trains as plain fine-tuning). It also caps every importance at 0.001
(``update_ewc_data``'s ``clip_to``), which Zenke et al. do not. The Avalanche side therefore runs SI
three times: as shipped (``si``), with the weights copied (``si_copied``), and with the weights copied
and no cap (``si_paper``, the paper's form). Avalanche's iCaRL loss is the sigmoid cross-entropy over
every output, classes not seen yet included (pushed to 0); Rebuffi et al.'s, and ModStudio's, is over
the classes seen so far: ``icarl_paper`` runs Avalanche's with that one change. Each change is a swap
of one method for the run (``_paper_forms``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
from pathlib import Path

STRATEGIES = ("si", "mas", "agem", "icarl", "gdumb")
SCENARIOS = ("task", "class")
DATASETS = {"split-digits": 64, "split-mnist1d": 128}  # hidden width of both layers
MEMORY = 200
VARIANTS = {"si_copied": "si (Avalanche: weights copied)", "si_paper": "si (Avalanche: copied, uncapped)",
            "icarl_paper": "icarl (Avalanche: loss over seen classes)"}  # each "<strategy>_<form>"


def base_strategy(name: str) -> str:
    """The strategy a variant changes ("si_paper" → "si"): its parameters and Avalanche class."""
    return name.split("_", 1)[0]


# ----------------------------------------------------------------------------- ModStudio's side


def export(out: Path) -> None:
    """Both projects (the split-digits example; MNIST-1D split the same way) and their arrays."""
    import numpy as np

    from modstudio.data import Dataset, split_by_class
    from modstudio.examples import _mlp_project, build_example
    from modstudio.project.saving import save_project

    out.mkdir(parents=True, exist_ok=True)
    raw = np.load(out / "mnist1d.npz")
    projects = {
        "split-digits": build_example("split-digits"),
        "split-mnist1d": _mlp_project(
            "split MNIST-1D", split_by_class(Dataset(raw["x"].astype(np.float32), raw["y"].astype(np.int64),
                                                     name="MNIST-1D"), n_tasks=5, val_fraction=0.2),
            [DATASETS["split-mnist1d"]] * 2),
    }
    for name, project in projects.items():
        project.configure(embed_data="always")
        save_project(project, out / f"{name}.modstudio")
        arrays = {}
        for t, task in enumerate(project.tasks):
            for split in ("train", "test"):
                arrays[f"{t}_{split}_x"] = task.split(split).floats()
                arrays[f"{t}_{split}_y"] = task.split(split).y
            arrays[f"{t}_classes"] = np.asarray(task.classes)
        np.savez(out / f"{name}.npz", **arrays)
        s = project.settings
        (out / f"{name}.json").write_text(json.dumps(
            {"tasks": len(project.tasks), "epochs": s.epochs, "batch_size": s.batch_size, "lr": s.lr,
             "hidden": DATASETS[name]}))


def modstudio_side(out: Path, seeds: int) -> None:
    results = {}
    for name in DATASETS:
        for scenario in SCENARIOS:
            for strategy in STRATEGIES:
                command = [sys.executable, "-m", "modstudio", "train", str(out / f"{name}.modstudio"),
                           "--strategy", strategy, "--scenario", scenario, "--seeds", f"0-{seeds - 1}",
                           "--json", "--no-weights", "-o", str(out / "run.modstudio")]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                runs = json.loads(done.stdout.strip().splitlines()[-1])["runs"]
                results[f"{name}/{scenario}/{strategy}"] = [r["acc"] for r in runs]
                print(name, scenario, strategy, _mean_sd(results[f"{name}/{scenario}/{strategy}"]), flush=True)
    (out / "modstudio.json").write_text(json.dumps(results, indent=1))


# ----------------------------------------------------------------------------- Avalanche's side


def mnist1d(out: Path) -> None:
    """MNIST-1D (Greydanus 2020) as its package generates it: 4,000 + 1,000 samples of length 40."""
    import numpy as np
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "mnist1d.npz", x=np.concatenate([data["x"], data["x_test"]]),
             y=np.concatenate([data["y"], data["y_test"]]))


AVALANCHE = {  # ModStudio's defaults (project/strategy_specs.py) by Avalanche's names
    "si": lambda: {"si_lambda": 1.0, "eps": 1e-3},
    "mas": lambda: {"lambda_reg": 1.0, "alpha": 0.5},
    "agem": lambda: {"patterns_per_exp": MEMORY // 5, "sample_size": None},  # sample_size: the batch size
    "gdumb": lambda: {"mem_size": MEMORY},
    "icarl": lambda: {"memory_size": MEMORY, "buffer_transform": None, "fixed_memory": True},
}


def avalanche_side(out: Path, seeds: int) -> None:
    results = {}
    for name in DATASETS:
        for scenario in SCENARIOS:
            for strategy in (*STRATEGIES, *VARIANTS):
                if base_strategy(strategy) == "icarl" and scenario == "task":
                    continue
                accs = [_avalanche_run(out, name, scenario, strategy, seed) for seed in range(seeds)]
                results[f"{name}/{scenario}/{strategy}"] = accs
                print(name, scenario, strategy, _mean_sd(accs), flush=True)
    (out / "avalanche.json").write_text(json.dumps(results, indent=1))


def _avalanche_run(out: Path, name: str, scenario: str, strategy: str, seed: int) -> float:
    import numpy as np
    import torch
    from avalanche.benchmarks.scenarios.deprecated.generators import nc_benchmark
    from avalanche.benchmarks.utils.classification_dataset import _make_taskaware_tensor_classification_dataset
    from avalanche.core import SupervisedPlugin
    from avalanche.evaluation.metrics import accuracy_metrics
    from avalanche.models import MultiHeadClassifier, MultiTaskModule
    from avalanche.training import AGEM, MAS, GDumb, ICaRL, SynapticIntelligence
    from avalanche.training.plugins import EvaluationPlugin

    settings = json.loads((out / f"{name}.json").read_text())
    arrays = np.load(out / f"{name}.npz")
    torch.manual_seed(seed)
    np.random.seed(seed)
    task_il = scenario == "task"

    def dataset(split: str):
        """Every task's split, labels global: nc_benchmark cuts them back into the same tasks."""
        xs, ys = [], []
        for t in range(settings["tasks"]):
            xs.append(torch.from_numpy(arrays[f"{t}_{split}_x"]).float())
            ys.append(torch.from_numpy(arrays[f"{t}_classes"]).long()[torch.from_numpy(arrays[f"{t}_{split}_y"])])
        return _make_taskaware_tensor_classification_dataset(torch.cat(xs), torch.cat(ys))

    order = [int(c) for t in range(settings["tasks"]) for c in arrays[f"{t}_classes"]]
    bench = nc_benchmark(dataset("train"), dataset("test"), n_experiences=settings["tasks"], task_labels=task_il,
                         fixed_class_order=order, class_ids_from_zero_in_each_exp=task_il)
    width, features = settings["hidden"], arrays["0_train_x"].shape[1]
    body = torch.nn.Sequential(torch.nn.Linear(features, width), torch.nn.ReLU(),
                               torch.nn.Linear(width, width), torch.nn.ReLU())

    class MultiHead(MultiTaskModule):
        def __init__(self):
            super().__init__()
            self.body, self.heads = body, MultiHeadClassifier(width, initial_out_features=2)

        def forward_single_task(self, x, task_label):
            return self.heads(self.body(x), task_label)

    class ResetOptimizer(SupervisedPlugin):
        """ModStudio's reset_optimizer (its default): fresh optimiser state at every task."""

        def before_training_exp(self, strategy, **kwargs):
            strategy.optimizer = torch.optim.Adam(strategy.model.parameters(), lr=settings["lr"])

    common = dict(train_mb_size=settings["batch_size"], train_epochs=settings["epochs"],
                  eval_mb_size=4096, device="cpu", plugins=[ResetOptimizer()],
                  evaluator=EvaluationPlugin(accuracy_metrics(experience=True)))
    params = AVALANCHE[base_strategy(strategy)]()
    if strategy == "agem" and params["sample_size"] is None:
        params["sample_size"] = settings["batch_size"]
    if base_strategy(strategy) == "icarl":
        classifier = torch.nn.Linear(width, 10)
        model_params = [*body.parameters(), *classifier.parameters()]
        learner = ICaRL(feature_extractor=body, classifier=classifier,
                        optimizer=torch.optim.Adam(model_params, lr=settings["lr"]), **params, **common)
    else:
        model = MultiHead() if task_il else torch.nn.Sequential(body, torch.nn.Linear(width, 10))
        cls = {"si": SynapticIntelligence, "mas": MAS, "agem": AGEM, "gdumb": GDumb}[base_strategy(strategy)]
        learner = cls(model=model, optimizer=torch.optim.Adam(model.parameters(), lr=settings["lr"]),
                      criterion=torch.nn.CrossEntropyLoss(), **params, **common)
    with _paper_forms(strategy):
        for experience in bench.train_stream:
            learner.train(experience)
    metrics = learner.eval(bench.test_stream)
    accs = [v for k, v in metrics.items() if k.startswith("Top1_Acc_Exp/eval_phase/test_stream/")]
    assert len(accs) == settings["tasks"], sorted(metrics)
    return float(sum(accs) / len(accs))


@contextlib.contextmanager
def _paper_forms(strategy: str):
    """Avalanche's SI with its weight snapshots copied (``si_copied``), and uncapped (``si_paper``);
    its iCaRL loss over the classes seen so far (``icarl_paper``): see the module's docstring. The
    plugins call their static methods by class, so the class's methods are swapped while the run lasts."""
    import torch
    from avalanche.training.losses import ICaRLLossPlugin as Loss
    from avalanche.training.plugins import SynapticIntelligencePlugin as Plugin

    shipped = {(Plugin, name): Plugin.__dict__[name] for name in ("extract_weights", "update_ewc_data")}
    shipped.update({(Loss, name): Loss.__dict__.get(name) for name in ("__call__", "before_training_exp")})

    @torch.no_grad()
    def copying(model, target, excluded_parameters):
        for name, param in Plugin.allowed_parameters(model, excluded_parameters):
            target[name].data = param.detach().cpu().flatten().clone()

    def uncapped(net, ewc_data, syn_data, clip_to, *args, **kwargs):
        return shipped[Plugin, "update_ewc_data"].__func__(net, ewc_data, syn_data, float("inf"), *args, **kwargs)

    def note_classes(self, strategy, **kwargs):
        self.current = [int(c) for c in strategy.experience.classes_in_this_experience]

    def seen_only(self, logits, targets):
        seen = sorted(set(self.old_classes) | set(self.current))
        column = {c: i for i, c in enumerate(seen)}
        one_hot = torch.zeros(len(targets), len(seen), device=logits.device)
        one_hot[range(len(targets)), [column[int(t)] for t in targets]] = 1
        if self.old_logits is not None:
            one_hot[:, [column[c] for c in self.old_classes]] = torch.sigmoid(self.old_logits)[:, self.old_classes]
            self.old_logits = None
        return self.criterion(torch.sigmoid(logits[:, seen]), one_hot)

    if strategy in ("si_copied", "si_paper"):
        Plugin.extract_weights = staticmethod(copying)
    if strategy == "si_paper":
        Plugin.update_ewc_data = staticmethod(uncapped)
    if strategy == "icarl_paper":
        Loss.__call__, Loss.before_training_exp = seen_only, note_classes
    try:
        yield
    finally:
        for (cls, name), method in shipped.items():
            if method is not None:
                setattr(cls, name, method)
            elif name in cls.__dict__:  # added for the run: the inherited one serves again
                delattr(cls, name)


# ----------------------------------------------------------------------------- the table


def _mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.mean(values):.1f} ± {100 * sd:.1f}"


def table(out: Path) -> str:
    ours = json.loads((out / "modstudio.json").read_text())
    theirs = json.loads((out / "avalanche.json").read_text())
    lines = ["| data | scenario | strategy | ModStudio ACC | Avalanche ACC | Δ (points) | within the larger sd? |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    rows = [(k, k) for k in ours] + [(k, k.rsplit("/", 1)[0] + "/" + v) for k in ours for v in VARIANTS
                                       if v.startswith(k.rsplit("/", 1)[1] + "_")]
    for key, their_key in sorted(rows, key=lambda r: (list(ours).index(r[0]), r[1])):
        if their_key not in theirs:
            continue
        name, scenario, strategy = their_key.split("/")
        strategy = VARIANTS.get(strategy, strategy)
        a, b = ours[key], theirs[their_key]
        delta = 100 * (statistics.mean(a) - statistics.mean(b))
        spread = 100 * max(statistics.stdev(a), statistics.stdev(b))
        lines.append(f"| {name} | {scenario} | {strategy} | {_mean_sd(a)} | {_mean_sd(b)} | {delta:+.1f} | "
                     f"{'yes' if abs(delta) <= spread else 'no'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("mnist1d", "export", "avalanche", "modstudio", "table"))
    parser.add_argument("out", type=Path)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    if args.seeds < 2:  # the table compares each gap with the seeds' sd
        parser.error("--seeds must be 2 or more: the comparison needs a spread over seeds")
    if args.step == "mnist1d":
        mnist1d(args.out)
    elif args.step == "export":
        export(args.out)
    elif args.step == "avalanche":
        avalanche_side(args.out, args.seeds)
    elif args.step == "modstudio":
        modstudio_side(args.out, args.seeds)
    else:
        print(table(args.out))


if __name__ == "__main__":
    main()
