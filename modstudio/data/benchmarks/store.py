"""Where the benchmark files live on this computer, what is there, and how they get there.

One folder per benchmark under the per-user data folder (``user_dirs.data_dir()/benchmarks/NAME``,
``MODSTUDIO_DATA_DIR`` moves it), holding the publisher's files under their own names. A file is
there under its final name only once its checksum matched (downloads and imports alike go through
a ``.part`` file), so "present" is a cheap test and the data works offline from then on; each file
is checked again the first time a process reads it (see :func:`verify`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from modstudio.data.benchmarks.catalog import Benchmark, BenchmarkFile, benchmarks
from modstudio.data.benchmarks.fetch import (ChecksumError, DownloadCancelled, Progress, Transfer, checksum_problem,
                                             digest_file, fetch, part_path, publish)
from modstudio.data.errors import DataError

FOLDER = "benchmarks"
MAX_SEARCH_ENTRIES = 20_000  # --from FOLDER: how many entries the search for the files may look at
MAX_SEARCH_DEPTH = 4  # FOLDER/MNIST/raw/train-images-idx3-ubyte.gz is depth 3


def root(folder: Path | None = None) -> Path:
    """The folder that holds one sub-folder per benchmark (not created here)."""
    if folder is not None:
        return Path(folder)
    from modstudio.user_dirs import data_dir

    return data_dir(create=False) / FOLDER


def lookup(name: str, catalog: Mapping[str, Benchmark] | None = None) -> Benchmark:
    known = benchmarks(catalog)
    if name not in known:
        raise DataError(f"no benchmark named {name!r:.100}; choose one of {', '.join(known)}")
    return known[name]


@dataclass(frozen=True)
class FileState:
    spec: BenchmarkFile
    path: Path
    present: bool  # under its final name, so verified when it was stored
    partial: int  # bytes of an interrupted download waiting to be resumed


@dataclass(frozen=True)
class BenchmarkState:
    benchmark: Benchmark
    folder: Path
    files: tuple[FileState, ...]

    @property
    def present(self) -> bool:
        return all(f.present for f in self.files)

    @property
    def bytes_on_disk(self) -> int:
        return sum(f.spec.size if f.present else 0 for f in self.files) + sum(f.partial for f in self.files)

    @property
    def missing(self) -> list[str]:
        return [f.spec.name for f in self.files if not f.present]


def state(name: str, *, folder: Path | None = None, catalog: Mapping[str, Benchmark] | None = None) -> BenchmarkState:
    """What of benchmark ``name`` is on this computer (stats files, reads nothing)."""
    bench = lookup(name, catalog)
    where = root(folder) / bench.name
    files = []
    for spec in bench.files:
        path = where / spec.name
        files.append(FileState(spec, path, path.is_file(), _size(part_path(path))))
    return BenchmarkState(bench, where, tuple(files))


def states(*, folder: Path | None = None, catalog: Mapping[str, Benchmark] | None = None) -> list[BenchmarkState]:
    return [state(name, folder=folder, catalog=catalog) for name in benchmarks(catalog)]


def is_present(name: str, *, folder: Path | None = None, catalog: Mapping[str, Benchmark] | None = None) -> bool:
    return state(name, folder=folder, catalog=catalog).present


_verified: dict[tuple[str, str], tuple[int, int, int]] = {}
_verified_lock = threading.Lock()


def verify(path: Path, spec: BenchmarkFile) -> None:
    """ChecksumError naming ``path`` and the expected checksum unless the file is the published one.

    Hashed once per process while the file's size, mtime and inode stay the same (MNIST's 12 MB
    take about 30 ms, CIFAR's 170 MB about 0.3 s), so rebuilding ten tasks reads it once."""
    st = path.stat()
    key, stamp = (str(path), spec.checksum[1]), (st.st_size, st.st_mtime_ns, st.st_ino)
    with _verified_lock:
        if _verified.get(key) == stamp:
            return
    got = digest_file(path, spec.checksum[0])
    if got != spec.checksum[1]:
        raise ChecksumError(checksum_problem(spec, got, str(path)))
    with _verified_lock:
        _verified[key] = stamp


@dataclass(frozen=True)
class FileResult:
    """What ``get`` did for one file: "kept" (already here), "downloaded" (from ``origin``, a URL) or
    "imported" (from ``origin``, the user's file)."""

    name: str
    path: Path
    action: str
    origin: str = ""


