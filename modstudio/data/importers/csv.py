"""The CSV/TSV/TXT reader: one sample a row, one label column.

Memory: a CSV is parsed a row at a time into float32 blocks, so it needs about 4 bytes per
feature cell (plus the Dataset's own copy) and one row of text, never a padded text array.
Every line, record (row) and cell is bounded (``MAX_ROW_CHARS``, ``MAX_CELL_CHARS``), and so is
the number of distinct labels (``MAX_CSV_CLASSES``).
"""

from __future__ import annotations

import csv
import itertools
import math
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from modstudio.data.errors import DataError
from modstudio.data.importers.files import _open_file
from modstudio.data.importers.labels import MAX_CELL_CHARS, _label_value
from modstudio.data.importers.options import _bool_option, _is_int, _limit, _refuse_unknown, _show, _text_option

MAX_ROW_CHARS = 4_000_000
"""Longest CSV row (record) in characters: bounds the text held while one row is parsed."""

MAX_CSV_CLASSES = 100_000
"""Most distinct labels a CSV's label column may hold (bounds the label table while parsing)."""


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _sniff_delimiter(first: str, p: Path) -> str:
    if p.suffix.lower() == ".tsv":
        return "\t"
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


class _Lines:
    """The decoded lines of a UTF-8 file for csv.reader, each line and each record bounded.

    ``record_chars`` counts the characters handed out since the caller last reset it (at the
    start of each record), so a record that spans lines (quoted newlines) is bounded too.
    """

    _BOM = b"\xef\xbb\xbf"

    def __init__(self, f: BinaryIO, name: str) -> None:
        self._f, self._name = f, name
        self._cap = 4 * MAX_ROW_CHARS + 8  # bytes: at least MAX_ROW_CHARS + 1 whole characters
        self._offset = 0  # bytes read so far (for the position of a decoding error)
        self._read_lines = 0
        self._pending: list[str] = []  # at most the first line with content
        self._blank = 0  # blank lines read before it, not yet handed out
        self.line = 0  # lines handed out
        self.record_start = 1
        self.record_chars = 0

    def _read(self) -> str | None:
        raw = self._f.readline(self._cap)
        if not raw:
            return None
        self._read_lines += 1
        if len(raw) == self._cap and not raw.endswith(b"\n"):
            raise DataError(
                f"{self._name}: line {self._read_lines} is longer than {MAX_ROW_CHARS:,} characters"
            )
        if self._offset == 0 and raw.startswith(self._BOM):
            raw, self._offset = raw[3:], 3
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{self._name}: not a UTF-8 text file ({exc.reason} at byte {self._offset + exc.start}, "
                f"line {self._read_lines})"
            ) from None
        self._offset += len(raw)
        return text

    def first_content(self) -> str:
        """The first line that is not blank, kept for csv.reader; the blank lines before it are
        only counted (and handed out as empty lines), so a file of blank lines costs no memory."""
        while True:
            text = self._read()
            if text is None:
                return ""
            if text.strip():
                self._pending.append(text)
                return text
            self._blank += 1

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._blank:
            self._blank -= 1
            text: str | None = "\n"
        else:
            text = self._pending.pop() if self._pending else self._read()
        if text is None:
            raise StopIteration
        self.line += 1
        self.record_chars += len(text)
        if self.record_chars > MAX_ROW_CHARS:
            raise DataError(f"{self._name}: row {self.record_start} is longer than {MAX_ROW_CHARS:,} characters")
        return text


