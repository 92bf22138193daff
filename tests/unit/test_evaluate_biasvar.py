"""Bias-variance decompositions: regression against fresh noisy targets, 0-1 loss by hand."""

import numpy as np
import pytest

from mlcore.config import BuiltinConfig, LayerSpec, ModelConfig, SplitConfig, TrainConfig
from mlcore.data import prepare_builtin, toy_1d_truth
from mlcore.errors import ConfigError
from mlcore.evaluate import biasvar
from mlcore.evaluate.study import run_inline
from mlcore.train import TrainArrays


def test_bias2_variance_noise_add_up_to_the_expected_squared_error_of_trained_models():
    data = prepare_builtin(BuiltinConfig(name="sin", n_samples=80, noise=0.3), SplitConfig())
    toy = biasvar.known_toy(data)
    assert toy == ("sin", 0.3)
    arrays = TrainArrays.from_prepared(data)
    job = run_inline(biasvar.biasvar_job(arrays, ModelConfig(hidden=(LayerSpec(4, "tanh"),)),
                                         TrainConfig(epochs=6, batch_size=16), widths=(4,), m=6, toy=toy))
    dec = biasvar.decompose_point(job, job.results[0], arrays.y_val)
    preds = np.stack([s.extra_pred for s in job.results[0].scores])  # (M, grid)
    assert preds.shape == (6, biasvar.GRID_POINTS)
    assert dec.variance > 0  # the fresh draws give different models
    # the expected squared error, measured: fresh noisy targets at the grid, over models and draws
    rng = np.random.default_rng(7)
    f = toy_1d_truth("sin", job.eval_X[:, 0].astype(float))
    y_new = f + rng.normal(0, 0.3, size=(400, len(f)))
    measured = float(((y_new[:, None, :] - preds[None, :, :]) ** 2).mean())
    assert dec.noise == pytest.approx(0.09)
    assert dec.bias2 + dec.variance + dec.noise == pytest.approx(measured, rel=0.02)


def test_without_a_known_truth_the_noise_stays_in_the_remainder():
    rng = np.random.default_rng(0)
    f = np.sin(np.linspace(0, 3, 2000))
    y = f + rng.normal(0, 0.5, size=f.shape)  # observed targets with noise 0.25
    preds = 0.8 * f + rng.normal(0, 0.1, size=(30, len(f)))  # bias² = mean((0.2 f)²), variance 0.01
    dec = biasvar.decompose_regression(preds, y)
    assert dec.noise is None
    assert dec.variance == pytest.approx(0.01, rel=0.05)
    assert dec.bias2 == pytest.approx(np.mean((0.2 * f) ** 2) + 0.25, rel=0.05)
    assert dec.error == pytest.approx(dec.bias2 + dec.variance)


def test_zero_one_decomposition_matches_a_hand_computed_case():
    preds = np.array([[0, 0, 1],
                      [0, 0, 1],
                      [0, 1, 2],
                      [1, 0, 0]])  # 4 models x 3 points
    y = np.array([0, 1, 2])
    d = biasvar.decompose_01(preds, y)
    assert d.main.tolist() == [0, 0, 1]
    assert d.error == pytest.approx((0.25 + 0.75 + 0.75) / 3)
    assert d.bias == pytest.approx(2 / 3)
    assert d.variance == pytest.approx((0.25 + 0.25 + 0.5) / 3)
    assert d.variance_unbiased == pytest.approx(0.25 / 3)
    assert d.variance_biased == pytest.approx(0.75 / 3)
    assert d.net_variance == pytest.approx((0.25 - 0.25 - 0.25) / 3)
    assert d.bias + d.net_variance == pytest.approx(d.error)


def test_main_prediction_breaks_ties_towards_the_smallest_class():
    assert biasvar.main_prediction(np.array([[1, 2], [0, 2], [1, 0], [0, 0]])).tolist() == [0, 0]


def test_bootstrap_sets_resample_the_training_rows_and_keep_validation():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    arrays = TrainArrays(X[:30], y[:30], X[30:], y[30:], "binary", 2)
    sets = biasvar.training_sets(arrays, 3, seed=0)
    assert len(sets) == 3
    for s in sets:
        assert len(s.y_train) == 30 and np.array_equal(s.X_val, arrays.X_val)
        rows = {tuple(r) for r in s.X_train.tolist()}
        assert rows <= {tuple(r) for r in arrays.X_train.tolist()} and len(rows) < 30  # with replacement
    with pytest.raises(ConfigError, match="between 2 and 50"):
        biasvar.training_sets(arrays, 1)
