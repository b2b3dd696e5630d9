"""Hostile files and arguments for the importers (issue 17: nothing lost, nothing leaked).

Whatever a dataset file or an importer argument holds, ``import_path`` returns a correct Dataset
or raises DataError naming the file and the place; never another exception, a hang, or memory
beyond the limits declared in ``modstudio.data.importers``. Every hostile file is made here in
``tmp_path``; none is larger than a few KB except where the size is the point.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from modstudio.data import MAX_BYTES, DataError, Dataset, import_path, load_source, read_idx
from modstudio.data import importers
from tests.mutations import byte_mutation, mutate

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, sockets and /dev need POSIX")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def npz_file(path: Path, members: dict[str, bytes], compress: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def patch_zip(path: Path, central: dict[int, bytes], local: dict[int, bytes]) -> None:
    """Overwrite bytes at offsets inside every central-directory and local header."""
    data = bytearray(path.read_bytes())
    for signature, patches in ((b"PK\x01\x02", central), (b"PK\x03\x04", local)):
        at = data.find(signature)
        while at >= 0:
            for offset, value in patches.items():
                data[at + offset:at + offset + len(value)] = value
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


# --- 25: CSV cells are bounded and never padded -----------------------------------------------


def test_csv_long_cell_names_row_and_column(tmp_path):
    p = write(tmp_path / "long.csv", "a,b,y\n1,2,0\n3," + "4" * 100_000 + ",1\n")
    with pytest.raises(DataError, match=r"long.csv: row 3, column 2: the cell holds 100,000 characters, "
                                        r"over the limit of 1,000"):
        import_path(p)
    assert importers.MAX_CELL_CHARS == 1000


def test_csv_longer_than_the_csv_module_field_limit(tmp_path):
    p = write(tmp_path / "longer.csv", "a,b,y\n1,2,0\n3," + "4" * 200_000 + ",1\n")
    with pytest.raises(DataError, match=r"longer.csv: row 3: a cell is longer than the limit of 1,000"):
        import_path(p)


@pytest.mark.parametrize("text, match", [
    ("x" * 1001 + ",b,y\n1,2,0\n3,4,1\n", r"row 1, column 1: the cell holds 1,001 characters"),
    ("a,b,y\n1,2,0\n3,4," + "c" * 1001 + "\n", r"row 3, column 3: the cell holds 1,001 characters"),
    ('a,b,y\n1,2,0\n3,4,"' + "c\n" * 600 + '"\n', r"row 3, column 3: the cell holds 1,200 characters"),
], ids=["header", "label", "quoted-multiline"])
def test_csv_every_cell_is_bounded(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        import_path(write(tmp_path / "cells.csv", text))


def test_csv_is_not_parsed_into_a_padded_array(tmp_path):
    """One 1,000-character cell among 30,000 short ones: the old text array padded every cell to
    the longest (30,000 × 1,000 × 4 bytes = 120 MB); a row-at-a-time parse needs about 1 MB."""
    rows = ["0.5" + "0" * 997 + "," + ",".join(["1"] * 8) + ",0"] + [",".join(["1"] * 9) + ",1"] * 3000
    p = write(tmp_path / "pad.csv", "\n".join(rows) + "\n")
    tracemalloc.start()
    try:
        ds = import_path(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert ds.x.shape == (3001, 9) and ds.x[0, 0] == 0.5 and ds.x[1:].min() == 1
    assert peak < 12 * 1024**2, f"peak {peak / 1024**2:.1f} MiB"


def test_csv_row_and_line_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(importers.csv, "MAX_ROW_CHARS", 100)
    p = write(tmp_path / "wide.csv", "a,b,y\n" + ",".join(["1"] * 60) + "\n")
    with pytest.raises(DataError, match=r"wide.csv: row 2 is longer than 100 characters"):
        import_path(p)
    p = write(tmp_path / "line.csv", "a,b,y\n" + "1" * 1000)  # no newline at all
    with pytest.raises(DataError, match=r"line.csv: line 2 is longer than 100 characters"):
        import_path(p)
    p = write(tmp_path / "quoted.csv", 'a,b,y\n1,2,"' + "x\n" * 60 + '"\n')  # one record, many lines
    with pytest.raises(DataError, match=r"quoted.csv: row 2 is longer than 100 characters"):
        import_path(p)


def test_csv_blank_lines_are_skipped_and_counted(tmp_path):
    p = tmp_path / "blank.csv"
    p.write_bytes(b"\n" * 3000 + b" \t \n" * 100 + b"a,y\n1,0\n\n\n2,1\n")
    ds = import_path(p)
    assert ds.x.tolist() == [[1], [2]] and ds.class_names == ["0", "1"]
    p.write_bytes(b"\n" * 5 + b"a,y\n1,0\n2,x\n")  # the skipped lines still count
    with pytest.raises(DataError, match=r"blank.csv: row 6, column 1: 'a' is not a number"):
        import_path(p, header=False)


def test_csv_distinct_labels_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(importers.csv, "MAX_CSV_CLASSES", 3)
    p = write(tmp_path / "ids.csv", "a,id\n" + "".join(f"{i},{i}\n" for i in range(5)))
    with pytest.raises(DataError, match=r"ids.csv: row 5, label column 2: more than 3 distinct labels"):
        import_path(p)


def test_csv_results_unchanged(tmp_path):
    """Quotes, a BOM, CRLF, blank lines and TSV still read exactly."""
    p = tmp_path / "q.csv"
    p.write_bytes(b'\xef\xbb\xbf"a","b",kind\r\n\r\n1,"2.5",x\r\n  3 ,4,"y"\r\n\r\n5e-1,-6,x\r\n')
    ds = import_path(p)
    assert ds.x.tolist() == [[1, 2.5], [3, 4], [0.5, -6]] and ds.class_names == ["x", "y"]
    assert ds.y.tolist() == [0, 1, 0] and "label column 'kind'" in ds.source
    t = write(tmp_path / "t.tsv", "1\t2\t0\n3\t4\t1\n")
    assert import_path(t).x.tolist() == [[1, 2], [3, 4]]


def test_csv_utf8_error_names_byte_and_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes(b"a,b,y\n1,2,0\n3,\xff,1\n")
    with pytest.raises(DataError, match=r"bad.csv: not a UTF-8 text file \(invalid start byte at byte 14, line 3\)"):
        import_path(p)


def test_csv_float32_overflow_names_the_cell(tmp_path):
    p = write(tmp_path / "big.csv", "a,b,y\n1,2,0\n3,1e300,1\n")
    with pytest.raises(DataError, match=r"big.csv: row 3, column 2 \('b'\): '1e300' is too large for float32"):
        import_path(p)


# --- 26: NPY/NPZ headers are checked against the bytes present ----------------------------------


def lying_npy(shape: str, dtype: str = "<f8", body: bytes = bytes(32), version: int = 1) -> bytes:
    """A .npy file whose header says ``shape`` and ``dtype`` (a dtype string, or a raw Python
    literal when it starts with '('), whatever the body holds."""
    descr = dtype if dtype.startswith("(") else repr(dtype)
    text = "{'descr': %s, 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header = text.encode("latin1")
    if version == 1:
        pad = -(10 + len(header) + 1) % 64
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header) + pad + 1) + header + b" " * pad + b"\n" + body
    pad = -(12 + len(header) + 1) % 64
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header) + pad + 1) + header + b" " * pad + b"\n" + body


@pytest.mark.parametrize("shape, match", [
    ("(1000000, 1000000)", r"declares shape \(1000000, 1000000\) of float64 \(7.3 TiB\) but holds 32 bytes"),
    (f"({2**40}, {2**40})", r"declares shape .* but holds 32 bytes"),
    (f"({2**63}, {2**63}, 4)", r"declares shape .* but holds 32 bytes"),
    ("(-2, -2)", r"bad shape \(-2, -2\)"),
    ("(2, 3)", r"declares shape \(2, 3\) of float64 \(48 bytes\) but holds 32 bytes"),
    ("(1, 2)", r"declares shape \(1, 2\) of float64 \(16 bytes\) but holds 32 bytes"),
    ("(" + "1, " * 40 + ")", r"bad shape"),
])
def test_npy_header_checked_before_allocating(tmp_path, shape, match):
    p = tmp_path / "x.npy"
    p.write_bytes(lying_npy(shape))
    with pytest.raises(DataError, match="x.npy" + ".*" + match):
        import_path(p, label_column=0)


def test_npz_member_header_checked_before_allocating(tmp_path):
    p = npz_file(tmp_path / "bomb.npz", {"x.npy": lying_npy("(1000000, 1000000)"),
                                         "y.npy": npy_bytes(np.arange(4) % 2)})
    with pytest.raises(DataError, match=r"bomb.npz: array 'x' declares shape \(1000000, 1000000\) of float64"):
        import_path(p)
    p = npz_file(tmp_path / "bomb2.npz", {"x.npy": npy_bytes(np.zeros((4, 2))),
                                          "y.npy": lying_npy("(1000000, 1000000)")},
                 compress=zipfile.ZIP_DEFLATED)
    with pytest.raises(DataError, match=r"bomb2.npz: array 'y' declares shape \(1000000, 1000000\)"):
        import_path(p)


@pytest.mark.parametrize("data, match", [
    (b"\x93NUMPY\x09\x00" + bytes(100), r"unknown format version 9.0"),
    (b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + bytes(100),
     r"the .npy header is 2,147,483,648 bytes, over the limit of 10,000"),
    (b"\x93NUMPY\x01\x00" + struct.pack("<H", 500) + b"{'descr'", r"the header is truncated"),
    (b"\x93NUMPY\x01", r"no NumPy header"),
    (lying_npy("(2, 2)", dtype="|O"), r"holds Python objects \(pickled data is never loaded\)"),
    (npy_bytes(np.zeros((2, 2), dtype=[("a", "<f8")])), r"unsupported dtype"),
    (lying_npy("(2, 2)", dtype="('<f8', (1,))"), r"unsupported dtype"),
    (lying_npy("(2,)", dtype="<U0", body=b""), r"unsupported dtype"),
    (lying_npy("(2, 2)", body=bytes(33)), r"declares shape \(2, 2\) of float64 \(32 bytes\) but holds 33 bytes"),
    (lying_npy("(2, 2"), r"bad header"),
    (npy_bytes(np.zeros((2, 2)))[:60], r"truncated|bad header"),
], ids=["version", "header-size", "header-cut", "magic-cut", "object", "structured", "subarray", "zero-itemsize",
        "extra-byte", "header-syntax", "cut"])
def test_npy_damaged_headers(tmp_path, data, match):
    p = tmp_path / "d.npy"
    p.write_bytes(data)
    with pytest.raises(DataError, match=match):
        import_path(p, label_column=0)


def test_npy_versions_orders_and_text_read_correctly(tmp_path):
    table = np.array([[1.5, 0], [2.5, 1], [3.5, 0]], dtype=">f4")
    (tmp_path / "v2.npy").write_bytes(lying_npy("(3, 2)", dtype=">f4", body=table.tobytes(), version=2))
    ds = import_path(tmp_path / "v2.npy", label_column=1)
    assert ds.x.ravel().tolist() == [1.5, 2.5, 3.5] and ds.y.tolist() == [0, 1, 0]
    np.save(tmp_path / "f.npy", np.asfortranarray(np.arange(12.0).reshape(4, 3)))
    np.save(tmp_path / "labels.npy", np.array(["b", "a", "b", "a"]))
    ds = import_path(tmp_path / "f.npy", labels=tmp_path / "labels.npy")
    assert ds.x.tolist() == np.arange(12.0).reshape(4, 3).tolist() and ds.class_names == ["a", "b"]
    np.save(tmp_path / "s.npy", np.array([b"cat", b"dog", "é".encode()]))
    np.save(tmp_path / "x3.npy", np.zeros((3, 2)))
    assert import_path(tmp_path / "x3.npy", labels=tmp_path / "s.npy").class_names == ["cat", "dog", "é"]


def test_npy_python2_header_loads_without_a_warning(tmp_path):
    """NumPy warns when it falls back to Python 2 header syntax; a warning is not a result."""
    p = tmp_path / "old.npy"
    p.write_bytes(lying_npy("(2L, 2L)", body=np.array([1.0, 0, 2, 1]).tobytes()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = import_path(p, label_column=1)
    assert ds.x.ravel().tolist() == [1, 2] and ds.y.tolist() == [0, 1]


def test_npy_text_that_is_not_text(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 2)))
    np.save(tmp_path / "s.npy", np.array([b"\xff\xfe", b"a"]))
    with pytest.raises(DataError, match=r"labels file s.npy: entry 0 is not UTF-8 text"):
        import_path(tmp_path / "x.npy", labels=tmp_path / "s.npy")
    codes = np.array([0x41, 0x7FFFFFFF], dtype="<u4")
    (tmp_path / "u.npy").write_bytes(lying_npy("(2,)", dtype="<U1", body=codes.tobytes()))
    with pytest.raises(DataError, match=r"u.npy: text that is not valid Unicode"):
        import_path(tmp_path / "x.npy", labels=tmp_path / "u.npy")
    (tmp_path / "long.npy").write_bytes(npy_bytes(np.array(["a" * 1001, "b"])))
    with pytest.raises(DataError, match=r"entry 0 is 1,001 characters, over the limit of 1,000"):
        import_path(tmp_path / "x.npy", labels=tmp_path / "long.npy")


def test_npz_class_names_as_bytes_are_decoded(tmp_path):
    p = tmp_path / "n.npz"
    np.savez(p, x=np.zeros((2, 2)), y=[0, 1], class_names=np.array([b"cat", b"dog"]))
    assert import_path(p).class_names == ["cat", "dog"]


def test_npz_archive_defences(tmp_path):
    good = {"x.npy": npy_bytes(np.zeros((4, 2))), "y.npy": npy_bytes(np.arange(4) % 2)}
    p = npz_file(tmp_path / "enc.npz", good)
    patch_zip(p, {8: b"\x01\x00"}, {6: b"\x01\x00"})
    with pytest.raises(DataError, match=r"enc.npz: array 'x' is encrypted"):
        import_path(p)
    p = npz_file(tmp_path / "method.npz", good)
    patch_zip(p, {10: b"\x63\x00"}, {8: b"\x63\x00"})
    with pytest.raises(DataError, match=r"method.npz: array 'x' uses an unsupported compression \(method 99\)"):
        import_path(p)
    p = npz_file(tmp_path / "ratio.npz", good, compress=zipfile.ZIP_DEFLATED)
    patch_zip(p, {24: struct.pack("<I", 1_000_000_000)}, {})
    with pytest.raises(DataError, match=r"ratio.npz: array 'x' declares 1,000,000,000 bytes from .* more than deflate"):
        import_path(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        p = npz_file(tmp_path / "dup.npz", {**good, "x": npy_bytes(np.ones((4, 2)))})
    with pytest.raises(DataError, match=r"dup.npz: the archive holds array 'x' twice"):
        import_path(p)
    p = tmp_path / "cut.npz"
    np.savez_compressed(p, x=np.arange(400.0).reshape(200, 2), y=np.arange(200) % 2)
    data = bytearray(p.read_bytes())
    data[120:140] = bytes(20)  # inside the first member's deflate stream
    p.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"cut.npz"):
        import_path(p)
    p.write_bytes(p.read_bytes()[:-30])
    with pytest.raises(DataError, match=r"cut.npz: not a readable .npz file"):
        import_path(p)


def test_npz_member_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(importers.npy, "MAX_NPZ_MEMBERS", 3)
    p = tmp_path / "many.npz"
    np.savez(p, x=np.zeros((2, 2)), y=[0, 1], a=[1], b=[2])
    with pytest.raises(DataError, match=r"many.npz: the archive has 4 members, over the limit of 3"):
        import_path(p)


# --- 27: IDX sizes in Python ints, against the bytes present ---------------------------------------


@pytest.mark.parametrize("dims", [(65536, 65536, 65536, 65536), (2**32 - 1,) * 4, (2**32 - 1, 2**32 - 1, 2)])
def test_idx_dimensions_that_overflow_int64(tmp_path, dims):
    p = tmp_path / "o-images-idx3-ubyte"
    p.write_bytes(bytes([0, 0, 0x0E, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + bytes(16))
    with pytest.raises(DataError, match=r"o-images-idx3-ubyte: IDX data is truncated \(16 of [\d,]+ bytes"):
        import_path(p)


def test_idx_sizes_checked_against_bytes_present(tmp_path):
    p = tmp_path / "x.idx"
    p.write_bytes(idx_bytes(np.zeros((3, 2, 2), np.uint8)) + b"extra")
    with pytest.raises(DataError, match=r"x.idx: IDX file has extra bytes after the \(3, 2, 2\) array"):
        read_idx(p)
    p.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2000, 1000, 1000) + bytes(10))
    with pytest.raises(DataError, match=r"IDX data is truncated \(10 of 2,000,000,000 bytes"):
        read_idx(p)  # refused from the file size, before 2 GB are asked for


def test_idx_gzip_inflates_only_to_the_declared_size(tmp_path):
    p = tmp_path / "g-images-idx3-ubyte.gz"
    with gzip.open(p, "wb") as f:
        f.write(idx_bytes(np.zeros((4, 2, 2), np.uint8)) + bytes(20_000_000))
    assert p.stat().st_size < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"IDX file has extra bytes after the \(4, 2, 2\) array"):
            read_idx(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024**2


def test_idx_damaged_gzip(tmp_path):
    data = bytearray(gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 10, 2, 2) + bytes(range(40)) * 100,
                                   mtime=0))
    data[20] ^= 0xFF
    data[25] ^= 0x55  # an invalid deflate block: zlib.error, which is not an OSError
    p = tmp_path / "d-images-idx3-ubyte.gz"
    p.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"d-images-idx3-ubyte.gz: cannot read IDX file \(Error -3 while decompressing"):
        import_path(p)
    p.write_bytes(gzip.compress(idx_bytes(np.zeros((4, 2, 2), np.uint8)))[:-12])
    with pytest.raises(DataError, match=r"d-images-idx3-ubyte.gz"):
        import_path(p)


# --- 28: every argument is checked up front, by name ---------------------------------------------


@pytest.fixture
def files(tmp_path):
    csv_path = write(tmp_path / "d.csv", "a,b,y\n1,2,0\n3,4,1\n")
    np.save(tmp_path / "x.npy", np.zeros((2, 2)))
    np.save(tmp_path / "y.npy", np.array([0, 1]))
    np.savez(tmp_path / "d.npz", x=np.zeros((2, 2)), y=[0, 1])
    (tmp_path / "a-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 2, 2), np.uint8)))
    (tmp_path / "a-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([0, 1], np.uint8)))
    folder = tmp_path / "imgs"
    for c in ("a", "b"):
        (folder / c).mkdir(parents=True)
        Image.new("L", (3, 3)).save(folder / c / "0.png")
    return {"csv": csv_path, "npy": tmp_path / "x.npy", "npz": tmp_path / "d.npz",
            "idx": tmp_path / "a-images-idx3-ubyte", "folder": folder, "labels": tmp_path / "y.npy"}


BAD_ARGUMENTS = [
    ("csv", {"delimiter": "ab"}, "delimiter must be one character"),
    ("csv", {"delimiter": 5}, "delimiter must be one character"),
    ("csv", {"delimiter": ""}, "delimiter must be one character"),
    ("csv", {"delimiter": "\n"}, "delimiter must be one character"),
    ("csv", {"delimiter": '"'}, "delimiter must be one character"),
    ("csv", {"delimiter": "e"}, "delimiter must be one character"),
    ("csv", {"delimiter": "."}, "delimiter must be one character"),
    ("csv", {"header": "yes"}, "header must be True, False or None, got 'yes'"),
    ("csv", {"header": 1}, "header must be True, False or None"),
    ("csv", {"label_column": 1.5}, "label_column must be a column name or index, got 1.5"),
    ("csv", {"label_column": True}, "label_column must be a column name or index, got True"),
    ("csv", {"label_column": [0]}, r"label_column must be a column name or index, got \[0\]"),
    ("csv", {"label_column": ""}, "label_column must be a non-empty string"),
    ("csv", {"label_column": 10**5000}, "label column index .* out of range"),
    ("csv", {"max_bytes": "1"}, "max_bytes must be a positive integer, got '1'"),
    ("csv", {"max_bytes": 1.5}, "max_bytes must be a positive integer"),
    ("csv", {"max_bytes": True}, "max_bytes must be a positive integer"),
    ("csv", {"max_bytes": 0}, "max_bytes must be a positive integer"),
    ("csv", {"name": 5}, "name must be a non-empty string, got 5"),
    ("csv", {"name": "n" * 1001}, "name is 1,001 characters long, over the limit of 1,000"),
    ("csv", {"labels": "y.npy"}, r"unknown option\(s\) for CSV import: \['labels'\]"),
    ("npz", {"x_key": 5}, "x_key must be a non-empty string, got 5"),
    ("npz", {"y_key": None}, "y_key must be a non-empty string, got None"),
    ("npz", {"names_key": ["a"]}, "names_key must be a non-empty string"),
    ("npz", {"x_key": "y"}, "x_key and y_key must name different arrays"),
    ("npy", {"labels": 123}, "labels must be a string or Path, got int"),
    ("npy", {"labels": ""}, "labels is empty"),
    ("npy", {"labels": "a\x00b"}, "labels 'a\\\\x00b' contains a NUL character"),
    ("npy", {"label_column": "0"}, "label_column must be a column index, got '0'"),
    ("npy", {"label_column": 1.0}, "label_column must be a column index, got 1.0"),
    ("npy", {"label_column": 7}, "label_column 7 is not a column index for 2 columns"),
    ("idx", {"scale": "no"}, "scale must be True or False, got 'no'"),
    ("idx", {"labels": 5}, "labels must be a string or Path, got int"),
    ("folder", {"size": "28"}, "size must be .* got '28'"),
    ("folder", {"size": (28,)}, "size must be"),
    ("folder", {"size": (True, 5)}, "size must be"),
    ("folder", {"mode": 5}, "mode must be 'L' .* got 5"),
    ("folder", {"mode": ["L"]}, "mode must be 'L'"),
]


@pytest.mark.parametrize("kind, options, match", BAD_ARGUMENTS)
def test_bad_arguments_are_data_errors_naming_the_argument(files, kind, options, match):
    with pytest.raises(DataError, match=match):
        import_path(files[kind], **options)


def test_bad_arguments_from_a_saved_recipe(files):
    """A recipe is untrusted JSON: its options reach the importers as they are."""
    for options in ({"delimiter": 5}, {"labels": 123}, {"header": "no"}, {"max_bytes": None}):
        path = files["npy"] if "labels" in options else files["csv"]
        with pytest.raises(DataError):
            load_source({"path": str(path), "options": options})


@pytest.mark.parametrize("path, match", [
    ("", "the path is empty"),
    ("a\x00b.csv", "contains a NUL character"),
    ("~no_such_user_here_17/x.csv", r"cannot expand '~'"),
    ("x" * 5000 + ".csv", r"cannot be read|no such file"),
])
def test_bad_paths(path, match):
    with pytest.raises(DataError, match=match):
        import_path(path)


def test_read_idx_arguments(tmp_path):
    with pytest.raises(DataError, match="must be a string or Path"):
        read_idx(5)
    (tmp_path / "a.idx").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(DataError, match="max_bytes must be a positive integer"):
        read_idx(tmp_path / "a.idx", limit="big")
    assert read_idx(str(tmp_path / "a.idx")).tolist() == [0, 0, 0]


# --- 29: regular files only, reads bounded ---------------------------------------------------------


def run_without_hanging(fn, fifo: Path, seconds: float = 10.0):
    """fn() in a thread; if it blocks on ``fifo``, unblock it (a writer comes and goes) and fail."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        thread.join(5)
        pytest.fail(f"import blocked on the FIFO {fifo.name}")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@posix_only
