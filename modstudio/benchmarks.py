"""``modstudio bench``: speed figures of this machine as ratios against plain PyTorch (and plain
safetensors), measured side by side in one run so they compare across machines.

Each section is independent: a missing optional part (no display for the canvas) is reported,
never fatal.
"""

from __future__ import annotations

import platform
from typing import Any, Callable


def bench_engine(epochs: int = 20, repeats: int = 5, device: str = "cpu") -> dict[str, Any]:
    """``finetune`` on split-digits through the engine vs a hand-written loop doing the same work:
    same network, data, optimiser, batch size, shuffling and per-epoch evaluation of every task, on
    ``device`` (``--device cuda``: both on the GPU, in the same run)."""
    from modstudio.engine_bench import bench_workload

    result = bench_workload("split_digits", repeats=repeats, device=device, epochs=epochs)
    result["goal"] = "time_ratio ≤ 1.05"
    return result


def bench_engine_at_scale(name: str, quick: bool, device: str = "cpu") -> dict[str, Any]:
    """The same comparison on image-shaped data at real scale (``engine_bench.WORKLOADS``): the MNIST-shaped
    MLP and the CIFAR-10-shaped conv net, bytes on both sides."""
    from modstudio.engine_bench import bench_workload

    result = bench_workload(name, quick=quick, repeats=1 if quick else 3, device=device)
    result["goal"] = "time_ratio ≤ 1.05"
    return result


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
        "engine_mnist_shaped": _section(lambda: bench_engine_at_scale("mnist_shaped", quick, device)),
        "engine_cifar10_shaped": _section(lambda: bench_engine_at_scale("cifar10_shaped", quick, device)),
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
