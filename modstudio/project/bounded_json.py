"""Bounded JSON: the one reader of ``project.json`` and of each safetensors header.

It enforces the JSON limits of :class:`~modstudio.project.limits.Limits` on the raw bytes before
Python builds a single object: how deep lists and objects nest, how many values there are, how
long a number literal is. Parsing is then bounded in time and memory (about 70 bytes of Python
objects per value at worst: the defaults cap a parsed project.json near 600 MB), and no
RecursionError, MemoryError or int-conversion ValueError can escape as anything but a
:class:`ProjectFileError`.
"""

from __future__ import annotations

import gc
import json
import math
import re
from typing import Any

import numpy as np

from modstudio.project.errors import ProjectFileError
from modstudio.project.limits import DEFAULT_LIMITS, Limits


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Translations of the skeleton that let plain substring searches (C speed) find long number
# literals (every number character → 'n') and big exponents (digits → '0', 'E' → 'e').
_NUMBER_RUNS = bytes(ord("n") if b in b"0123456789eE+-." else 32 for b in range(256))
_EXPONENTS = bytes(48 if 48 <= b <= 57 else ord("e") if b in b"eE" else b if b == ord("+") else 32
                   for b in range(256))
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = np.zeros(256, np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
_CHUNK = 1 << 20


class _Refused:
    """Stands in for a number literal while parsing, so the walk can name the JSON path."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def read_json(raw: bytes | bytearray | memoryview, what: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Strict, bounded JSON: UTF-8; no NaN/Infinity, duplicate keys, lone surrogates or numbers
    that overflow; depth, value count and number literals within ``limits``. ``what`` names the
    document in messages (``project.json``); a problem inside it is named by its JSON path."""
    raw = bytes(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectFileError(f"{what} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    skeleton = _STRING.sub(b'""', raw)  # the structure without string contents (newlines stay)
    _check_shape(skeleton, what, limits)
    long_number = b"n" * (limits.max_json_number_chars + 1) in skeleton.translate(_NUMBER_RUNS)
    refused: list[_Refused] = []
    hooks: dict[str, Any] = {}
    if long_number:  # slow path, only for odd files: find the literal's JSON path
        def parse_number(kind):
            def parse(literal: str):
                if len(literal) > limits.max_json_number_chars:
                    refused.append(_Refused(f"a number literal of {len(literal):,} characters, longer than the "
                                            f"limit of {limits.max_json_number_chars}"))
                    return refused[-1]
                return kind(literal)
            return parse
        hooks = {"parse_int": parse_number(int), "parse_float": parse_number(float)}
    enabled = gc.isenabled()
    gc.disable()  # millions of containers would otherwise trigger collection after collection
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates(what), parse_constant=_no_constant(what), **hooks)
    except ProjectFileError:
        raise
    except json.JSONDecodeError as exc:
        raise ProjectFileError(f"{what} is malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ProjectFileError(f"{what} is nested too deeply") from None
    except (ValueError, MemoryError, OverflowError) as exc:  # belt and braces: the checks above prevent these
        raise ProjectFileError(f"{what} cannot be read: {type(exc).__name__}: {exc}") from None
    finally:
        if enabled:
            gc.enable()
    exponents = skeleton.translate(_EXPONENTS)
    huge_exponent = b"e000" in exponents or b"e+000" in exponents  # 1e100 and up may overflow to infinity
    if refused or huge_exponent or (b"\\u" in raw and _SURROGATE_ESCAPE.search(raw)):
        found = _find_problem(value, [])
        if found is not None:
            path, message = found
            raise ProjectFileError(f"{what}: {path or 'top level'}: {message}")
    return value


def _check_shape(skeleton: bytes, what: str, limits: Limits) -> None:
    """Value count and nesting depth, from the bytes: before json builds anything."""
    opens = skeleton.count(b"[") + skeleton.count(b"{")
    count = skeleton.count(b",") + skeleton.count(b":") + opens + 1
    if count > limits.max_json_values:
        raise ProjectFileError(f"{what} holds about {count:,} values, more than the limit of "
                               f"{limits.max_json_values:,}")
    if opens <= limits.max_json_depth:
        return
    brackets = np.frombuffer(skeleton.translate(None, _NOT_BRACKETS), np.uint8)
    depth = 0
    for start in range(0, len(brackets), _CHUNK):  # in chunks: a file of closing brackets stays cheap
        levels = np.cumsum(_STEP[brackets[start:start + _CHUNK]], dtype=np.int64)
        levels += depth
        over = np.flatnonzero(levels > limits.max_json_depth)
        if over.size:
            line = _line_of_bracket(skeleton, start + int(over[0]))
            raise ProjectFileError(f"{what} is nested too deeply: lists and objects more than "
                                   f"{limits.max_json_depth} levels inside each other (line {line})")
        depth = int(levels[-1])


def _line_of_bracket(skeleton: bytes, k: int) -> int:
    """The line of the k-th bracket (strings hold no raw newlines, so lines are the file's)."""
    seen = 0
    for match in re.finditer(rb"[\[\]{}]", skeleton):
        if seen == k:
            return skeleton.count(b"\n", 0, match.start()) + 1
        seen += 1
    return 0


def _find_problem(value: Any, path: list) -> tuple[str, str] | None:
    """The JSON path and message of the first value that cannot stay (depth is bounded already)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return json_path(path), "a number too large to store (it overflows to infinity)"
    elif isinstance(value, str):
        if _SURROGATE.search(value):
            return json_path(path), f"text {_short(value)} holds a lone UTF-16 surrogate, which UTF-8 cannot store"
    elif isinstance(value, _Refused):
        return json_path(path), value.message
    elif isinstance(value, list):
        for i, item in enumerate(value):
            path.append(i)
            found = _find_problem(item, path)
            path.pop()
            if found:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                return json_path(path), f"the key {_short(key)} holds a lone UTF-16 surrogate, which UTF-8 cannot store"
            path.append(key)
            found = _find_problem(item, path)
            path.pop()
            if found:
                return found
    return None


def json_path(parts: list) -> str:
    """``["runs", 0, "acc_matrix", 1]`` → ``runs[0].acc_matrix[1]`` (as the schema's messages write it)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if re.fullmatch(r"[^\s.\[\]'\"\\]{1,80}", part) and part.isprintable() else _short(part)
            out += f".{name}" if out else name
    return out


def _short(text: str) -> str:
    return ascii(text[:60]) + ("…" if len(text) > 60 else "")


def _no_duplicates(what: str):
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            dup = next(k for k, _ in pairs if k in seen or seen.add(k))
            raise ProjectFileError(f"{what} has a duplicate key {_short(dup)}")
        return result
    return hook


def _no_constant(what: str):
    def hook(name: str) -> Any:
        raise ProjectFileError(f"{what} contains {name}, which JSON does not allow")
    return hook