@pytest.mark.parametrize("name, options", [
    ("pipe.csv", {}), ("pipe.npy", {"label_column": 0}), ("pipe.npz", {}), ("pipe-images-idx3-ubyte", {}),
])
def test_fifo_is_refused_without_blocking(tmp_path, name, options):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=rf"{name}: not a regular file \(a named pipe \(FIFO\)\)"):
        run_without_hanging(lambda: import_path(fifo, **options), fifo)


@posix_only
def test_fifo_as_labels_file(tmp_path):
    fifo = tmp_path / "labels.npy"
    os.mkfifo(fifo)
    np.save(tmp_path / "x.npy", np.zeros((2, 2)))
    with pytest.raises(DataError, match=r"labels file labels.npy: not a regular file \(a named pipe"):
        run_without_hanging(lambda: import_path(tmp_path / "x.npy", labels=fifo), fifo)


@posix_only
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_symlinks_to_devices_are_refused(tmp_path):
    """In a child process with a memory cap, so the unfixed reader (which read /dev/zero until it
    ran out of memory) fails the test instead of the machine."""
    for name in ("zero.csv", "zero.npy", "zero.npz", "zero-images-idx3-ubyte", "null.csv"):
        os.symlink("/dev/null" if name.startswith("null") else "/dev/zero", tmp_path / name)
    np.save(tmp_path / "x.npy", np.zeros((2, 2)))
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))\n"
        "from modstudio.data import DataError, import_path\n"
        "d = sys.argv[1]\n"
        "cases = [('zero.csv', {}), ('zero.npy', {'label_column': 0}), ('zero.npz', {}),\n"
        "         ('zero-images-idx3-ubyte', {}), ('null.csv', {}), ('x.npy', {'labels': d + '/zero.npy'})]\n"
        "for name, options in cases:\n"
        "    try:\n"
        "        import_path(d + '/' + name, **options)\n"
        "        print('loaded', name)\n"
        "    except DataError as exc:\n"
        "        print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines == [
        "zero.csv: not a regular file (a character device)",
        "zero.npy: not a regular file (a character device)",
        "zero.npz: not a regular file (a character device)",
        "zero-images-idx3-ubyte: not a regular file (a character device)",
        "null.csv: not a regular file (a character device)",
        "labels file zero.npy: not a regular file (a character device)",
    ]


