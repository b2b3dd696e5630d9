"""What an exported file says about itself: where it came from and how to feed it.

One JSON-able dict, written into every format (ONNX ``metadata_props``, TorchScript and pt2
extra files, the safetensors header and its JSON description), so a deployed model can be
traced back to its project and run, and its outputs named without the studio.
"""

from __future__ import annotations

from typing import Sequence

from modstudio import __version__
from modstudio.data import union_classes

META_KEY = "modstudio"  # the ONNX metadata key, the safetensors header key
META_FILE = "modstudio.json"  # the extra file in TorchScript and pt2 archives
FORMAT_VERSION = 1


def from_bytes_text(values: dict) -> str:
    """A task's ``from_bytes`` in words, as the Python export's docstring says it."""
    def numbers(v):
        return f"{v[0]:.4g}" if len(v) == 1 else "(" + ", ".join(f"{x:.4g}" for x in v) + ")"
    return (f"(byte / {values['divisor']:g} − {numbers(values['shift'])}) / {numbers(values['spread'])}"
            + (" per channel" if len(values["shift"]) > 1 else ""))


def describe(project, run, tasks: Sequence[int] | None, *, shared_head: bool, inputs, outputs) -> dict:
    """The metadata of an export of ``tasks`` (None: every trained task, one model per call)."""
    trained = len(run.paths)
    exported = list(range(trained)) if tasks is None else list(tasks)
    ranges = [(float(f.min()), float(f.max())) for f in (t.train.floats() for t in project.tasks[:trained])]
    union = union_classes(project.tasks)
    names = {c: n for t in project.tasks for c, n in zip(t.classes, t.class_names)}
    return {
        "format": "modstudio-export",
        "format_version": FORMAT_VERSION,
        "modstudio_version": __version__,
        "project": project.name,
        "run_id": run.id,
        "run_started": run.started,
        "strategy": run.settings.get("strategy", run.strategy),
        "scenario": run.settings.get("scenario", "task"),
        "input": {
            "shape": list(project.tasks[0].sample_shape),  # per sample; the batch dimension comes first
            "dtype": "float32",
            # "none": the tasks hold float features, fed as they are; "from_bytes": the tasks hold 8-bit
            # samples and the model takes the features they stand for (each task's "from_bytes").
            "normalization": "none" if all(t.values is None for t in project.tasks[:trained]) else "from_bytes",
            "value_range": [min(lo for lo, _ in ranges), max(hi for _, hi in ranges)],
        },
        "inputs": list(inputs),
        "outputs": list(outputs),
        "tasks": [
            {"index": i, "name": t.name, "classes": list(t.classes), "class_names": list(t.class_names),
             "from_bytes": None if t.values is None else t.values.to_dict()}
            for i, t in enumerate(project.tasks[:trained])
        ],
        "exported_tasks": exported,
        # A shared head answers over every class of the sequence, in this order.
        "shared_head": {"classes": union, "class_names": [names[c] for c in union]} if shared_head else None,
    }
