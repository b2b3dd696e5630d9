"""Writers for the traced formats: ONNX, TorchScript and ``torch.export`` programs (.pt2).

Each takes a wrapper from ``models`` (plain module, fixed plan) with example inputs, keeps
the batch dimension dynamic, embeds the metadata, checks the result where it can and returns the
file's bytes: ``output.write_file`` puts them on disk atomically, so no exporter ever writes a
partial file over a good one (torch's own file writers abort the process on a full disk).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import warnings

import numpy as np
import torch
from torch import nn
from torch.export import Dim

from modstudio.learn.export.meta import META_FILE, META_KEY
from modstudio.learn.export.models import example_inputs, io_names

PARITY_TOLERANCE = 1e-4  # a file that disagrees more than this with the studio is not written silently


class ExportError(ValueError):
    """An export that cannot be made, said in one line a user can act on."""


def require(*modules: str, extra: str, purpose: str):
    """Import the optional packages a format needs, or say which pip extra brings them."""
    loaded = []
    for name in modules:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError:
            raise ExportError(
                f"{purpose} needs the optional package(s) {', '.join(modules)}: "
                f'pip install "modstudio[{extra}]"'
            ) from None
    return loaded


@contextlib.contextmanager
def _quiet_exporter():
    """Exporters print progress and warn about their own deprecations; none of it is the user's."""
    logger = logging.getLogger("torch.onnx")  # "torchvision is not installed, skipping …"
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        logger.setLevel(level)


def _dynamic_batch(example: tuple[torch.Tensor, ...]) -> tuple[dict[int, Dim], ...]:
    return tuple({0: Dim.DYNAMIC} for _ in example)  # the exporter finds x and task share it


def write_onnx(model: nn.Module, input_shape, meta: dict) -> bytes:
    onnx, _ = require("onnx", "onnxscript", extra="onnx", purpose="ONNX export")
    example = example_inputs(model, input_shape)
    inputs, outputs = io_names(model)
    with _quiet_exporter():
        program = torch.onnx.export(
            model, example, dynamo=True, input_names=inputs, output_names=outputs,
            dynamic_shapes=_dynamic_batch(example), verbose=False,
        )
    proto = program.model_proto
    proto.producer_name = "modstudio"
    proto.doc_string = f"{meta['project']}: run {meta['run_id']} ({meta['strategy']}), tasks {meta['exported_tasks']}"
    entries = {META_KEY: json.dumps(meta), "class_names": json.dumps(_class_names(meta)),
               "input_shape": json.dumps(meta["input"]["shape"]), "normalization": meta["input"]["normalization"]}
    for key, value in entries.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(proto, full_check=True)
    content = proto.SerializeToString()
    check_onnx_runtime(model, input_shape, content)
    return content


def check_onnx_runtime(model: nn.Module, input_shape, content: bytes) -> None:
    """Run the file's bytes in onnxruntime (when installed) on another batch size than traced."""
    try:
        import onnxruntime
    except ImportError:
        return
    example = example_inputs(model, input_shape, batch=3)
    session = onnxruntime.InferenceSession(content, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    got = session.run(None, {name: t.numpy() for name, t in zip(names, example)})
    with torch.no_grad():
        expected = model(*example)
    expected = expected if isinstance(expected, tuple) else (expected,)
    for a, b in zip(got, expected):
        finite = np.isfinite(b.numpy())
        if not np.array_equal(finite, np.isfinite(a)) or np.abs(a[finite] - b.numpy()[finite]).max(initial=0) > PARITY_TOLERANCE:
            raise ExportError("the ONNX export does not reproduce the studio's outputs in onnxruntime; nothing "
                              "was written")


def write_torchscript(model: nn.Module, input_shape, meta: dict) -> bytes:
    """``torch.jit.trace``: deprecated in current torch (prefer .pt2), kept for older runtimes."""
    example = example_inputs(model, input_shape)
    buffer = io.BytesIO()
    with _quiet_exporter():
        traced = torch.jit.trace(model, example)
        torch.jit.save(traced, buffer, _extra_files={META_FILE: json.dumps(meta)})
    return buffer.getvalue()


def write_pt2(model: nn.Module, input_shape, meta: dict) -> bytes:
    example = example_inputs(model, input_shape)
    buffer = io.BytesIO()
    with _quiet_exporter():
        program = torch.export.export(model, example, dynamic_shapes=_dynamic_batch(example))
        torch.export.save(program, buffer, extra_files={META_FILE: json.dumps(meta)})
    return buffer.getvalue()


def _class_names(meta: dict) -> list[list[str]] | list[str]:
    """Per exported task (or, for a shared head, over every class): what each output column means."""
    if meta["shared_head"]:
        return meta["shared_head"]["class_names"]
    return [meta["tasks"][t]["class_names"] for t in meta["exported_tasks"]]


WRITERS = {"onnx": write_onnx, "torchscript": write_torchscript, "pt2": write_pt2}
