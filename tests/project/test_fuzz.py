"""Mutated archives (byte-wise, and structure-aware on project.json and the member list): load
succeeds or raises ProjectFileError, nothing else; and what loads saves and loads again."""

from __future__ import annotations

import copy
import json
import zipfile

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from modstudio.project import ProjectFileError, load_project
from modstudio.project.saving import save_project

from tests.mutations import byte_mutation, mutate

from .conftest import make_project, read_members, tiny_task, write_zip


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """A normal archive, and one with every member stored so mutations reach the JSON text."""
    folder = tmp_path_factory.mktemp("fuzz")
    project = make_project([tiny_task()], runs=1, features=4)
    normal = project.save(folder / "normal.modstudio")
    stored = write_zip(folder / "stored.modstudio", read_members(normal), compress=False)
    return [normal.read_bytes(), stored.read_bytes()]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 1), ops=st.lists(byte_mutation, min_size=1, max_size=4))
def test_mutated_archives_load_or_raise_project_file_error(tmp_path, archives, which, ops):
    path = tmp_path / "mutant.modstudio"
    path.write_bytes(mutate(archives[which], ops))
    try:
        project = load_project(path)
    except ProjectFileError:
        return
    out = save_project(project, tmp_path / "again.modstudio", backup=False, durable=False)
    assert load_project(out) == project


def test_fuzz_baseline_loads(tmp_path, archives):
    for i, data in enumerate(archives):
        (tmp_path / f"{i}.modstudio").write_bytes(data)
        assert load_project(tmp_path / f"{i}.modstudio").runs[0].weights
    with zipfile.ZipFile(tmp_path / "1.modstudio") as z:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())


# --------------------------------------------------------------------------- structure-aware mutations
#
# Valid archives whose project.json is changed as a parsed document (types, nesting, numbers,
# strings, keys, list members) and whose member list is changed (dropped, added, swapped,
# truncated members), then zipped again with valid CRCs, so every case reaches the reader, the
# schema and the checks behind them. Each case must be refused with a ProjectFileError or load;
# and whatever loads must save, and load again to an equal project.


class Raw:
    """JSON text json.dumps cannot write (overflowing or huge numbers, NaN, lone surrogates)."""

    def __init__(self, text: str) -> None:
        self.text = text


VALUES = [
    None, True, False, 0, 1, -1, 2, 3, 7, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, 0.5, -0.0, 1e-300,
    1e308, -1e308, 3.25, "", "x", "Input 1", "expansion", "finished", "2025-01-02T03:04:05+00:00",
    "../../etc/passwd", "é✓" * 3, "\x00\n", "a" * 5000, [], {}, [0], [[]], [1, 2], {"a": 1}, [None, None],
    {"builtin": "digits"}, {"path": "/nonexistent/private.csv"}, list(range(300)),
    Raw("1e999"), Raw("-1e999"), Raw("1" * 400), Raw("NaN"), Raw("[" * 80 + "]" * 80), Raw('"\\ud800"'),
    Raw('{"\\udc00": 1}'), Raw("1E+308"), Raw("-0"), Raw("0.000000000000000000000001"),
]

