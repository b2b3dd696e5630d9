"""The ``modstudio`` command line.

Each subcommand is one small function; heavy imports (torch, Qt) happen inside them so that
``modstudio --help`` answers instantly.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from modstudio import __version__


def _strategy_help() -> str:
    """Every strategy and its parameters, from the strategy specs (the CLI's ``train --help`` epilog)."""
    from modstudio.project import strategy_specs

    lines = ["strategies and their parameters (--strategy NAME --param KEY=VALUE):"]
    for spec in strategy_specs.specs():
        lines.append(f"  {spec.name:12} {spec.title}: {spec.doc}")
        for p in spec.params:
            number = (lambda v: str(int(v))) if p.type == "int" else (lambda v: f"{v:g}")
            bounds = f" [{number(p.min)}, {number(p.max)}]" if p.min is not None and p.max is not None else ""
            lines.append(f"      {p.name}={p.default!r}{bounds}  {p.doc}")
    return "\n".join(lines)


# Settings ``train`` takes no option for: the strategy has its own (its choices are the strategy
# specs'), and where task data lives is the project file's business, not a run's.
NOT_OPTIONS = ("strategy", "embed_data")
OPTION_TYPES = {"int": (int, "N"), "float": (float, "X"), "str": (str, None)}


def _setting_options(parser: argparse.ArgumentParser) -> None:
    """One option per training setting, from its declaration (``SETTING_SPECS``): its type or
    choices and its doc; ``--no-NAME`` too for a yes/no one. Each overrides the project's setting."""
    from modstudio.project.settings import SETTING_SPECS

    for name, spec in SETTING_SPECS.items():
        if name in NOT_OPTIONS:
            continue
        flag, doc = "--" + name.replace("_", "-"), spec.doc.replace("%", "%%")
        if spec.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=doc)
        elif spec.type == "choice":
            parser.add_argument(flag, choices=spec.choices, help=doc)
        else:
            kind, metavar = OPTION_TYPES[spec.type]
            parser.add_argument(flag, type=kind, metavar=metavar, help=doc)


