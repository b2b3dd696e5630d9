"""Embedded task data: stored arrays written once from their memory and read back bit for bit,
checked by the zip's CRC-32 instead of a second hash; damage names the member; files written
before (arrays deflated inside the npz) still load; the limits still hold."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import modstudio.data as msdata
import modstudio.data.tasks as data_tasks
from modstudio.project import Limits, ProjectFileError, load_project, saving
from modstudio.project.archive import crc32_combine

from .conftest import make_project, read_members, tiny_task, write_zip

FIXTURES = Path(__file__).parent / "fixtures"


def _big_task(name: str, seed: int, n: int = 1500, features: int = 256) -> msdata.Task:
    """About 1.5 MB of float32 per task, with values whose every bit matters (random mantissas)."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**32, (n, features), dtype=np.uint32)
    x = np.where(np.isfinite(bits.view(np.float32)), bits.view(np.float32), np.float32(0.5))

    def split(lo, hi):
        return msdata.Split(x[lo:hi], np.arange(hi - lo) % 3)

    return msdata.Task(name, [0, 1, 2], ["a", "b", "c"], split(0, n - 400), split(n - 400, n - 200), split(n - 200, n))


@pytest.fixture
def big_project():
    return make_project([_big_task("one", 1), _big_task("two", 2)], runs=0, embed="always", features=256)


