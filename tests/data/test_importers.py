import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from modstudio.data import MAX_BYTES, UNIT, DataError, import_path, read_idx


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# --- CSV -----------------------------------------------------------------------------------------


def test_csv_with_header_and_string_labels(tmp_path):
    p = write(tmp_path / "iris.csv", "a,b,kind\n1,2,setosa\n3,4.5,virginica\n5,6,setosa\n")
    ds = import_path(p)
    assert ds.x.tolist() == [[1, 2], [3, 4.5], [5, 6]]
    assert ds.class_names == ["setosa", "virginica"] and ds.y.tolist() == [0, 1, 0]
    assert ds.name == "iris" and ds.origin == {"path": str(p.resolve()), "options": {}}


def test_csv_without_header_label_first(tmp_path):
    p = write(tmp_path / "d.csv", "2,0.5,0.25\n10,1,2\n2,3,4\n")
    ds = import_path(p, label_column=0)
    assert ds.class_names == ["2", "10"] and ds.y.tolist() == [0, 1, 0]
    assert ds.x.shape == (3, 2)


def test_csv_label_by_name_semicolon(tmp_path):
    p = write(tmp_path / "d.csv", "label;f1;f2\n0;1;2\n1;3;4\n")
    ds = import_path(p, label_column="label")
    assert ds.x.tolist() == [[1, 2], [3, 4]] and ds.y.tolist() == [0, 1]


def test_csv_forced_header(tmp_path):
    p = write(tmp_path / "d.csv", "1,2,3\n4,5,0\n6,7,1\n")
    assert len(import_path(p, header=True)) == 2
    assert len(import_path(p, header=False, label_column=2)) == 3


@pytest.mark.parametrize(
    "text, options, match",
    [
        ("a,b,y\n1,2,0\n3,x,1\n", {}, r"row 3, column 2 \('b'\): 'x' is not a number"),
        ("1,2,0\n3,,1\n", {}, r"row 2, column 2: empty value"),
        ("a,b,y\n1,2,0\n3,nan,1\n", {}, r"row 3, column 2 \('b'\): 'nan'.*NaN or infinite"),
        ("a,b,y\n1,2,0\n3,1\n", {}, "row 3 has 2 fields, expected 3"),
        ("a,b,y\n1,2,0\n3,4,-1\n", {}, r"row 3, label column 3: '-1' is not a non-negative integer"),
        ("a,b,y\n1,2,0\n3,4,1.5\n", {}, "'1.5' is not a non-negative integer"),
        ("a,b,y\n1,2,0\n3,4,\n", {}, "row 3, label column 3: empty label"),
        ("a,b,y\n1,2,0\n3,4,0\n", {}, "only one class"),
        ("", {}, "the file is empty"),
        ("a,b,y\n", {}, "header but no data rows"),
        ("a,b,y\n1,2,0\n3,4,1\n", {"label_column": "z"}, r"no column named 'z'; columns are \['a', 'b', 'y'\]"),
        ("a,b,y\n1,2,0\n3,4,1\n", {"label_column": 7}, "label column index 7 is out of range"),
        ("a,b,y\n1,2,0\n3,4,1\n", {"colour": 1}, r"unknown option\(s\) for CSV import: \['colour'\]"),
        ("1,2,0\n3,4,1\n", {"label_column": "y", "header": False}, "given by name but the file has no header"),
        ("0\n1\n", {}, "need at least one feature column"),
    ],
)
def test_csv_refusals(tmp_path, text, options, match):
    p = write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError, match=match):
        import_path(p, **options)


