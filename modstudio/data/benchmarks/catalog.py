"""The standard benchmarks, one entry each: the publisher's files, mirrors, pinned checksums, reader.

Every checksum here is pinned in the code on purpose: a downloaded or imported file is used only
if its SHA-256 is the one below, so a mirror, a proxy or a damaged disk cannot change the data a
result was measured on. Where these come from (nothing was downloaded to write them, this was
written offline):

- MNIST, Fashion-MNIST, KMNIST: the SHA-256 of the four ``.gz`` files as pinned by torchvision's
  prototype datasets (pytorch/vision, ``torchvision/prototype/datasets/_builtin/mnist.py``) and,
  independently, by torch.rb's TorchVision (ankane/torchvision-ruby); the MD5s are torchvision's
  ``resources`` (Fashion-MNIST's are also in its publisher's README).
- CIFAR-10/100 binary versions: the MD5 is the one published on www.cs.toronto.edu/~kriz/cifar.html;
  the SHA-256 is pinned by Julia's MLDatasets.jl and by torch.rb for the same binary archives.

Sizes are as other downloaders list them. They are never the check: only the progress total when
a server sends none, and the base of a generous cap on what a server may send (``max_bytes``).

The SHA-256 is the check; the MD5 is kept as published, for people comparing with the
publisher's page, and would be the check only for a file with no known SHA-256 (none here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from modstudio.data.builtin_info import BuiltinInfo, OptionInfo


@dataclass(frozen=True)
class BenchmarkFile:
    """One file as its publisher distributes it, with the checksum it must have."""

    name: str
    size: int  # bytes, as published: the progress total when a server sends none, and the base of the cap
    sha256: str | None = None
    md5: str | None = None  # as published; the check only where no SHA-256 is pinned

    @property
    def checksum(self) -> tuple[str, str]:
        """(algorithm, hex digest) that a copy of this file must match."""
        if self.sha256:
            return "sha256", self.sha256
        if self.md5:
            return "md5", self.md5
        raise ValueError(f"{self.name}: no checksum is pinned")

    @property
    def max_bytes(self) -> int:
        """The most bytes a server may send for this file before it is refused: twice the published
        size, so a server that never stops cannot fill the disk (the checksum is the real check)."""
        return 2 * self.size + 65536


@dataclass(frozen=True)
class CifarLayout:
    """Where a CIFAR binary archive keeps its records and class names, and its label bytes."""

    train: tuple[str, ...]  # record files, in order
    test: tuple[str, ...]
    label_bytes: int  # per record, before the 3,072 pixel bytes
    fine: tuple[int, str]  # (which label byte, the names file) of the classes
    coarse: tuple[int, str] | None = None  # CIFAR-100's 20 superclasses


@dataclass(frozen=True)
class Benchmark:
    """A standard dataset: where to get its files, how to check and read them, what to call it."""

    name: str  # what `modstudio data get NAME` and load_builtin(NAME) take
    title: str
    description: str
    reference: str
    mirrors: tuple[str, ...]  # base URLs (ending in /), tried in this order
    files: tuple[BenchmarkFile, ...]
    format: str  # "idx" or "cifar": which reader in benchmarks/readers.py
    sample_shape: tuple[int, int, int]
    train_samples: int
    test_samples: int
    class_names: tuple[str, ...] = ()  # IDX has none in its files; CIFAR's come from the archive
    cifar: CifarLayout | None = None  # format "cifar": the archive's members and label bytes
    options: tuple[OptionInfo, ...] = ()

    @property
    def info(self) -> BuiltinInfo:
        """As the dataset picker and ``load_builtin`` see it."""
        return BuiltinInfo(self.name, self.title, self.description, self.options)

    @property
    def download_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def file(self, name: str) -> BenchmarkFile:
        return next(f for f in self.files if f.name == name)


_COMMON_OPTIONS = (
    OptionInfo("test", False, "bool", "The official test set instead of the training set."),
    OptionInfo("flat", False, "bool", "One row of features per image (for MLPs) instead of C×H×W images."),
)

_IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _idx_files(sizes, sha256s, md5s) -> tuple[BenchmarkFile, ...]:
    return tuple(BenchmarkFile(n, s, sha, md5) for n, s, sha, md5 in zip(_IDX_FILES, sizes, sha256s, md5s))


MNIST = Benchmark(
    "mnist", "MNIST (28×28 digits)",
    "70,000 handwritten digits 0–9 as 28×28 grey images: 60,000 to train, 10,000 to test. "
    "Pixels scaled to [0, 1].",
    "LeCun, Cortes & Burges, The MNIST database of handwritten digits (1998)",
    ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/"),
    _idx_files(
        (9_912_422, 28_881, 1_648_877, 4_542),
        ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
         "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
         "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
         "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
         "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c")),
    "idx", (1, 28, 28), 60_000, 10_000, class_names=tuple(str(i) for i in range(10)), options=_COMMON_OPTIONS,
)

FASHION_MNIST = Benchmark(
    "fashion-mnist", "Fashion-MNIST (28×28 clothes)",
    "70,000 Zalando article images in 10 classes (T-shirt/top … ankle boot), 28×28 grey: 60,000 to "
    "train, 10,000 to test. A harder drop-in for MNIST. Pixels scaled to [0, 1].",
    "Xiao, Rasul & Vollgraf, Fashion-MNIST (Zalando Research, 2017; MIT licence)",
    ("https://fashion-mnist.s3.eu-central-1.amazonaws.com/",
     "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
     "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
    _idx_files(
        (26_421_880, 29_515, 4_422_102, 5_148),
        ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
         "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
         "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
         "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
         "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310")),
    "idx", (1, 28, 28), 60_000, 10_000,
    class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot"),
    options=_COMMON_OPTIONS,
)

KMNIST = Benchmark(
    "kmnist", "Kuzushiji-MNIST (28×28 cursive Japanese)",
    "70,000 cursive hiragana in 10 classes, 28×28 grey, in MNIST's format: 60,000 to train, 10,000 "
    "to test. Pixels scaled to [0, 1].",
    "Clanuwat et al., Deep learning for classical Japanese literature (2018; ROIS-DS CODH, CC BY-SA 4.0)",
    ("https://codh.rois.ac.jp/kmnist/dataset/kmnist/", "http://codh.rois.ac.jp/kmnist/dataset/kmnist/"),
    _idx_files(
        (18_165_135, 29_497, 3_041_136, 5_120),
        ("51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
         "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
         "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
         "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c"),
        ("bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
         "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134")),
    "idx", (1, 28, 28), 60_000, 10_000,
    class_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),  # お き す つ な は ま や れ を
    options=_COMMON_OPTIONS,
)

_TORONTO = ("https://www.cs.toronto.edu/~kriz/",)

CIFAR10 = Benchmark(
    "cifar10", "CIFAR-10 (32×32 colour)",
    "60,000 colour photos in 10 classes (airplane … truck), 3×32×32: 50,000 to train, 10,000 to "
    "test. Pixels scaled to [0, 1].",
    "Krizhevsky, Learning multiple layers of features from tiny images (2009)",
    _TORONTO,
    (BenchmarkFile("cifar-10-binary.tar.gz", 170_052_171,
                   "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                   "c32a1d4ab5d03f1284b67883e8d87530"),),
    "cifar", (3, 32, 32), 50_000, 10_000,
    cifar=CifarLayout(tuple(f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)),
                      ("cifar-10-batches-bin/test_batch.bin",), 1, (0, "cifar-10-batches-bin/batches.meta.txt")),
    options=_COMMON_OPTIONS,
)

CIFAR100 = Benchmark(
    "cifar100", "CIFAR-100 (32×32 colour, 100 classes)",
    "60,000 colour photos in 100 classes (or 20 superclasses), 3×32×32: 50,000 to train, 10,000 "
    "to test. Pixels scaled to [0, 1].",
    "Krizhevsky, Learning multiple layers of features from tiny images (2009)",
    _TORONTO,
    (BenchmarkFile("cifar-100-binary.tar.gz", 168_513_733,
                   "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
                   "03b5dce01913d631647c71ecec9e9cb8"),),
    "cifar", (3, 32, 32), 50_000, 10_000,
    cifar=CifarLayout(("cifar-100-binary/train.bin",), ("cifar-100-binary/test.bin",), 2,
                      (1, "cifar-100-binary/fine_label_names.txt"), (0, "cifar-100-binary/coarse_label_names.txt")),
    options=(*_COMMON_OPTIONS,
             OptionInfo("coarse", False, "bool", "The 20 superclasses (aquatic mammals, fish, …) as labels "
                        "instead of the 100 classes.")),
)

PINNED: Mapping[str, Benchmark] = MappingProxyType(
    {b.name: b for b in (MNIST, FASHION_MNIST, KMNIST, CIFAR10, CIFAR100)})
"""Every benchmark by name. Read only through ``benchmarks()``, so a test can put its own small
files and checksums in their place (``monkeypatch.setattr(catalog, "PINNED", …)``); nothing
outside the tests changes it."""


def benchmarks(catalog: Mapping[str, Benchmark] | None = None) -> Mapping[str, Benchmark]:
    """The catalog in use: ``catalog`` when given (tests), else the pinned one."""
    return PINNED if catalog is None else catalog
