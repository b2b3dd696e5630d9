"""``modstudio bench``: speed figures of this machine as ratios against plain PyTorch (and plain
safetensors), measured side by side in one run so they compare across machines.

Each section is independent: a missing optional part (no display for the canvas) is reported,
never fatal.
"""

from __future__ import annotations

import platform
import time
from typing import Any, Callable


def bench_engine(epochs: int = 20, repeats: int = 5, device: str = "cpu") -> dict[str, Any]:
    """``finetune`` on split-digits through the engine vs a hand-written loop doing the same work:
    same network, data, optimiser, batch size, shuffling and per-epoch evaluation of every task, on
    ``device`` (``--device cuda``: both on the GPU, in the same run)."""
    import torch
    import torch.nn.functional as F

    from modstudio.examples import build_example
    from modstudio.learn.api import train
    from modstudio.learn.compiler import compile_graph

    project = build_example("split-digits")
    s = project.settings
    tasks = project.tasks
    samples = epochs * sum(len(t.train) for t in tasks)

    def engine() -> float:
        start = time.perf_counter()
        run = train(project, strategy="finetune", epochs=epochs, device=device).run
        project.runs.clear()
        assert run.status == "finished", run.message
        return time.perf_counter() - start

    def plain() -> float:
        start = time.perf_counter()  # set-up counts on both sides: build, data, first evaluation
        torch.manual_seed(s.seed)
        body = compile_graph(project.graph, input_shape=tasks[0].sample_shape, classes=2)
        heads = [torch.nn.Linear(body.report.nodes[body.report.head_id].in_shapes[0][0], t.num_classes).to(device)
                 for t in tasks]
        body.layers[next(k for k in body.layers if k.endswith(body.report.head_id))] = torch.nn.Identity()
        body.to(device)
        data = [tuple(torch.tensor(a, device=device) for a in (t.train.x, t.train.y, t.test.x, t.test.y))
                for t in tasks]
        generator = torch.Generator().manual_seed(s.seed)
        body.eval()
        with torch.no_grad():
            [(heads[j](body(tx)).argmax(1) == ty).float().mean().item() for j, (_, _, tx, ty) in enumerate(data)]
        for t, (x, y, _, _) in enumerate(data):
            params = list(body.parameters()) + list(heads[t].parameters())
            optimizer = torch.optim.Adam(params, lr=s.lr)
            for _ in range(epochs):
                body.train()
                order = torch.randperm(len(x), generator=generator).to(device)
                total = torch.zeros((), device=device)
                for b in range(0, len(x), s.batch_size):
                    index = order[b:b + s.batch_size]
                    loss = F.cross_entropy(heads[t](body(x[index])), y[index])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += loss.detach() * len(index)
                body.eval()
                with torch.no_grad():
                    [(heads[j](body(tx)).argmax(1) == ty).float().mean().item()
                     for j, (_, _, tx, ty) in enumerate(data)]
        return time.perf_counter() - start

    engine()  # warm-up: imports, allocator
    plain()
    times = [(engine(), plain()) for _ in range(repeats)]  # interleaved, so drift hits both alike
    engine_s = min(t[0] for t in times)
    plain_s = min(t[1] for t in times)
    return {
        "workload": f"finetune, split-digits MLP, {len(tasks)} tasks × {epochs} epochs, batch {s.batch_size}, {device}",
        "engine_s": round(engine_s, 3), "plain_pytorch_s": round(plain_s, 3),
        "engine_samples_per_s": round(samples / engine_s), "plain_samples_per_s": round(samples / plain_s),
        "time_ratio": round(engine_s / plain_s, 3),
        "goal": "time_ratio ≤ 1.05",
    }


def bench_project_file(size_mb: float, data_mb: float) -> dict[str, Any]:
    """Weights (``size_mb``) against safetensors; embedded task data (``data_mb``) against numpy."""
    from modstudio.project.io_bench import bench_project_io, bench_task_data_io

    result = bench_project_io(size_mb=size_mb)
    result["goal"] = "load_ratio and save_no_fsync_ratio ≤ 1.2 (save_ratio includes the fsync that makes saves crash-safe)"
    data = bench_task_data_io(size_mb=data_mb)
    result.update({f"data_{k}": v for k, v in data.items()})
    result["data_goal"] = ("data_save_ratio (vs np.savez), data_save_fsync_ratio (both fsynced) and "
                           "data_load_ratio (vs np.load) ≤ 1.5")
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


def bench_canvas(n_nodes: int, editing_nodes: int = 200) -> dict[str, Any]:
    """Opening, panning and zooming ``n_nodes``; select-all and dragging ``editing_nodes`` in the window."""
    from modstudio.gui.canvas_bench import bench_canvas as run
    from modstudio.gui.canvas_bench import bench_canvas_editing

    return {**run(n_nodes=n_nodes), **bench_canvas_editing(n_nodes=editing_nodes)}


def bench_startup(runs: int) -> dict[str, Any]:
    from modstudio.gui.canvas_bench import bench_startup as run

    return run(runs=runs)


def bench_gui_training(seconds: float) -> dict[str, Any]:
    from modstudio.gui.training.responsiveness_bench import bench_responsiveness

    return bench_responsiveness(seconds=seconds)


def bench_memory(samples: int) -> dict[str, Any]:
    """Peak RSS of a training run over plain PyTorch holding the same arrays (subprocesses)."""
    from modstudio.memory_bench import bench_memory as run

    return run(samples=samples)


def bench_mapped_data(limit_mb: float) -> dict[str, Any]:
    """A project twice a process's memory limit, trained mapped under it vs in memory (subprocesses)."""
    from modstudio.mapped_bench import bench_mapped

    return bench_mapped(limit_mb=limit_mb)


def _section(fn: Callable[[], dict]) -> dict:
    try:
        return fn()
    except Exception as exc:  # one broken section must not hide the others
        return {"error": f"{type(exc).__name__}: {exc}"}


def run_bench(quick: bool = False, device: str = "cpu") -> dict[str, Any]:
    import torch

    return {
        "machine": {"python": platform.python_version(), "torch": torch.__version__,
                    "cpu_threads": torch.get_num_threads(), "platform": platform.platform()},
        "engine": _section(lambda: bench_engine(epochs=2 if quick else 20, repeats=1 if quick else 5, device=device)),
        "project_file": _section(lambda: bench_project_file(5 if quick else 100, 50 if quick else 180)),
        "memory": _section(lambda: bench_memory(6_000 if quick else 60_000)),
        "mapped_data": _section(lambda: bench_mapped_data(100 if quick else 200)),
        "canvas": _section(lambda: bench_canvas(100 if quick else 1000, editing_nodes=200)),
        "gui_training": _section(lambda: bench_gui_training(3 if quick else 20)),
        "startup": _section(lambda: bench_startup(runs=2 if quick else 5)),
    }


def format_report(report: dict[str, Any]) -> str:
    lines = []
    for section, values in report.items():
        lines.append(section)
        for key, value in values.items():
            lines.append(f"  {key:24} {value}")
    return "\n".join(lines)
