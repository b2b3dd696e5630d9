"""The image-folder reader: one sub-folder per class, PNG/JPEG/BMP files resized to one size.

The folder walk cannot loop or be sent into special files, the files and the decoded array are
checked against ``max_bytes`` before decoding, and each image's header (its pixel count) is
checked against ``MAX_IMAGE_PIXELS`` before it is decoded. Pillow is imported only when a folder
is read.
"""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import numpy as np

from modstudio.data.errors import DataError
from modstudio.data.importers.files import _guard, _kind, _open_file, _os_problem
from modstudio.data.importers.options import _is_int, _limit, _refuse_unknown, _show

MAX_IMAGE_FILES = 1_000_000
"""Most image files an image folder may hold."""

MAX_IMAGE_PIXELS = 89_478_485
"""Largest image (width × height) decoded from an image folder: Pillow's default bomb threshold,
fixed here so that a changed ``PIL.Image.MAX_IMAGE_PIXELS`` cannot lift it."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


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
    """One sub-folder per class (sorted names are the class names); PNG/JPEG/BMP resized to
    ``size=(h, w)`` (default 28×28) in ``mode`` "L" (grey, default) or "RGB"; result (C, H, W)
    in [0, 1]. Other files are skipped; images that cannot be read are all named in one error.
    Images are at most ``MAX_IMAGE_PIXELS`` pixels, folders at most ``MAX_IMAGE_FILES`` images."""
    from PIL import Image  # only this reader needs Pillow

    limit = _limit(options)
    size = options.pop("size", (28, 28))
    mode = options.pop("mode", "L")
    _refuse_unknown(options, "image folder")
    if not isinstance(mode, str) or mode not in ("L", "RGB"):
        raise DataError(f"mode must be 'L' (grey) or 'RGB', got {_show(mode)}")
    if _is_int(size):
        size = (size, size)
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(_is_int(s) and 1 <= s <= 4096 for s in size)):
        raise DataError(f"size must be (height, width) in pixels between 1 and 4096, got {_show(size)}")
    h, w = int(size[0]), int(size[1])
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
    channels = 1 if mode == "L" else 3
    _guard(total, limit, f"{p.name} (image files)")
    _guard(len(files) * channels * h * w * 4, limit, f"{p.name} (decoded at {h}×{w})")
    x = np.empty((len(files), h, w, channels), dtype=np.uint8)
    bad: list[str] = []
    for i, (f, _) in enumerate(files):
        rel = _rel(f, p)
        try:
            x[i] = _decode(Image, f, limit, mode, h, w, channels)
        except DataError as exc:
            bad.append(f"{rel} ({exc})")
        except Exception as exc:  # noqa: BLE001 - Pillow's decoders on untrusted bytes raise many types
            bad.append(f"{rel} ({type(exc).__name__}: {exc})")
    if bad:
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise DataError(f"{p}: cannot read {len(bad)} image file(s): {'; '.join(bad[:5])}{more}")
    y = np.array([c for _, c in files], dtype=np.int64)
    out = x.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0)
    source = f"image folder {p} ({len(files)} images, {h}×{w} {mode})"
    return out, y, [d.name for d in classes], source


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows a symlinked class folder; a link loop is not a folder
    except OSError:
        return False


def _decode(Image, f: Path, limit: int, mode: str, h: int, w: int, channels: int) -> np.ndarray:
    """One image, its header's pixel count checked before it is decoded."""
    with _open_file(f, limit, f.name) as (fh, _size):
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fh, formats=("PNG", "JPEG", "BMP")) as img:
                width, height = img.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise DataError(f"{width}×{height} pixels, over the limit of {MAX_IMAGE_PIXELS:,} pixels")
                img = img.convert(mode).resize((w, h), Image.Resampling.BILINEAR)
                return np.asarray(img).reshape(h, w, channels)
