"""Small datasets for the data-layer tests; the digits are loaded once per session (read-only)."""

import numpy as np
import pytest

from modstudio.data import Dataset, load_builtin


@pytest.fixture(scope="session")
def digits() -> Dataset:
    return load_builtin("digits")


@pytest.fixture
def small() -> Dataset:
    """60 samples of 4 features in 3 classes, made in code (so it has no origin)."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 20)
    x = rng.normal(size=(60, 4)) + y[:, None]
    return Dataset(x, y, ["a", "b", "c"], name="small")