@posix_only
def test_sockets_loops_and_folders_where_files_are_expected(tmp_path):
    sock = socket.socket(socket.AF_UNIX)
    short = Path(tempfile.mkdtemp(prefix="ms"))  # AF_UNIX paths must be short
    try:
        sock.bind(str(short / "s.csv"))
        with pytest.raises(DataError, match=r"s.csv: not a regular file \(a socket\)"):
            import_path(short / "s.csv")
    finally:
        sock.close()
        (short / "s.csv").unlink(missing_ok=True)
        short.rmdir()
    os.symlink("loop.csv", tmp_path / "loop.csv")
    with pytest.raises(DataError, match=r"loop.csv: cannot be read \(a loop of symbolic links\)"):
        import_path(tmp_path / "loop.csv")
    np.save(tmp_path / "x.npy", np.zeros((2, 2)))
    (tmp_path / "y.npy").mkdir()
    with pytest.raises(DataError, match=r"labels file y.npy: not a regular file \(a folder\)"):
        import_path(tmp_path / "x.npy", labels=tmp_path / "y.npy")
    (tmp_path / "l.idx").mkdir()
    (tmp_path / "i.idx").write_bytes(idx_bytes(np.zeros((2, 2, 2), np.uint8)))
    with pytest.raises(DataError, match=r"labels file l.idx: not a regular file \(a folder\)"):
        import_path(tmp_path / "i.idx", labels=tmp_path / "l.idx")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads unreadable files")
