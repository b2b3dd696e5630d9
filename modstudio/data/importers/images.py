"""The image-folder reader: one sub-folder per class, PNG/JPEG/BMP files at their own size and
colours unless told otherwise (``size``, ``mode``, ``normalize``).

The folder walk cannot loop or be sent into special files, the files and the decoded array are
checked against ``max_bytes`` before decoding, and each image's header (its pixel count) is
checked against ``MAX_IMAGE_PIXELS`` before it is decoded. Pillow is imported only when a folder
is read.
"""

from __future__ import annotations

import contextlib

import os
import stat
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from modstudio.data.errors import DataError
from modstudio.data.importers.files import _guard, _kind, _open_file, _os_problem
from modstudio.data.importers.options import _is_int, _limit, _refuse_unknown, _show
from modstudio.data.values import UNIT, Encoded, ValueMap

MAX_IMAGE_FILES = 1_000_000
"""Most image files an image folder may hold."""

MAX_IMAGE_PIXELS = 89_478_485
"""Largest image (width × height) decoded from an image folder: Pillow's default bomb threshold,
fixed here so that a changed ``PIL.Image.MAX_IMAGE_PIXELS`` cannot lift it."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")

IMAGE_MODES = {"L": "grey (1 channel)", "RGB": "colour (3 channels, RGB)"}
"""The colour modes an image folder is read in; ``mode=None`` (the default) takes "L" when every
image is grey and "RGB" otherwise."""

IMAGE_NORMALIZATIONS = {
    "unit": "0 … 1 (pixel ÷ 255)",
    "signed": "−1 … 1",
    "standard": "mean 0, standard deviation 1 per channel",
}
"""How pixel values become features; "unit" is the default."""

LEGACY_OPTIONS = {"size": (28, 28), "mode": "L"}
"""What an image folder's recipe without ``size`` or ``mode`` meant: the defaults before the
reader kept each folder's own size and colours. Recipes now always record both."""

_GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


class MixedImageSizes(DataError):
    """A folder of images of several sizes read at its native size: ``sizes`` lists each
    (height, width) with its count, the most common first, so a caller can offer to resize."""

    def __init__(self, message: str, sizes: list[tuple[tuple[int, int], int]]) -> None:
        super().__init__(message)
        self.sizes = sizes


