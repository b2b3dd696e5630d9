"""Byte-wise mutations of valid archives: load succeeds or raises ProjectFileError, nothing else."""

from __future__ import annotations

import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modstudio.project import ProjectFileError, load_project

from .conftest import make_project, read_members, tiny_task, write_zip


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """A normal archive, and one with every member stored so mutations reach the JSON text."""
    folder = tmp_path_factory.mktemp("fuzz")
    project = make_project([tiny_task()], runs=1, features=4)
    normal = project.save(folder / "normal.modstudio")
    stored = write_zip(folder / "stored.modstudio", read_members(normal), compress=False)
    return [normal.read_bytes(), stored.read_bytes()]


mutation = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 10**9), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10**9), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**9), st.integers(0, 255)),
    st.tuples(st.just("digit"), st.integers(0, 10**9), st.integers(0, 9)),
)


def mutate(data: bytes, ops) -> bytes:
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
        elif op == "digit":  # nudge a digit: reaches numbers in the JSON (shapes, versions, sizes)
            index = next((i for i in range(pos, len(buf)) if 48 <= buf[i] <= 57), None)
            if index is not None:
                buf[index] = 48 + value
    return bytes(buf)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 1), ops=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_archives_load_or_raise_project_file_error(tmp_path, archives, which, ops):
    path = tmp_path / "mutant.modstudio"
    path.write_bytes(mutate(archives[which], ops))
    try:
        load_project(path)
    except ProjectFileError:
        pass


def test_fuzz_baseline_loads(tmp_path, archives):
    for i, data in enumerate(archives):
        (tmp_path / f"{i}.modstudio").write_bytes(data)
        assert load_project(tmp_path / f"{i}.modstudio").runs[0].weights
    with zipfile.ZipFile(tmp_path / "1.modstudio") as z:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
