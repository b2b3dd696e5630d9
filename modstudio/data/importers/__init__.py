"""Importers for the user's own files: CSV, NPZ/NPY, a folder of class sub-folders, MNIST-style IDX.

A dataset file and every importer argument are untrusted input. Whatever they hold, an import
ends in a Dataset or in a DataError that names the file and the place (row, column, array,
member); never another exception, a hang, or memory beyond the limits re-exported here:

- only regular files are opened (after following symlinks): FIFOs, devices, sockets and
  folders where a file is expected are refused before anything is read, and no read goes past
  the size that was checked against ``max_bytes``;
- sizes that a file declares (NPY/NPZ headers, zip directories, IDX dimensions, image headers)
  are computed with Python ints and compared with the bytes present, or with ``max_bytes`` for
  compressed data, before anything is allocated; decompression stops at the declared size;
- pickles are never loaded (object arrays are refused);
- arguments are checked up front, each refusal naming the argument.

Memory: a CSV is parsed a row at a time into float32 blocks, so it needs about 4 bytes per
feature cell (plus the Dataset's own copy) and one row of text, never a padded text array; the
binary readers read the declared bytes once into the array they return.

One module a job; imports point down this list, and no reader imports another:

- ``files``: regular-file checks, bounded reads, ``MAX_BYTES``;
- ``options``: argument checks, and options as recorded in ``origin``;
- ``labels``: label values and arrays, the ``labels=`` file, numeric features;
- ``csv``, ``npy`` (with NPZ), ``idx``, ``images``: the readers, one format each;
- ``dispatch``: ``import_path``, which picks the reader.

The limits are re-exported here to be read; each is set where it is declared
(``importers.csv.MAX_ROW_CHARS``), which is the module that reads it.
"""

from __future__ import annotations

from modstudio.data.importers import csv, dispatch, files, idx, images, labels, npy, options  # noqa: F401
from modstudio.data.importers.csv import MAX_CSV_CLASSES, MAX_ROW_CHARS
from modstudio.data.importers.dispatch import import_path
from modstudio.data.importers.files import MAX_BYTES, _open_file  # _open_file: for tests/data
from modstudio.data.importers.idx import read_idx
from modstudio.data.importers.images import IMAGE_SUFFIXES, MAX_IMAGE_FILES, MAX_IMAGE_PIXELS
from modstudio.data.importers.labels import MAX_CELL_CHARS
from modstudio.data.importers.npy import MAX_NPY_DIMS, MAX_NPY_HEADER, MAX_NPZ_MEMBERS, read_npy
from modstudio.data.importers.options import MAX_OPTION_CHARS

__all__ = [
    "import_path", "read_idx", "read_npy",
    "MAX_BYTES", "MAX_CELL_CHARS", "MAX_ROW_CHARS", "MAX_CSV_CLASSES", "MAX_NPY_HEADER",
    "MAX_NPY_DIMS", "MAX_NPZ_MEMBERS", "MAX_IMAGE_FILES", "MAX_IMAGE_PIXELS", "MAX_OPTION_CHARS",
    "IMAGE_SUFFIXES",
]