def _scan(folder: Path, root: Path) -> list[tuple[Path, int]]:
    """(path, size) of the image files under ``folder``, sorted. Directory symlinks below the
    class folder are not followed and each real folder is visited once, so links cannot loop;
    a name with an image suffix that is not a regular file is a DataError."""
    found: list[tuple[Path, int]] = []
    seen: set[tuple[int, int]] = set()
    stack = [folder]
    while stack:
        here = stack.pop()
        try:
            st = os.stat(here)
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(here) as entries:
                listing = list(entries)
        except OSError as exc:
            raise DataError(f"{root}: folder {_rel(here, root)!r} cannot be read ({_os_problem(exc)})") from None
        for entry in listing:
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                    continue
            except OSError:
                pass
            if entry.name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                st = os.stat(path)
            except OSError as exc:
                raise DataError(f"{root}: image {_rel(path, root)!r} cannot be read ({_os_problem(exc)})") from None
            if stat.S_ISDIR(st.st_mode):
                continue  # a link to a folder that happens to be named like an image
            if not stat.S_ISREG(st.st_mode):
                raise DataError(f"{root}: image {_rel(path, root)!r} is not a regular file ({_kind(st.st_mode)})")
            found.append((path, st.st_size))
            if len(found) > MAX_IMAGE_FILES:
                raise DataError(f"{root}: more than {MAX_IMAGE_FILES:,} image files")
    found.sort()
    return found


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _image_folder(p: Path, options: dict):
    """One sub-folder per class (sorted names are the class names); PNG/JPEG/BMP. ``size``:
    (h, w) to resize every image to (bilinear), or None (default) for the images' own size,
    which must then be one size (else :class:`MixedImageSizes`); ``mode``: a key of
    ``IMAGE_MODES``, or None (default) for the images' own (grey if all are grey); ``normalize``:
    a key of ``IMAGE_NORMALIZATIONS``. Result (C, H, W) bytes with their mapping, and the options as resolved
    (what a recipe records so that a rebuild reads the same). Other files are skipped; images
    that cannot be read are all named in one error. Images are at most ``MAX_IMAGE_PIXELS``
    pixels, folders at most ``MAX_IMAGE_FILES`` images."""
    from PIL import Image  # only this reader needs Pillow

    limit = _limit(options)
    size = options.pop("size", None)
    mode = options.pop("mode", None)
    normalize = options.pop("normalize", "unit")
    _refuse_unknown(options, "image folder")
    if mode is not None and (not isinstance(mode, str) or mode not in IMAGE_MODES):
        raise DataError(f"mode must be 'L' (grey), 'RGB' or None (as in the files), got {_show(mode)}")
    if not isinstance(normalize, str) or normalize not in IMAGE_NORMALIZATIONS:
        raise DataError(f"normalize must be one of {sorted(IMAGE_NORMALIZATIONS)}, got {_show(normalize)}")
    if _is_int(size):
        size = (size, size)
    if size is not None and (not isinstance(size, (tuple, list)) or len(size) != 2
                             or not all(_is_int(s) and 1 <= s <= 4096 for s in size)):
        raise DataError(f"size must be (height, width) in pixels between 1 and 4096, or None for the images' "
                        f"own size, got {_show(size)}")
    try:
        with os.scandir(p) as entries:
            classes = sorted(Path(e.path) for e in entries if not e.name.startswith(".") and _is_dir(e))
    except OSError as exc:
        raise DataError(f"{p}: the folder cannot be read ({_os_problem(exc)})") from None
    if len(classes) < 2:
        raise DataError(
            f"{p}: an image folder needs one sub-folder per class and at least two classes; "
            f"found {len(classes)} sub-folder(s)"
        )
    files: list[tuple[Path, int]] = []
    total = 0
    for c, folder in enumerate(classes):
        found = _scan(folder, p)
        if not found:
            raise DataError(f"{p}: class folder {folder.name!r} has no PNG, JPEG or BMP images")
        files += [(f, c) for f, _ in found]
        total += sum(n for _, n in found)
        if len(files) > MAX_IMAGE_FILES:
            raise DataError(f"{p}: more than {MAX_IMAGE_FILES:,} image files")
    _guard(total, limit, f"{p.name} (image files)")
    bad: list[str] = []
    headers: dict[int, tuple[int, int, str]] = {}  # file index -> (height, width, mode), read before decoding
    for i, (f, _) in enumerate(files):
        try:
            headers[i] = _header(Image, f, limit)
        except DataError as exc:
            bad.append(f"{_rel(f, p)} ({exc})")
        except Exception as exc:  # noqa: BLE001 - Pillow's parsers on untrusted bytes raise many types
            bad.append(f"{_rel(f, p)} ({type(exc).__name__}: {exc})")
    sizes = Counter((h, w) for h, w, _ in headers.values()).most_common()
    if size is None:
        if len(sizes) > 1 and not bad:
            shown = ", ".join(f"{h}×{w} ({n:,})" for (h, w), n in sizes[:4]) + (" …" if len(sizes) > 4 else "")
            (h, w), _ = sizes[0]
            raise MixedImageSizes(
                f"{p}: the images are not all one size ({shown}); resize them to one (size=(height, width)), "
                f"such as the most common, {h}×{w}", sizes)
        size = sizes[0][0] if sizes else (1, 1)
    if mode is None:
        mode = "L" if all(m in _GREY_MODES for _, _, m in headers.values()) else "RGB"
    h, w = int(size[0]), int(size[1])
    channels = 1 if mode == "L" else 3
    _guard(len(files) * channels * h * w * 4, limit, f"{p.name} (decoded at {h}×{w})")
    x = np.empty((len(files), h, w, channels), dtype=np.uint8)
    for i, (f, _) in enumerate(files):
        if i not in headers:
            continue
        try:
            x[i] = _decode(Image, f, limit, mode, h, w, channels)
        except DataError as exc:
            bad.append(f"{_rel(f, p)} ({exc})")
        except Exception as exc:  # noqa: BLE001 - Pillow's decoders on untrusted bytes raise many types
            bad.append(f"{_rel(f, p)} ({type(exc).__name__}: {exc})")
    if bad:
        bad.sort()
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise DataError(f"{p}: cannot read {len(bad)} image file(s): {'; '.join(bad[:5])}{more}")
    y = np.array([c for _, c in files], dtype=np.int64)
    out = _normalized(x.transpose(0, 3, 1, 2), normalize)
    resized = "" if len(sizes) == 1 and sizes[0][0] == (h, w) else ", resized"
    source = f"image folder {p} ({len(files)} images, {h}×{w} {mode}{resized}, {IMAGE_NORMALIZATIONS[normalize]})"
    resolved = {"size": [h, w], "mode": mode, "normalize": normalize}
    return out, y, [d.name for d in classes], source, resolved


def _normalized(x: np.ndarray, how: str) -> Encoded:
    """8-bit pixels (N, C, H, W) kept as bytes, with the mapping ``IMAGE_NORMALIZATIONS[how]``
    says (every one maps bytes linearly, so none needs floats in memory)."""
    if how == "signed":
        return Encoded(x, ValueMap(127.5, (1.0,), (1.0,)))
    if how == "unit":
        return Encoded(x, UNIT)
    # per channel, of the features 0 … 1 (the float copy lives only while the statistics are taken)
    out = UNIT.apply(x)
    mean = out.mean(axis=(0, 2, 3), dtype=np.float64).astype(np.float32)
    sd = out.std(axis=(0, 2, 3), dtype=np.float64).astype(np.float32)
    del out
    return Encoded(x, ValueMap(255.0, tuple(mean.tolist()), tuple(np.where(sd > 0, sd, np.float32(1.0)).tolist())))


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows a symlinked class folder; a link loop is not a folder
    except OSError:
        return False


@contextlib.contextmanager
def _opened(Image, f: Path, limit: int):
    """The image at ``f``, its header read and its pixel count checked, nothing decoded yet: a
    decompression bomb is refused here, before any pixel is."""
    with _open_file(f, limit, f.name) as (fh, _size):
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fh, formats=("PNG", "JPEG", "BMP")) as img:
                width, height = img.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise DataError(f"{width}×{height} pixels, over the limit of {MAX_IMAGE_PIXELS:,} pixels")
                yield img


def _header(Image, f: Path, limit: int) -> tuple[int, int, str]:
    """An image's (height, width, mode) from its header, nothing decoded."""
    with _opened(Image, f, limit) as img:
        return img.size[1], img.size[0], img.mode


def _decode(Image, f: Path, limit: int, mode: str, h: int, w: int, channels: int) -> np.ndarray:
    """One image, converted to ``mode`` and resized to h × w where it differs."""
    with _opened(Image, f, limit) as img:
        img = img.convert(mode)
        if img.size != (w, h):
            img = img.resize((w, h), Image.Resampling.BILINEAR)
        return np.asarray(img).reshape(h, w, channels)
