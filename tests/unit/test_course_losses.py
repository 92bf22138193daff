"""mlcore.course.losses against torch.nn.functional and closed-form gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlcore.course import losses as L
from mlcore.errors import ConfigError
from mlcore.plots.course_losses import loss_figure, outlier_figure


def _reference(name: str, x: np.ndarray, target: float, delta: float = 1.0) -> np.ndarray:
    z = torch.tensor(x, dtype=torch.float64)
    if name == "ce":
        logits = torch.stack([z, torch.zeros_like(z), torch.zeros_like(z)], dim=1)
        return F.cross_entropy(logits, torch.zeros(len(z), dtype=torch.long), reduction="none").numpy()
    y = torch.full_like(z, target)
    fn = {"bce": F.binary_cross_entropy_with_logits, "mse": F.mse_loss, "mae": F.l1_loss}.get(name)
    if name == "huber":
        return F.huber_loss(z, y, reduction="none", delta=delta).numpy()
    return fn(z, y, reduction="none").numpy()


@pytest.mark.parametrize("name,target", [("ce", 0.0), ("bce", 1.0), ("bce", 0.0), ("mse", 0.5),
                                         ("mae", -1.0), ("huber", 0.0)])
def test_plotted_values_match_torch_functional(name, target):
    curve = L.loss_curve(name, target=target, n=81)
    np.testing.assert_allclose(curve.loss, _reference(name, curve.x, target), rtol=1e-10, atol=1e-12)
    fig = loss_figure(curve, "loss", "grad", "x", "y")
    np.testing.assert_allclose(np.asarray(fig.data[0].y, dtype=float), curve.loss)
    np.testing.assert_allclose(np.asarray(fig.data[1].y, dtype=float), curve.grad)
    if name in ("mse", "mae", "huber"):  # the target's label inside the plot, below the subplot titles
        label = next(a for a in fig.layout.annotations if a.text == "y")
        titles = [a for a in fig.layout.annotations if a.text in ("loss", "grad")]
        assert label.yref == "y domain" and label.yanchor == "top" and all(t.yanchor == "bottom" for t in titles)


def test_gradients_match_the_closed_forms():
    x = np.linspace(-4, 4, 81)
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(L.loss_curve("bce", 1.0, n=81).grad, sig - 1, atol=1e-12)
    np.testing.assert_allclose(L.loss_curve("bce", 0.0, n=81).grad, sig, atol=1e-12)
    np.testing.assert_allclose(L.loss_curve("mse", 0.5, n=81).grad, 2 * (x - 0.5), atol=1e-12)
    mae = L.loss_curve("mae", 0.3, n=81)  # 0.3 is not a grid point: sign is never 0 here
    np.testing.assert_allclose(mae.grad, np.sign(x - 0.3), atol=1e-12)
    hub = L.loss_curve("huber", 0.0, n=81, delta=0.5)
    np.testing.assert_allclose(hub.grad, np.clip(x, -0.5, 0.5), atol=1e-12)
    np.testing.assert_allclose(hub.loss, _reference("huber", x, 0.0, 0.5), atol=1e-12)
    soft = np.exp(x) / (np.exp(x) + 2)
    np.testing.assert_allclose(L.loss_curve("ce", n=81).grad, soft - 1, atol=1e-12)


def test_outlier_example_mse_is_dragged_mae_and_huber_are_not():
    ex = L.outlier_example(6.0, delta=1.0)
    errors = ex.y_pred - ex.y_true
    assert ex.total["mse"] == pytest.approx(np.mean(errors ** 2))
    assert ex.total["mae"] == pytest.approx(np.mean(np.abs(errors)))
    # the outlier's pull: 2 * 6 under MSE, capped at 1 (= sign, = delta) under MAE and Huber
    assert ex.per_point_grad["mse"][ex.outlier_index] == pytest.approx(12.0)
    assert ex.per_point_grad["mae"][ex.outlier_index] == pytest.approx(1.0)
    assert ex.per_point_grad["huber"][ex.outlier_index] == pytest.approx(1.0)
    assert ex.best_shift["mse"] == pytest.approx(np.mean(errors))
    assert ex.best_shift["mae"] == pytest.approx(np.median(errors))
    assert abs(ex.best_shift["huber"]) < 0.25 < ex.best_shift["mse"]
    fig = outlier_figure(ex, {"mse": "MSE", "mae": "MAE", "huber": "Huber"}, "x", "y", "outlier")
    assert [tr.name for tr in fig.data] == ["MSE", "MAE", "Huber"]
    assert fig.data[0].y[-1] == pytest.approx(12.0)


def test_bad_inputs_raise_typed_errors():
    with pytest.raises(ConfigError, match="Unknown loss 'hinge'"):
        L.loss_curve("hinge")
    with pytest.raises(ConfigError, match="target of 0 or 1"):
        L.loss_curve("bce", target=0.5)
    with pytest.raises(ConfigError, match="greater than 0"):
        L.loss_curve("huber", delta=0.0)
    with pytest.raises(ConfigError, match="between"):
        L.outlier_example(float("nan"))
