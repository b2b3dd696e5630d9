"""A project file is untrusted input (issue 17): whatever it holds, loading gives a ProjectFileError
saying what and where, or a project that saves and loads again; and save refuses what load would.

Every case is generated here from a small valid project."""

from __future__ import annotations

import copy
import json
import os
import resource
import threading
import time

import numpy as np
import pytest

from modstudio.project import Limits, ProjectFileError, load_project
from modstudio.project import saving, tensors
from modstudio.project.bounded_json import read_json

from .conftest import make_project, read_members, tiny_task, write_zip


@pytest.fixture
def valid(tmp_path):
    """(members of a valid archive, its project.json as a dict, the run's weights member)."""
    project = make_project([tiny_task()], runs=1, features=4)
    path = project.save(tmp_path / "valid.modstudio")
    members = read_members(path)
    path.unlink()
    doc = json.loads(members["project.json"])
    weights = next(n for n in members if n.startswith("weights/"))
    return members, doc, weights


def archive(tmp_path, members, doc=None, text=None, name="case.modstudio"):
    data = text if text is not None else json.dumps(doc, ensure_ascii=False).encode()
    return write_zip(tmp_path / name, {**members, "project.json": data})


def refused(path, match, **kw):
    with pytest.raises(ProjectFileError, match=match):
        load_project(path, **kw)


def node_of(doc, kind):
    return next(n for n in doc["graph"]["nodes"] if n["kind"] == kind)


def with_literal(doc, setter, literal: str) -> bytes:
    """project.json with ``literal`` (raw JSON text) where ``setter`` puts a placeholder."""
    doc = copy.deepcopy(doc)
    setter(doc, "@@LITERAL@@")
    return json.dumps(doc).replace('"@@LITERAL@@"', literal).encode()


# --------------------------------------------------------------------------- 6: loads but cannot be saved


@pytest.mark.parametrize("setter,literal,path", [
    (lambda d, v: d.update(name=v), '"a\\ud800b"', r"project.json: name: text .* lone UTF-16 surrogate"),
    (lambda d, v: d["tasks"][0]["meta"].update(name=v), '"\\udfff"', r"tasks\[0\].meta.name: text"),
    (lambda d, v: d["runs"][0]["settings"].update({"\ud800": 1}), None, r"runs\[0\].settings: the key"),
    (lambda d, v: node_of(d, "linear").update(pos=[0.0, v]), "1e999", r"graph.nodes\[1\].pos\[1\]: a number too large"),
    (lambda d, v: node_of(d, "linear").update(pos=[v, 0.0]), "-1E+400", r"graph.nodes\[1\].pos\[0\]: a number too large"),
    (lambda d, v: d["runs"][0]["curves"][0].update(loss=v), "2e308", r"runs\[0\].curves\[0\].loss: a number too large"),
], ids=["surrogate-name", "surrogate-task", "surrogate-key", "pos-inf", "pos-minus-inf", "curve-inf"])
def test_values_that_could_not_be_saved_again_are_refused_naming_their_path(tmp_path, valid, setter, literal, path):
    members, doc, _ = valid
    if literal is None:  # the key itself is the problem: json.dumps escapes it as \ud800
        doc = copy.deepcopy(doc)
        setter(doc, None)
        text = json.dumps(doc).encode()
    else:
        text = with_literal(doc, setter, literal)
    refused(archive(tmp_path, members, text=text), path)


def test_valid_surrogate_pairs_and_tiny_numbers_load_and_save_again(tmp_path, valid):
    members, doc, _ = valid
    doc = copy.deepcopy(doc)
    node_of(doc, "linear")["pos"] = [0.5, "@@POS@@"]
    text = with_literal(doc, lambda d, v: d.update(name=v), '"emoji \\ud83d\\ude00"')
    text = text.replace(b'"@@POS@@"', b"-1e-999")
    project = load_project(archive(tmp_path, members, text=text))
    assert project.name == "emoji \U0001F600"
    assert next(n for n in project.graph.nodes.values() if n.kind == "linear").pos == (0.5, 0.0)
    again = load_project(project.save(tmp_path / "again.modstudio"))
    assert again == project