def test_unreadable_file(tmp_path):
    p = write(tmp_path / "secret.csv", "a,b,y\n1,2,0\n3,4,1\n")
    p.chmod(0)
    try:
        with pytest.raises(DataError, match=r"secret.csv: cannot be opened \(permission denied\)"):
            import_path(p)
    finally:
        p.chmod(0o600)


def test_reads_stop_at_the_checked_size(tmp_path):
    """A file that grows after its size was checked is refused, not read on."""
    p = write(tmp_path / "g.csv", "a,b,y\n1,2,0\n")
    with importers._open_file(p, MAX_BYTES) as (f, size):
        assert size == 12
        with open(p, "a") as grow:
            grow.write("3,4,1\n" * 100)
        with pytest.raises(DataError, match=r"g.csv: the file grew while it was read"):
            f.read()
    p = write(tmp_path / "s.csv", "a,b,y\n1,2,0\n3,4,1\n")
    with pytest.raises(DataError, match=r"s.csv is 18 bytes, over the import limit of 17 bytes"):
        import_path(p, max_bytes=17)


# --- 30: labels are numbers before they are int64 -----------------------------------------------


@pytest.mark.parametrize("label, why", [
    ("1e30", r"too large: labels go up to 2\*\*62"),
    ("9223372036854775808", r"too large"),
    ("4611686018427387905", r"too large"),
    ("-1e30", r"negative"),
    ("inf", r"not a finite number"),
    ("nan", r"not a finite number"),
    ("2.5", r"not a whole number"),
])
def test_csv_numeric_labels_checked_as_numbers(tmp_path, label, why):
    p = write(tmp_path / "l.csv", f"a,y\n1,0\n2,1\n3,{label}\n")
    with pytest.raises(DataError, match=rf"l.csv: row 4, label column 2: '{label}' is not a non-negative "
                                        rf"integer label \({why}"):
        import_path(p)


