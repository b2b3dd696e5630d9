"""Importers for the user's own files: CSV, NPZ/NPY, a folder of class sub-folders, MNIST-style IDX.

A user's file is untrusted and possibly huge: sizes are checked against ``max_bytes`` before
anything big is read (declared sizes too, for compressed files), pickles are never loaded, and
every way a file can be wrong ends in a DataError that names the file and the place.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import struct
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from modstudio.data.dataset import Dataset, check_features, encode_labels
from modstudio.data.errors import DataError, human_bytes

MAX_BYTES = 2 * 1024**3
"""Default limit on the bytes an import may read or decode (override per call with max_bytes)."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
_IDX_NAME = re.compile(r"idx\d-ubyte(\.gz)?$", re.IGNORECASE)


def _guard(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise DataError(
            f"{what} is {human_bytes(size)}, over the import limit of {human_bytes(limit)} "
            "(raise max_bytes to import it anyway)"
        )


def _limit(options: dict) -> int:
    limit = options.pop("max_bytes", MAX_BYTES)
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit <= 0:
        raise DataError(f"max_bytes must be a positive integer, got {limit!r}")
    return int(limit)


def _refuse_unknown(options: dict, fmt: str) -> None:
    if options:
        raise DataError(f"unknown option(s) for {fmt} import: {sorted(options)}")


def _jsonable(value: Any) -> Any:
    """Options go into ``origin`` (saved as JSON): tuples become lists, paths become strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def import_path(path: str | Path, **options: Any) -> Dataset:
    """Import a dataset from a file or folder, choosing the reader from what the path is.

    Folders are image folders; ``.csv``/``.tsv``/``.txt`` are CSV; ``.npz``/``.npy`` NumPy;
    names ending ``idxN-ubyte[.gz]`` (or ``.idx``) IDX. Common options: ``name`` (default: the
    file's stem) and ``max_bytes`` (default ``MAX_BYTES``). See each reader for the rest.
    """
    if not isinstance(path, (str, Path)):
        raise DataError(f"a path must be a string or Path, got {type(path).__name__}")
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    recipe = dict(options)
    if isinstance(recipe.get("labels"), (str, Path)):  # a relative path would break a later rebuild
        recipe["labels"] = Path(recipe["labels"]).expanduser().resolve()
    origin = {"path": str(p.resolve()), "options": _jsonable(recipe)}
    opts = dict(options)
    name = opts.pop("name", None)
    suffix = p.suffix.lower()
    if p.is_dir():
        x, y, names, source = _image_folder(p, opts)
    elif suffix in (".csv", ".tsv", ".txt"):
        x, y, names, source = _csv(p, opts)
    elif suffix == ".npz":
        x, y, names, source = _npz(p, opts)
    elif suffix == ".npy":
        x, y, names, source = _npy(p, opts)
    elif _IDX_NAME.search(p.name) or suffix == ".idx":
        x, y, names, source = _idx(p, opts)
    else:
        raise DataError(
            f"{p.name}: unsupported file type {p.suffix or '(no extension)'}; expected .csv, .npz, "
            ".npy, an IDX file (…-idx3-ubyte[.gz]) or a folder with one sub-folder per class"
        )
    if name is None:
        name = _default_name(p)
    try:
        dataset = Dataset(x, y, names, name=str(name), source=source)
    except DataError as exc:
        raise DataError(f"{p.name}: {exc}") from None
    dataset.origin = origin
    return dataset


def _default_name(p: Path) -> str:
    """'iris.csv' → 'iris', 'train-images-idx3-ubyte.gz' → 'train-images', a folder → its name."""
    if p.is_dir():
        return p.name
    if _IDX_NAME.search(p.name):
        return _IDX_NAME.sub("", p.name).rstrip("-_.") or p.name
    return p.stem


# --- CSV ---------------------------------------------------------------------------------------


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _sniff_delimiter(sample: str, p: Path) -> str:
    if p.suffix.lower() == ".tsv":
        return "\t"
    first = next((line for line in sample.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv(p: Path, options: dict):
    """CSV/TSV with one sample a row; options ``header`` (None = auto, True, False),
    ``label_column`` (name or index, negative counts from the end; default the last column),
    ``delimiter`` (default sniffed among , ; tab)."""
    limit = _limit(options)
    header = options.pop("header", None)
    label_column = options.pop("label_column", -1)
    delimiter = options.pop("delimiter", None)
    _refuse_unknown(options, "CSV")
    _guard(p.stat().st_size, limit, p.name)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{p.name}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    delimiter = delimiter or _sniff_delimiter(text[:65536], p)
    try:
        rows = [(i, r) for i, r in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), 1)
                if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise DataError(f"{p.name}: malformed CSV ({exc})") from None
    if not rows:
        raise DataError(f"{p.name}: the file is empty")
    width = len(rows[0][1])
    if header is None:
        if isinstance(label_column, str):
            header = True
        else:
            first = {j for j, c in enumerate(rows[0][1]) if not _is_number(c.strip())}
            second = ({j for j, c in enumerate(rows[1][1]) if not _is_number(c.strip())}
                      if len(rows) > 1 else set())
            header = bool(first) and (not first <= second or len(rows) == 1)
    names = [c.strip() for c in rows[0][1]] if header else [f"column {j + 1}" for j in range(width)]
    data = rows[1:] if header else rows
    if not data:
        raise DataError(f"{p.name}: the file has a header but no data rows")
    if width < 2:
        raise DataError(f"{p.name}: need at least one feature column and a label column, found {width} column")
    for line, r in data:
        if len(r) != width:
            raise DataError(f"{p.name}: row {line} has {len(r)} fields, expected {width}")
    if isinstance(label_column, str):
        if not header:
            raise DataError(f"{p.name}: label column {label_column!r} given by name but the file has no header")
        if label_column not in names:
            raise DataError(f"{p.name}: no column named {label_column!r}; columns are {names}")
        lab = names.index(label_column)
    elif isinstance(label_column, (int, np.integer)) and not isinstance(label_column, bool):
        if not -width <= label_column < width:
            raise DataError(f"{p.name}: label column index {label_column} is out of range for {width} columns")
        lab = int(label_column) % width
    else:
        raise DataError(f"label_column must be a column name or index, got {label_column!r}")
    cells = np.array([r for _, r in data], dtype=str)
    labels = np.char.strip(cells[:, lab])
    feats = np.delete(cells, lab, axis=1)
    cols = [j for j in range(width) if j != lab]
    try:
        with np.errstate(all="ignore"):
            x = feats.astype(np.float64)
    except ValueError:
        x = None
    if x is None or not np.isfinite(x).all():
        x = np.empty(feats.shape)  # slow path: find the first bad cell and name it
        for i, ((line, _), row) in enumerate(zip(data, feats)):
            for k, cell in enumerate(row):
                j = cols[k]
                where = f"{p.name}: row {line}, column {j + 1}" + (f" ({names[j]!r})" if header else "")
                text = cell.strip()
                if not text:
                    raise DataError(f"{where}: empty value")
                try:
                    x[i, k] = float(text)
                except ValueError:
                    raise DataError(f"{where}: {text!r} is not a number") from None
                if not np.isfinite(x[i, k]):
                    raise DataError(f"{where}: {text!r} (NaN or infinite values are not allowed)")
    empty = np.flatnonzero(labels == "")
    if empty.size:
        raise DataError(f"{p.name}: row {data[int(empty[0])][0]}, label column {lab + 1}: empty label")
    numeric = all(_is_number(v) for v in np.unique(labels))
    if numeric:
        values = labels.astype(np.float64)
        bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"{p.name}: row {data[i][0]}, label column {lab + 1}: {str(labels[i])!r} is not a "
                "non-negative integer label"
            )
        y, class_names = encode_labels(values.astype(np.int64), p.name)
    else:
        y, class_names = encode_labels(labels, p.name)
    source = f"CSV file {p} ({len(y)} rows, label column {names[lab]!r})"
    return x, y, class_names, source


# --- NumPy -------------------------------------------------------------------------------------


def _load_npy(p: Path, limit: int, what: str) -> np.ndarray:
    _guard(p.stat().st_size, limit, p.name)
    with open(p, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise DataError(f"{p.name}: not a readable .npy file (no NumPy header)")
    try:
        return np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{p.name}: {what} holds Python objects (pickled data is never loaded)") from None
        raise DataError(f"{p.name}: not a readable .npy file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{p.name}: not a readable .npy file ({exc})") from None


def _labels_of(array: np.ndarray, where: str):
    if array.dtype.kind in "US":
        return encode_labels(array.astype(str), where)
    if array.dtype.kind not in "biuf" or array.dtype.kind == "b":
        raise DataError(f"{where}: labels must be integers or strings, got dtype {array.dtype}")
    return encode_labels(array, where)


def _npz(p: Path, options: dict):
    """NPZ with features under ``x_key`` (default "x") and labels under ``y_key`` (default "y");
    an optional string array under ``names_key`` (default "class_names") names the classes."""
    limit = _limit(options)
    x_key = options.pop("x_key", "x")
    y_key = options.pop("y_key", "y")
    names_key = options.pop("names_key", "class_names")
    _refuse_unknown(options, "NPZ")
    _guard(p.stat().st_size, limit, p.name)
    try:
        with zipfile.ZipFile(p) as zf:
            declared = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{p.name}: not a readable .npz file ({exc})") from None
    _guard(declared, limit, f"{p.name} (uncompressed)")
    try:
        with np.load(p, allow_pickle=False) as f:
            keys = list(f.files)
            for key in (x_key, y_key):
                if key not in keys:
                    raise DataError(f"{p.name}: no array named {key!r}; the file has {keys}")
            x, raw_y = f[x_key], f[y_key]
            raw_names = f[names_key] if names_key in keys else None
    except DataError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{p.name}: holds Python objects (pickled data is never loaded)") from None
        raise DataError(f"{p.name}: not a readable .npz file ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{p.name}: not a readable .npz file ({exc})") from None
    y, names = _labels_of(raw_y, f"{p.name}: array {y_key!r}")
    if raw_names is not None:
        if raw_names.dtype.kind not in "US" or raw_names.ndim != 1:
            raise DataError(f"{p.name}: {names_key!r} must be a 1-D array of strings")
        if raw_y.dtype.kind in "US":
            raise DataError(f"{p.name}: {names_key!r} needs integer labels in {y_key!r}, not strings")
        top = int(np.max(raw_y))
        if len(raw_names) <= top:
            raise DataError(
                f"{p.name}: {names_key!r} has {len(raw_names)} names but label {top} needs at least {top + 1}"
            )
        names = [str(raw_names[int(v)]) for v in names]
    if np.ndim(x) >= 1 and len(x) != len(y):
        raise DataError(f"{p.name}: {x_key!r} has {len(x)} samples but {y_key!r} has {len(y)} labels")
    return _numeric(x, f"{p.name}: array {x_key!r}"), y, names, f"NumPy archive {p}"


def _numeric(x: np.ndarray, where: str) -> np.ndarray:
    """Features checked where the file is named, so the message says which file is wrong."""
    if x.dtype.kind not in "biuf":
        raise DataError(f"{where}: expected numbers, got dtype {x.dtype}")
    return check_features(x, where)


def _npy(p: Path, options: dict):
    """A single .npy holds only features, so labels come from ``labels=`` (a .npy of labels, one
    per sample) or from ``label_column=`` (an index into a 2-D array's columns)."""
    limit = _limit(options)
    labels = options.pop("labels", None)
    label_column = options.pop("label_column", None)
    _refuse_unknown(options, "NPY")
    if (labels is None) == (label_column is None):
        raise DataError(
            f"{p.name}: a .npy file has no labels; pass labels=<labels .npy file> or "
            "label_column=<column index> (not both)"
        )
    x = _load_npy(p, limit, "the array")
    if labels is not None:
        lp = Path(labels).expanduser()
        if not lp.is_file():
            raise DataError(f"labels file {lp} does not exist")
        raw_y = _load_npy(lp, limit, "the labels array")
        y, names = _labels_of(raw_y, f"labels file {lp.name}")
        if x.ndim >= 1 and len(x) != len(y):
            raise DataError(f"{p.name} has {len(x)} samples but {lp.name} has {len(y)} labels")
        return _numeric(x, p.name), y, names, f"NumPy arrays {p} with labels {lp}"
    if x.ndim != 2:
        raise DataError(f"{p.name}: label_column needs a 2-D array, got shape {x.shape}")
    if isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer)) \
            or not -x.shape[1] <= label_column < x.shape[1]:
        raise DataError(f"{p.name}: label_column {label_column!r} is not a column index for {x.shape[1]} columns")
    col = int(label_column) % x.shape[1]
    y, names = _labels_of(x[:, col], f"{p.name}: column {col}")
    return _numeric(np.delete(x, col, axis=1), p.name), y, names, f"NumPy array {p}"


# --- image folder ------------------------------------------------------------------------------


def _image_folder(p: Path, options: dict):
    """One sub-folder per class (sorted names are the class names); PNG/JPEG/BMP resized to
    ``size=(h, w)`` (default 28×28) in ``mode`` "L" (grey, default) or "RGB"; result (C, H, W)
    in [0, 1]. Other files are skipped; images that cannot be read are all named in one error."""
    from PIL import Image  # only this reader needs Pillow

    limit = _limit(options)
    size = options.pop("size", (28, 28))
    mode = options.pop("mode", "L")
    _refuse_unknown(options, "image folder")
    if mode not in ("L", "RGB"):
        raise DataError(f"mode must be 'L' (grey) or 'RGB', got {mode!r}")
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (size, size)
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and 1 <= s <= 4096
                       for s in size)):
        raise DataError(f"size must be (height, width) in pixels between 1 and 4096, got {size!r}")
    h, w = int(size[0]), int(size[1])
    classes = sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
    if len(classes) < 2:
        raise DataError(
            f"{p}: an image folder needs one sub-folder per class and at least two classes; "
            f"found {len(classes)} sub-folder(s)"
        )
    files: list[tuple[Path, int]] = []
    for c, folder in enumerate(classes):
        found = sorted(f for f in folder.rglob("*")
                       if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith("."))
        if not found:
            raise DataError(f"{p}: class folder {folder.name!r} has no PNG, JPEG or BMP images")
        files += [(f, c) for f in found]
    channels = 1 if mode == "L" else 3
    _guard(sum(f.stat().st_size for f, _ in files), limit, f"{p.name} (image files)")
    _guard(len(files) * channels * h * w * 4, limit, f"{p.name} (decoded at {h}×{w})")
    x = np.empty((len(files), h, w, channels), dtype=np.uint8)
    bad: list[str] = []
    for i, (f, _) in enumerate(files):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(f) as img:
                    img = img.convert(mode).resize((w, h), Image.Resampling.BILINEAR)
                    x[i] = np.asarray(img).reshape(h, w, channels)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
                Image.DecompressionBombWarning) as exc:
            bad.append(f"{f.relative_to(p)} ({type(exc).__name__}: {exc})")
    if bad:
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise DataError(f"{p}: cannot read {len(bad)} image file(s): {'; '.join(bad[:5])}{more}")
    y = np.array([c for _, c in files], dtype=np.int64)
    out = x.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0)
    source = f"image folder {p} ({len(files)} images, {h}×{w} {mode})"
    return out, y, [d.name for d in classes], source


