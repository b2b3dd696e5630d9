"""Byte mutations for the fuzz tests of untrusted files (archives, dataset files): a hypothesis
strategy of edits and the function that applies them, shared so every reader is fuzzed alike."""

from __future__ import annotations

from hypothesis import strategies as st

byte_mutation = st.tuples(st.sampled_from(["set", "cut", "insert", "digit", "delete"]),
                          st.integers(0, 10**9), st.integers(0, 255))


def mutate(data: bytes, ops) -> bytes:
    """``data`` with each (op, position, value) applied; positions wrap around the length."""
    buf = bytearray(data)
    for op, pos, value in ops:
        if not buf:
            break
        pos %= len(buf)
        if op == "set":
            buf[pos] = value
        elif op == "cut":
            del buf[pos:]
        elif op == "insert":
            buf.insert(pos, value)
        elif op == "delete":
            del buf[pos]
        else:  # "digit": nudge the next digit, which reaches shapes, sizes, versions and numbers in text
            index = next((i for i in range(pos, len(buf)) if 48 <= buf[i] <= 57), None)
            if index is not None:
                buf[index] = 48 + value % 10
    return bytes(buf)