operation = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, len(VALUES) - 1)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("duplicate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("copy"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("wrap"), st.integers(0, 10**6), st.integers(0, 1)),
    st.tuples(st.just("nudge"), st.integers(0, 10**6), st.integers(-3, 3)),
    st.tuples(st.just("member"), st.integers(0, 10**6), st.integers(0, 3)),
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


def _get(doc, path):
    for part in path:
        doc = doc[part]
    return doc


def _set(doc, path, value):
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _nudge(value, k):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + k if k else -value
    if isinstance(value, float):
        return value * 10.0 ** (k * 100) if abs(k) == 3 else value + k
    if isinstance(value, str):
        return value[:k] if k < 0 else value + "🙂" * k if k else value.upper()
    if isinstance(value, list):
        return value[:k] if k < 0 else value + value[:k]
    return value


def _mutate_doc(doc, op, pos, arg, members):
    paths = list(_paths(doc))
    path = paths[pos % len(paths)]
    if op == "set":
        value = VALUES[arg]
        return _set(doc, path, copy.deepcopy(value) if not isinstance(value, Raw) else value)
    if op == "delete" and path:
        parent = _get(doc, path[:-1])
        del parent[path[-1]]
        return doc
    if op == "duplicate" and path:
        parent = _get(doc, path[:-1])
        item = copy.deepcopy(parent[path[-1]])
        if isinstance(parent, list):
            parent.append(item)
        else:
            parent[f"{path[-1]}_again"] = item
        return doc
    if op == "copy":
        return _set(doc, path, copy.deepcopy(_get(doc, paths[arg % len(paths)])))
    if op == "wrap":
        value = _get(doc, path)
        return _set(doc, path, [value] if arg else {"value": value})
    if op == "nudge":
        return _set(doc, path, _nudge(_get(doc, path), arg))
    if op == "member" and members:
        names = sorted(members)
        name = names[pos % len(names)]
        if arg == 0:
            del members[name]
        elif arg == 1:
            members["data/9.npz" if name.startswith("data/") else "weights/zz.safetensors"] = members[name]
        elif arg == 2:
            other = names[(pos + 1) % len(names)]
            members[name], members[other] = members[other], members[name]
        else:
            members[name] = members[name][: len(members[name]) // 2]
    return doc


def _json_text(doc) -> bytes:
    raws: list[str] = []

    def encode(value):
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"@@RAW{len(raws) - 1}@@"
        raise TypeError(type(value).__name__)

    text = json.dumps(doc, default=encode, sort_keys=False)
    for i, raw in enumerate(raws):
        text = text.replace(f'"@@RAW{i}@@"', raw, 1)
    return text.encode()


@pytest.fixture(scope="module")
def structured(tmp_path_factory):
    """Two valid archives as (members, parsed project.json): a run with weights and an embedded
    task; a group, a run with its graph snapshot, a task rebuilt from a built-in recipe."""
    import modstudio.data as msdata

    folder = tmp_path_factory.mktemp("structured")
    first = make_project([tiny_task()], runs=1, features=4)
    recipe = msdata.split_by_class(msdata.load_builtin("blobs", n_samples=40, n_features=4, n_classes=4), n_tasks=2)
    second = make_project([recipe[1]], runs=2, weights=False, embed="never", features=4)
    group = second.graph.add_group("block")
    second.graph.set_group(next(iter(second.graph.nodes)), group)
    second.runs[1].graph = second.graph.to_dict()
    out = []
    for i, project in enumerate((first, second)):
        members = read_members(project.save(folder / f"{i}.modstudio"))
        out.append((members, json.loads(members["project.json"])))
    return out


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data, zipfile.ZIP_DEFLATED if name == "project.json" else zipfile.ZIP_STORED)
    return path


@settings(max_examples=2000, derandomize=True, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate, Phase.shrink],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(which=st.integers(0, 1), ops=st.lists(operation, min_size=1, max_size=3))
def test_structurally_mutated_projects_load_and_round_trip_or_are_refused(tmp_path, structured, which, ops):
    members, doc = structured[which]
    members, doc = dict(members), copy.deepcopy(doc)
    for op, pos, arg in ops:
        doc = _mutate_doc(doc, op, pos, arg, members)
    if "project.json" in members:
        members["project.json"] = _json_text(doc)
    path = _zip(tmp_path / "case.modstudio", members)
    try:
        project = load_project(path)
    except ProjectFileError as exc:
        event("refused")
        assert str(exc).isprintable() or "\n" in str(exc)
        return
    event("loaded: saved and loaded again")
    out = save_project(project, tmp_path / "again.modstudio", backup=False, durable=False)
    again = load_project(out)
    assert again == project
    assert save_project(again, tmp_path / "third.modstudio", backup=False, durable=False).read_bytes() == out.read_bytes()
