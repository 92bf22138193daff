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