def build_parser() -> argparse.ArgumentParser:
    from modstudio.project import strategy_specs

    parser = argparse.ArgumentParser(
        prog="modstudio",
        usage="%(prog)s [PROJECT]          open the studio (optionally a project or a data file)\n"
              "       %(prog)s COMMAND [options]",
        description="ModStudio: compose networks from modules on a canvas and learn a sequence "
        "of tasks without forgetting the earlier ones.",
    )
    parser.add_argument("--version", action="version", version=f"modstudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("examples", help="list the example projects")

    new = sub.add_parser("new", help="write an example project")
    new.add_argument("project", metavar="PROJECT", help="the .modstudio file to write")
    new.add_argument("--example", required=True, metavar="NAME", help="see `modstudio examples`")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")

    train = sub.add_parser("train", help="train a project's tasks headless and store the run in it",
                           description="Train a project's tasks and store the run in it. Each setting's option "
                           "overrides the project's setting for this run.",
                           epilog=_strategy_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("project", metavar="PROJECT")
    train.add_argument("--allow-external-data", action="store_true", help=EXTERNAL_DATA_HELP)
    map_data_option(train)
    train.add_argument("--strategy", choices=strategy_specs.names(), metavar="S",
                       help=", ".join(strategy_specs.names()))
    _setting_options(train)
    train.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                       help="a strategy parameter, e.g. --param lambda=5000 (repeatable; listed below)")
    train.add_argument("-o", "--output", metavar="OUT", help="write the trained project here (default: in place)")
    train.add_argument("--seeds", metavar="LIST", help="train the same settings once per seed (0-4, or 0,2,7), "
                       "keep every run, and report mean ± sd of every figure over them")
    train.add_argument("--json", action="store_true", help="print the run's metrics as one JSON object")
    train.add_argument("--no-weights", action="store_true", help="do not keep the trained weights in the project")
    train.add_argument("--tensorboard", metavar="DIR", help="also write the run's history to TensorBoard files in "
                       f"a sub-folder of DIR, once it is saved (needs pip install {TRACKING_EXTRA})")
    train.add_argument("--mlflow", metavar="URI", help="also log the run to MLflow, once it is saved: a folder "
                       "(MLflow's file store) or a tracking URI; the experiment is named after the project "
                       f"(needs pip install {TRACKING_EXTRA})")

    info = sub.add_parser("info", help="describe a project: graph, tasks, runs")
    info.add_argument("project", metavar="PROJECT")
    info.add_argument("--allow-external-data", action="store_true", help=EXTERNAL_DATA_HELP)
    map_data_option(info)
    info.add_argument("--json", action="store_true")

    runs = sub.add_parser("runs", help="list a project's runs, or write them to TensorBoard or MLflow")
    runs.add_argument("project", metavar="PROJECT")
    runs.add_argument("--allow-external-data", action="store_true", help=EXTERNAL_DATA_HELP)
    runs.add_argument("--tensorboard", metavar="DIR", help="write every run's history to TensorBoard files, one "
                      f"sub-folder of DIR per run, named INDEX-STRATEGY-ID (needs pip install {TRACKING_EXTRA})")
    runs.add_argument("--mlflow", metavar="URI", help="log every run to MLflow, one MLflow run each, named "
                      "INDEX-STRATEGY-ID, in the experiment named after the project: URI is a folder (MLflow's file "
                      f"store) or a tracking URI; a run logged before is replaced (needs pip install {TRACKING_EXTRA})")

    export = sub.add_parser("export", help="write a trained model to ONNX, TorchScript, .pt2, safetensors or "
                            "PyTorch code")
    export.add_argument("project", metavar="PROJECT")
    export.add_argument("--allow-external-data", action="store_true", help=EXTERNAL_DATA_HELP)
    map_data_option(export)
    export.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the file to write; its suffix names the format (.onnx, .pt, .pt2, .safetensors, "
                        ".py: PyTorch code, its weights in NAME.safetensors beside it)")
    export.add_argument("--format", choices=("onnx", "torchscript", "pt2", "safetensors", "python"))
    export.add_argument("--opset", type=int, metavar="N", help="the ONNX opset to write (default 18); ONNX only")
    which = export.add_mutually_exclusive_group()
    which.add_argument("--task", metavar="K", help="the task to export: its index (0-based) or name")
    which.add_argument("--all-tasks", action="store_true", help="every trained task, the task index as an input")
    export.add_argument("--run", metavar="R", help="a run id (or its start) or index, 0-based (default: the last "
                        "run with weights)")
    export.add_argument("--force", action="store_true", help="replace existing export files (never a project)")

    from modstudio.cli_data import add_parser as add_data_parser

    add_data_parser(sub)  # modstudio data list | get NAME [--from PATH] [--mirror URL]

    from modstudio.cli_evaluate import add_parsers as add_evaluate_parsers

    add_evaluate_parsers(sub)  # modstudio evaluate PROJECT [--run R] [--json] | predict PROJECT FILE [--task T]

    bench = sub.add_parser("bench", help="speed figures of this machine, as ratios against plain PyTorch")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quick", action="store_true", help="smaller workloads (for tests)")
    bench.add_argument("--device", default="cpu", help="where the engine section trains, beside a plain PyTorch "
                       "loop on the same device: cpu (default), cuda, cuda:N or mps")
    return parser


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:  # argparse keeps subcommands here; there is no public accessor
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def open_studio(project: str | None = None) -> int:
    """The desktop window; Qt is imported only now, so the other commands stay light."""
    from modstudio.gui.app import run

    return run(project)


class CommandError(Exception):
    """A problem to tell the user in one line, exiting with status 2."""


EXTERNAL_DATA_HELP = ("let the project's task recipes read the data files they name (outside the project "
                      "file; without this, a project that needs one is refused, naming the file)")


def map_data_option(parser: argparse.ArgumentParser) -> None:
    """``--map-data``/``--no-map-data``: how a command loads the project's embedded task data."""
    from modstudio.project.limits import MAP_BYTES

    parser.add_argument("--map-data", action=argparse.BooleanOptionalAction, default=None,
                        help="map every embedded task array from the project file instead of reading it into memory, "
                        "so data larger than memory (or a tight memory limit) still trains; --no-map-data reads "
                        f"it all into memory (default: map arrays of {MAP_BYTES // 2**20} MiB or more)")


def _load(path: str, allow_external_data: bool = False, map_data: bool | None = None):
    from modstudio.project import ProjectFileError, load_project

    if not Path(path).is_file():
        raise CommandError(f"no such project file: {path}")
    try:
        return load_project(path, allow_external_data=bool(allow_external_data), map_data=map_data)
    except ProjectFileError as exc:
        raise CommandError(str(exc)) from None


def cmd_examples(args) -> int:
    from modstudio.examples import list_examples

    for info in list_examples(include_unavailable=True):
        needs = "" if info.available else f"  (needs: modstudio data get {' '.join(info.data)})"
        print(f"{info.name:20} {info.description}{needs}")
    return 0


def cmd_new(args) -> int:
    from modstudio.examples import build_example
    from modstudio.project import ProjectFileError

    path = Path(args.project)
    _check_project_output(path)
    if path.exists() and not args.force:
        raise CommandError(f"{path} exists; use --force to overwrite it")
    try:
        project = build_example(args.example)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    try:
        project.save(path, backup=False)
    except ProjectFileError as exc:  # a read-only folder, a full disk: the old file, if any, is untouched
        raise CommandError(str(exc)) from None
    print(f"wrote {path}: {project.name}, {len(project.tasks)} tasks")
    return 0


def _check_project_output(path: Path) -> None:
    """CommandError unless a project can be written to ``path``: caught before any work is done.
    (A read-only disk shows only when writing; the save says so then.)"""
    if path.is_dir():
        raise CommandError(f"{path} is a folder: give a file name, for example {path / 'project.modstudio'}")
    if path.exists() and not path.is_file():
        raise CommandError(f"{path} is not a regular file (a device, pipe or socket): choose another file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise CommandError(f"cannot write {path}: the folder {folder} {why} (create it first)")


def _strategy_params(pairs: list[str]) -> dict:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--param needs KEY=VALUE, got {pair!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def run_json(run) -> dict:
    """What ``train --json`` prints: the run's metrics as stored in the project."""
    m = run.metrics
    return {
        "run_id": run.id, "strategy": run.strategy, "scenario": run.settings.get("scenario"),
        "status": run.status, "message": run.message, "acc_matrix": run.acc_matrix,
        "params_per_task": run.params_per_task, **m.figures(), "task_inference": m.task_inference,
        "seconds_per_task": m.seconds_per_task, "task_parameters": m.task_parameters,
        "total_parameters": m.total_parameters, **memory_figures(run),
    }


def memory_figures(run) -> dict:
    """The exemplar memory a run kept, in samples and bytes (None for strategies without one)."""
    memory = run.memory
    return {"memory_samples": memory["samples"] if memory else None,
            "memory_bytes": memory["bytes"] if memory else None}


def cmd_train(args) -> int:
    from modstudio.learn.distributed import DistributedError, start_session

    project = _load(args.project, args.allow_external_data, args.map_data)
    from modstudio.project.settings import SETTING_SPECS

    overrides = {name: getattr(args, name) for name in SETTING_SPECS if name not in NOT_OPTIONS}
    overrides["strategy"] = args.strategy
    if args.param:
        overrides["strategy_params"] = _strategy_params(args.param)
    elif args.strategy and args.strategy != project.settings.strategy:
        overrides["strategy_params"] = {}  # the stored params belong to another strategy
    from modstudio.learn.api import TrainingError, check_fits, settings_with

    try:  # every setting checked, and the tasks against the network, before anything trains
        settings_with(project, **overrides)
        check_fits(project)
    except (ValueError, TrainingError) as exc:  # SettingsError, StrategyError; tasks that do not fit
        raise CommandError(str(exc)) from None
    seeds = None
    if args.seeds is not None:
        from modstudio.project.seeds import SeedListError, parse_seeds

        if args.seed is not None:
            raise CommandError("give either --seed or --seeds, not both")
        try:
            seeds = parse_seeds(args.seeds)
        except SeedListError as exc:
            raise CommandError(f"--seeds: {exc}") from None
    _check_project_output(Path(args.output or args.project))  # not after an hour of training
    try:  # under torchrun: join the process group (docs/cluster.md); None when started alone
        session = start_session(args.device or project.settings.device)
    except DistributedError as exc:
        raise CommandError(str(exc)) from None
    try:
        if seeds is None:
            return _train_and_save(args, project, overrides, session)[0]
        return _train_seeds(args, project, overrides, session, seeds)
    finally:
        if session is not None:
            session.close()  # rank 0 has saved by now; the other ranks wait for it here


def _train_seeds(args, project, overrides, session, seeds: list[int]) -> int:
    """One run per seed, each saved as it ends (a stop keeps those before it); then mean ± sd."""
    from modstudio.project.seeds import aggregate, format_figure

    runs, code = [], 0
    for seed in seeds:
        code, run = _train_and_save(args, project, {**overrides, "seed": seed}, session, report=False)
        if run is not None:
            runs.append(run)
        if code == 130:  # stopped: the seeds after it are not trained
            break
    if not runs or (session is not None and not session.is_main):
        return code
    summary = aggregate(runs)
    if args.json:
        print(json.dumps({"seeds": seeds[:len(runs)], "aggregate": summary, "runs": [run_json(r) for r in runs]}))
    else:
        done = ", ".join(str(s) for s in seeds[:len(runs)])
        print(f"{summary['finished']} of {len(seeds)} seeds finished ({done}), strategy {runs[0].strategy}, "
              f"saved to {args.output or args.project}")
        for name, stats in summary["figures"].items():
            print(f"  {format_figure(name, stats)}")
        if summary["test_sizes"]:
            worth = ", ".join(f"{p:.1f}" for p in summary["points_per_sample"])
            print(f"  test samples per task {summary['test_sizes']}: one sample is worth {worth} points")
    return code


def _train_and_save(args, project, overrides, session, report: bool = True):
    """Train one run, save the project, write the trackers; (exit status, run). ``report``: print
    the run's figures (or its JSON) too."""
    from modstudio.learn.api import train
    from modstudio.progress import ProgressPrinter

    main_rank = session is None or session.is_main  # only rank 0 prints and writes the project
    _check_trackers(args)  # a missing package or a file in the way is said now, not after the run
    printer = ProgressPrinter(sys.stderr) if main_rank else None
    handle = {}

    def on_interrupt(signum, frame):
        trainer = handle.get("trainer")
        if trainer is not None:
            if main_rank:
                print("\nstopping after this batch…" + (" (Ctrl-C again to stop at once)" if session is None else ""),
                      file=sys.stderr)
            trainer.stop()
        if session is None:  # torchrun passes a Ctrl-C on to every rank a second time: keep stopping
            signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    if session is not None:  # scancel, the time limit, torchrun stopping the group: stop at the same
        signal.signal(signal.SIGTERM, on_interrupt)  # batch on every rank, and let rank 0 save (until exit)
    try:
        result = (train if session is None else session.train)(
            project, callbacks=[printer] if printer else [], trainer_ready=lambda t: handle.update(trainer=t),
            **overrides)
        run = result.run
    except KeyboardInterrupt:  # Ctrl-C twice: ms.train kept the run as stopped before re-raising; save it
        trainer = handle.get("trainer")
        if trainer is None or not project.runs or project.runs[-1] is not trainer.run_record:
            print(f"\nmodstudio train: interrupted before training started; {args.project} is unchanged",
                  file=sys.stderr)
            return 130, None
        run = project.runs[-1]
    finally:
        signal.signal(signal.SIGINT, previous)
    code = {"finished": 0, "stopped": 130, "failed": 1}[run.status]
    if not main_rank:
        return code, run
    if args.no_weights:
        run.weights = None
    out = Path(args.output or args.project)
    printer.close()
    _save_trained(project, run, out)
    if args.tensorboard or args.mlflow:
        index = next((i for i, r in enumerate(project.runs) if r is run), len(project.runs) - 1)
    if args.tensorboard:
        folder = _tracking("tensorboard", lambda tb: tb.write_run(run, args.tensorboard, index))
        print(f"wrote the run's TensorBoard files to {folder}", file=sys.stderr)
    if args.mlflow:
        logged = _tracking("mlflow", lambda ml: ml.write_run(run, args.mlflow, project.name, index))
        print(f"logged the run to MLflow as {logged.name} (run {logged.run_id}, experiment “{logged.experiment}”)",
              file=sys.stderr)
    if not report:
        acc = f", acc {run.metrics.acc * 100:.1f} %" if run.metrics.acc is not None else ""
        print(f"seed {run.settings.get('seed')}: {run.status}{acc}", file=sys.stderr)
    elif args.json:
        print(json.dumps(run_json(run)))
    else:
        print(f"{run.status}: {project.name}, strategy {run.strategy}, saved to {out}")
        if run.message:
            print(run.message)
        for key, value in run.metrics.figures().items():
            if value is not None:
                print(f"  {key:11} {value:+.4f}" if key != "acc" else f"  {key:11} {value:.4f}")
    return code, run


def _save_trained(project, run, out: Path) -> None:
    """Save the trained project to ``out``; if that fails, keep it as a recovery copy in the per-user
    data folder and say where (CommandError): a trained run is never lost to a failed save."""
    from modstudio.project import ProjectFileError
    from modstudio.project.recovery import keep_unsaved

    try:
        project.save(out)
        return
    except ProjectFileError as exc:
        failure = str(exc)
    try:
        kept = keep_unsaved(project, out, f"run-{run.id}")
    except (OSError, ValueError) as exc:  # ProjectFileError is a ValueError
        raise CommandError(f"{failure}; the trained run could not be kept either ({exc}), so it is lost") from None
    raise CommandError(f"{failure}; the trained project (run {run.id[:8]}, {run.status}) is kept in {kept}: "
                       "copy it where you want it, or open it in the studio")


def project_summary(project) -> dict:
    from modstudio.project.seeds import seed_groups

    from modstudio.project.check import check_project

    tasks = project.tasks
    report = check_project(project)  # the graph, and the tasks against it
    return {
        "name": project.name,
        "graph": {"nodes": len(project.graph.nodes), "edges": len(project.graph.edges),
                  "parameters": report.total_params, "ok": report.ok,
                  "errors": [e.message for e in report.errors]},
        "tasks": [{"name": t.name, "classes": t.num_classes, "train": len(t.train), "val": len(t.val),
                   "test": len(t.test), "shape": list(t.sample_shape),
                   "augmentation": t.augmentation.to_dict() if t.augmentation.active else None,
                   "normalize": None if t.normalization is None else t.normalization.to_dict()} for t in tasks],
        "settings": project.settings.to_dict(),
        "runs": [{"id": r.id, "strategy": r.strategy, "status": r.status, "started": r.started,
                  "scenario": r.settings.get("scenario"),
                  **r.metrics.figures(), **memory_figures(r)} for r in project.runs],
        "seed_groups": seed_groups(project.runs),  # one configuration over several seeds: mean ± sd
    }


def cmd_info(args) -> int:
    from modstudio.data.augment import Augmentation
    from modstudio.data.errors import human_bytes
    from modstudio.project.seeds import format_figure

    summary = project_summary(_load(args.project, args.allow_external_data, args.map_data))
    if args.json:
        print(json.dumps(summary))
        return 0
    g = summary["graph"]
    print(f"{summary['name']}")
    print(f"  graph: {g['nodes']} nodes, {g['edges']} edges, {g['parameters']:,} parameters per path"
          + ("" if g["ok"] else f", {len(g['errors'])} error(s): " + "; ".join(g["errors"])))
    print(f"  tasks: {len(summary['tasks'])}")
    for t in summary["tasks"]:
        augmentation = t["augmentation"]
        augmented = "" if augmentation is None else f"  augmentation: {Augmentation(**augmentation).describe()}"
        if t["normalize"] is not None:  # the statistics, of the values as imported, per channel
            augmented += "  normalised: mean/sd " + "; ".join(
                f"{m:.4g}/{sd:.4g}" for m, sd in zip(t["normalize"]["mean"], t["normalize"]["sd"]))
        print(f"    {t['name']:24} {t['classes']} classes  {t['train']}/{t['val']}/{t['test']} train/val/test"
              + augmented)
    print(f"  runs: {len(summary['runs'])}")
    for r in summary["runs"]:
        figures = "  ".join(f"{k} {r[k]:+.3f}" for k in ("acc", "aia", "bwt", "forgetting") if r.get(k) is not None)
        if r["memory_samples"] is not None:
            figures += f"  memory {r['memory_samples']:,} samples ({human_bytes(r['memory_bytes'])})"
        print(f"    {r['started']}  {r['strategy']:12} {r['scenario'] or '':6} {r['status']:9} {figures}")
    for group in summary["seed_groups"]:
        figures = group["aggregate"]["figures"]
        shown = "  ".join(format_figure(k, figures[k]) for k in ("acc", "aia", "bwt", "forgetting") if k in figures)
        print(f"  over seeds {', '.join(map(str, group['seeds']))}: {group['strategy']} {group['scenario'] or ''}  "
              f"{shown}  ({group['aggregate']['finished']} finished)")
    return 0


TRACKING_EXTRA = '"modstudio[tracking]"'  # the optional extra that brings the tensorboard and mlflow packages


def _tracking(writer: str, call):
    """``call(modstudio.tracking.<writer>)`` (writer: "tensorboard" or "mlflow"); its TrackingError (the
    package missing, a target that cannot be written) as a one-line CommandError."""
    import importlib

    from modstudio.tracking import TrackingError

    module = importlib.import_module(f"modstudio.tracking.{writer}")
    try:
        return call(module)
    except TrackingError as exc:
        raise CommandError(str(exc)) from None


def _check_trackers(args):
    """Every ``--tensorboard``/``--mlflow`` target checked before anything is trained or written; the
    MLflow tracking URI (or None)."""
    if args.tensorboard:
        _tracking("tensorboard", lambda tb: tb.check_target(args.tensorboard))
    return _tracking("mlflow", lambda ml: ml.check_target(args.mlflow)) if args.mlflow else None


def _runs_to_trackers(args, project) -> int:
    """``runs --tensorboard DIR`` and ``--mlflow URI``: every run of the project, to each."""
    uri = _check_trackers(args)
    runs = list(project.runs)
    if not runs:
        print(f"{args.project} has no runs: nothing written")
        return 0
    if args.tensorboard:
        folders = _tracking("tensorboard", lambda tb: tb.write_runs(runs, args.tensorboard))
        for folder in folders:
            print(f"wrote {folder}")
        print(f"{len(folders)} run(s) written; view them with: tensorboard --logdir {args.tensorboard}")
    if args.mlflow:
        logged = _tracking("mlflow", lambda ml: ml.write_runs(runs, uri, project.name))
        for entry in logged:
            print(f"logged {entry.name} (MLflow run {entry.run_id})")
        from modstudio.tracking.mlflow import view_hint

        print(f"{len(logged)} run(s) logged to MLflow experiment “{logged[0].experiment}” at {uri}; "
              f"{view_hint(uri)}")
    return 0


def cmd_runs(args) -> int:
    project = _load(args.project, args.allow_external_data)
    runs = list(project.runs)
    if args.tensorboard or args.mlflow:
        return _runs_to_trackers(args, project)
    print(f"{project.name}: {len(runs)} run(s)")
    for index, r in enumerate(runs):
        m = r.metrics.figures()
        figures = "  ".join(f"{k} {m[k]:+.3f}" for k in ("acc", "bwt", "forgetting") if m.get(k) is not None)
        print(f"  {index:3}  {r.id[:8]}  {r.started}  {r.strategy:12} {r.settings.get('scenario') or '':6} "
              f"{r.status:9} {figures}")
    return 0


def cmd_export(args) -> int:
    from modstudio.learn.export import ExportError, export

    project = _load(args.project, args.allow_external_data, args.map_data)
    try:
        done = export(project, args.output, format=args.format, task=args.task, all_tasks=args.all_tasks,
                      run=args.run, force=args.force, project_file=args.project, opset=args.opset)
    except ExportError as exc:
        raise CommandError(str(exc)) from None
    tasks = "all tasks" if len(done.tasks) > 1 else f"task {done.tasks[0]}"
    print(f"wrote {', '.join(map(str, done.paths))}: {done.format}, {tasks} of run {done.run_id[:8]}")
    return 0


def cmd_bench(args) -> int:
    from modstudio.benchmarks import format_report, run_bench

    report = run_bench(quick=args.quick, device=args.device)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def cmd_data(args) -> int:
    from modstudio.cli_data import cmd_data as run

    return run(args)


def cmd_evaluate(args) -> int:
    from modstudio.cli_evaluate import cmd_evaluate as run

    return run(args)


def cmd_predict(args) -> int:
    from modstudio.cli_evaluate import cmd_predict as run

    return run(args)


COMMANDS = {"examples": cmd_examples, "new": cmd_new, "train": cmd_train, "info": cmd_info, "bench": cmd_bench,
            "export": cmd_export, "runs": cmd_runs, "data": cmd_data, "evaluate": cmd_evaluate,
            "predict": cmd_predict}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--training-host"]:  # the studio's training process (modstudio.learn.host), not for users
        from modstudio.learn.host import main as host_main

        return host_main(argv[1:])
    if not argv or (len(argv) == 1 and not argv[0].startswith("-") and argv[0] not in _command_names(parser)):
        return open_studio(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return COMMANDS[args.command](args)
    except CommandError as exc:
        print(f"modstudio {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