def test_csv_large_integer_labels_stay_exact(tmp_path):
    """2**53 + 1 and 2**53 are different labels (a float64 parse made them one class)."""
    p = write(tmp_path / "big.csv", "a,y\n1,9007199254740993\n2,9007199254740992\n3,4611686018427387904\n4,1e3\n")
    ds = import_path(p)
    assert ds.class_names == ["1000", "9007199254740992", "9007199254740993", "4611686018427387904"]
    assert ds.y.tolist() == [2, 1, 3, 0]


@pytest.mark.parametrize("labels, match", [
    (np.array([0.0, 1.0, 1e30]), r"label at sample 2 is 1e\+30, too large"),
    (np.array([0, 1, 1e30], dtype=np.float32), r"label at sample 2 is 1e\+30, too large"),
    (np.array([0, 1, 2**63], dtype=np.uint64), r"label at sample 2 is 9223372036854775808, too large"),
    (np.array([0, 1, 2**62 + 1], dtype=np.int64), r"label at sample 2 is 4611686018427387905, too large"),
    (np.array([0.0, 1.0, -1e30]), r"label at sample 2 is negative \(-1e\+30\)"),
    (np.array([0.0, 1.0, np.nan]), r"label at sample 2 is nan, not an integer"),
])
def test_array_labels_checked_as_numbers(tmp_path, labels, match):
    p = tmp_path / "l.npz"
    np.savez(p, x=np.zeros((3, 2)), y=labels)
    with pytest.raises(DataError, match=r"l.npz: array 'y': " + match):
        import_path(p)
    np.save(tmp_path / "t.npy", np.column_stack([np.zeros(3), labels.astype(np.float64)]))
    if labels.dtype.kind == "f":
        with pytest.raises(DataError, match=r"t.npy: column 1: label at sample 2 is"):
            import_path(tmp_path / "t.npy", label_column=1)