def test_csv_not_utf8(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        import_path(p)


def test_size_guard_before_reading(tmp_path):
    p = write(tmp_path / "big.csv", "a,b,y\n" + "1,2,0\n3,4,1\n" * 50)
    with pytest.raises(DataError, match=r"big.csv is .* over the import limit of 100 bytes"):
        import_path(p, max_bytes=100)
    assert MAX_BYTES == 2 * 1024**3
    with pytest.raises(DataError, match="max_bytes must be a positive integer"):
        import_path(p, max_bytes=-1)


# --- general --------------------------------------------------------------------------------------


def test_missing_and_unsupported(tmp_path):
    with pytest.raises(DataError, match="must be a string or Path"):
        import_path(123)
    with pytest.raises(DataError, match="no such file or folder"):
        import_path(tmp_path / "nope.csv")
    p = write(tmp_path / "data.xlsx", "")
    with pytest.raises(DataError, match=r"data.xlsx: unsupported file type .xlsx"):
        import_path(p)


# --- NPZ / NPY ------------------------------------------------------------------------------------


def test_npz_default_and_custom_keys(tmp_path):
    x = np.arange(24, dtype=np.float64).reshape(6, 2, 2)
    p = tmp_path / "d.npz"
    np.savez(p, x=x, y=[3, 5, 3, 5, 3, 5], features=x, target=np.array(["b", "a"] * 3))
    ds = import_path(p)
    assert ds.sample_shape == (2, 2) and ds.class_names == ["3", "5"]
    ds = import_path(p, x_key="features", y_key="target")
    assert ds.class_names == ["a", "b"] and ds.y.tolist() == [1, 0] * 3
    np.savez(p, x=x, y=[0, 1] * 3, class_names=np.array(["cat", "dog"]))
    assert import_path(p).class_names == ["cat", "dog"]


@pytest.mark.parametrize(
    "arrays, options, match",
    [
        ({"x": np.zeros((4, 2)), "y": [0, 1, 0, 1]}, {"x_key": "X"}, r"no array named 'X'; the file has \['x', 'y'\]"),
        ({"x": np.zeros((4, 2)), "y": [0, 1, 0]}, {}, "'x' has 4 samples but 'y' has 3 labels"),
        ({"x": np.zeros((4, 2)), "y": [0, 1, 0, -1]}, {}, "label at sample 3 is negative"),
        ({"x": np.zeros((4, 2)), "y": [0, 1, 0, 0.5]}, {}, "label at sample 3 is 0.5, not an integer"),
        ({"x": np.array([[0, 1], [np.inf, 2], [0, 0]]), "y": [0, 1, 1]}, {}, r"array 'x': sample 1, feature 0 is inf"),
        ({"x": np.zeros((0, 2)), "y": np.zeros(0, int)}, {}, "no labels|empty"),
        ({"x": np.zeros((3, 2)), "y": [0, 1, 1], "class_names": np.array(["a"])}, {},
         "'class_names' has 1 names but label 1 needs at least 2"),
        ({"x": np.array(["a", "b"]), "y": [0, 1]}, {}, "expected numbers"),
    ],
)
def test_npz_refusals(tmp_path, arrays, options, match):
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    with pytest.raises(DataError, match=match):
        import_path(p, **options)


def test_npz_pickle_refused(tmp_path):
    p = tmp_path / "obj.npz"
    np.savez(p, x=np.array([{"a": 1}, None], dtype=object), y=[0, 1])
    with pytest.raises(DataError, match="pickled data is never loaded"):
        import_path(p)


def test_npz_declared_size_guard(tmp_path):
    p = tmp_path / "bomb.npz"
    np.savez_compressed(p, x=np.zeros((2000, 100)), y=np.arange(2000) % 2)
    assert p.stat().st_size < 20_000
    with pytest.raises(DataError, match=r"bomb.npz \(uncompressed\) is .* over the import limit"):
        import_path(p, max_bytes=100_000)


def test_npz_not_a_zip(tmp_path):
    p = write(tmp_path / "fake.npz", "hello")
    with pytest.raises(DataError, match="fake.npz: not a readable .npz file"):
        import_path(p)


def test_npy_with_labels_file_or_column(tmp_path):
    x = np.random.default_rng(0).normal(size=(6, 3))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.array([0, 1, 2] * 2))
    ds = import_path(tmp_path / "x.npy", labels=tmp_path / "y.npy")
    assert ds.num_classes == 3 and ds.origin["options"]["labels"] == str((tmp_path / "y.npy").resolve())
    table = np.column_stack([x[:, :2], [1, 0] * 3])
    np.save(tmp_path / "t.npy", table)
    ds = import_path(tmp_path / "t.npy", label_column=-1)
    assert ds.x.shape == (6, 2) and ds.y.tolist() == [1, 0] * 3


