"""Why preprocess: standardization, the shape of the loss over two weights, and the same network
trained on raw and standardized features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlcore.course import preprocess as P
from mlcore.errors import ConfigError
from mlcore.plots.course_optim import feature_scales_figure, scaling_curves_figure, slice_figure


def test_tables_are_sklearns_bundled_data():
    from sklearn.datasets import load_breast_cancer, load_wine

    wine, cancer = P.load_table("wine"), P.load_table("breast_cancer")
    np.testing.assert_array_equal(wine.X, load_wine().data)
    np.testing.assert_array_equal(wine.y, load_wine().target)
    np.testing.assert_array_equal(cancer.X, load_breast_cancer().data)
    assert "proline" in wine.feature_names and len(cancer.class_names) == 2
    with pytest.raises(ConfigError, match="Unknown dataset 'titanic'"):
        P.load_table("titanic")


def test_standardized_uses_the_reference_statistics():
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    Z = P.standardized(X)
    np.testing.assert_allclose(Z[:, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    np.testing.assert_array_equal(Z[:, 1], 0.0)  # a constant column is centred, not divided by 0
    other = P.standardized(np.array([[7.0, 12.0]]), X)
    np.testing.assert_allclose(other, [[(7 - 3) / np.sqrt(8 / 3), 2.0]])


def test_feature_scales_ratio_and_standardized_spread():
    scales = P.feature_scales("wine")
    std = P.load_table("wine").X.std(axis=0)
    assert scales.ratio == pytest.approx(std.max() / std.min())
    assert scales.ratio > 1000  # proline (~300) against hue (~0.2)
    np.testing.assert_allclose(scales.scaled.std(axis=0), 1.0)
    np.testing.assert_allclose(scales.scaled.mean(axis=0), 0.0, atol=1e-12)


# --- the loss over two weights -----------------------------------------------------------------


def _torch_loss(X2, y, w, b):
    z = torch.as_tensor(X2) @ w + b
    return torch.nn.functional.binary_cross_entropy_with_logits(z, torch.as_tensor(y))


@pytest.mark.parametrize("scaled", [False, True])
def test_slice_is_centred_on_the_optimum_with_the_true_hessian(scaled):
    sl = P.loss_slice("wine", ("alcohol", "magnesium"), scaled=scaled, n=21)
    table = P.load_table("wine")
    X2 = table.X[:, [table.feature_names.index("alcohol"), table.feature_names.index("magnesium")]]
    if scaled:
        X2 = P.standardized(X2)
    y = (table.y == 0).astype(np.float64)  # class 0 against the rest
    w = torch.tensor(sl.center, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(sl.bias, dtype=torch.float64, requires_grad=True)
    loss = _torch_loss(X2, y, w, b)
    grads = torch.autograd.grad(loss, (w, b))
    assert max(float(g.abs().max()) for g in grads) < 1e-7  # an optimum of (w1, w2, b)
    assert sl.min_loss == pytest.approx(float(loss.detach()))
    bias = torch.tensor(sl.bias, dtype=torch.float64)
    hess = torch.autograd.functional.hessian(lambda v: _torch_loss(X2, y, v, bias), w.detach())
    np.testing.assert_allclose(sl.hessian, hess.numpy(), rtol=1e-9)
    assert sl.z.min() >= sl.min_loss - 1e-12
    i, j = 4, 15
    assert sl.z[i, j] == pytest.approx(float(_torch_loss(X2, y, torch.tensor([sl.w1s[j], sl.w2s[i]]), sl.bias)))


def test_raw_features_make_a_long_narrow_valley_and_standardized_a_round_one():
    raw = P.loss_slice("wine", scaled=False, n=11)
    scaled = P.loss_slice("wine", scaled=True, n=11)
    assert raw.features == scaled.features == P.DEFAULT_SLICE_FEATURES["wine"]
    assert raw.condition > 100 * scaled.condition
    assert scaled.condition < 5
    # standardizing is an affine change of variables: the best loss is the same
    assert raw.min_loss == pytest.approx(scaled.min_loss, abs=1e-9)
    # the window is square, so equal axis scales show the true shape
    assert raw.w1s[-1] - raw.w1s[0] == pytest.approx(raw.w2s[-1] - raw.w2s[0])


def test_slice_rejects_bad_feature_choices():
    with pytest.raises(ConfigError, match="pick two different features"):
        P.loss_slice("wine", ("alcohol", "alcohol"), scaled=True)
    with pytest.raises(ConfigError, match="pick two different features"):
        P.loss_slice("wine", ("alcohol", "price"), scaled=True)


# --- same network, same seed -----------------------------------------------------------------


def test_both_runs_start_from_the_same_weights():
    a = P._build_network(13, 16, 3, seed=4)
    b = P._build_network(13, 16, 3, seed=4)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_unscaled_features_train_more_slowly_with_the_same_seed():
    cmp = P.compare_scaling("wine", optimizer="sgd", lr=0.01, epochs=20, seed=0)
    assert len(cmp.raw.train_loss) == len(cmp.scaled.train_loss) == 21
    assert cmp.raw.diverged_at is None and cmp.scaled.diverged_at is None
    for k in (5, 10, 20):
        assert cmp.raw.train_loss[k] > cmp.scaled.train_loss[k]
    reach_scaled = cmp.scaled.epochs_to(0.5)
    reach_raw = cmp.raw.epochs_to(0.5)
    assert reach_scaled is not None and (reach_raw is None or reach_raw > reach_scaled)
    assert cmp.scaled.val_accuracy[-1] > cmp.raw.val_accuracy[-1]


def test_compare_scaling_validates_its_controls():
    with pytest.raises(ConfigError, match="Unknown dataset 'iris'"):
        P.compare_scaling("iris")
    with pytest.raises(ConfigError, match="number of epochs is 0"):
        P.compare_scaling("wine", epochs=0)
    with pytest.raises(ConfigError, match="batch size is 0"):
        P.compare_scaling("wine", batch_size=0)
    with pytest.raises(ConfigError):
        P.compare_scaling("wine", lr=0.0)


def test_epochs_to_threshold():
    curve = P.TrainCurve(True, np.array([1.0, 0.8, 0.45, 0.5, 0.3]), np.zeros(5), None)
    assert curve.epochs_to(0.5) == 2 and curve.epochs_to(0.1) is None


def test_figures():
    scales = P.feature_scales("wine")
    fig = feature_scales_figure(scales, raw_title="raw", scaled_title="scaled")
    assert len(fig.data) == 2 * 13 and fig.data[0].orientation == "h"
    sl_raw, sl_sc = P.loss_slice("wine", scaled=False, n=11), P.loss_slice("wine", scaled=True, n=11)
    sfig = slice_figure(sl_raw, sl_sc, raw_title="r", scaled_title="s", optimum_label="opt")
    assert sfig.layout.yaxis.scaleanchor == "x" and sfig.layout.yaxis2.scaleanchor == "x2"
    diverged = P.TrainCurve(False, np.array([1.0, np.inf]), np.zeros(2), 1)
    ok = P.TrainCurve(True, np.array([1.0, 0.5]), np.zeros(2), None)
    cmp = P.ScalingComparison("wine", 16, "sgd", 0.1, 16, 1, 0, diverged, ok)
    cfig = scaling_curves_figure(cmp, raw_title="r", scaled_title="s", x_label="e", y_label="L")
    assert np.isnan(cfig.data[0].y[1]) and cfig.layout.yaxis.type == "log"