# --- image folders -------------------------------------------------------------------------------


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` × ``height`` pixels (its data is 4×4)."""
    buffer = io.BytesIO()
    Image.new("L", (4, 4)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def image_folder(root: Path) -> Path:
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        for i in range(2):
            Image.new("L", (5, 5), color=40 * i).save(root / c / f"{i}.png")
    return root


def test_image_header_bomb_is_a_data_error(tmp_path, monkeypatch):
    root = image_folder(tmp_path / "imgs")
    (root / "cat" / "bomb.png").write_bytes(png_claiming(20_000, 20_000))
    with pytest.raises(DataError, match=r"cannot read 1 image file\(s\): cat/bomb.png \(DecompressionBomb"):
        import_path(root)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # someone lifted Pillow's own guard
    (root / "cat" / "bomb.png").write_bytes(png_claiming(10_000, 10_000))
    with pytest.raises(DataError, match=r"cat/bomb.png \(10000×10000 pixels, over the limit of 89,478,485 pixels\)"):
        import_path(root)


@posix_only
def test_image_folder_links_and_special_files(tmp_path):
    root = image_folder(tmp_path / "imgs")
    os.symlink("..", root / "cat" / "up")  # a loop if links were followed
    os.symlink(root / "dog", root / "cat" / "dogs")
    os.symlink("self", root / "self")  # a class "folder" that is a link loop: not a folder
    ds = import_path(root)
    assert len(ds) == 4 and ds.class_names == ["cat", "dog"]
    os.mkfifo(root / "dog" / "pipe.png")
    with pytest.raises(DataError, match=r"image 'dog/pipe.png' is not a regular file \(a named pipe \(FIFO\)\)"):
        run_without_hanging(lambda: import_path(root), root / "dog" / "pipe.png")
    (root / "dog" / "pipe.png").unlink()
    os.symlink("missing.png", root / "dog" / "broken.png")
    with pytest.raises(DataError, match=r"image 'dog/broken.png' cannot be read"):
        import_path(root)


def test_image_content_is_checked_not_the_name(tmp_path):
    root = image_folder(tmp_path / "imgs")
    buffer = io.BytesIO()
    Image.new("L", (4, 4)).save(buffer, "GIF")
    (root / "cat" / "gif.png").write_bytes(buffer.getvalue())  # a GIF called .png
    (root / "dog" / "cut.png").write_bytes((root / "dog" / "0.png").read_bytes()[:40])
    with pytest.raises(DataError, match=r"cannot read 2 image file\(s\): cat/gif.png .*dog/cut.png"):
        import_path(root)


def test_image_folder_file_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(importers.images, "MAX_IMAGE_FILES", 3)
    with pytest.raises(DataError, match=r"more than 3 image files"):
        import_path(image_folder(tmp_path / "imgs"))


# --- property tests: random and mutated files ---------------------------------------------------


def check_result(ds: Dataset) -> None:
    """What every Dataset guarantees, whatever file it came from."""
    assert isinstance(ds, Dataset)
    # float features, or bytes with the mapping that makes them finite features
    assert (ds.x.dtype, ds.values is None) in ((np.float32, True), (np.uint8, False))
    assert np.isfinite(ds.floats()).all() and len(ds.x) == len(ds.y) > 0
    assert ds.y.dtype == np.int64 and ds.y.min() >= 0 and ds.y.max() < ds.num_classes
    assert set(ds.y.tolist()) == set(range(ds.num_classes))


def outcome(path: Path, **options) -> Dataset | DataError:
    try:
        ds = import_path(path, **options)
    except DataError as exc:
        assert str(exc)
        return exc
    check_result(ds)
    return ds


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


FUZZ = settings(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

SUFFIXES = ["r.csv", "r.tsv", "r.npy", "r.npz", "r-images-idx3-ubyte", "r-images-idx3-ubyte.gz"]


@settings(FUZZ, max_examples=150)
@given(data=st.binary(max_size=600), which=st.sampled_from(SUFFIXES), gz=st.booleans())
def test_random_bytes_give_a_dataset_or_a_data_error(scratch, data, which, gz):
    if gz:
        data = gzip.compress(data)
    path = scratch / which
    path.write_bytes(data)
    options = {"label_column": 0} if which.endswith(".npy") else {}
    if which.startswith("r-images"):
        (scratch / ("r-labels-idx1-ubyte" + (".gz" if which.endswith(".gz") else ""))).write_bytes(data[::-1])
    outcome(path, **options)


@st.composite
def tables(draw):
    rows = draw(st.integers(2, 12))
    features = draw(st.integers(1, 4))
    values = draw(st.lists(st.lists(st.integers(-4000, 4000).map(lambda v: v / 8), min_size=features,
                                    max_size=features), min_size=rows, max_size=rows))
    numeric = draw(st.booleans())
    label = st.integers(0, 3) if numeric else st.sampled_from(["cat", "dog", "emu", "owl"])
    labels = draw(st.lists(label, min_size=rows, max_size=rows))
    return values, labels, draw(st.sampled_from([",", ";", "\t"])), draw(st.booleans())


def table_text(values, labels, delimiter, header) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if header:
        writer.writerow([f"f{j}" for j in range(len(values[0]))] + ["kind"])
    for row, label in zip(values, labels):
        writer.writerow([repr(v) for v in row] + [label])
    return out.getvalue()


@settings(FUZZ, max_examples=60)
@given(table=tables())
def test_valid_csv_reads_exactly(scratch, table):
    values, labels, delimiter, header = table
    path = scratch / "valid.csv"
    write(path, table_text(values, labels, delimiter, header))
    result = outcome(path)
    classes = sorted(set(labels))
    if len(classes) < 2:
        assert isinstance(result, DataError) and "only one class" in str(result)
        return
    assert isinstance(result, Dataset), result
    assert result.x.tolist() == np.array(values, dtype=np.float32).tolist()
    assert result.class_names == [str(c) for c in classes]
    assert result.y.tolist() == [classes.index(v) for v in labels]


@settings(FUZZ, max_examples=100)
@given(table=tables(), ops=st.lists(byte_mutation, min_size=1, max_size=4))
def test_mutated_csv_gives_a_dataset_or_a_data_error(scratch, table, ops):
    path = scratch / "mutant.csv"
    path.write_bytes(mutate(table_text(*table).encode(), ops))
    outcome(path)


@pytest.fixture(scope="module")
def npy_seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    table = np.column_stack([rng.normal(size=(6, 3)), np.arange(6) % 3])
    return [npy_bytes(table), npy_bytes(table.astype(">f4")), npy_bytes(np.asfortranarray(table)),
            npy_bytes(table.astype(np.int16)), lying_npy("(6, 4)", body=table.tobytes(), version=2)]


@settings(FUZZ, max_examples=100)
@given(which=st.integers(0, 4), ops=st.lists(byte_mutation, min_size=1, max_size=4))
def test_mutated_npy_gives_a_dataset_or_a_data_error(scratch, npy_seeds, which, ops):
    path = scratch / "mutant.npy"
    path.write_bytes(mutate(npy_seeds[which], ops))
    outcome(path, label_column=-1)
    (scratch / "labels.npy").write_bytes(mutate(npy_bytes(np.array(["a", "b"] * 3)), ops))
    (scratch / "x.npy").write_bytes(npy_seeds[0])
    outcome(scratch / "x.npy", labels=scratch / "labels.npy")


@pytest.fixture(scope="module")
def npz_seeds(scratch) -> list[bytes]:
    out = []
    for i, save in enumerate((np.savez, np.savez_compressed)):
        p = scratch / f"seed{i}.npz"
        save(p, x=np.arange(12.0).reshape(6, 2), y=np.arange(6) % 2, class_names=np.array(["no", "yes"]))
        out.append(p.read_bytes())
    return out


@settings(FUZZ, max_examples=100)
@given(which=st.integers(0, 1), ops=st.lists(byte_mutation, min_size=1, max_size=3))
def test_mutated_npz_gives_a_dataset_or_a_data_error(scratch, npz_seeds, which, ops):
    path = scratch / "mutant.npz"
    path.write_bytes(mutate(npz_seeds[which], ops))
    outcome(path)


@settings(FUZZ, max_examples=60)
@given(gz=st.booleans(), ops=st.lists(byte_mutation, min_size=1, max_size=3))
def test_mutated_idx_gives_a_dataset_or_a_data_error(scratch, gz, ops):
    images = idx_bytes(np.arange(48, dtype=np.uint8).reshape(3, 4, 4))
    labels = idx_bytes(np.array([0, 1, 1], np.uint8))
    if gz:
        images, labels = gzip.compress(images, mtime=0), gzip.compress(labels, mtime=0)
    ext = ".gz" if gz else ""
    (scratch / f"m-images-idx3-ubyte{ext}").write_bytes(mutate(images, ops))
    (scratch / f"m-labels-idx1-ubyte{ext}").write_bytes(mutate(labels, ops[::-1]))
    outcome(scratch / f"m-images-idx3-ubyte{ext}")


@pytest.fixture(scope="module")
def fuzz_folder(scratch) -> Path:
    root = scratch / "fuzz-images"
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        Image.new("L", (3, 3), color=9).save(root / c / "0.png")
    return root


@settings(FUZZ, max_examples=60)
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".png", ".jpg", ".bmp"]),
       ops=st.lists(byte_mutation, max_size=3))
def test_random_and_mutated_images_give_a_dataset_or_a_data_error(fuzz_folder, data, suffix, ops):
    seed = io.BytesIO()
    Image.new("RGB", (6, 5), color=(1, 2, 3)).save(seed, {".png": "PNG", ".jpg": "JPEG", ".bmp": "BMP"}[suffix])
    for old in fuzz_folder.glob("b/x.*"):
        old.unlink()
    (fuzz_folder / "b" / f"x{suffix}").write_bytes(mutate(seed.getvalue(), ops) if ops else data)
    outcome(fuzz_folder, size=(4, 4))
