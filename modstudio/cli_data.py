"""``modstudio data list`` and ``modstudio data get NAME [--from PATH] [--mirror URL]``.

The standard benchmarks, fetched once from their publishers (or imported from the user's own
copy), checked against the checksums pinned in ``data/benchmarks/catalog.py``, offline afterwards.
On a terminal each file gets a tqdm byte bar (size, speed, ETA); on a pipe, a line per file.
Ctrl-C stops at once and keeps what was received in a ``.part`` file: the same command resumes it.
No torch and no Qt are imported.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from tqdm import tqdm as _tqdm

from modstudio.cli import CommandError
from modstudio.progress import _isatty, _size


class tqdm(_tqdm):
    """tqdm without its monitor thread: the bar is redrawn as bytes arrive, nothing else."""

    monitor_interval = 0


def add_parser(sub) -> None:
    """The ``data`` command and its two actions, on the CLI's sub-parsers."""
    data = sub.add_parser("data", help="the standard benchmarks (MNIST, CIFAR, …): download once, verified, "
                          "offline afterwards")
    actions = data.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every benchmark: whether it is here, its size, where")
    listing.add_argument("--json", action="store_true")
    get = actions.add_parser("get", help="download a benchmark from its publisher (resumable), or import your copy",
                             description="Download the publisher's files of each benchmark into the per-user data "
                             "folder, each checked against its pinned SHA-256 before it is kept; an interrupted "
                             "download resumes where it stopped. Names: see `modstudio data list`.")
    get.add_argument("names", nargs="+", metavar="NAME", help="mnist, fashion-mnist, kmnist, cifar10, cifar100")
    get.add_argument("--from", dest="source", metavar="FILE_OR_FOLDER",
                     help="import the same files from here instead of downloading (a folder is searched a few "
                     "levels down, e.g. torchvision's MNIST/raw/); checked the same way")
    get.add_argument("--mirror", action="append", default=[], metavar="URL",
                     help="a base URL to try before the publisher's mirrors (repeatable)")


def cmd_data(args) -> int:
    return {"list": _list, "get": _get}[args.data_action](args)


def _list(args) -> int:
    from modstudio.data.benchmarks import root, states

    found = states()
    if args.json:
        print(json.dumps([{"name": s.benchmark.name, "title": s.benchmark.title, "present": s.present,
                           "bytes": s.bytes_on_disk, "download_bytes": s.benchmark.download_bytes,
                           "folder": str(s.folder), "missing": s.missing,
                           "partial_bytes": sum(f.partial for f in s.files)} for s in found]))
        return 0
    print(f"benchmarks in {root()}")
    for s in found:
        b = s.benchmark
        partial = sum(f.partial for f in s.files)
        if s.present:
            status, hint = "present", ""
        elif partial or len(s.missing) < len(b.files):
            status, hint = "partial", f" — `modstudio data get {b.name}` resumes"
        else:
            status, hint = "missing", f" — `modstudio data get {b.name}` ({b.download_bytes / 1e6:,.0f} MB)"
        size = _mib(s.bytes_on_disk) if s.bytes_on_disk else ""
        print(f"  {b.name:14} {status:8} {size:>10}  {b.title}{hint}")
    return 0


def _get(args) -> int:
    from modstudio.data import DataError
    from modstudio.data.benchmarks import get, state
    from modstudio.data.benchmarks.store import lookup

    for name in args.names:
        try:
            lookup(name)
        except DataError as exc:
            raise CommandError(str(exc)) from None
    for name in args.names:
        bar = ByteBar(sys.stderr)
        try:
            results = get(name, mirrors=args.mirror, source=args.source, progress=bar)
        except KeyboardInterrupt:
            bar.close()
            print("\nmodstudio data get: interrupted; what was received is kept, run the same command to resume",
                  file=sys.stderr)
            return 130
        except DataError as exc:  # ChecksumError, DownloadError, files missing from --from
            bar.close()
            raise CommandError(str(exc)) from None
        bar.close()
        for r in results:
            what = {"kept": "already here (verified)", "downloaded": f"downloaded from {r.origin}",
                    "imported": f"imported from {r.origin}"}[r.action]
            print(f"  {r.name:28} {what}")
        here = state(name)
        print(f"{name} is ready: {len(here.files)} file(s), {_mib(here.bytes_on_disk)} in {here.folder}"
              f"{_examples_hint(name)}")
    return 0


def _examples_hint(name: str) -> str:
    from modstudio.examples import list_examples

    names = [e.name for e in list_examples() if name in e.data]
    return f"; examples: {', '.join(names)} (modstudio new PROJECT --example NAME)" if names else ""


def _mib(n: int) -> str:
    return f"{n / 1024**2:,.1f} MiB"


class ByteBar:
    """A ``fetch`` progress callback: on a terminal a tqdm bar per file in bytes (resumed files start
    where they stopped); on a pipe one line as each file starts."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = _isatty(stream)
        self.current: tuple[str, str] | None = None
        self.bar: tqdm | None = None

    def __call__(self, t) -> None:
        if (t.name, t.url) != self.current:
            self.close()
            self.current = (t.name, t.url)
            resumed = f" (resuming at {_mib(t.resumed_from)})" if t.resumed_from else ""
            if not self.tty:
                self.stream.write(f"{t.name}: from {t.url}{resumed}\n")
                self.stream.flush()
                return
            columns, lines = _size(self.stream)
            self.bar = tqdm(total=t.total, initial=t.done, unit="B", unit_scale=True, unit_divisor=1024,
                            desc=t.name, file=self.stream, ncols=columns, nrows=lines, leave=True, miniters=1)
            self.bar.ncols, self.bar.nrows = columns, lines  # tqdm's own probe says -1 on a size-less pty
        if self.bar is not None:
            self.bar.update(t.done - self.bar.n)

    def close(self) -> None:
        bar, self.bar = self.bar, None
        if bar is not None:
            bar.close()
