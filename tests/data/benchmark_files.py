"""Small benchmark files in the real formats, a catalog that pins their checksums, and a local
HTTP server (127.0.0.1 only) that serves them with HTTP Range, or cuts a transfer short.

No test that uses these reaches outside the machine: the fake catalog's mirrors are this server
or a closed port on 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import io
import socket
import struct
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType

import numpy as np
import pytest

from modstudio.data.benchmarks import catalog as catalog_module
from modstudio.data.benchmarks.catalog import Benchmark, BenchmarkFile

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file (MNIST's format) of a uint8 array, gzip-compressed as the publishers ship it."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


def digit_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n 28×28 images whose class (0–9) is written in where a bright bar sits: learnable in an epoch."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    x = rng.integers(0, 40, size=(n, 28, 28), dtype=np.uint8)
    for i, label in enumerate(y):
        x[i, 2 * label + 2: 2 * label + 5, 4:24] = 250
    return x, y.astype(np.uint8)


@functools.cache
def mnist_files(n_train: int = 200, n_test: int = 60) -> dict[str, bytes]:
    xtr, ytr = digit_images(n_train, 1)
    xte, yte = digit_images(n_test, 2)
    return {"train-images-idx3-ubyte.gz": idx_bytes(xtr), "train-labels-idx1-ubyte.gz": idx_bytes(ytr),
            "t10k-images-idx3-ubyte.gz": idx_bytes(xte), "t10k-labels-idx1-ubyte.gz": idx_bytes(yte)}


def cifar_records(labels: np.ndarray, seed: int) -> tuple[bytes, np.ndarray]:
    """Records of ``labels`` (N × label bytes) and random pixels; the images as the reader must give them."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(len(labels), 3, 32, 32), dtype=np.uint8)
    rows = np.concatenate([labels.astype(np.uint8), images.reshape(len(labels), -1)], axis=1)
    return rows.tobytes(), images


def tar_gz(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return out.getvalue()


@functools.cache
def cifar10_archive(per_batch: int = 20, n_test: int = 20) -> tuple[bytes, dict[str, np.ndarray]]:
    """A cifar-10-binary.tar.gz of five small training batches and a test batch; the expected arrays."""
    members, images, labels = {}, [], []
    for i in range(1, 6):
        y = (np.arange(per_batch) + i) % 10
        body, x = cifar_records(y[:, None], seed=i)
        members[f"cifar-10-batches-bin/data_batch_{i}.bin"] = body
        images.append(x)
        labels.append(y)
    y_test = np.arange(n_test) % 10
    body, x_test = cifar_records(y_test[:, None], seed=9)
    members["cifar-10-batches-bin/test_batch.bin"] = body
    members["cifar-10-batches-bin/batches.meta.txt"] = ("\n".join(CIFAR10_NAMES) + "\n\n").encode()
    members["cifar-10-batches-bin/readme.html"] = b"<html>the binary version</html>"
    expected = {"x": np.concatenate(images), "y": np.concatenate(labels), "x_test": x_test, "y_test": y_test}
    return tar_gz(members), expected


@functools.cache
def cifar100_archive(n_train: int = 200, n_test: int = 100) -> tuple[bytes, dict[str, np.ndarray]]:
    fine = np.arange(n_train) % 100
    body, x = cifar_records(np.stack([fine // 5, fine], axis=1), seed=3)
    fine_test = np.arange(n_test) % 100
    body_test, x_test = cifar_records(np.stack([fine_test // 5, fine_test], axis=1), seed=4)
    members = {
        "cifar-100-binary/coarse_label_names.txt": "\n".join(f"super{i}" for i in range(20)).encode(),
        "cifar-100-binary/fine_label_names.txt": "\n".join(f"class{i}" for i in range(100)).encode(),
        "cifar-100-binary/train.bin": body,
        "cifar-100-binary/test.bin": body_test,
    }
    return tar_gz(members), {"x": x, "fine": fine, "coarse": fine // 5, "x_test": x_test}


def pinned(real: Benchmark, files: dict[str, bytes], mirrors: tuple[str, ...], train: int, test: int) -> Benchmark:
    """``real`` with these small files: their sizes and SHA-256 pinned in place of the published ones."""
    specs = tuple(BenchmarkFile(name, len(body), hashlib.sha256(body).hexdigest()) for name, body in files.items())
    return dataclasses.replace(real, files=specs, mirrors=mirrors, train_samples=train, test_samples=test)


class Server:
    """Serves ``files`` at http://127.0.0.1:PORT/NAME with HTTP Range; ``cuts[name] = [n, …]`` makes
    the k-th request for that file stop after n bytes and drop the connection; ``ignore_range``
    answers every request with the whole file; ``pace`` seconds of sleep between 4 KB pieces slows
    it down. ``requests`` records (name, Range header)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.cuts: dict[str, list[int]] = {}
        self.ignore_range = False
        self.pace = 0.0
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                server.requests.append((name, self.headers.get("Range")))
                body = server.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                start, status = 0, 200
                wanted = self.headers.get("Range")
                if wanted and not server.ignore_range:
                    start = int(wanted.removeprefix("bytes=").rstrip("-"))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) - start))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                cut = server.cuts.get(name)
                if cut:
                    self.wfile.write(body[start:start + cut.pop(0)])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if not server.pace:
                    self.wfile.write(body[start:])
                    return
                try:
                    for i in range(start, len(body), 4096):
                        self.wfile.write(body[i:i + 4096])
                        self.wfile.flush()
                        time.sleep(server.pace)
                except (BrokenPipeError, ConnectionResetError):  # the client cancelled: what cancel does
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/files/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()

    def names_requested(self) -> list[str]:
        return [name for name, _ in self.requests]


def closed_port_url() -> str:
    """A URL on 127.0.0.1 that nobody listens on: any attempt to use it fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/nothing/"


@pytest.fixture
def benchmark_env(tmp_path, monkeypatch):
    """A data folder of its own, and a catalog of small MNIST, CIFAR-10 and CIFAR-100 files served
    on 127.0.0.1 (``env.server``), their checksums pinned for this test only."""
    monkeypatch.setenv("MODSTUDIO_DATA_DIR", str(tmp_path / "user-data"))
    mnist = mnist_files()
    cifar10, cifar10_expected = cifar10_archive()
    cifar100, cifar100_expected = cifar100_archive()
    server = Server({**mnist, "cifar-10-binary.tar.gz": cifar10, "cifar-100-binary.tar.gz": cifar100})
    real = catalog_module.PINNED
    fake = MappingProxyType({
        "mnist": pinned(real["mnist"], mnist, (server.url,), 200, 60),
        "cifar10": pinned(real["cifar10"], {"cifar-10-binary.tar.gz": cifar10}, (server.url,), 100, 20),
        "cifar100": pinned(real["cifar100"], {"cifar-100-binary.tar.gz": cifar100}, (server.url,), 200, 100),
    })
    monkeypatch.setattr(catalog_module, "PINNED", fake)
    env = dataclasses.make_dataclass("BenchmarkEnv", ["server", "catalog", "files", "expected", "data_dir"])(
        server, fake, {**mnist, "cifar-10-binary.tar.gz": cifar10, "cifar-100-binary.tar.gz": cifar100},
        {"cifar10": cifar10_expected, "cifar100": cifar100_expected}, tmp_path / "user-data")
    yield env
    server.stop()
