import numpy as np
import pytest

from modstudio.data import DataError, list_builtin, load_builtin, resources_dir


def test_digits(digits):
    assert digits.x.shape == (1797, 1, 8, 8) and digits.x.dtype == np.float32
    assert digits.x.min() == 0.0 and digits.x.max() == 1.0
    assert digits.class_names == [str(i) for i in range(10)]
    assert np.bincount(digits.y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert "Alpaydin" in digits.source
    flat = load_builtin("digits", flat=True)
    assert flat.x.shape == (1797, 64)
    assert np.array_equal(flat.x, digits.x.reshape(1797, 64))


def test_digits_licence_shipped():
    text = (resources_dir() / "datasets" / "DIGITS-LICENSE.txt").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "Alpaydin" in text and "UCI" in text


def test_resources_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv("MODSTUDIO_RESOURCES", str(tmp_path))
    assert resources_dir() == tmp_path.resolve()
    with pytest.raises(DataError, match="digits data file is missing.*MODSTUDIO_RESOURCES"):
        load_builtin("digits")


def test_list_builtin_describes_options():
    infos = {i.name: i for i in list_builtin()}
    assert set(infos) >= {"digits", "blobs", "spirals", "signals"}
    for info in infos.values():
        assert info.title and info.description
        for opt in info.options:
            assert opt.kind in ("int", "float", "bool") and opt.doc
    assert infos["blobs"].defaults["n_classes"] == 3


@pytest.mark.parametrize("name", ["blobs", "spirals", "signals"])
def test_synthetic_is_seeded(name):
    a, b = load_builtin(name, seed=3), load_builtin(name, seed=3)
    assert a.fingerprint == b.fingerprint
    assert load_builtin(name, seed=4).fingerprint != a.fingerprint
    assert a.origin == {"builtin": name, "options": {**{o.name: o.default for o in
                        next(i for i in list_builtin() if i.name == name).options}, "seed": 3}}


def test_synthetic_options():
    blobs = load_builtin("blobs", n_samples=101, n_features=5, n_classes=4, spread=0.5)
    assert blobs.x.shape == (101, 5) and blobs.num_classes == 4
    spirals = load_builtin("spirals", n_samples=50)
    assert spirals.x.shape == (50, 2) and spirals.num_classes == 2
    signals = load_builtin("signals", n_classes=8, n_samples=80, length=32)
    assert signals.x.shape == (80, 1, 32) and signals.num_classes == 8
    assert "chirp" in signals.class_names


@pytest.mark.parametrize(
    "name, options, match",
    [
        ("nope", {}, "no built-in dataset named 'nope'"),
        ("blobs", {"colour": 1}, r"unknown option\(s\) \['colour'\]"),
        ("blobs", {"n_classes": 1}, "'n_classes' of 'blobs' must be at least 2"),
        ("blobs", {"n_samples": 2.5}, "'n_samples' of 'blobs' must be int"),
        ("signals", {"n_classes": 99}, "must be at most 8"),
        ("digits", {"flat": "yes"}, "'flat' of 'digits' must be true or false"),
        ("spirals", {"noise": float("nan")}, "must be finite"),
        ("blobs", {"n_samples": 10_000_000, "n_features": 1000}, "over the limit"),
        ("blobs", {"n_samples": 5, "n_classes": 3}, "at least twice"),
    ],
)
def test_builtin_refusals(name, options, match):
    with pytest.raises(DataError, match=match):
        load_builtin(name, **options)
