"""Built-in datasets: shapes, dtypes, tasks, determinism with the seed, and the 1-D toy functions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlcore.config import BuiltinConfig, SplitConfig, Task
from mlcore.data import (
    BUILTINS,
    TOY_1D_DOMAIN,
    TOYS_1D,
    load_builtin,
    load_builtin_table,
    prepare_builtin,
    rebuild,
    toy_1d,
    toy_1d_truth,
)
from mlcore.errors import ConfigError

SPLIT = SplitConfig(val_frac=0.2, test_frac=0.2, seed=0)
# name -> (rows, raw features, task, number of classes or None)
EXPECTED = {
    "moons": (300, 2, Task.BINARY, 2),
    "circles": (300, 2, Task.BINARY, 2),
    "xor": (300, 2, Task.BINARY, 2),
    "spiral": (300, 2, Task.MULTICLASS, 3),
    "blobs": (300, 2, Task.MULTICLASS, 3),
    "sin": (300, 1, Task.REGRESSION, None),
    "step": (300, 1, Task.REGRESSION, None),
    "abs": (300, 1, Task.REGRESSION, None),
    "poly": (300, 1, Task.REGRESSION, None),
    "iris": (150, 4, Task.MULTICLASS, 3),
    "wine": (178, 13, Task.MULTICLASS, 3),
    "breast_cancer": (569, 30, Task.BINARY, 2),
    "digits": (1797, 64, Task.MULTICLASS, 10),
    "diabetes": (442, 10, Task.REGRESSION, None),
}
TOYS = [n for n, s in BUILTINS.items() if s.is_toy]


def cfg(name: str, **kw) -> BuiltinConfig:
    return BuiltinConfig(name=name, n_samples=kw.pop("n_samples", 300), noise=kw.pop("noise", 0.2),
                         n_classes=kw.pop("n_classes", 3), seed=kw.pop("seed", 0))


def test_registry_lists_every_expected_dataset():
    assert set(BUILTINS) == set(EXPECTED)
    assert TOYS_1D == ("sin", "step", "abs", "poly")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_builtin_shapes_dtypes_and_task(name):
    rows, n_raw, task, k = EXPECTED[name]
    data = prepare_builtin(cfg(name), SPLIT)
    assert data.task is task
    assert data.n_rows == rows
    assert len(data.raw_feature_names) == n_raw and data.n_features == n_raw
    for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val), (data.X_test, data.y_test)):
        assert X.dtype == np.float32 and X.shape == (len(y), n_raw)
        assert y.dtype == (np.float32 if task is Task.REGRESSION else np.int64)
        assert y.ndim == 1
    assert np.isfinite(data.X_train).all()
    # 60/20/20 split, sizes as train_test_split rounds them (test first, then validation).
    n_test = math.ceil(0.2 * rows)
    assert len(data.y_test) == n_test
    assert len(data.y_val) == math.ceil(0.25 * (rows - n_test))
    if k is None:
        assert data.class_names is None and data.n_classes == 1
    else:
        assert len(data.class_names) == k == data.n_classes
        assert set(np.concatenate([data.y_train, data.y_val, data.y_test])) == set(range(k))
    assert data.source["kind"] == "builtin" and data.source["name"] == name
    assert data.name == name


def test_toys_stay_in_input_units_and_real_data_is_standardised():
    moons = prepare_builtin(cfg("moons"), SPLIT)
    assert moons.preprocessor is None
    assert moons.raw_feature_names == ["x1", "x2"] and moons.is_2d
    np.testing.assert_array_equal(moons.X_train, moons.raw_train.to_numpy(dtype=np.float32))
    sin = prepare_builtin(cfg("sin"), SPLIT)
    assert sin.raw_feature_names == ["x"] and sin.is_1d and sin.target_name == "y"
    iris = prepare_builtin(cfg("iris"), SPLIT)
    assert iris.preprocessor is not None
    np.testing.assert_allclose(iris.X_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(iris.X_train.std(axis=0), 1.0, atol=1e-4)
    assert iris.class_names == ["setosa", "versicolor", "virginica"]
    assert iris.raw_feature_names[0] == "sepal_length_cm"


def test_digits_keep_their_image_shape_and_raw_pixels():
    digits = prepare_builtin(cfg("digits"), SPLIT)
    assert digits.image_shape == (8, 8)
    assert digits.raw_train.shape[1] == 64
    pixels = digits.raw_train.to_numpy()
    assert pixels.min() == 0 and pixels.max() == 16  # the raw 0..16 grey levels, before scaling
    assert digits.class_names == [str(i) for i in range(10)]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_same_config_gives_the_same_data(name):
    a, b = load_builtin(cfg(name, seed=3)), load_builtin(cfg(name, seed=3))
    pd.testing.assert_frame_equal(a, b)
    pa, pb = prepare_builtin(cfg(name, seed=3), SPLIT), prepare_builtin(cfg(name, seed=3), SPLIT)
    np.testing.assert_array_equal(pa.X_train, pb.X_train)
    np.testing.assert_array_equal(pa.y_val, pb.y_val)


@pytest.mark.parametrize("name", TOYS)
def test_a_different_seed_gives_different_toy_data(name):
    a, b = load_builtin(cfg(name, seed=0)), load_builtin(cfg(name, seed=1))
    assert a.shape == b.shape
    assert not np.allclose(a.drop(columns="y").to_numpy(), b.drop(columns="y").to_numpy())


def test_a_different_split_seed_moves_rows_between_splits():
    a = prepare_builtin(cfg("iris"), SplitConfig(seed=0))
    b = prepare_builtin(cfg("iris"), SplitConfig(seed=1))
    assert list(a.raw_test.index) != list(b.raw_test.index)


@pytest.mark.parametrize("k", [2, 3, 4, 5])
@pytest.mark.parametrize("name", ["blobs", "spiral"])
def test_class_count_follows_n_classes(name, k):
    table = load_builtin_table(cfg(name, n_classes=k, n_samples=200))
    assert table.task is (Task.BINARY if k == 2 else Task.MULTICLASS)
    assert table.class_names == [str(i) for i in range(k)]
    assert sorted(table.df["y"].cat.codes.unique()) == list(range(k))


def test_noise_spreads_the_points():
    clean = load_builtin(cfg("circles", noise=0.0, n_samples=400))
    radius = np.hypot(clean["x1"], clean["x2"])
    # without noise every point lies on the outer circle (r = 1) or the inner one (r = 0.5)
    np.testing.assert_allclose(np.sort(np.unique(radius.round(9))), [0.5, 1.0])
    noisy = load_builtin(cfg("circles", noise=0.2, n_samples=400))
    assert np.hypot(noisy["x1"], noisy["x2"]).round(9).nunique() > 300


def test_xor_labels_follow_the_quadrants_without_noise():
    df = load_builtin(cfg("xor", noise=0.0, n_samples=400))
    expected = (df["x1"] * df["x2"] > 0).astype(int)
    assert (df["y"].cat.codes == expected).all()


def test_toy_1d_truth_at_known_points():
    assert toy_1d_truth("sin", np.array([np.pi / 4]))[0] == pytest.approx(1.0)
    np.testing.assert_array_equal(toy_1d_truth("step", np.array([-0.1, 0.0, 2.0])), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(toy_1d_truth("abs", np.array([-2.0, 0.5])), [2.0, 0.5])
    poly = toy_1d_truth("poly", np.array([-2.0, 0.0, 1.0, 2.0, 3.0]))
    np.testing.assert_allclose(poly, [0, 0, -0.6, 0, 3.0])


@pytest.mark.parametrize("name", TOYS_1D)
def test_toy_1d_samples(name):
    x, y = toy_1d(name, 200, 0.0, seed=5)
    assert x.shape == y.shape == (200,)
    assert np.all(np.diff(x) >= 0) and TOY_1D_DOMAIN[0] <= x.min() and x.max() <= TOY_1D_DOMAIN[1]
    np.testing.assert_array_equal(y, toy_1d_truth(name, x))  # no noise: exactly the truth
    x2, y2 = toy_1d(name, 200, 0.3, seed=5)
    np.testing.assert_array_equal(x2, x)
    residual = y2 - toy_1d_truth(name, x2)
    assert 0.2 < residual.std() < 0.4  # noise is N(0, 0.3^2)
    x3, _ = toy_1d(name, 200, 0.3, seed=6)
    assert not np.array_equal(x3, x)


def test_1d_toy_table_matches_toy_1d():
    df = load_builtin(cfg("poly", n_samples=120, noise=0.1, seed=2))
    x, y = toy_1d("poly", 120, 0.1, 2)
    np.testing.assert_array_equal(df["x"], x)
    np.testing.assert_array_equal(df["y"], y)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(name="nope"), "err.builtin.unknown"),
        (dict(name="moons", n_samples=10), "err.builtin.n_samples"),
        (dict(name="moons", n_samples=10**6), "err.builtin.n_samples"),
        (dict(name="moons", noise=-0.1), "err.builtin.noise"),
        (dict(name="blobs", n_classes=9), "err.builtin.n_classes"),
        (dict(name="moons", seed=-1), "err.builtin.seed"),
    ],
)
def test_bad_builtin_controls_raise_config_errors(kwargs, key):
    with pytest.raises(ConfigError) as info:
        load_builtin(BuiltinConfig(**kwargs))
    assert info.value.key == key


def test_unknown_name_message_lists_the_choices():
    with pytest.raises(ConfigError, match=r"no built-in dataset called 'nope'.*moons"):
        prepare_builtin(BuiltinConfig(name="nope"), SPLIT)


def test_controls_that_do_not_apply_are_ignored():
    """Real datasets ignore size and noise; moons ignores n_classes."""
    a = prepare_builtin(BuiltinConfig(name="iris", n_samples=10, noise=5.0), SPLIT)
    assert a.n_rows == 150
    b = load_builtin(BuiltinConfig(name="moons", n_classes=99))
    assert b["y"].cat.categories.tolist() == ["0", "1"]


def test_rebuild_from_source_gives_the_same_dataset():
    split = SplitConfig(val_frac=0.25, test_frac=0.1, seed=3)
    data = prepare_builtin(cfg("spiral", n_classes=4, seed=7), split)
    src = data.source
    assert src == {"kind": "builtin", "name": "spiral", "n_samples": 300, "noise": 0.2, "n_classes": 4,
                   "seed": 7, "val_frac": 0.25, "test_frac": 0.1, "split_seed": 3}
    again = rebuild(dict(src))
    np.testing.assert_array_equal(again.X_train, data.X_train)
    np.testing.assert_array_equal(again.y_test, data.y_test)


def test_built_in_class_names_are_shown_in_the_session_language():
    from dataclasses import replace

    from mlcore.data.builtins import display_class_names

    cancer = prepare_builtin(BuiltinConfig(name="breast_cancer"), SplitConfig())
    assert cancer.class_names == ["malignant", "benign"]  # the data keep sklearn's names
    assert display_class_names(cancer, "es") == ["maligno", "benigno"]
    assert display_class_names(cancer, "en") == ["malignant", "benign"]
    iris = prepare_builtin(BuiltinConfig(name="iris"), SplitConfig())
    assert display_class_names(iris, "es") == iris.class_names  # species names: no translation
    uploaded = replace(cancer, source={"kind": "csv", "filename": "x.csv", "digest": "0"})
    assert display_class_names(uploaded, "es") == ["malignant", "benign"]  # a file's own labels stay
    moons = prepare_builtin(BuiltinConfig(name="moons", n_samples=50), SplitConfig())
    assert display_class_names(moons, "es") == moons.class_names
