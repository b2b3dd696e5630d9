"""Embedded task data mapped from the project file instead of read (data larger than memory)."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

import modstudio.data as msdata
from modstudio.data.dataset import file_map
from modstudio.graph import Graph
from modstudio.project import Project, ProjectFileError, load_project
from modstudio.project import loading
from modstudio.project.mapping import check_mapped, mapped_archive


def byte_task(name="bytes", n=2000, seed=0) -> msdata.Task:
    rng = np.random.default_rng(seed)

    def split(count):
        x = rng.integers(0, 256, (count, 1, 8, 8), dtype=np.uint8)
        return msdata.Split(msdata.Encoded(x, msdata.UNIT), (x[:, 0, 0, 0] >= 128).astype(np.int64))

    return msdata.Task(name, [0, 1], ["dark", "light"], split(n), split(n // 10), split(n // 10))


def project_file(tmp_path, tasks=None):
    g = Graph()
    nodes = [g.add_node("input"), g.add_node("flatten"), g.add_node("head")]
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a, b)
    project = Project(name="mapped", graph=g, tasks=tasks or [byte_task()])
    path = tmp_path / "p.modstudio"
    project.save(path)
    return path


def test_mapped_load_gives_read_only_views_of_the_file_equal_to_a_read(tmp_path):
    path = project_file(tmp_path)
    mapped, read = load_project(path, map_data=True), load_project(path, map_data=False)
    for a, b in zip(mapped.tasks[0].arrays().values(), read.tasks[0].arrays().values()):
        assert mapped_archive(a) is not None and not a.flags.writeable
        assert mapped_archive(b) is None
        np.testing.assert_array_equal(a, b)
    assert mapped.tasks[0].fingerprint == read.tasks[0].fingerprint
    assert mapped.tasks[0].values == read.tasks[0].values
    assert check_mapped(mapped.tasks[0].arrays().values()) is True  # the file unchanged, its CRC right


def test_the_threshold_decides_by_default(tmp_path, monkeypatch):
    path = project_file(tmp_path)
    assert mapped_archive(load_project(path).tasks[0].train.x) is None  # 144 kB: far under 256 MiB
    monkeypatch.setattr(loading, "MAP_BYTES", 1000)
    assert mapped_archive(load_project(path).tasks[0].train.x) is not None


def test_an_older_file_with_deflated_arrays_loads_mapped_as_read():
    fixture = os.path.join(os.path.dirname(__file__), "fixtures", "deflated-data.modstudio")
    mapped, read = load_project(fixture, map_data=True), load_project(fixture, map_data=False)
    for a, b in zip(mapped.tasks[0].arrays().values(), read.tasks[0].arrays().values()):
        assert mapped_archive(a) is None  # inflated into memory: a deflated array has no bytes to map
        np.testing.assert_array_equal(a, b)


def test_a_file_changed_in_place_is_refused_before_use(tmp_path):
    path = project_file(tmp_path)
    task = load_project(path, map_data=True).tasks[0]
    with open(path, "r+b") as f:  # in place, as an editor or a copy over the file would
        f.seek(0, 2)
        f.write(b"\0")
    with pytest.raises(ProjectFileError, match="changed on disk.*open the project again"):
        check_mapped(task.arrays().values())
    project = Project(name="again", tasks=[task])
    with pytest.raises(ProjectFileError, match="changed on disk"):
        project.save(tmp_path / "other.modstudio")
    assert not (tmp_path / "other.modstudio").exists()


def test_a_damaged_mapped_member_is_refused_by_its_crc_after_loading(tmp_path):
    path = project_file(tmp_path)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("data/0.npz")
    raw = bytearray(path.read_bytes())
    raw[info.header_offset + 30 + len(info.filename) + 2000] ^= 0xFF  # a byte of train_x: still valid bytes
    path.write_bytes(bytes(raw))
    with pytest.raises(ProjectFileError, match="checksum mismatch"):
        load_project(path, map_data=False)
    task = load_project(path, map_data=True).tasks[0]  # the map is checked in the background, not here
    with pytest.raises(ProjectFileError, match="data/0.npz.*damaged: checksum mismatch"):
        check_mapped(task.arrays().values())


def test_saving_over_the_mapped_file_keeps_the_map_valid(tmp_path):
    path = project_file(tmp_path)
    project = load_project(path, map_data=True)
    before = path.read_bytes()
    project.name = "saved over"
    project.save(path)  # a new file renamed over the path; the mapped one stays as it was
    check_mapped(project.tasks[0].arrays().values())
    again = load_project(path, map_data=True)
    assert again.name == "saved over"
    np.testing.assert_array_equal(again.tasks[0].train.x, project.tasks[0].train.x)
    assert (tmp_path / "p.modstudio~").read_bytes() == before


def test_not_enough_memory_for_a_read_says_to_map(tmp_path, monkeypatch):
    path = project_file(tmp_path)

    def no_memory(self, name, scratch=False):
        raise MemoryError

    monkeypatch.setattr(loading.ArchiveReader, "read_buffer", no_memory)
    with pytest.raises(ProjectFileError, match="not enough memory.*map_data=True"):
        load_project(path, map_data=False)


def test_not_enough_memory_to_build_the_task_is_not_called_bad_data(tmp_path, monkeypatch):
    """The bytes were read, the arrays the task is built from were not: still a matter of memory
    (it was "invalid task data: MemoryError …", which sent the user looking at a good file)."""
    from modstudio.data import Task

    path = project_file(tmp_path)

    def no_memory(cls, meta, arrays):
        raise MemoryError

    monkeypatch.setattr(Task, "_from_dict", classmethod(no_memory))
    with pytest.raises(ProjectFileError, match="not enough memory.*map_data=True"):
        load_project(path, map_data=False)


def test_a_read_only_file_map_passes_into_a_split_without_a_copy(tmp_path):
    file = tmp_path / "x.npy"
    np.save(file, np.arange(4000, dtype=np.uint8).reshape(100, 40) % 251)
    x = np.load(file, mmap_mode="r")
    split = msdata.Split(msdata.Encoded(x, msdata.UNIT), np.arange(100) % 2)
    assert np.shares_memory(split.x, x) and file_map(split.x) is not None
    writable = np.load(file, mmap_mode="r+")
    copied = msdata.Split(msdata.Encoded(writable, msdata.UNIT), np.arange(100) % 2)
    assert not np.shares_memory(copied.x, writable)  # a map someone can write is copied, as any array
    in_memory = np.zeros((100, 40), np.uint8)
    in_memory.flags.writeable = False
    assert not np.shares_memory(msdata.Split(msdata.Encoded(in_memory, msdata.UNIT), np.arange(100) % 2).x,
                                in_memory)


def test_a_read_checks_its_crc_in_place_when_no_thread_can_start(tmp_path, monkeypatch):
    """Short of memory a thread may not start; the read must not call the member damaged then."""
    from concurrent.futures import ThreadPoolExecutor

    from modstudio.project import archive

    path = project_file(tmp_path, [byte_task(n=20_000)])  # over one CRC chunk: the threaded path
    monkeypatch.setattr(archive, "_CRC_CHUNK", 64 * 1024)

    def no_thread(self, *args, **kwargs):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(ThreadPoolExecutor, "submit", no_thread)
    task = load_project(path, map_data=False).tasks[0]
    assert mapped_archive(task.train.x) is None and len(task.train) == 20_000
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("data/0.npz")
    raw[info.header_offset + 30 + len(info.filename) + 200_000] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ProjectFileError, match="checksum mismatch"):
        load_project(path, map_data=False)


def test_a_mapped_member_is_checked_when_used_if_no_thread_can_start(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    path = project_file(tmp_path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("data/0.npz")
    raw[info.header_offset + 30 + len(info.filename) + 2000] ^= 0xFF
    path.write_bytes(bytes(raw))

    def no_thread(self, *args, **kwargs):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(ThreadPoolExecutor, "submit", no_thread)
    task = load_project(path, map_data=True).tasks[0]
    assert mapped_archive(task.train.x) is not None
    with pytest.raises(ProjectFileError, match="checksum mismatch"):
        check_mapped(task.arrays().values())
