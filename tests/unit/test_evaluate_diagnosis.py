"""Curve diagnosis on constructed curves with known answers."""

import numpy as np
import pytest

from mlcore.evaluate import diagnosis as dg

E = np.arange(1, 101, dtype=float)


def test_flat_high_curves_are_underfitting():
    train = 0.69 - 0.0005 * E
    d = dg.diagnose(train, train + 0.01)
    assert d.verdict == "underfit"
    assert "diag.reason.high" in d.reasons


def test_curves_still_falling_steeply_are_underfitting_and_ask_for_more_epochs():
    e = np.arange(1, 51, dtype=float)
    train = np.exp(-e / 50)
    d = dg.diagnose(train, train + 0.02)
    assert d.verdict == "underfit"
    assert d.reasons == ("diag.reason.falling",)
    assert d.advice_key == "diag.underfit.advice_epochs"


def test_rising_validation_with_widening_gap_is_overfitting():
    train = 0.05 + np.exp(-E / 10)
    val = 0.25 + np.exp(-E / 10) + 0.0004 * np.clip(E - 30, 0, None) ** 2
    d = dg.diagnose(train, val)
    assert d.verdict == "overfit"
    assert set(d.reasons) == {"diag.reason.rising", "diag.reason.gap"}
    assert 28 <= d.best_epoch <= 34
    assert d.rise > dg.OVERFIT_RISE


def test_converged_curves_are_a_good_fit():
    train = 0.1 + 0.9 * np.exp(-E / 5)
    d = dg.diagnose(train, train + 0.05)
    assert d.verdict == "good"
    assert d.reasons == ()


@pytest.mark.parametrize("seed", range(20))
def test_a_noisy_plateau_is_not_called_overfitting(seed):
    rng = np.random.default_rng(seed)
    train = 0.1 + 0.9 * np.exp(-E / 5)
    val = 0.15 + 0.9 * np.exp(-E / 5) + rng.normal(0, 0.01, size=E.shape)
    d = dg.diagnose(train, val)
    assert d.verdict == "good", d
    assert val[d.best_epoch - 1] == val.min()  # the best epoch is the lowest validation loss


def test_too_few_epochs_say_nothing():
    assert dg.diagnose([1.0, 0.9], [1.0, 0.95]).verdict == "short"
    assert dg.diagnose([], []).verdict == "short"


def test_non_finite_epochs_are_ignored():
    train = list(0.1 + 0.9 * np.exp(-E / 5)) + [float("nan")]
    val = list(0.15 + 0.9 * np.exp(-E / 5)) + [float("inf")]
    assert dg.diagnose(train, val).verdict == "good"


def test_moving_median_removes_a_single_spike():
    values = np.array([1.0, 1.0, 5.0, 1.0, 1.0])
    assert np.allclose(dg.smooth(values), 1.0)


# ---- the baseline: a constant prediction's loss, and the unstable verdict -----------------------------


def test_baseline_of_a_classification_is_the_entropy_of_the_class_proportions_and_log_k_at_zero():
    import torch

    y = np.array([0] * 25 + [1] * 75)
    b = dg.baseline_losses(y, "binary")
    # the best constant logit is log(p / (1 - p)); its BCE, computed by torch, is the entropy
    p = 0.75
    logits = torch.full((100,), float(np.log(p / (1 - p))))
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(y, dtype=torch.float32))
    assert b.constant == pytest.approx(-(0.25 * np.log(0.25) + 0.75 * np.log(0.75)), rel=1e-12)
    assert b.constant == pytest.approx(float(bce), rel=1e-5)
    assert b.zero == pytest.approx(np.log(2))
    three = dg.baseline_losses(np.array([0, 1, 2, 2]), "multiclass")
    assert three.constant == pytest.approx(-(2 * 0.25 * np.log(0.25) + 0.5 * np.log(0.5)))
    assert three.zero == pytest.approx(np.log(3))


def test_baseline_of_a_regression_follows_its_loss():
    import torch

    y = np.array([1.0, 2.0, 4.0, 10.0])
    mse = dg.baseline_losses(y, "regression")
    assert mse.constant == pytest.approx(np.var(y)) and mse.zero == pytest.approx(np.mean(y ** 2))
    mae = dg.baseline_losses(y, "regression", "mae")
    assert mae.constant == pytest.approx(np.mean(np.abs(y - 3.0))) and mae.zero == pytest.approx(4.25)
    huber = dg.baseline_losses(y, "regression", "huber")
    target = torch.tensor(y)
    grid = min(float(torch.nn.functional.huber_loss(torch.full((4,), c), target)) for c in np.linspace(0, 10, 10001))
    assert huber.constant == pytest.approx(grid, abs=1e-6)
    assert huber.zero == pytest.approx(float(torch.nn.functional.huber_loss(torch.zeros(4), target)))


