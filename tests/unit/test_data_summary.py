"""Records behind the Data page's figures, and the figures drawn from them."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from mlcore.config import BuiltinConfig, SplitConfig
from mlcore.data import class_balance, image_samples, prepare_builtin, split_counts, target_histogram, view_2d
from mlcore.i18n import t
from mlcore.plots.data import (
    FONT_SIZE,
    class_balance_figure,
    image_grid,
    image_grid_figure,
    scatter_2d_figure,
    target_histogram_figure,
)

SPLIT = SplitConfig(val_frac=0.2, test_frac=0.2, seed=0)


@pytest.fixture(scope="module")
def iris():
    return prepare_builtin(BuiltinConfig(name="iris"), SPLIT)


@pytest.fixture(scope="module")
def moons():
    return prepare_builtin(BuiltinConfig(name="moons", n_samples=200), SPLIT)


def test_split_counts(iris):
    assert split_counts(iris) == {"train": 90, "val": 30, "test": 30}


def test_class_balance_counts_every_row(iris):
    balance = class_balance(iris)
    assert balance.class_names == ["setosa", "versicolor", "virginica"]
    assert balance.counts == {"train": [30, 30, 30], "val": [10, 10, 10], "test": [10, 10, 10]}
    assert balance.proportions("val") == pytest.approx([1 / 3] * 3)
    fig = class_balance_figure(balance, "es")
    assert [tr.name for tr in fig.data] == [t(f"data.plot.split.{s}", "es") for s in ("train", "val", "test")]
    assert list(fig.data[0].y) == [30, 30, 30]
    assert fig.layout.font.size >= 14 and fig.layout.xaxis.title.text == t("data.plot.class", "es")


def test_class_balance_needs_classes():
    diabetes = prepare_builtin(BuiltinConfig(name="diabetes"), SPLIT)
    with pytest.raises(ValueError):
        class_balance(diabetes)


def test_target_histogram_shares_bins_across_splits():
    data = prepare_builtin(BuiltinConfig(name="sin", n_samples=300), SPLIT)
    hist = target_histogram(data, bins=12)
    assert len(hist.edges) == 13
    assert hist.edges[0] == pytest.approx(min(data.y_train.min(), data.y_val.min(), data.y_test.min()))
    assert {s: int(c.sum()) for s, c in hist.counts.items()} == split_counts(data)
    np.testing.assert_array_equal(hist.counts["val"], np.histogram(data.y_val, bins=hist.edges)[0])
    fig = target_histogram_figure(hist, "y", "en")
    assert len(fig.data) == 3 and fig.layout.barmode == "stack" and fig.layout.xaxis.title.text == "y"


def test_view_2d_of_a_2d_toy_is_the_raw_data(moons):
    view = view_2d(moons)
    assert view.method == "raw" and (view.x_label, view.y_label) == ("x1", "x2")
    assert len(view.x) == 200
    np.testing.assert_allclose(view.x[: len(moons.y_train)], moons.raw_train["x1"])
    np.testing.assert_array_equal(view.color[: len(moons.y_train)], moons.y_train)
    assert list(view.split[:1]) == ["train"] and list(view.split[-1:]) == ["test"]
    fig = scatter_2d_figure(view, "es")
    assert [tr.name for tr in fig.data] == ["0", "1"]
    assert sum(len(tr.x) for tr in fig.data) == 200


def test_view_2d_of_many_features_is_pca_fitted_on_training(iris):
    from sklearn.decomposition import PCA

    view = view_2d(iris)
    assert view.method == "pca" and view.explained is not None
    pca = PCA(n_components=2, random_state=0).fit(iris.X_train)
    np.testing.assert_allclose(view.explained, pca.explained_variance_ratio_, rtol=1e-6)
    expected = pca.transform(iris.X_train)
    # the sign of a principal component is arbitrary: compare up to sign
    np.testing.assert_allclose(np.abs(view.x[:90]), np.abs(expected[:, 0]), rtol=1e-4, atol=1e-5)
    assert view.explained[0] > 0.5  # iris: the first component carries most of the variance


def test_view_2d_of_a_1d_toy_plots_x_against_y():
    data = prepare_builtin(BuiltinConfig(name="abs", n_samples=100, noise=0.0), SPLIT)
    view = view_2d(data)
    assert view.method == "xy" and view.y_label == "y" and view.class_names is None
    np.testing.assert_allclose(view.y, np.abs(view.x), rtol=1e-6, atol=1e-6)  # noiseless |x|
    fig = scatter_2d_figure(view, "en")
    assert len(fig.data) == 1 and fig.data[0].marker.colorbar is not None


def test_view_2d_caps_the_number_of_points():
    data = prepare_builtin(BuiltinConfig(name="digits"), SPLIT)
    view = view_2d(data, max_points=500)
    assert len(view.x) == len(view.y) == len(view.color) == len(view.split) == 500


def test_image_samples_and_grid():
    data = prepare_builtin(BuiltinConfig(name="digits"), SPLIT)
    images, labels = image_samples(data, 12)
    assert images.shape == (12, 8, 8)
    np.testing.assert_array_equal(images[0].ravel(), data.raw_train.iloc[0].to_numpy())
    assert labels == [str(int(c)) for c in data.y_train[:12]]
    grid = image_grid(images, labels, n_cols=5)
    # 3 rows of 5 tiles: 1-pixel gaps between columns, 3 label rows above each row of tiles
    assert grid.canvas.shape == (3 * (8 + 3), 5 * 9 - 1)
    np.testing.assert_array_equal(grid.canvas[14:22, 9:17], images[6])  # row 1, column 1
    assert np.isnan(grid.canvas[11:14, :]).all() and np.isnan(grid.canvas[:, 8]).all()  # gaps
    assert grid.label_xy[6] == (12.5, 12.0)  # centred over its tile, in the middle of the label rows
    fig = image_grid_figure(grid)
    assert isinstance(fig.data[0], go.Heatmap) and len(fig.layout.annotations) == 12
    assert fig.layout.annotations[0].font.size == FONT_SIZE


def test_image_samples_need_an_image_dataset(iris):
    with pytest.raises(ValueError):
        image_samples(iris)


def test_a_class_has_the_same_colour_on_the_data_page_and_on_the_train_page_s_boundary(moons):
    from mlcore.plots.train import decision_boundary

    data_colors = {tr.name: tr.marker.color for tr in scatter_2d_figure(view_2d(moons), "es").data}
    axes = (np.linspace(-2, 3, 5), np.linspace(-1, 2, 4))
    probs = np.tile([[0.3, 0.7]], (20, 1))
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    fig = decision_boundary(axes, probs, [("train", X, np.array([0, 1]), "circle")], ["0", "1"], ("x1", "x2"))
    boundary_colors = {tr.name.split(" · ")[0]: tr.marker.color for tr in fig.data if tr.type == "scatter"}
    assert data_colors == boundary_colors and data_colors["0"] != data_colors["1"]
