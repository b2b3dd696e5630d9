"""Add Tasks' previews of data kept as bytes: the table shows features (the mapping applied), the
grid draws the images."""

from __future__ import annotations

import struct

import numpy as np
import pytest


def write_idx(path, array: np.ndarray) -> None:
    """An IDX file of unsigned bytes (type 0x08), as MNIST's."""
    path.write_bytes(bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())


@pytest.fixture
def dialog(qtbot):
    from modstudio.gui.dataset_dialog import DatasetDialog

    d = DatasetDialog()
    qtbot.addWidget(d)
    d.file_radio.setChecked(True)
    return d


def test_a_table_of_bytes_shows_their_features(dialog, tmp_path):
    rows = np.array([[0, 51, 255, 102]] * 3 + [[255, 204, 0, 153]] * 3, dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx2-ubyte", rows)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([0, 0, 0, 1, 1, 1], dtype=np.uint8))
    dialog.set_path(str(tmp_path / "train-images-idx2-ubyte"))
    assert dialog.dataset is not None and dialog.dataset.x.dtype == np.uint8
    table = dialog.table_holder.layout().itemAt(0).widget()
    assert [table.item(0, j).text() for j in range(4)] == ["0", "0.2", "1", "0.4"]  # byte ÷ 255
    assert table.item(5, 4).text() == "1"


def test_an_image_grid_of_bytes_draws(dialog, tmp_path):
    images = np.tile(np.arange(0, 256, 16, dtype=np.uint8).reshape(4, 4), (4, 1, 1))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([0, 1, 0, 1], dtype=np.uint8))
    dialog.set_path(str(tmp_path / "t10k-images-idx3-ubyte"))
    assert dialog.dataset.x.dtype == np.uint8 and dialog.dataset.sample_shape == (1, 4, 4)
    pixmap = dialog.samples_label.pixmap()
    assert pixmap is not None and not pixmap.isNull()
    image = pixmap.toImage()
    shades = {image.pixelColor(x, y).value() for x in range(image.width()) for y in range(image.height())}
    assert len(shades) > 8  # the gradient is drawn, not a blank tile
