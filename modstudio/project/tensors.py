"""Weights in the safetensors format: numeric arrays only, written and read without extra copies.

safetensors never executes anything, but its header is still untrusted JSON: we check its
size, dtypes, shapes and offsets (in bounds, no overlaps, no holes) so every problem becomes a
ProjectFileError with a message. The format is simple enough that we stream it straight from
the arrays' memory when saving and hand out views of the one read buffer when loading — twice
as fast as going through ``safetensors.numpy.save``/``load`` on bytes, and the tests check
that both directions stay compatible with the safetensors library.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Iterator

import numpy as np

from modstudio.project.errors import ProjectFileError
from modstudio.project.bounded_json import read_json
from modstudio.project.limits import DEFAULT_LIMITS, Limits

# safetensors dtype name <-> little-endian numpy dtype; numeric types only (no BF16, no objects)
DTYPES = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2", "F16": "<f2",
          "U32": "<u4", "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8"}
_NAMES = {np.dtype(v).newbyteorder("<") if np.dtype(v).itemsize > 1 else np.dtype(v): k for k, v in DTYPES.items()}
NUMERIC_KINDS = "biuf"
MAX_DIMS = 32


def numeric_problem(array: object) -> str | None:
    """Why ``array`` cannot be stored as a weight tensor, or None."""
    if not isinstance(array, np.ndarray):
        return f"is a {type(array).__name__}, not a numpy array"
    if array.dtype.kind not in NUMERIC_KINDS or array.dtype.fields or _name(array.dtype) is None:
        return f"has dtype {array.dtype}, not a plain numeric type"
    if array.ndim > MAX_DIMS:
        return f"has {array.ndim} dimensions, more than the {MAX_DIMS} a weights file may hold"
    return None


def _name(dtype: np.dtype) -> str | None:
    little = dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype
    return _NAMES.get(little)


def encode_parts(tensors: dict[str, np.ndarray], limits: Limits = DEFAULT_LIMITS) -> tuple[int, Iterator[memoryview]]:
    """Total size and the byte chunks of a safetensors file (header, then each tensor's memory).

    Tensors are laid out largest item size first so every one starts aligned for its dtype. A
    header that ``decode`` would refuse under ``limits`` (too many tensors, too long) is refused
    here, before anything is written.
    """
    if len(tensors) > limits.max_tensors:
        raise ProjectFileError(f"{len(tensors):,} tensors, over the limit of {limits.max_tensors:,}")
    order = sorted(tensors, key=lambda k: (-tensors[k].dtype.itemsize, k))
    header, offset = {}, 0
    for key in order:
        array = tensors[key]
        header[key] = {"dtype": _name(array.dtype), "shape": list(array.shape),
                       "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # as safetensors does: data starts 8-aligned
    if len(text) > limits.max_tensor_header_bytes:
        raise ProjectFileError(f"the tensor names make a {len(text):,}-byte header, over the limit of "
                               f"{limits.max_tensor_header_bytes:,}")

    def parts() -> Iterator[memoryview]:
        yield memoryview(struct.pack("<Q", len(text)) + text)
        for key in order:
            array = np.ascontiguousarray(tensors[key])
            if array.dtype.byteorder == ">":
                array = array.astype(array.dtype.newbyteorder("<"))
            yield memoryview(array.reshape(-1).view(np.uint8))

    return 8 + len(text) + offset, parts()


def encode(tensors: dict[str, np.ndarray]) -> bytes:
    return b"".join(bytes(p) for p in encode_parts(tensors)[1])


def decode(data: bytes | bytearray | np.ndarray, what: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, np.ndarray]:
    """The arrays in safetensors ``data`` (views of it when it is a writable buffer)."""
    def bad(message: str) -> ProjectFileError:
        return ProjectFileError(f"{what} is not a valid safetensors file: {message}")

    buffer = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else data
    if len(buffer) < 8:
        raise bad("shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", buffer[:8].tobytes())
    if n > limits.max_tensor_header_bytes or n > len(buffer) - 8:
        raise bad(f"header length {n:,} does not fit (file has {len(buffer):,} bytes)")
    try:
        header = read_json(buffer[8:8 + n].tobytes(), "its header", limits)
    except ProjectFileError as exc:
        raise bad(str(exc)) from None
    if not isinstance(header, dict):
        raise bad("header is not an object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise bad("__metadata__ must map names to strings")
    if len(header) > limits.max_tensors:
        raise bad(f"{len(header):,} tensors, over the limit of {limits.max_tensors:,}")
    body = buffer[8 + n:]
    spans, arrays = [], {}
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise bad(f"tensor {name!r} has a malformed entry")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise bad(f"tensor {name!r:.200} has dtype {dtype!r:.100}; only numeric dtypes are accepted")
        if not _ints(shape) or not _ints(offsets) or len(offsets) != 2:
            raise bad(f"tensor {name!r:.200} has a malformed shape or offsets")
        np_dtype = np.dtype(DTYPES[dtype])
        # numpy refuses (ValueError) a shape whose size overflows, even with a zero in it
        if len(shape) > MAX_DIMS or math.prod(d for d in shape if d) * np_dtype.itemsize >= 2**62:
            raise bad(f"tensor {name!r:.200} has an impossible shape {shape!r:.200}")
        begin, end = offsets
        if not 0 <= begin <= end <= len(body) or end - begin != math.prod(shape) * np_dtype.itemsize:
            raise bad(f"tensor {name!r:.200} has offsets {offsets} that do not match its shape {shape!r:.200}")
        spans.append((begin, end))
        try:
            array = body[begin:end].view(np_dtype).reshape(shape)
        except (ValueError, TypeError) as exc:  # belt and braces: the checks above should prevent it
            raise bad(f"tensor {name!r:.200} cannot have shape {shape!r:.200} ({exc})") from None
        arrays[name] = array if array.flags.aligned else array.copy()
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise bad("tensor data overlaps or leaves holes")
        position = end
    if position != len(body):
        raise bad("tensor data does not fill the file")
    return arrays


def _ints(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