def test_npy_refusals(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((4, 2)))
    np.save(tmp_path / "y.npy", np.array([0, 1, 0]))
    with pytest.raises(DataError, match="a .npy file has no labels; pass labels="):
        import_path(tmp_path / "x.npy")
    with pytest.raises(DataError, match="x.npy has 4 samples but y.npy has 3 labels"):
        import_path(tmp_path / "x.npy", labels=tmp_path / "y.npy")
    with pytest.raises(DataError, match="labels file .*nope.npy does not exist"):
        import_path(tmp_path / "x.npy", labels=tmp_path / "nope.npy")
    with pytest.raises(DataError, match="label_column 5 is not a column index for 2 columns"):
        import_path(tmp_path / "x.npy", label_column=5)
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="junk.npy: not a readable .npy file"):
        import_path(tmp_path / "junk.npy", label_column=0)


# --- image folder ---------------------------------------------------------------------------------


def make_images(root, classes=("cat", "dog"), per_class=3, fmt="png"):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            arr = rng.integers(0, 256, size=(10, 12, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / c / f"{i}.{fmt}")
    return root


@pytest.mark.parametrize("fmt", ["png", "jpg", "bmp"])
def test_image_folder_keeps_native_size_and_colours(tmp_path, fmt):
    root = make_images(tmp_path / "imgs", fmt=fmt)
    (root / "cat" / "notes.txt").write_text("ignored")
    ds = import_path(root)
    assert ds.x.shape == (6, 3, 10, 12) and ds.x.dtype == np.uint8 and ds.values == UNIT  # bytes, read 0 … 1
    assert 0.0 <= ds.floats().min() and ds.floats().max() <= 1.0
    assert ds.class_names == ["cat", "dog"] and ds.y.tolist() == [0, 0, 0, 1, 1, 1]
    # the recipe says what was chosen, so a rebuild reads the same whatever the defaults become
    assert ds.origin["options"] == {"size": [10, 12], "mode": "RGB", "normalize": "unit"}
    grey = import_path(root, size=28, mode="L")
    assert grey.x.shape == (6, 1, 28, 28)


def test_image_folder_of_grey_images_is_read_grey(tmp_path):
    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        Image.new("L", (7, 5), color=90).save(tmp_path / c / "0.png")
    assert import_path(tmp_path).x.shape == (2, 1, 5, 7)


def test_image_folder_rgb_size(tmp_path):
    root = make_images(tmp_path / "imgs", classes=("a", "b", "c"), per_class=2)
    ds = import_path(root, size=(8, 6), mode="RGB")
    assert ds.x.shape == (6, 3, 8, 6)
    assert ds.origin["options"] == {"size": [8, 6], "mode": "RGB", "normalize": "unit"}


def test_image_folder_normalizations(tmp_path):
    root = make_images(tmp_path / "imgs")
    unit = import_path(root).floats()
    signed = import_path(root, normalize="signed").floats()
    standard = import_path(root, normalize="standard").floats()
    np.testing.assert_allclose(signed, unit * 2 - 1, atol=1e-6)
    assert signed.min() >= -1 and signed.max() <= 1 and signed.min() < -0.9
    np.testing.assert_allclose(standard.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(standard.std(axis=(0, 2, 3)), 1, atol=1e-4)
    with pytest.raises(DataError, match="normalize must be one of"):
        import_path(root, normalize="zscore")


def test_image_folder_of_mixed_sizes_is_refused_naming_the_sizes(tmp_path):
    from modstudio.data.importers.images import MixedImageSizes

    root = make_images(tmp_path / "imgs")  # six 10×12 images
    Image.new("RGB", (20, 16)).save(root / "dog" / "big.png")
    with pytest.raises(MixedImageSizes, match=r"not all one size \(10×12 \(6\), 16×20 \(1\)\).*the most common, 10×12") as caught:
        import_path(root)
    assert caught.value.sizes == [((10, 12), 6), ((16, 20), 1)]
    ds = import_path(root, size=(10, 12))
    assert ds.x.shape == (7, 3, 10, 12) and "resized" in ds.source


def test_image_folder_recipe_without_size_rebuilds_as_it_was_made(tmp_path):
    """Recipes saved before the reader kept native sizes recorded no size or mode: 28×28 grey."""
    from modstudio.data.rebuild import load_source

    root = make_images(tmp_path / "imgs")
    old = import_path(root, size=28, mode="L")
    spec = {"path": str(root), "options": {}, "fingerprint": old.fingerprint}
    assert load_source(spec).x.shape == (6, 1, 28, 28)
    new = import_path(root)
    assert load_source({"path": str(root), "options": new.origin["options"]}).fingerprint == new.fingerprint


def test_image_folder_refusals(tmp_path):
    root = make_images(tmp_path / "imgs")
    (root / "dog" / "broken.png").write_bytes(b"not an image")
    (root / "cat" / "bad.jpg").write_bytes(b"\xff\xd8 nope")
    with pytest.raises(DataError, match=r"cannot read 2 image file\(s\): cat/bad.jpg .*dog/broken.png"):
        import_path(root)
    (root / "dog" / "broken.png").unlink()
    (root / "cat" / "bad.jpg").unlink()
    with pytest.raises(DataError, match="mode must be 'L'"):
        import_path(root, mode="CMYK")
    with pytest.raises(DataError, match="size must be"):
        import_path(root, size=(0, 5))
    with pytest.raises(DataError, match=r"decoded at 10×12\) is .* over the import limit"):
        import_path(root, max_bytes=5000)
    (root / "empty").mkdir()
    with pytest.raises(DataError, match="class folder 'empty' has no PNG, JPEG or BMP images"):
        import_path(root)
    one = make_images(tmp_path / "one", classes=("only",))
    with pytest.raises(DataError, match="at least two classes; found 1 sub-folder"):
        import_path(one)


# --- IDX ------------------------------------------------------------------------------------------


def idx_bytes(array, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("gz", [False, True])
def test_idx_mnist_naming(tmp_path, gz):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    labels = np.array([0, 1, 2, 1, 0], dtype=np.uint8)
    ext = ".gz" if gz else ""
    opener = gzip.open if gz else open
    with opener(tmp_path / f"train-images-idx3-ubyte{ext}", "wb") as f:
        f.write(idx_bytes(images))
    with opener(tmp_path / f"train-labels-idx1-ubyte{ext}", "wb") as f:
        f.write(idx_bytes(labels))
    ds = import_path(tmp_path / f"train-images-idx3-ubyte{ext}")
    assert ds.x.shape == (5, 1, 4, 3) and ds.name == "train-images"
    assert ds.x.dtype == np.uint8 and ds.values == UNIT  # the file's bytes, read 0 … 1
    assert np.array_equal(ds.x[:, 0], images) and np.allclose(ds.floats()[:, 0] * 255, images)
    assert ds.y.tolist() == labels.tolist()


def test_idx_explicit_labels_and_types(tmp_path):
    images = np.arange(12, dtype=">f4").reshape(3, 4)
    (tmp_path / "feat.idx").write_bytes(idx_bytes(images, 0x0D))
    (tmp_path / "lab.idx").write_bytes(idx_bytes(np.array([0, 1, 1], dtype=np.int32), 0x0C))
    ds = import_path(tmp_path / "feat.idx", labels=tmp_path / "lab.idx")
    assert ds.x.shape == (3, 4) and ds.x[2, 3] == 11.0
    assert read_idx(tmp_path / "lab.idx").tolist() == [0, 1, 1]


def test_idx_refusals(tmp_path):
    images = np.zeros((3, 2, 2), dtype=np.uint8)
    p = tmp_path / "t10k-images-idx3-ubyte"
    p.write_bytes(b"\x00\x00\x07\x03" + idx_bytes(images)[4:])
    with pytest.raises(DataError, match="not an IDX file \\(bad magic number 00000703\\)"):
        import_path(p)
    p.write_bytes(idx_bytes(images)[:-2])
    with pytest.raises(DataError, match="IDX data is truncated"):
        import_path(p)
    p.write_bytes(idx_bytes(images))
    with pytest.raises(DataError, match="no labels file found \\(looked for t10k-labels-idx1-ubyte"):
        import_path(p)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([0, 1], np.uint8)))
    with pytest.raises(DataError, match="has 3 images but t10k-labels-idx1-ubyte has 2 labels"):
        import_path(p)
    with pytest.raises(DataError, match="1-D IDX file \\(labels\\); choose the images file"):
        import_path(tmp_path / "t10k-labels-idx1-ubyte")


def test_idx_gzip_bomb_refused_by_declared_size(tmp_path):
    p = tmp_path / "big-images-idx3-ubyte.gz"
    with gzip.open(p, "wb") as f:
        f.write(idx_bytes(np.zeros((1000, 28, 28), np.uint8)))
    with pytest.raises(DataError, match=r"declared data size\) is 765.6 KiB, over the import limit of 100.0 KiB"):
        import_path(p, max_bytes=100 * 1024)