def _csv_records(lines: _Lines, delimiter: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for each record that is not blank; cells bounded."""
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        lines.record_start, lines.record_chars = lines.line + 1, 0
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise DataError(f"{name}: row {lines.record_start}: a cell is longer than the limit of "
                                f"{MAX_CELL_CHARS:,} characters") from None
            raise DataError(f"{name}: row {lines.record_start}: malformed CSV ({exc})") from None
        if lines.record_chars > MAX_CELL_CHARS and max(map(len, cells), default=0) > MAX_CELL_CHARS:
            j = next(j for j, c in enumerate(cells) if len(c) > MAX_CELL_CHARS)
            raise DataError(
                f"{name}: row {lines.record_start}, column {j + 1}: the cell holds {len(cells[j]):,} "
                f"characters, over the limit of {MAX_CELL_CHARS:,}"
            )
        if any(c.strip() for c in cells):
            yield lines.record_start, cells


def _csv(p: Path, options: dict):
    """CSV/TSV with one sample a row; options ``header`` (None = auto, True, False),
    ``label_column`` (name or index, negative counts from the end; default the last column),
    ``delimiter`` (one character; default sniffed among , ; tab). Cells are at most
    ``MAX_CELL_CHARS`` characters, rows ``MAX_ROW_CHARS``. Also returns the feature columns'
    names from the header (None without one)."""
    limit = _limit(options)
    header = _bool_option(options.pop("header", None), "header", allow_none=True)
    label_column = options.pop("label_column", -1)
    if isinstance(label_column, str):
        _text_option(label_column, "label_column")
    elif not _is_int(label_column):
        raise DataError(f"label_column must be a column name or index, got {_show(label_column)}")
    delimiter = options.pop("delimiter", None)
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1
                                  or delimiter in '\r\n"\x00.+-' or delimiter.isalnum()):
        # a letter, digit, '.', '+' or '-' would split numbers ('1e5', '1.5') into wrong ones
        raise DataError(
            "delimiter must be one character other than a letter, digit, '.', '+', '-', quote, NUL "
            f"or line break, got {_show(delimiter)}"
        )
    _refuse_unknown(options, "CSV")
    name = p.name
    with _open_file(p, limit) as (f, _size):
        lines = _Lines(f, name)
        delimiter = delimiter or _sniff_delimiter(lines.first_content(), p)
        records = _csv_records(lines, delimiter, name)
        head = list(itertools.islice(records, 2))
        if not head:
            raise DataError(f"{name}: the file is empty")
        width = len(head[0][1])
        if header is None:
            if isinstance(label_column, str):
                header = True
            else:
                first = {j for j, c in enumerate(head[0][1]) if not _is_number(c.strip())}
                second = ({j for j, c in enumerate(head[1][1]) if not _is_number(c.strip())}
                          if len(head) > 1 else set())
                header = bool(first) and (not first <= second or len(head) == 1)
        names = [c.strip() for c in head[0][1]] if header else [f"column {j + 1}" for j in range(width)]
        if header and len(head) == 1:
            raise DataError(f"{name}: the file has a header but no data rows")
        if width < 2:
            raise DataError(f"{name}: need at least one feature column and a label column, found {width} column")
        if isinstance(label_column, str):
            if not header:
                raise DataError(f"{name}: label column {label_column!r} given by name but the file has no header")
            if label_column not in names:
                shown = names if len(names) <= 20 else names[:20] + ["…"]
                raise DataError(f"{name}: no column named {label_column!r}; columns are {shown}")
            lab = names.index(label_column)
        else:
            if not -width <= label_column < width:
                raise DataError(f"{name}: label column index {_show(label_column)} is out of range for {width} columns")
            lab = int(label_column) % width
        data = itertools.chain(head[1:] if header else head, records)
        x, label_ids, first_line, y_idx = _csv_body(data, name, width, lab, names if header else None)
    numeric = all(_is_number(t) for t in label_ids)
    if numeric:
        values = []
        bad: tuple[int, str, str] | None = None
        for text, line in zip(label_ids, first_line):
            value, why = _label_value(text)
            if value is None and (bad is None or line < bad[0]):
                bad = (line, text, why)
            values.append(value)
        if bad is not None:
            raise DataError(
                f"{name}: row {bad[0]}, label column {lab + 1}: {bad[1]!r} is not a non-negative integer "
                f"label ({bad[2]})"
            )
        uniq, codes = np.unique(np.array(values, dtype=np.int64), return_inverse=True)
        class_names = [str(int(v)) for v in uniq]
    else:
        order = sorted(label_ids)
        rank = {t: i for i, t in enumerate(order)}
        codes = np.array([rank[t] for t in label_ids], dtype=np.int64)
        class_names = order
    y = codes.reshape(-1)[np.frombuffer(y_idx, dtype=np.int64)] if len(y_idx) else np.zeros(0, np.int64)
    source = f"CSV file {p} ({len(y)} rows, label column {names[lab]!r})"
    features = [n for j, n in enumerate(names) if j != lab] if header else None
    return x, y, class_names, source, features


def _csv_body(data, name: str, width: int, lab: int, names: list[str] | None):
    """Features as float32 (rows, width - 1), read in blocks; labels as indices into a table of
    the distinct label texts (with the line where each first appears)."""
    cols = [j for j in range(width) if j != lab]
    nfeat = width - 1
    block = max(1, 65536 // nfeat)  # rows per float32 block
    parts: list[np.ndarray] = []
    values: list[float] = []
    rows: list[tuple[int, list[str]]] = []
    label_ids: dict[str, int] = {}
    first_line: list[int] = []
    y_idx = array("q")

    def where(line: int, j: int) -> str:
        return f"{name}: row {line}, column {j + 1}" + (f" ({names[j]!r})" if names else "")

    def flush() -> None:
        chunk = np.array(values, dtype=np.float64).reshape(len(rows), nfeat)
        with np.errstate(all="ignore"):
            out = chunk.astype(np.float32)
        ok = np.isfinite(out)
        if not ok.all():
            r, k = (int(i) for i in np.argwhere(~ok)[0])
            line, feats = rows[r]
            text = feats[k].strip()
            if not math.isfinite(chunk[r, k]):
                raise DataError(f"{where(line, cols[k])}: {text!r} (NaN or infinite values are not allowed)")
            raise DataError(f"{where(line, cols[k])}: {text!r} is too large for float32 "
                            f"(magnitude above {float(np.finfo(np.float32).max):.4g})")
        parts.append(out)
        values.clear()
        rows.clear()

    for line, cells in data:
        if len(cells) != width:
            raise DataError(f"{name}: row {line} has {len(cells)} fields, expected {width}")
        feats = cells[:lab] + cells[lab + 1:]
        try:
            values.extend(map(float, feats))
        except ValueError:
            for k, cell in enumerate(feats):
                text = cell.strip()
                if not text:
                    raise DataError(f"{where(line, cols[k])}: empty value") from None
                if not _is_number(text):
                    raise DataError(f"{where(line, cols[k])}: {text!r} is not a number") from None
            raise DataError(f"{name}: row {line}: a feature is not a number") from None  # not reached
        rows.append((line, feats))
        label = cells[lab].strip()
        if not label:
            raise DataError(f"{name}: row {line}, label column {lab + 1}: empty label")
        index = label_ids.get(label)
        if index is None:
            if len(label_ids) >= MAX_CSV_CLASSES:
                raise DataError(
                    f"{name}: row {line}, label column {lab + 1}: more than {MAX_CSV_CLASSES:,} distinct "
                    "labels (is this the label column?)"
                )
            index = label_ids[label] = len(label_ids)
            first_line.append(line)
        y_idx.append(index)
        if len(rows) >= block:
            flush()
    if rows:
        flush()
    if not parts:
        raise DataError(f"{name}: the file has a header but no data rows")
    x = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return x, label_ids, first_line, y_idx