def _blown_up(n=100, seed=0):
    """Adam at lr 10 on moons, as measured: epoch 1 averages 651, then the loss sits at chance."""
    rng = np.random.default_rng(seed)
    head = [651.6, 19.3, 10.6, 2.34, 1.54, 1.02, 1.38]
    train = np.array(head + list(0.78 + rng.normal(0, 0.04, n - len(head))))
    val = np.array([8.2, 7.0, 2.4, 2.5, 1.0] + list(0.70 + rng.normal(0, 0.01, n - 5)))
    return train, val


def test_a_loss_that_blew_up_and_stayed_at_chance_is_unstable_not_a_good_fit():
    train, val = _blown_up()
    assert dg.diagnose(train, val).verdict == "good"  # what the curves alone said: a 99.9 % "fall"
    d = dg.diagnose(train, val, dg.baseline_losses(np.array([0, 1] * 50), "binary"))
    assert d.verdict == "unstable"
    assert d.reasons == ("diag.reason.blowup", "diag.reason.chance")
    assert (d.peak_epoch, d.peak_loss) == (1, 651.6)
    assert d.peak_times == pytest.approx(651.6 / np.log(2))
    assert d.advice_key == "diag.unstable.advice"


def test_a_high_first_epoch_that_then_learns_is_not_unstable():
    # Adam on unscaled breast cancer: epoch 1 averages 16, then the loss falls well below chance
    train = np.array([16.0, 2.0] + list(0.2 + 0.3 * np.exp(-E[:98] / 5)))
    d = dg.diagnose(train, train + 0.03, dg.Baseline(constant=0.66, zero=0.693))
    assert d.verdict == "good"


def test_a_regression_with_a_large_mean_starts_far_above_its_variance_without_being_unstable():
    # prices of 200 000 +- 50 000: predicting zero costs 17 times the variance, where training starts
    rng = np.random.default_rng(0)
    y = 200_000 + 50_000 * rng.standard_normal(500)
    b = dg.baseline_losses(y, "regression")
    assert b.zero / b.constant == pytest.approx(17, rel=0.1)
    train = b.zero * np.exp(-E / 3) + 0.05 * b.constant
    d = dg.diagnose(train, train * 1.05, b)
    assert d.verdict == "good"


def test_a_first_epoch_above_chance_that_stays_there_is_underfitting_against_the_constant():
    # a linear model on XOR: epoch 1 at 0.709, above chance (0.693), and it stays near 0.695
    train = 0.695 + 0.014 * np.exp(-E / 2)
    d = dg.diagnose(train, train + 0.002, dg.Baseline(constant=0.6914, zero=0.6931))
    assert d.verdict == "underfit"
    assert d.reasons == ("diag.reason.chance",)
    assert d.loss_ratio == pytest.approx(train[-1] / 0.6914, rel=1e-3)


def test_a_real_training_at_learning_rate_10_is_diagnosed_unstable_and_at_0_01_is_not():
    import torch

    from mlcore.config import BuiltinConfig, ModelConfig, OptimConfig, SplitConfig, TrainConfig
    from mlcore.data import prepare_builtin
    from mlcore.train import TrainArrays, fit

    torch.set_num_threads(1)
    arrays = TrainArrays.from_prepared(prepare_builtin(BuiltinConfig(name="moons"), SplitConfig()))
    base = dg.baseline_losses(arrays.y_train, arrays.task)
    verdicts = {}
    for lr in (10.0, 0.01):
        state = fit(arrays, ModelConfig(), TrainConfig(optim=OptimConfig("adam", lr=lr), epochs=40))
        verdicts[lr] = dg.diagnose_history(state.history, base)
    assert verdicts[10.0].verdict == "unstable"
    assert verdicts[10.0].peak_loss > dg.BLOWUP_FACTOR * base.constant
    assert verdicts[0.01].verdict != "unstable"
    assert verdicts[0.01].peak_loss < base.constant * 1.5
