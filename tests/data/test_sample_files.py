"""A file to predict becomes the features its tasks trained on: an image's (or a byte array's) bytes go
through the tasks' own value mapping, so a folder's scaling and a normalisation by the data's
mean/sd reach predictions exactly as they reached training."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from modstudio.data import UNIT, Encoded, Split, Task
from modstudio.data.importers.samples import read_samples
from modstudio.data.tasks import normalize_tasks
from modstudio.data.values import ValueMap


def _rgb_task() -> Task:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(40, 3, 6, 6), dtype=np.uint8)
    x[:, 0] //= 2  # channels with their own statistics
    y = np.arange(40) % 2
    return Task("colours", [0, 1], ["a", "b"], Split(Encoded(x, UNIT), y), Split(Encoded(x[:0], UNIT), y[:0]),
                Split(Encoded(x[:8], UNIT), y[:8]))


def _png(tmp_path, pixels_chw: np.ndarray):
    path = tmp_path / "sample.png"
    Image.fromarray(np.ascontiguousarray(pixels_chw.transpose(1, 2, 0))).save(path)
    return path


def test_a_predicted_image_of_a_normalised_task_is_its_training_features(tmp_path):
    task, = normalize_tasks([_rgb_task()])
    assert task.values != UNIT
    x, shape = read_samples(_png(tmp_path, task.train.x[5]), task.sample_shape, task.values)
    assert shape == [3, 6, 6]
    np.testing.assert_array_equal(x[0], task.train.floats()[5])  # bit for bit: the same mapping


def test_without_a_mapping_an_image_reads_as_0_to_1(tmp_path):
    pixels = _rgb_task().train.x[2]
    x, _ = read_samples(_png(tmp_path, pixels), (3, 6, 6))
    np.testing.assert_array_equal(x[0], pixels.astype(np.float32) / np.float32(255.0))


def test_a_byte_array_is_mapped_and_a_float_array_is_taken_as_features(tmp_path):
    values = ValueMap(127.5, (1.0,), (1.0,))  # an image folder's "signed" −1 … 1
    pixels = _rgb_task().train.x[:3]
    np.save(tmp_path / "bytes.npy", pixels)
    x, _ = read_samples(tmp_path / "bytes.npy", (3, 6, 6), values)
    np.testing.assert_array_equal(x, values.apply(pixels))
    features = values.apply(pixels)
    np.save(tmp_path / "floats.npy", features)
    y, _ = read_samples(tmp_path / "floats.npy", (3, 6, 6), values)
    np.testing.assert_array_equal(y, features)


def test_a_per_channel_mapping_refuses_bytes_of_other_channels(tmp_path):
    task, = normalize_tasks([_rgb_task()])
    np.save(tmp_path / "flat.npy", np.zeros((2, 108), np.uint8))
    with pytest.raises(Exception, match="channel"):
        read_samples(tmp_path / "flat.npy", (108,), task.values)
