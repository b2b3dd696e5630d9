"""One file over HTTP(S) with the standard library: resumable, capped, cancellable, verified.

The bytes go to ``NAME.part`` beside the final file. An interrupted transfer (a dropped
connection, Ctrl-C, Cancel) leaves the part, and the next attempt asks the server for the rest
(``Range: bytes=N-``) instead of starting over; a server that ignores the Range header sends the
whole file and the part is started again. Only when the whole part has the pinned checksum is it
renamed to its final name, so a file under its final name is always a verified one. A part that
fails the check is deleted: resuming can never make it right.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from modstudio import __version__
from modstudio.data.benchmarks.catalog import BenchmarkFile
from modstudio.data.errors import DataError, human_bytes

CHUNK = 256 * 1024
TIMEOUT_S = 30.0
RESUMES_PER_MIRROR = 5  # reconnects to one mirror, each after a transfer that made progress
USER_AGENT = f"ModStudio/{__version__} (benchmark download; Python urllib)"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class DownloadError(DataError):
    """No mirror gave the file; the message names the file and what each mirror did."""


class ChecksumError(DownloadError):
    """A file is not the published one: its checksum differs from the pinned value (named in the message)."""


class DownloadCancelled(Exception):
    """Cancelled by the caller; what was received is kept in the ``.part`` file for the next attempt."""


@dataclass(frozen=True)
class Transfer:
    """A progress report: ``done`` of ``total`` bytes of ``name`` (total None when unknown)."""

    name: str
    url: str
    done: int
    total: int | None
    resumed_from: int  # bytes that were already there when this connection started


Progress = Callable[[Transfer], None]


class _Unavailable(Exception):
    """This mirror cannot give the file now (HTTP error, no connection): try the next one."""


class _Interrupted(Exception):
    """The connection ended before the file did: the part is kept, and resuming may finish it."""


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def digest_file(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(4 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def checksum_problem(spec: BenchmarkFile, got: str, where: str) -> str:
    algorithm, expected = spec.checksum
    return (f"{where}: its {algorithm.upper()} is {got}, but the published {spec.name} has {expected}: "
            "it is damaged, incomplete or another file")


def fetch(urls: Sequence[str], spec: BenchmarkFile, dest: Path, *, progress: Progress | None = None,
          cancel: threading.Event | None = None, timeout: float = TIMEOUT_S) -> str:
    """Download ``spec`` to ``dest`` from the first of ``urls`` that gives the published file; the URL
    it came from. ``DownloadCancelled`` when ``cancel`` is set (the part is kept), ``ChecksumError``
    when every mirror that answered sent other bytes, ``DownloadError`` otherwise."""
    part = part_path(dest)
    algorithm, expected = spec.checksum
    failures: list[str] = []
    checksum_failures = 0
    for url in urls:
        resumes, fresh_retry = 0, False
        while True:
            before = _size(part)
            try:
                _transfer(url, spec, part, progress, cancel, timeout)
            except _Interrupted as exc:
                if _size(part) > before and resumes < RESUMES_PER_MIRROR:
                    resumes += 1
                    continue
                failures.append(f"{url}: {exc} ({human_bytes(_size(part))} kept to resume)")
                break
            except _Unavailable as exc:
                failures.append(f"{url}: {exc}")
                break
            got = digest_file(part, algorithm)
            if got != expected:
                part.unlink()
                if before and not fresh_retry:  # resumed onto bytes of another attempt: once more, whole
                    fresh_retry = True
                    continue
                failures.append(checksum_problem(spec, got, url) + "; not kept")
                checksum_failures += 1
                break
            publish(part, dest)
            return url
    where = "\n  ".join(failures) or "no mirror to try"
    error = ChecksumError if failures and checksum_failures == len(failures) else DownloadError
    raise error(f"{spec.name}: could not get the published file ({algorithm.upper()} {expected}):\n  {where}")


def _transfer(url: str, spec: BenchmarkFile, part: Path, progress: Progress | None,
              cancel: threading.Event | None, timeout: float) -> None:
    """One connection: append what the server sends to ``part``; returns when the body has ended."""
    have = _size(part)
    if have > spec.max_bytes:
        part.unlink()
        have = 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and have:  # nothing left to send: the part is whole (the checksum says)
            return
        raise _Unavailable(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise _Unavailable(str(getattr(exc, "reason", exc))) from None
    with response:
        have, total = _start(response, part, have)
        if total is not None and total > spec.max_bytes:
            raise _Unavailable(f"the server offers {human_bytes(total)}, far more than the "
                               f"{human_bytes(spec.size)} of {spec.name}")
        resumed_from = have
        with open(part, "ab") as out:
            _report(progress, spec, url, have, total, resumed_from)
            while True:
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"{spec.name}: cancelled; {human_bytes(have)} kept in {part.name}")
                try:  # read1: what has arrived, up to CHUNK, so Cancel and the bar answer at any speed
                    chunk = response.read1(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _Interrupted(f"connection lost after {human_bytes(have)} ({exc})") from None
                if not chunk:
                    break
                have += len(chunk)
                if have > spec.max_bytes:
                    out.close()
                    part.unlink()
                    raise _Unavailable(f"the server sent more than {human_bytes(spec.max_bytes)}; not kept")
                out.write(chunk)
                _report(progress, spec, url, have, total, resumed_from)
            out.flush()
            os.fsync(out.fileno())
    if total is not None and have < total:
        raise _Interrupted(f"connection closed after {human_bytes(have)} of {human_bytes(total)}")


def _start(response, part: Path, have: int) -> tuple[int, int | None]:
    """Where the body starts in the file and the file's whole size (None if unknown), from the
    response to a request for the bytes after ``have``; the part is cut back to where it starts."""
    length = response.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    if response.status == 206 and have:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match is None or int(match[1]) > have:
            raise _Unavailable("the server resumed at an unusable place")
        start = int(match[1])
        os.truncate(part, start)
        total = int(match[3]) if match[3] != "*" else (start + length if length is not None else None)
        return start, total
    if response.status != 200:
        raise _Unavailable(f"HTTP {response.status}")
    if have:  # the server ignored the Range header: it sends the whole file, so start again
        os.truncate(part, 0)
    return 0, length


def _report(progress: Progress | None, spec: BenchmarkFile, url: str, done: int, total: int | None,
            resumed_from: int) -> None:
    if progress is not None:
        progress(Transfer(spec.name, url, done, total, resumed_from))


def publish(part: Path, dest: Path) -> None:
    """The verified part under its final name, atomically, and the rename itself made durable."""
    os.replace(part, dest)
    try:
        fd = os.open(dest.parent, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; its rename is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
