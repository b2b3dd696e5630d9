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
import re
import warnings

import numpy as np
import torch
from torch import nn
from torch.export import Dim

from modstudio.learn.export.meta import META_FILE, META_KEY
from modstudio.learn.export.models import example_inputs, io_names

PARITY_TOLERANCE = 1e-4  # a file that disagrees more than this with the studio is not written silently
DEFAULT_OPSET = 18  # the opset torch's exporter writes natively: no conversion
_CONVERTER_LOGGER = "onnxscript.version_converter"


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


def opset_range() -> tuple[int, int]:
    """The ONNX opsets the installed onnx knows (its version converter's range)."""
    onnx, _ = require("onnx", "onnxscript", extra="onnx", purpose="ONNX export")
    return 1, int(onnx.defs.onnx_opset_version())


def check_opset(opset: int) -> int:
    """``opset`` if the installed onnx supports it, else an ExportError naming the range it does."""
    low, high = opset_range()
    if not low <= opset <= high:
        import onnx

        raise ExportError(f"ONNX opset {opset} is not one the installed onnx {onnx.__version__} supports: choose "
                          f"{low}–{high} (default {DEFAULT_OPSET})")
    return opset


class _Captured(logging.Handler):
    """What the ONNX version converter says when it cannot convert (it logs and keeps the model as it was)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:  # the reason; the rest is its narration
            self.messages.append(_last_line(record.exc_info[1]))


@contextlib.contextmanager
def _converter_messages():
    logger = logging.getLogger(_CONVERTER_LOGGER)
    handler, propagate = _Captured(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return re.sub(r"^\S*\.h:\d+: \w+: Assertion `[^`]*` failed: ", "", text)  # onnx's C++ file:line prefix


def _opset_problem(asked: int, written: int, messages: list[str]) -> str:
    """Why the file is not at the opset asked for, in one line."""
    reason = messages[-1] if messages else ""
    missing = re.search(r"No Adapter From Version \$(\d+) for (\w+)", reason)
    if asked < written:
        if missing:
            need = int(missing[1])
            return (f"this model needs ONNX opset {need} or newer, not {asked}: its {missing[2]} operator cannot be "
                    f"converted below opset {need} (opset={need} or more, CLI --opset {need}; the default is "
                    f"{DEFAULT_OPSET})")
        return (f"this model needs a newer ONNX opset than {asked}: the installed onnx could not convert it below "
                f"opset {written}{f' ({reason})' if reason else ''}")
    return (f"the installed onnx could not convert this model to opset {asked}{f' ({reason})' if reason else ''}; "
            f"opset {DEFAULT_OPSET} needs no conversion")


def _dynamic_batch(example: tuple[torch.Tensor, ...]) -> tuple[dict[int, Dim], ...]:
    return tuple({0: Dim.DYNAMIC} for _ in example)  # the exporter finds x and task share it


def write_onnx(model: nn.Module, input_shape, meta: dict, opset: int = DEFAULT_OPSET) -> bytes:
    onnx, _ = require("onnx", "onnxscript", extra="onnx", purpose="ONNX export")
    opset = check_opset(opset)
    example = example_inputs(model, input_shape)
    inputs, outputs = io_names(model)
    try:
        with _quiet_exporter(), _converter_messages() as messages:
            program = torch.onnx.export(
                model, example, dynamo=True, input_names=inputs, output_names=outputs,
                dynamic_shapes=_dynamic_batch(example), verbose=False, opset_version=opset,
            )
    except Exception as exc:  # the exporter's own failure, at this opset
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or ["(no message)"]
        raise ExportError(f"the ONNX exporter could not write this model at opset {opset}: {type(exc).__name__}: "
                          f"{lines[0]}") from exc
    proto = program.model_proto
    written = next((entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")), None)
    if written != opset:  # the converter logs its failure and leaves the model at the exporter's opset
        raise ExportError(_opset_problem(opset, written if written is not None else DEFAULT_OPSET, messages))
    proto.producer_name = "modstudio"
    proto.doc_string = f"{meta['project']}: run {meta['run_id']} ({meta['strategy']}), tasks {meta['exported_tasks']}"
    entries = {META_KEY: json.dumps(meta), "class_names": json.dumps(_class_names(meta)),
               "input_shape": json.dumps(meta["input"]["shape"]), "normalization": meta["input"]["normalization"]}
    for key, value in entries.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(proto, full_check=True)
    content = proto.SerializeToString()
    check_onnx_runtime(model, input_shape, content, opset)
    return content


def check_onnx_runtime(model: nn.Module, input_shape, content: bytes, opset: int = DEFAULT_OPSET) -> None:
    """Run the file's bytes in onnxruntime (when installed) on another batch size than traced."""
    try:
        import onnxruntime
    except ImportError:
        return
    example = example_inputs(model, input_shape, batch=3)
    try:
        session = onnxruntime.InferenceSession(content, providers=["CPUExecutionProvider"])
    except Exception as exc:  # an opset newer than this onnxruntime knows, an operator it lacks
        raise ExportError(f"onnxruntime {onnxruntime.__version__} cannot run the opset {opset} file, so it was not "
                          f"written: {_last_line(exc)}") from None
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