def get(name: str, *, mirrors: Sequence[str] = (), source: str | Path | None = None, folder: Path | None = None,
        catalog: Mapping[str, Benchmark] | None = None, progress: Progress | None = None,
        cancel: threading.Event | None = None) -> list[FileResult]:
    """Make every file of benchmark ``name`` present: keep the ones already here (checked), then
    download the rest (``mirrors`` first, then the publisher's), or with ``source`` import them from
    the user's file or folder and download nothing (DataError listing what it did not find).

    A stored file that fails its check is deleted and fetched again. Offline, a benchmark already
    here needs no network at all."""
    bench = lookup(name, catalog)
    for url in mirrors:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise DataError(f"a mirror must be an http:// or https:// URL, got {url!r:.200} "
                            "(for files on this computer, import them with --from)")
    where = root(folder) / bench.name
    where.mkdir(parents=True, exist_ok=True)
    results, missing = [], []
    with _exclusive(where):
        found = _search(Path(source), bench) if source is not None else {}
        for spec in bench.files:
            dest = where / spec.name
            if dest.is_file():
                try:
                    verify(dest, spec)
                    results.append(FileResult(spec.name, dest, "kept"))
                    continue
                except ChecksumError:
                    dest.unlink()  # damaged on disk: fetched (or imported) again below
            if source is not None:
                if spec.name not in found:
                    missing.append(spec.name)
                    continue
                _import(found[spec.name], spec, dest, progress, cancel)
                results.append(FileResult(spec.name, dest, "imported", str(found[spec.name])))
            else:
                urls = [_join(base, spec.name) for base in (*mirrors, *bench.mirrors)]
                used = fetch(urls, spec, dest, progress=progress, cancel=cancel)
                results.append(FileResult(spec.name, dest, "downloaded", used))
    if missing:
        raise DataError(f"{source}: {', '.join(missing)} of {bench.title} not found there (looked for the "
                        "publisher's file names); the files found were kept")
    return results


def _join(base: str, name: str) -> str:
    return base if base.endswith(name) else base.rstrip("/") + "/" + name


def _search(source: Path, bench: Benchmark) -> dict[str, Path]:
    """The benchmark's files in ``source``: a folder searched a few levels down (torchvision's
    MNIST/raw/ layout too) by the publisher's names, or one file, by name or else by checksum."""
    if source.is_file():
        names = {spec.name: spec for spec in bench.files}
        if source.name in names:
            return {source.name: source}
        size, digests = source.stat().st_size, {}
        for spec in bench.files:  # a renamed copy: known by its content
            algorithm, expected = spec.checksum
            if size <= spec.max_bytes:
                digests.setdefault(algorithm, digest_file(source, algorithm))
                if digests[algorithm] == expected:
                    return {spec.name: source}
        raise DataError(f"{source}: not one of the files of {bench.title} ({', '.join(names)}), "
                        "neither by name nor by checksum")
    if not source.is_dir():
        raise DataError(f"{source}: no such file or folder")
    wanted, found, seen = {spec.name for spec in bench.files}, {}, 0
    for folder, dirs, files in os.walk(source):
        depth = len(Path(folder).relative_to(source).parts)
        if depth >= MAX_SEARCH_DEPTH:
            dirs[:] = []
        dirs.sort()
        seen += len(dirs) + len(files)
        if seen > MAX_SEARCH_ENTRIES:
            raise DataError(f"{source}: too many files to search (over {MAX_SEARCH_ENTRIES:,}); give the folder "
                            f"that holds the {bench.title} files")
        for file in sorted(wanted.intersection(files) - set(found)):
            if (Path(folder) / file).is_file():
                found[file] = Path(folder) / file
    return found


def _import(origin: Path, spec: BenchmarkFile, dest: Path, progress: Progress | None,
            cancel: threading.Event | None) -> None:
    """Copy the user's file to a part file, hashing as it goes; under the final name only if it matches."""
    algorithm, expected = spec.checksum
    part = part_path(dest)
    h = hashlib.new(algorithm)
    total, done = origin.stat().st_size, 0
    if total > spec.max_bytes:
        raise ChecksumError(f"{origin}: {total:,} bytes is not the {spec.name} published with "
                            f"{algorithm.upper()} {expected}")
    try:
        with open(origin, "rb") as src, open(part, "wb") as out:
            while chunk := src.read(4 * 1024 * 1024):
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"{spec.name}: import cancelled")
                h.update(chunk)
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(Transfer(spec.name, str(origin), done, total, 0))
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        part.unlink(missing_ok=True)  # a copy is quick to redo: no half copy is kept
        raise
    if h.hexdigest() != expected:
        part.unlink()
        raise ChecksumError(checksum_problem(spec, h.hexdigest(), str(origin)) + "; not imported")
    publish(part, dest)


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """One writer per benchmark folder (a terminal and the studio fetching the same files would
    append to the same part); where the platform has no ``flock`` (Windows), no lock."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataError(f"another ModStudio is fetching into {folder} right now; wait for it to finish") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