# --------------------------------------------------------------------------- 12, 13: bounded parsing


def test_deep_nesting_is_refused_before_any_other_work(tmp_path, valid, monkeypatch):
    members, doc, _ = valid
    from modstudio.project import loading, migrations

    def never(*a, **k):
        raise AssertionError("migrate must not see a document read_json refused")

    monkeypatch.setattr(loading, "migrate", never)
    for depth in (65, 300, 5000, 200_000):
        text = with_literal(doc, lambda d, v: d["runs"][0].update(curves=v), "[" * depth + "]" * depth)
        refused(archive(tmp_path, members, text=text), r"nested too deeply: lists and objects more than 64 levels")
    monkeypatch.undo()
    # deep inside a migration's input: no RecursionError either (the deepcopy sees a bounded document)
    text = with_literal({**doc, "format_version": 0}, lambda d, v: d["runs"][0].update(curves=v), "[" * 300 + "]" * 300)
    monkeypatch.setitem(migrations.MIGRATIONS, 0, lambda d: d)
    refused(archive(tmp_path, members, text=text), r"nested too deeply")


def test_a_small_file_that_expands_to_millions_of_values_is_refused_fast(tmp_path, valid):
    members, doc, _ = valid
    block = ",".join(["[]"] * 150)
    rng = np.random.default_rng(0)
    many = "[" + ",".join(f"{block},{n}" for n in rng.integers(0, 10**6, 19_000_000 // 150)) + "]"
    text = with_literal(doc, lambda d, v: d["runs"][0].update(curves=v), many)
    path = archive(tmp_path, members, text=text)
    # as in the report: ~740 KB that expand to 57 MB (78×, under the zip-bomb ratio)
    assert path.stat().st_size < 1_000_000 and len(text) > 55_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    refused(path, r"holds about 38,[\d,]+ values, more than the limit of 8,000,000")
    assert time.perf_counter() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 400_000  # KiB: no 57 MB of lists
    refused(archive(tmp_path, members, doc), "more than the limit of 100", limits=Limits(max_json_values=100))


@pytest.mark.parametrize("literal,message", [
    ("1" * 5000, r"runs\[0\].params_per_task\[0\]: a number literal of 5,000 characters, longer than the limit of 100"),
    ("-" + "9" * 101, r"a number literal of 102 characters"),
    ("0." + "1" * 200, r"a number literal of 202 characters"),
])
def test_huge_number_literals_are_refused_naming_their_path(tmp_path, valid, literal, message):
    members, doc, _ = valid
    text = with_literal(doc, lambda d, v: d["runs"][0]["params_per_task"].__setitem__(0, v), literal)
    refused(archive(tmp_path, members, text=text), message)


def test_read_json_limits_and_messages():
    assert read_json(b"[" * 64 + b"]" * 64, "x") == eval("[" * 64 + "]" * 64)
    with pytest.raises(ProjectFileError, match=r"x is nested too deeply.*\(line 3\)"):
        read_json(b'{"a":\n"[[[[",\n' + b"[" * 70 + b"]" * 70 + b"}", "x")
    assert read_json(b'["[[[[[[[[", "\\"]]]", 1]', "x", Limits(max_json_depth=1)) == ["[[[[[[[[", '"]]]', 1]
    with pytest.raises(ProjectFileError, match="duplicate key 'a'"):
        read_json(b'{"a": 1, "a": 2}', "x")
    with pytest.raises(ProjectFileError, match="contains Infinity"):
        read_json(b"[Infinity]", "x")
    with pytest.raises(ProjectFileError, match="malformed JSON"):
        read_json(b"]" * 10_000_000, "x")  # a file of closing brackets: cheap to refuse
    assert read_json(b"[1e308, -1e-400, 12345678901234567890]", "x") == [1e308, -0.0, 12345678901234567890]


# --------------------------------------------------------------------------- 14, 15: graph values


def test_infinite_integer_param_and_self_loop(tmp_path, valid):
    members, doc, _ = valid
    for literal in ("1e999", "-1e999"):
        text = with_literal(doc, lambda d, v: node_of(d, "linear")["params"].update(out_features=v), literal)
        refused(archive(tmp_path, members, text=text), r"graph.nodes\[1\].params.out_features: a number too large")
    text = with_literal(doc, lambda d, v: node_of(d, "linear")["params"].update(out_features=v), "1e300")
    refused(archive(tmp_path, members, text=text), r"graph: node 'Linear 1': out_features must be a whole number within")
    # a cycle of one node: reported by the check like any cycle (the run's weights then cannot be checked)
    looped = copy.deepcopy(doc)
    linear = node_of(looped, "linear")["id"]
    looped["graph"]["edges"].append({"src": linear, "dst": linear, "src_port": "out", "dst_port": "in"})
    refused(archive(tmp_path, members, looped), r"cannot check against node '(Linear 1|Task head 1)'")
    looped["runs"] = []
    project = load_project(archive(tmp_path, {"project.json": b"", "data/0.npz": members["data/0.npz"]}, looped))
    report = project.graph.check(input_shape=(4,))
    assert any(e.kind.value == "cycle" and e.node_id == linear for e in report.errors)
    assert load_project(project.save(tmp_path / "again.modstudio")) == project


# --------------------------------------------------------------------------- 16: lying safetensors headers


def _st(header, body=b""):
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


@pytest.mark.parametrize("header,body,message", [
    ({"a": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}, bytes(4), r"tensor 'a' has dtype \['F32'\]"),
    ({"a": {"dtype": {"x": 1}, "shape": [1], "data_offsets": [0, 4]}}, bytes(4), r"has dtype"),
    ({"a": {"dtype": "F32", "shape": [2**40, 2**40, 0], "data_offsets": [0, 0]}}, b"", "impossible shape"),
    ({"a": {"dtype": "F64", "shape": [0, 2**31, 2**31], "data_offsets": [0, 0]}}, b"", "impossible shape"),
    ({"a": {"dtype": "U8", "shape": [1] * 40, "data_offsets": [0, 1]}}, bytes(1), "impossible shape"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "__metadata__": {"k": 1}}, bytes(4), "__metadata__"),
])
def test_lying_safetensors_headers(tmp_path, valid, header, body, message):
    members, _, weights = valid
    refused(write_zip(tmp_path / "st.modstudio", {**members, weights: _st(header, body)}), message)
    with pytest.raises(ProjectFileError, match=message):
        tensors.decode(_st(header, body), "w")


def test_safetensors_header_json_is_bounded_too(valid, tmp_path):
    members, _, weights = valid
    for raw, message in [(b"[" * 1000 + b"]" * 1000, "nested too deeply"), (b'{"a": 1, "a": 2}', "duplicate key"),
                         (b'{"a": ' + b"9" * 5000 + b"}", "number literal of 5,000")]:
        data = len(raw).to_bytes(8, "little") + raw
        refused(write_zip(tmp_path / "h.modstudio", {**members, weights: data}), message)


# --------------------------------------------------------------------------- 17: not a regular file


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_devices_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.modstudio"
    os.mkfifo(fifo)
    result = {}

    def load():
        try:
            load_project(fifo)
        except ProjectFileError as exc:
            result["error"] = str(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "loading a FIFO blocked"
    assert "is a pipe (FIFO), not a project file" in result["error"]
    for device in ("/dev/zero", "/dev/null", "/dev/urandom"):
        if os.path.exists(device):
            refused(device, "is a device, not a project file")
    link = tmp_path / "link.modstudio"
    link.symlink_to("/dev/zero")
    refused(link, "is a device")
    refused(tmp_path, "cannot open .*: it is a folder")


# --------------------------------------------------------------------------- 20-22: runs that load but cannot be used


def _run_case(tmp_path, members, doc, weights_member, arrays, name="run.modstudio"):
    return write_zip(tmp_path / name, {**members, "project.json": json.dumps(doc).encode(),
                                      weights_member: tensors.encode(arrays)})


def test_paths_must_name_instances_the_bank_holds(tmp_path, valid):
    members, doc, weights = valid
    arrays = tensors.decode(members[weights], "w")
    linear, relu, head = (node_of(doc, k)["id"] for k in ("linear", "relu", "head"))
    cases = [
        (lambda d: d["runs"][0]["paths"][0].update({linear: 2}), r"task 0 runs through instance 2 of node 'Linear 1'"),
        (lambda d: d["runs"][0]["paths"][0].update({linear: 10**9}), r"instance 1000000000 of node 'Linear 1', which the"),
        (lambda d: d["runs"][0]["paths"][0].update({relu: 10**9}), r"node 'ReLU 1' has no tensors, so its only instance is 0"),
        (lambda d: d["runs"][0]["paths"][0].update({head: 3}), r"head instance 3 has no task"),
        (lambda d: d["runs"][0]["paths"][0].pop(relu), r"paths\[0\] does not name node 'ReLU 1'"),
        (lambda d: d["runs"][0]["paths"][0].update({node_of(d, "input")["id"]: 0}), r"names the input node"),
    ]
    for i, (edit, message) in enumerate(cases):
        case = copy.deepcopy(doc)
        edit(case)
        refused(_run_case(tmp_path, members, case, weights, arrays, f"p{i}.modstudio"), message)
    # a bank with a gap: instance 5 without 1–4 (restoring would grow millions of modules for 10**9)
    gap = {**arrays, **{k.replace(f"{linear}/1/", f"{linear}/5/"): v for k, v in arrays.items() if f"{linear}/1/" in k}}
    gap = {k: v for k, v in gap.items() if f"{linear}/1/" not in k}
    refused(_run_case(tmp_path, members, doc, weights, gap), r"has instance 5 but no instance 1")


def test_save_refuses_the_same_runs(tmp_path):
    project = make_project([tiny_task()], runs=1, features=4)
    linear = next(n for n in project.graph.nodes.values() if n.kind == "linear").id
    project.runs[0].paths[0][linear] = 7
    with pytest.raises(ProjectFileError, match=r"cannot save x.modstudio: .*instance 7 of node 'Linear 1'"):
        project.save(tmp_path / "x.modstudio")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- 11: save checks task data


def test_save_refuses_task_data_load_would_refuse(tmp_path):
    project = make_project([tiny_task()], runs=0, features=4)
    path = project.save(tmp_path / "p.modstudio")
    before = path.read_bytes()
    task = project.tasks[0]
    for name, poison in [("nan", np.nan), ("inf", np.inf), ("changed", 123.0)]:
        x = np.array(task.train.x)
        x[0, 0] = poison
        saved_x = task.train.x
        task.train.x = x  # forced in behind the task's back
        with pytest.raises(ProjectFileError, match=r"cannot save p.modstudio: tasks\[0\]: .*"
                           r"(NaN or infinite|does not match its fingerprint)"):
            project.save(path)
        task.train.x = saved_x
        assert path.read_bytes() == before, name
    x = task.train.x  # the task's own array, unlocked and changed in place
    x.flags.writeable = True
    kept, x[1, 1] = x[1, 1], np.nan
    with pytest.raises(ProjectFileError, match=r"tasks\[0\]: .*NaN or infinite"):
        project.save(path)
    x[1, 1] = kept
    assert load_project(project.save(path)) == project  # restored: saves again
    path.write_bytes(before)
    y = np.array(task.train.y)
    y[0] = 5  # out of range for two classes
    task.train.y = y
    with pytest.raises(ProjectFileError, match=r"label 5 is out of range"):
        project.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.modstudio", "p.modstudio~"]


def test_save_refuses_what_the_limits_would_refuse_on_load(tmp_path, monkeypatch):
    project = make_project([tiny_task()], runs=1, features=4)
    project.runs[0].params_per_task = [10**150]  # a 151-digit literal: load refuses over 100
    with pytest.raises(ProjectFileError, match=r"cannot save .*runs\[0\].params_per_task\[0\]: a number literal"):
        project.save(tmp_path / "a.modstudio")
    project.runs[0].params_per_task = [1]
    weights = {**project.runs[0].weights, "extra/x" + "y" * 100: np.zeros(1, np.float32)}
    with pytest.raises(ProjectFileError, match=r"header, over the limit of 64"):
        tensors.encode_parts(weights, Limits(max_tensor_header_bytes=64))
    with pytest.raises(ProjectFileError, match=r"tensors, over the limit of 3"):
        tensors.encode_parts(weights, Limits(max_tensors=3))
    project.runs[0].weights["extra/\ud800"] = np.zeros(1, np.float32)
    with pytest.raises(ProjectFileError, match=r"lone UTF-16 surrogate"):
        project.save(tmp_path / "b.modstudio")
    del project.runs[0].weights["extra/\ud800"]
    project.runs[0].weights["extra/deep"] = np.zeros((1,) * 33, np.float32)
    with pytest.raises(ProjectFileError, match=r"33 dimensions, more than the 32"):
        project.save(tmp_path / "b.modstudio")
    del project.runs[0].weights["extra/deep"]
    monkeypatch.setattr(saving, "DEFAULT_LIMITS", Limits(max_members=2))
    with pytest.raises(ProjectFileError, match=r"would have 3 members"):
        project.save(tmp_path / "c.modstudio")
    assert list(tmp_path.iterdir()) == []


def test_highly_compressible_data_is_stored_so_it_loads_again(tmp_path):
    """All-zero data deflates ~1000×: saved deflated, load would call it a zip bomb (task arrays are
    always stored now; project.json is the member that could deflate that far)."""
    import modstudio.data as msdata

    zeros = msdata.Split(np.zeros((40_000, 16), np.float32), np.arange(40_000) % 2)
    task = msdata.Task("zeros", [0, 1], ["a", "b"], zeros, zeros, zeros)
    project = make_project([task], runs=0, features=16)
    project.runs = []
    project.name = "n" * 3_000_000  # a project.json that deflates far beyond 200×
    path = project.save(tmp_path / "z.modstudio")
    import io
    import zipfile

    with zipfile.ZipFile(path) as outer:
        assert outer.getinfo("project.json").compress_type == zipfile.ZIP_STORED
        with zipfile.ZipFile(io.BytesIO(outer.read("data/0.npz"))) as inner:
            kinds = {i.filename: i.compress_type for i in inner.infolist()}
    assert set(kinds.values()) == {zipfile.ZIP_STORED}
    assert load_project(path) == project


def test_a_huge_central_directory_is_refused_before_zipfile_parses_it(tmp_path, monkeypatch):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for i in range(3000):
            z.writestr(f"{i}", b"")
    data = bytearray(buffer.getvalue())
    path = tmp_path / "many.modstudio"
    path.write_bytes(bytes(data))
    refused(path, "has 3,000 members, more than the limit 10", limits=Limits(max_members=10))
    end = data.rfind(b"PK\x05\x06")
    data[end + 8:end + 12] = (5).to_bytes(2, "little") * 2  # the record lies: 5 entries
    path.write_bytes(bytes(data))
    from modstudio.project import archive as archive_module

    monkeypatch.setattr(archive_module.zipfile, "ZipFile", lambda *a, **k: pytest.fail("parsed the directory"))
    refused(path, r"directory is [\d,]+ bytes, more than 10 members \(the limit\) can need", limits=Limits(max_members=10))