def _identical(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_big_embedded_data_round_trips_bit_identical_and_as_plain_npz(tmp_path, big_project):
    path = big_project.save(tmp_path / "big.modstudio")
    loaded = load_project(path)
    assert loaded == big_project
    for before, after in zip(big_project.tasks, loaded.tasks):
        assert before.arrays().keys() == after.arrays().keys()
        assert all(_identical(before.arrays()[k], after.arrays()[k]) for k in before.arrays())
        assert after.fingerprint == before.fingerprint
    with zipfile.ZipFile(path) as outer:
        assert outer.testzip() is None  # the outer CRC-32, assembled from the inner ones, is right
        assert outer.getinfo("data/0.npz").compress_type == zipfile.ZIP_STORED
        inner_bytes = outer.read("data/0.npz")
    with zipfile.ZipFile(io.BytesIO(inner_bytes)) as inner:
        assert inner.testzip() is None
        assert {i.compress_type for i in inner.infolist()} == {zipfile.ZIP_STORED}
    with np.load(io.BytesIO(inner_bytes), allow_pickle=False) as plain:  # numpy reads it as its own
        task = big_project.tasks[0]
        assert all(_identical(plain[k], a) for k, a in task.arrays().items())
    assert big_project.save(tmp_path / "again.modstudio").read_bytes() == path.read_bytes()  # deterministic


def test_loading_and_resaving_hash_nothing(tmp_path, big_project, monkeypatch):
    """The recorded fingerprint is taken on load (the CRC-32 vouched for the bytes), and a save of
    read-only task arrays does not hash them again."""
    path = big_project.save(tmp_path / "big.modstudio")
    calls = []
    real = data_tasks.hash_arrays
    monkeypatch.setattr(data_tasks, "hash_arrays", lambda *a, **k: calls.append(1) or real(*a, **k))
    loaded = load_project(path)
    loaded.save(tmp_path / "resaved.modstudio")
    loaded.save(tmp_path / "resaved.modstudio")
    assert calls == []
    assert [t.fingerprint for t in loaded.tasks] == [t.fingerprint for t in big_project.tasks]


def _data_start(raw: bytes, header_offset: int) -> int:
    """Where a zip member's bytes start, from its local header at ``header_offset`` in ``raw``."""
    name_len, extra_len = (int.from_bytes(raw[header_offset + i:header_offset + i + 2], "little") for i in (26, 28))
    return header_offset + 30 + name_len + extra_len


def _payload_offset(path: Path, member: str, array: str) -> int:
    """Where ``array``'s bytes start in the file, inside the stored npz ``member``."""
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as outer:
        start = _data_start(raw, outer.getinfo(member).header_offset)
        with zipfile.ZipFile(io.BytesIO(outer.read(member))) as inner:
            inner_offset = inner.getinfo(f"{array}.npy").header_offset
    return start + _data_start(raw[start:], inner_offset) + 128  # past the .npy header


def test_a_damaged_embedded_array_is_refused_naming_the_member(tmp_path, big_project):
    path = big_project.save(tmp_path / "big.modstudio", backup=False)
    data = bytearray(path.read_bytes())
    data[_payload_offset(path, "data/1.npz", "val_x") + 1000] ^= 0x10  # one bit of one sample
    path.write_bytes(bytes(data))
    with pytest.raises(ProjectFileError, match=r"member 'data/1.npz' is damaged: checksum mismatch"):
        load_project(path)


def test_a_truncated_embedded_array_is_refused_naming_the_member_and_array(tmp_path, big_project):
    members = read_members(big_project.save(tmp_path / "big.modstudio", backup=False))
    with zipfile.ZipFile(io.BytesIO(members["data/0.npz"])) as inner:
        arrays = {i.filename: inner.read(i) for i in inner.infolist()}
    cut = {**arrays, "train_x.npy": arrays["train_x.npy"][:-4096]}  # an .npy shorter than its header says
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, raw in cut.items():
            z.writestr(name, raw)
    hostile = write_zip(tmp_path / "cut.modstudio", {**members, "data/0.npz": buffer.getvalue()}, compress=False)
    with pytest.raises(ProjectFileError, match=r"data/0.npz: array 'train_x' declares shape \(1100, 256\) of "
                                               r"float32 but holds 1,122,304 bytes"):
        load_project(hostile)
    half = write_zip(tmp_path / "half.modstudio", {**members, "data/0.npz": members["data/0.npz"][:300_000]},
                     compress=False)  # the npz itself cut short: its directory is gone
    with pytest.raises(ProjectFileError, match=r"data/0.npz is not a valid .npz file"):
        load_project(half)


def test_files_with_deflated_arrays_still_load_and_save_stored(tmp_path):
    """deflated-data.modstudio was written by the ModStudio before arrays were stored (each array
    deflated inside data/<task>.npz): it loads with the same data, and saves again stored."""
    fixture = FIXTURES / "deflated-data.modstudio"
    with zipfile.ZipFile(fixture) as outer, zipfile.ZipFile(io.BytesIO(outer.read("data/0.npz"))) as inner:
        assert {i.compress_type for i in inner.infolist()} == {zipfile.ZIP_DEFLATED}
    project = load_project(fixture)
    expected = [tiny_task("first", seed=3), tiny_task("second", seed=4)]
    assert [t.name for t in project.tasks] == ["first", "second"]
    for task, want in zip(project.tasks, expected):
        assert all(_identical(task.arrays()[k], a) for k, a in want.arrays().items())
        assert task.fingerprint == want.fingerprint
    assert project.runs[0].weights
    again = project.save(tmp_path / "again.modstudio")
    with zipfile.ZipFile(again) as outer, zipfile.ZipFile(io.BytesIO(outer.read("data/0.npz"))) as inner:
        assert {i.compress_type for i in inner.infolist()} == {zipfile.ZIP_STORED}
    assert load_project(again) == project


def test_limits_still_refuse_oversize_task_data(tmp_path, big_project, monkeypatch):
    path = big_project.save(tmp_path / "big.modstudio", backup=False)
    before = path.read_bytes()
    with pytest.raises(ProjectFileError, match=r"member 'data/0.npz' is [\d,]+ bytes uncompressed, over the limit"):
        load_project(path, limits=Limits(max_member_bytes=1_000_000))
    with pytest.raises(ProjectFileError, match=r"more than 2,000,000 bytes uncompressed in total"):
        load_project(path, limits=Limits(max_total_bytes=2_000_000))
    monkeypatch.setattr(saving, "DEFAULT_LIMITS", Limits(max_member_bytes=1_000_000))
    with pytest.raises(ProjectFileError, match=r"cannot embed array 'train_x': 1,126,400 bytes is over the limit"):
        big_project.save(path)
    monkeypatch.setattr(saving, "DEFAULT_LIMITS", Limits(max_member_bytes=1_200_000))  # arrays fit, the npz not
    with pytest.raises(ProjectFileError, match=r"data/0.npz would be [\d,]+ bytes, over the limit of 1,200,000"):
        big_project.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.modstudio"]


def test_save_still_checks_the_metadata_of_read_only_task_data(tmp_path):
    project = make_project([tiny_task()], runs=0, features=4)
    path = project.save(tmp_path / "p.modstudio")
    before = path.read_bytes()
    project.tasks[0].classes = [0]  # changed behind the task's back; its arrays are untouched
    with pytest.raises(ProjectFileError, match=r"tasks\[0\]: .*at least two classes"):
        project.save(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("sizes", [(0, 0), (0, 5), (7, 0), (1, 1), (100, 3), (5, 2**20 + 3), (64, 3 * 2**21 + 1)])
def test_crc32_combine_matches_zlib(sizes):
    rng = np.random.default_rng(sum(sizes) % 1000)
    a, b = (rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in sizes)
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_task_reads_reuse_a_scratch_buffer_only_when_nothing_refers_to_it(tmp_path, big_project):
    from modstudio.project.archive import ArchiveReader

    path = big_project.save(tmp_path / "big.modstudio", backup=False)
    members = read_members(path)
    with ArchiveReader(path) as reader:
        first = reader.read_buffer("data/0.npz", scratch=True)
        held = first[100:200]  # a view still in use: the next read must not overwrite it
        del first
        second = reader.read_buffer("data/1.npz", scratch=True)
        assert held.tobytes() == members["data/0.npz"][100:200]
        assert second.tobytes() == members["data/1.npz"]
        address = second.ctypes.data
        del held, second
        third = reader.read_buffer("data/0.npz", scratch=True)  # nothing refers to it: reused
        assert third.ctypes.data == address and third.tobytes() == members["data/0.npz"]
