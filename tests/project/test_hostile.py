"""Hostile archives, built here: each refused with a ProjectFileError that names the problem,
nothing executed, nothing written anywhere."""

from __future__ import annotations

import io
import json
import os
import pickle
import stat
import zipfile

import numpy as np
import pytest

from modstudio.project import FORMAT_VERSION, Limits, ProjectFileError, load_project

from .conftest import make_project, read_members, tiny_task, write_zip, zip_bytes

MARKER = "pwned-marker"


class Evil:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def valid(tmp_path):
    """(members of a valid archive, its project.json as a dict, the run's weights member)."""
    project = make_project([tiny_task()], runs=1, features=4)
    (tmp_path / "src").mkdir()
    path = project.save(tmp_path / "src" / "valid.modstudio")
    members = read_members(path)
    path.unlink()
    doc = json.loads(members["project.json"])
    weights = next(n for n in members if n.startswith("weights/"))
    return members, doc, weights


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A folder for the hostile archives; loads run from an empty working folder, and afterwards
    nothing may have appeared anywhere but the archives the test wrote."""
    cwd, inbox = tmp_path / "cwd", tmp_path / "inbox"
    cwd.mkdir()
    inbox.mkdir()
    monkeypatch.chdir(cwd)
    before = _tree(tmp_path, inbox)
    yield inbox
    assert _tree(tmp_path, inbox) == before, "loading wrote files"
    assert not (tmp_path / MARKER).exists(), "a payload executed"


def _tree(root, skip):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if skip not in p.parents)


def refused(path, match, **kw):
    folder = path if path.is_dir() else path.parent
    before = sorted(folder.iterdir())
    with pytest.raises(ProjectFileError, match=match):
        load_project(path, **kw)
    assert sorted(folder.iterdir()) == before, "loading wrote beside the archive"


def with_json(members, doc):
    return {**members, "project.json": json.dumps(doc).encode()}


# --------------------------------------------------------------------------- member names


@pytest.mark.parametrize("name,message", [
    ("../evil.txt", r"leaves the archive \('\.\.'\)"),
    ("data/../../evil.npz", r"leaves the archive"),
    ("/etc/evil", "absolute member name"),
    ("C:/evil", "drive or colon"),
    ("data\\..\\evil.npz", "backslash"),
    ("weights/x.pkl", "unknown member 'weights/x.pkl'"),
    ("weights/model.pt", "unknown member"),
    ("notes.txt", "unknown member 'notes.txt'"),
    ("data/", "unexpected directory entry"),
])
def test_bad_member_names(tmp_path, valid, sandbox, name, message):
    members, _, _ = valid
    path = write_zip(sandbox / "bad.modstudio", [*members.items(), (name, b"x")])
    refused(path, message)


def test_unreferenced_and_missing_members(tmp_path, valid, sandbox):
    members, doc, weights = valid
    refused(write_zip(sandbox / "a.modstudio", {**members, "data/7.npz": members["data/0.npz"]}),
            r"'data/7.npz' is not referenced by project.json")
    refused(write_zip(sandbox / "b.modstudio", {k: v for k, v in members.items() if k != weights}),
            rf"member '{weights}' is missing")
    refused(write_zip(sandbox / "c.modstudio", {k: v for k, v in members.items() if k != "project.json"}),
            "has no project.json")


def test_duplicate_member(tmp_path, valid, sandbox):
    members, _, _ = valid
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = write_zip(sandbox / "dup.modstudio", [*members.items(), ("project.json", b"{}")])
    refused(path, "duplicate member 'project.json'")


def test_symlink_member(tmp_path, valid, sandbox):
    members, _, _ = valid
    info = zipfile.ZipInfo("data/0.npz")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    rest = [(k, v) for k, v in members.items() if k != "data/0.npz"]
    refused(write_zip(sandbox / "link.modstudio", [*rest, (info, b"/etc/passwd")]), "is a symlink")


# --------------------------------------------------------------------------- sizes and bombs


def test_zip_bomb_member_is_refused_by_ratio(tmp_path, valid, sandbox):
    members, _, _ = valid
    bomb = {**members, "data/0.npz": bytes(60 * 1024 * 1024)}  # 60 MB of zeros deflate to ~60 KB
    refused(write_zip(sandbox / "bomb.modstudio", bomb), r"expands .*× \(limit 200×\): a zip bomb")


def test_oversized_members_and_totals(tmp_path, valid, sandbox):
    members, _, _ = valid
    path = write_zip(sandbox / "ok.modstudio", members)
    refused(path, "over the limit", limits=Limits(max_json_bytes=100))
    refused(path, "over the limit", limits=Limits(max_member_bytes=100))
    refused(path, "in total", limits=Limits(max_total_bytes=500))
    refused(path, "members, more than the limit", limits=Limits(max_members=2))


def test_member_larger_than_it_declares_is_refused(tmp_path, valid, sandbox):
    members, _, _ = valid
    path = write_zip(sandbox / "lie.modstudio", members)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("project.json")
    # shrink the declared size in the central directory: inflating would now exceed it
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        name_len = int.from_bytes(data[offset + 28:offset + 30], "little")
        if data[offset + 46:offset + 46 + name_len] == b"project.json":
            data[offset + 24:offset + 28] = (info.file_size // 2).to_bytes(4, "little")
        offset = data.find(b"PK\x01\x02", offset + 4)
    path.write_bytes(bytes(data))
    refused(path, r"'project.json' is (damaged|not the)")


def test_npz_bomb_inside_embedded_data(tmp_path, valid, sandbox):
    members, _, _ = valid
    inner = zip_bytes({"train_x.npy": bytes(40 * 1024 * 1024)})  # a bomb inside the npz
    refused(write_zip(sandbox / "npzbomb.modstudio", {**members, "data/0.npz": inner}, compress=False),
            "zip bomb")


def test_npy_header_claiming_a_huge_array(tmp_path, valid, sandbox):
    members, _, _ = valid
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (10**6, 10**6)})
    inner = zip_bytes({"train_x.npy": buffer.getvalue() + b"\0" * 16})
    refused(write_zip(sandbox / "npy.modstudio", {**members, "data/0.npz": inner}), "declares shape")


# --------------------------------------------------------------------------- pickle payloads


def test_pickle_in_place_of_weights_is_not_executed(tmp_path, valid, sandbox):
    members, _, weights = valid
    payload = pickle.dumps(Evil(tmp_path / MARKER))
    refused(write_zip(sandbox / "pickle.modstudio", {**members, weights: payload}),
            "not a valid safetensors file")


def test_pickle_in_place_of_data_is_not_executed(tmp_path, valid, sandbox):
    members, _, _ = valid
    evil = np.empty(1, dtype=object)
    evil[0] = Evil(tmp_path / MARKER)
    buffer = io.BytesIO()
    np.savez(buffer, train_x=evil)
    refused(write_zip(sandbox / "pnpz.modstudio", {**members, "data/0.npz": buffer.getvalue()}),
            "unsupported dtype object")
    refused(write_zip(sandbox / "raw.modstudio", {**members, "data/0.npz": pickle.dumps(Evil(tmp_path / MARKER))}),
            "not a valid .npz file")


def test_safetensors_with_object_dtype_or_bad_offsets(tmp_path, valid, sandbox):
    members, _, weights = valid

    def st(header: dict, body: bytes) -> bytes:
        text = json.dumps(header).encode()
        return len(text).to_bytes(8, "little") + text + body

    cases = [
        (st({"bank/x/0/w": {"dtype": "O", "shape": [1], "data_offsets": [0, 8]}}, bytes(8)), "only numeric dtypes"),
        (st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8)), "do not match its shape"),
        (st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
             "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(4)), "overlaps"),
        ((10**12).to_bytes(8, "little") + b"{}", "header length"),
        (st([1, 2], b""), "not an object"),
    ]
    for i, (data, message) in enumerate(cases):
        refused(write_zip(sandbox / f"st{i}.modstudio", {**members, weights: data}), message)


# --------------------------------------------------------------------------- broken containers and JSON


def test_truncated_and_garbage_files(tmp_path, valid, sandbox):
    members, _, _ = valid
    data = write_zip(sandbox / "whole.modstudio", members).read_bytes()
    for i, cut in enumerate((10, len(data) // 2, len(data) - 10)):
        (sandbox / f"t{i}.modstudio").write_bytes(data[:cut])
        refused(sandbox / f"t{i}.modstudio", "damaged or truncated zip")
    (sandbox / "garbage.modstudio").write_bytes(b"not a zip at all")
    refused(sandbox / "garbage.modstudio", "damaged or truncated zip")
    refused(sandbox / "missing.modstudio", "cannot open")
    refused(sandbox, "cannot open")


@pytest.mark.parametrize("text,message", [
    (b"{not json", "malformed JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[1, 2]", "top level: expected an object"),
    (b'{"format_version": 1, "format_version": 1}', "duplicate key"),
    (b'{"format_version": NaN}', "NaN"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|expected an object"),
], ids=["syntax", "utf8", "list", "duplicate", "nan", "deep"])
def test_malformed_json(tmp_path, valid, sandbox, text, message):
    members, _, _ = valid
    refused(write_zip(sandbox / "j.modstudio", {**members, "project.json": text}), message)


@pytest.mark.parametrize("edit,message", [
    (lambda d: d.update(name=5), r"name: expected a string, found an integer"),
    (lambda d: d.update(extra=1), r"top level: unknown field 'extra'"),
    (lambda d: d.pop("settings"), r"missing field 'settings'"),
    (lambda d: d["settings"].update(epochs="5"), r"settings.epochs: epochs must be a whole number, not '5'"),
    (lambda d: d["settings"].update(embed_data="sometimes"), r"settings.embed_data: embed_data must be one of auto, always, never"),
    (lambda d: d["runs"][0]["acc_matrix"][1].__setitem__(0, "high"), r"runs\[0\].acc_matrix\[1\]\[0\]: expected a finite number"),
    (lambda d: d["runs"][0].update(status="exploded"), r"runs\[0\].status: must be one of"),
    (lambda d: d["runs"][0].update(started="yesterday"), r"runs\[0\].started: expected an ISO date"),
    (lambda d: d["runs"][0].update(id="../../etc"), r"runs\[0\].id: expected an id"),
    (lambda d: d["runs"][0]["paths"][0].update(nosuchnode=0), r"runs\[0\].paths\[0\]: names node 'nosuchnode'"),
    (lambda d: d["tasks"][0].update(embedded="yes"), r"tasks\[0\].embedded: expected true or false"),
    (lambda d: d["tasks"][0]["meta"].update(classes="all"), r"tasks\[0\]"),
    (lambda d: d.update(format_version="1"), r"format_version: expected an integer"),
])
def test_mistyped_json(tmp_path, valid, sandbox, edit, message):
    members, doc, _ = valid
    edit(doc)
    refused(write_zip(sandbox / "m.modstudio", with_json(members, doc)), message)


def test_dangling_edge_and_unknown_kind(tmp_path, valid, sandbox):
    members, doc, _ = valid
    doc["graph"]["edges"].append({"src": doc["graph"]["nodes"][0]["id"], "dst": "ghost",
                                  "src_port": "out", "dst_port": "in"})
    refused(write_zip(sandbox / "edge.modstudio", with_json(members, doc)), r"graph: .*missing node ghost")
    doc["graph"]["edges"].pop()
    doc["graph"]["nodes"][1]["kind"] = "rm_rf"
    refused(write_zip(sandbox / "kind.modstudio", with_json(members, doc)), r"graph: unknown module kind 'rm_rf'")


def test_newer_format_is_refused_naming_both_versions(tmp_path, valid, sandbox):
    members, doc, _ = valid
    doc["format_version"] = 7
    doc["app_version"] = "3.2"
    refused(write_zip(sandbox / "new.modstudio", with_json(members, doc)),
            rf"written by format 7 \(ModStudio 3.2\); this ModStudio \(.*\) reads up to format {FORMAT_VERSION} — update")


def test_shape_mismatched_weights(tmp_path, valid, sandbox):
    from modstudio.project import tensors

    members, doc, weights = valid
    arrays = tensors.decode(members[weights], "w")
    linear = next(n["id"] for n in doc["graph"]["nodes"] if n["kind"] == "linear")
    head = next(n["id"] for n in doc["graph"]["nodes"] if n["kind"] == "head")
    cases = [
        ({f"bank/{linear}/0/weight": np.zeros((8, 5), np.float32)}, r"expected shape 8×4, found 8×5"),
        ({f"bank/{head}/0/weight": np.zeros((3, 8), np.float32)}, r"expected shape 2×8, found 3×8"),
        ({f"bank/{linear}/0/gamma": np.zeros(8, np.float32)}, r"has no tensor 'gamma'"),
        ({"bank/ghost/0/weight": np.zeros(8, np.float32)}, r"names node 'ghost'"),
        ({f"bank/{linear}/01/weight": np.zeros((8, 4), np.float32)}, r"instance '01'"),
        ({"loose": np.zeros(1, np.float32)}, r"expected bank/<node>/<instance>/<tensor>"),
        ({f"bank/{head}/5/weight": np.zeros((2, 8), np.float32)}, r"head instance 5 has no task"),
    ]
    for i, (change, message) in enumerate(cases):
        data = tensors.encode({**arrays, **change})
        refused(write_zip(sandbox / f"w{i}.modstudio", {**members, weights: data}), message)
    partial = {k: v for k, v in arrays.items() if not k.endswith(f"{linear}/1/bias")}
    refused(write_zip(sandbox / "partial.modstudio", {**members, weights: tensors.encode(partial)}),
            r"lacks tensor\(s\) bias")


def test_encrypted_or_exotic_compression(tmp_path, valid, sandbox):
    members, _, _ = valid
    path = write_zip(sandbox / "lzma.modstudio", {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_LZMA) as z:
        for name, data in members.items():
            z.writestr(name, data)
    refused(path, "unsupported compression")


def _memory(items, **fields):
    return {"samples": len(items), "bytes": 264 * len(items), "items": items, **fields}


@pytest.mark.parametrize("memory,message", [
    ("all of it", r"runs\[0\].memory: expected an object, found a string"),
    ({"samples": 0, "bytes": 0}, r"runs\[0\].memory: missing field 'items'"),
    (_memory([], extra=1), r"runs\[0\].memory: unknown field 'extra'"),
    (_memory({"0": 1}), r"runs\[0\].memory.items: expected a list, found an object"),
    (_memory([[0, 1], [0]]), r"runs\[0\].memory.items\[1\]: expected \[task, index\], found a list of 1"),
    (_memory([[0, 1, 2]]), r"memory.items\[0\]: expected \[task, index\], found a list of 3"),
    (_memory([7]), r"memory.items\[0\]: expected \[task, index\], found an integer"),
    (_memory([[0, -1]]), r"memory.items\[0\]\[1\]: must be at least 0"),
    (_memory([["0", 1]]), r"memory.items\[0\]\[0\]: expected an integer, found a string"),
    (_memory([[0, 1.5]]), r"memory.items\[0\]\[1\]: expected an integer, found a number"),
    (_memory([[0, 1], [0, 1]]), r"memory.items: names a sample twice"),
    ({"samples": 5, "bytes": 0, "items": [[0, 1]]}, r"memory.samples: says 5 but items lists 1"),
    (_memory([[0, 1]], bytes=-3), r"memory.bytes: must be at least 0"),
    (_memory([[0, 1]], bytes=2**64), r"memory.bytes: must be at most 2\*\*63 - 1"),
], ids=["string", "missing", "unknown", "items-object", "short", "long", "scalar", "negative", "text", "float",
        "twice", "count", "bytes", "huge-bytes"])
def test_malformed_memory_is_refused_naming_where(tmp_path, valid, sandbox, memory, message):
    members, doc, _ = valid
    doc["runs"][0]["memory"] = memory
    refused(write_zip(sandbox / "mem.modstudio", with_json(members, doc)), message)


def test_a_memory_over_the_limit_is_refused_before_its_items_are_read(tmp_path, valid, sandbox):
    members, doc, _ = valid
    doc["runs"][0]["memory"] = _memory([[0, i] for i in range(11)])
    path = write_zip(sandbox / "big.modstudio", with_json(members, doc))
    refused(path, r"runs\[0\].memory.items: 11 items, more than the limit of 10", limits=Limits(max_memory_items=10))
    doc["runs"][0]["memory"]["items"] = [[0, "x"]] * 11  # the count is checked first
    refused(write_zip(sandbox / "big2.modstudio", with_json(members, doc)), r"more than the limit of 10",
            limits=Limits(max_memory_items=10))
    doc["runs"][0]["memory"] = _memory([[0, i] for i in range(10)])
    assert load_project(write_zip(sandbox / "ok.modstudio", with_json(members, doc)),
                        limits=Limits(max_memory_items=10)).runs[0].memory["samples"] == 10
