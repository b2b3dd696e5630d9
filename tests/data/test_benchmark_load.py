"""Benchmarks as datasets: the CIFAR binary reader, load_builtin("mnist"), refusals of missing or
damaged files, and task recipes that rebuild from the user's copy."""

import io
import tarfile

import numpy as np
import pytest

from modstudio.data import UNIT, DataError, list_builtin, load_builtin, permuted, rebuild_task, split_by_class
from modstudio.data.benchmarks import ChecksumError, get
from modstudio.data.importers.cifar import read_cifar_archive
from tests.data.benchmark_files import benchmark_env, cifar_records, tar_gz  # noqa: F401  (fixture)


def test_cifar10_records_become_uint8_planes_in_the_order_of_the_batches(benchmark_env, tmp_path):
    archive = tmp_path / "c.tar.gz"
    archive.write_bytes(benchmark_env.files["cifar-10-binary.tar.gz"])
    expected = benchmark_env.expected["cifar10"]
    members = [f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)]
    x, y, names = read_cifar_archive(archive, members, 1, 0, "cifar-10-batches-bin/batches.meta.txt")
    assert x.dtype == np.uint8 and x.shape == (100, 3, 32, 32)
    np.testing.assert_array_equal(x, expected["x"])
    np.testing.assert_array_equal(y, expected["y"])
    assert names[0] == "airplane" and len(names) == 10


def test_a_cifar_record_is_the_red_then_green_then_blue_plane_row_by_row(tmp_path):
    pixels = np.concatenate([np.full(1024, 10), np.full(1024, 20), np.arange(1024) % 256]).astype(np.uint8)
    record = bytes([7]) + pixels.tobytes()
    archive = tmp_path / "one.tar.gz"
    archive.write_bytes(tar_gz({"b/data.bin": record, "b/names.txt": b"\n".join(b"c%d" % i for i in range(10))}))
    x, y, _ = read_cifar_archive(archive, ["b/data.bin"], 1, 0, "b/names.txt")
    assert y.tolist() == [7]
    assert (x[0, 0] == 10).all() and (x[0, 1] == 20).all()
    assert x[0, 2, 0, :5].tolist() == [0, 1, 2, 3, 4] and x[0, 2, 1, 0] == 32  # row 1 starts at pixel 32


def test_cifar100_gives_fine_or_coarse_labels(benchmark_env):
    get("cifar100")
    expected = benchmark_env.expected["cifar100"]
    fine = load_builtin("cifar100")
    coarse = load_builtin("cifar100", coarse=True)
    assert fine.num_classes == 100 and coarse.num_classes == 20
    np.testing.assert_array_equal(fine.y, expected["fine"])
    np.testing.assert_array_equal(coarse.y, expected["coarse"])
    assert coarse.class_names[0] == "super0" and fine.class_names[99] == "class99"
    # kept as the files' bytes, read as 0 … 1
    np.testing.assert_array_equal(fine.x, expected["x"])
    assert fine.x.dtype == np.uint8 and fine.values == UNIT
    np.testing.assert_array_equal(fine.floats(), expected["x"].astype(np.float32) / np.float32(255.0))


@pytest.mark.parametrize("defect, message", [
    ("short", "not a whole number of 3073-byte CIFAR records"),
    ("missing", "has no b/data.bin"),
    ("twice", "holds b/data.bin twice"),
    ("label", "out of range"),
])
def test_a_bad_cifar_archive_is_refused_naming_the_member(tmp_path, defect, message):
    body, _ = cifar_records(np.array([[1], [2]]), seed=0)
    names = b"\n".join(b"c%d" % i for i in range(10))
    members = {"b/data.bin": body, "b/names.txt": names}
    if defect == "short":
        members["b/data.bin"] = body[:-1]
    elif defect == "missing":
        del members["b/data.bin"]
    elif defect == "label":
        members["b/names.txt"] = b"c0\nc1"
    raw = tar_gz(members)
    if defect == "twice":
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w:gz") as tar:
            for _ in range(2):
                info = tarfile.TarInfo("b/data.bin")
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
            info = tarfile.TarInfo("b/names.txt")
            info.size = len(names)
            tar.addfile(info, io.BytesIO(names))
        raw = out.getvalue()
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(raw)
    with pytest.raises(DataError, match=message):
        read_cifar_archive(archive, ["b/data.bin"], 1, 0, "b/names.txt")


def test_a_cifar_member_that_is_not_a_regular_file_is_refused(tmp_path):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        link = tarfile.TarInfo("b/data.bin")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    archive = tmp_path / "link.tar.gz"
    archive.write_bytes(out.getvalue())
    with pytest.raises(DataError, match="not a regular file"):
        read_cifar_archive(archive, ["b/data.bin"], 1, 0, "b/names.txt")


def test_mnist_loads_as_a_builtin_dataset_once_present(benchmark_env):
    assert "mnist" not in [i.name for i in list_builtin()]
    assert "mnist" in [i.name for i in list_builtin(include_missing=True)]
    with pytest.raises(DataError, match="modstudio data get mnist"):
        load_builtin("mnist")
    get("mnist")
    assert "mnist" in [i.name for i in list_builtin()]
    train = load_builtin("mnist")
    assert train.sample_shape == (1, 28, 28) and len(train) == 200 and train.x.dtype == np.uint8
    assert train.values == UNIT and 0.0 <= train.floats().min() and train.floats().max() <= 1.0
    assert train.origin == {"builtin": "mnist", "options": {"test": False, "flat": False}}
    test = load_builtin("mnist", test=True, flat=True)
    assert test.sample_shape == (784,) and len(test) == 60
    with pytest.raises(DataError, match="coarse"):
        load_builtin("mnist", coarse=True)


def test_a_file_damaged_after_download_is_refused_naming_it_and_its_checksum(benchmark_env):
    get("mnist")
    path = benchmark_env.data_dir / "benchmarks" / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-3] + b"xyz")
    expected = benchmark_env.catalog["mnist"].file(path.name).sha256
    with pytest.raises(ChecksumError) as caught:
        load_builtin("mnist", test=True)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_tasks_from_a_benchmark_rebuild_from_their_recipe(benchmark_env):
    get("mnist")
    tasks = split_by_class(load_builtin("mnist", flat=True), n_tasks=5)
    again = rebuild_task(tasks[3].origin, max_generated_bytes=0)  # a benchmark generates nothing
    assert again.fingerprint == tasks[3].fingerprint
    perm = permuted(load_builtin("mnist", flat=True), n_tasks=3)
    assert rebuild_task(perm[2].origin).fingerprint == perm[2].fingerprint