# --- IDX ---------------------------------------------------------------------------------------

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open_binary(p: Path):
    with open(p, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(p, "rb") if gz else open(p, "rb")


def read_idx(p: Path, limit: int = MAX_BYTES) -> np.ndarray:
    """One IDX array (plain or gzip). The magic number and the declared size are checked before
    the body is read, so a gzip bomb or a truncated file is refused without filling memory."""
    _guard(p.stat().st_size, limit, p.name)
    try:
        with _open_binary(p) as f:
            magic = f.read(4)
            if len(magic) != 4 or magic[:2] != b"\x00\x00" or magic[2] not in _IDX_TYPES:
                raise DataError(f"{p.name}: not an IDX file (bad magic number {magic.hex() or 'empty'})")
            ndim = magic[3]
            if not 1 <= ndim <= 4:
                raise DataError(f"{p.name}: IDX file declares {ndim} dimensions (expected 1 to 4)")
            raw = f.read(4 * ndim)
            if len(raw) != 4 * ndim:
                raise DataError(f"{p.name}: IDX header is truncated")
            dims = struct.unpack(f">{ndim}I", raw)
            dtype = np.dtype(_IDX_TYPES[magic[2]])
            expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
            _guard(expected, limit, f"{p.name} (declared data size)")
            body = f.read(expected)
            if len(body) != expected:
                raise DataError(
                    f"{p.name}: IDX data is truncated ({len(body)} of {expected} bytes for shape {dims})"
                )
            if f.read(1):
                raise DataError(f"{p.name}: IDX file has extra bytes after the {dims} array")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{p.name}: cannot read IDX file ({exc})") from None
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _guess_labels(p: Path) -> list[Path]:
    name = p.name
    stem = re.sub(r"idx\d-ubyte", "idx1-ubyte", name, flags=re.IGNORECASE)
    stem = stem.replace("images", "labels").replace("Images", "Labels")
    base = stem[:-3] if stem.endswith(".gz") else stem
    return [p.with_name(base), p.with_name(base + ".gz")]


def _idx(p: Path, options: dict):
    """IDX images (N, H, W) → (N, 1, H, W); labels from ``labels=`` or the MNIST naming
    convention (train-images-idx3-ubyte → train-labels-idx1-ubyte, with or without .gz).
    uint8 images are scaled to [0, 1] unless ``scale=False``."""
    limit = _limit(options)
    labels = options.pop("labels", None)
    scale = options.pop("scale", True)
    _refuse_unknown(options, "IDX")
    x = read_idx(p, limit)
    if x.ndim == 1:
        raise DataError(f"{p.name}: this is a 1-D IDX file (labels); choose the images file instead")
    if labels is None:
        candidates = [c for c in _guess_labels(p) if c.is_file() and c != p]
        if not candidates:
            raise DataError(
                f"{p.name}: no labels file found (looked for {_guess_labels(p)[0].name}[.gz]); "
                "pass labels=<path>"
            )
        lp = candidates[0]
    else:
        lp = Path(labels).expanduser()
        if not lp.is_file():
            raise DataError(f"labels file {lp} does not exist")
    raw_y = read_idx(lp, limit)
    if raw_y.ndim != 1:
        raise DataError(f"{lp.name}: a labels IDX file must be 1-D, got shape {raw_y.shape}")
    if len(raw_y) != len(x):
        raise DataError(f"{p.name} has {len(x)} images but {lp.name} has {len(raw_y)} labels")
    y, names = encode_labels(raw_y, lp.name)
    if x.ndim == 3:
        x = x[:, None]
    if scale and x.dtype == np.uint8:
        xf = x.astype(np.float32) / np.float32(255.0)
    else:
        xf = _numeric(x, p.name)
    return xf, y, names, f"IDX files {p} and {lp}"
