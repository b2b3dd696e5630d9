"""The CIFAR binary-version reader: records read straight from the published ``.tar.gz``, no pickle.

Krizhevsky's "binary version" (``cifar-10-binary.tar.gz``, ``cifar-100-binary.tar.gz``) stores
fixed-size records: the label byte(s) (CIFAR-10 one, CIFAR-100 two: coarse, then fine), then
3,072 pixel bytes, the red 32×32 plane row by row, then green, then blue. So a member of n
records is one reshape to n × (labels + 3 × 32 × 32) uint8, and the images come out N×3×32×32
without any conversion. The python version would need unpickling, which is never done here.

The archive is read in one streaming pass, nothing is extracted to disk: only the members asked
for are read, each a regular file whose size (from its header, before reading) must be a whole
number of records, and no read goes past ``limit`` bytes of the uncompressed stream.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from modstudio.data.errors import DataError
from modstudio.data.importers.files import MAX_BYTES, _guard, _open_file, _read_into
from modstudio.data.importers.options import _limit, _user_path

IMAGE_SHAPE = (3, 32, 32)
PIXELS = 3 * 32 * 32
MAX_NAMES_BYTES = 64 * 1024  # a label-names text file: 100 short lines


def cifar_records(raw: np.ndarray, label_bytes: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N, label_bytes) uint8 from a member's bytes."""
    record = label_bytes + PIXELS
    if raw.size % record:
        raise DataError(f"{what}: {raw.size:,} bytes is not a whole number of {record}-byte CIFAR records")
    rows = raw.reshape(-1, record)
    return rows[:, label_bytes:].reshape(-1, *IMAGE_SHAPE), rows[:, :label_bytes]


def _normal(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def read_cifar_archive(path: str | Path, members: Sequence[str], label_bytes: int, label_index: int,
                       names_member: str, limit: int = MAX_BYTES) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images (N, 3, 32, 32) uint8, labels (N,) int64 and class names from a CIFAR binary archive.

    ``members`` are the record files to read, in this order (``cifar-10-batches-bin/data_batch_1.bin``
    …); ``label_index`` picks which of a record's ``label_bytes`` label bytes is the label (CIFAR-100:
    0 coarse, 1 fine); ``names_member`` is the text file with one class name a line."""
    p = _user_path(path, "a CIFAR archive path")
    limit = _limit({"max_bytes": limit})
    wanted = {*members, names_member}
    found: dict[str, np.ndarray] = {}
    with _open_file(p, limit) as (raw, _size):
        try:
            with tarfile.open(fileobj=raw, mode="r|gz") as tar:
                for member in tar:
                    name = _normal(member.name)
                    if name not in wanted:
                        continue
                    if name in found:
                        raise DataError(f"{p.name}: the archive holds {name} twice")
                    if not member.isfile():
                        raise DataError(f"{p.name}: {name} is not a regular file in the archive")
                    _guard(member.offset_data + member.size, limit, f"{p.name} (uncompressed, up to {name})")
                    if name == names_member:
                        _guard(member.size, MAX_NAMES_BYTES, f"{p.name}: {name}")
                    elif member.size % (label_bytes + PIXELS):
                        raise DataError(f"{p.name}: {name} is {member.size:,} bytes, not a whole number of "
                                        f"{label_bytes + PIXELS}-byte CIFAR records")
                    body = np.empty(member.size, dtype=np.uint8)
                    f = tar.extractfile(member)
                    if f is None or _read_into(f, body) != member.size:
                        raise DataError(f"{p.name}: {name} is truncated")
                    found[name] = body
        except DataError:
            raise
        except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as exc:
            raise DataError(f"{p.name}: cannot read the CIFAR archive ({exc})") from None
    missing = [m for m in (*members, names_member) if m not in found]
    if missing:
        raise DataError(f"{p.name}: the archive has no {', '.join(missing)} (is it the CIFAR binary version?)")
    names = _names(found.pop(names_member), f"{p.name}: {names_member}")
    parts = [cifar_records(found[m], label_bytes, f"{p.name}: {m}") for m in members]
    x = parts[0][0] if len(parts) == 1 else np.concatenate([images for images, _ in parts])
    y = np.concatenate([labels[:, label_index] for _, labels in parts]).astype(np.int64)
    if y.size and int(y.max()) >= len(names):
        raise DataError(f"{p.name}: label {int(y.max())} is out of range for the {len(names)} names in {names_member}")
    return x, y, names


def _names(body: np.ndarray, what: str) -> list[str]:
    try:
        text = body.tobytes().decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{what}: the class names are not UTF-8 text") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if len(set(names)) != len(names):
        raise DataError(f"{what}: a class name is listed twice")
    return names
